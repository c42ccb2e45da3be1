// tsc does not emit the generated protobufjs module (plain JS + .d.ts); copy it next to where the
// compiled sources land, BEFORE tsc -b runs, so dependents type-check against the real types and
// `dist/src/generated/replicant.js` resolves at run time.
import { cpSync } from 'node:fs';
const root = new URL('..', import.meta.url).pathname;
cpSync(`${root}protocol/src/generated`, `${root}protocol/dist/src/generated`, { recursive: true });
