#!/usr/bin/env node
// The committed entry point of `replicant` (package.json "bin"). It exists before the first build,
// so npm links it on the first `npm install` (the root "prepare" script then builds); it loads the
// compiled CLI and, when there is none, says how to build it instead of a module-not-found trace.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  console.error(`replicant: not built yet; run \`npm run build\` in ${root}`);
  process.exit(2);
}
await import(main.href);
