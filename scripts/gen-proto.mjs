// Regenerates protocol/src/generated/replicant.{js,d.ts} from protocol/replicant.proto with
// protobufjs' static code generator (pbjs/pbts). The output is committed so builds need no codegen;
// run `npm run gen:proto` after editing the schema.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const out = `${root}protocol/src/generated/replicant.js`;
const bin = (n) => `${root}node_modules/.bin/${n}`;
execFileSync(bin('pbjs'), ['-t', 'static-module', '-w', 'es6', '--force-long', '--no-beautify', '--no-delimited', '--no-verify', '--no-convert', '-o', out, `${root}protocol/replicant.proto`], { stdio: 'inherit' });
// Node ESM needs the file extension, and protobufjs is CommonJS: take its default export.
let js = readFileSync(out, 'utf8');
js = js.replace(/import \* as \$protobuf from "protobufjs\/minimal";/, 'import $protobuf from "protobufjs/minimal.js";');
writeFileSync(out, js);
execFileSync(bin('pbts'), ['-o', out.replace(/\.js$/, '.d.ts'), out], { stdio: 'inherit' });
