// Bundles the console's page (cli/console/app.jsx: Preact + uPlot) into cli/dist/console/app.js
// and app.css; the admin ports and `replicant dev` serve them at /console/. Built here, at build
// time, so nothing is fetched at run time.
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
await build({
  entryPoints: [`${root}cli/console/app.jsx`],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  // the SDK bundle is its own file (/console/sdk.js), loaded when the inspector opens
  external: ['/console/sdk.js'],
  minify: true,
  outdir: `${root}cli/dist/console`,
  entryNames: 'app',
  logLevel: 'warning',
});
