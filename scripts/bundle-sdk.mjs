// Bundles the SDK for browsers (ESM, protobufjs included, the Node-only `ws` fallback left out)
// into sdk/dist/browser/replicant-sdk.js; `replicant dev` serves it at /sdk.js for the demo page.
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
await build({
  entryPoints: [`${root}sdk/dist/src/index.js`],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  external: ['ws', 'node:*'],
  minify: true,
  sourcemap: true,
  outfile: `${root}sdk/dist/browser/replicant-sdk.js`,
  logLevel: 'warning',
});
