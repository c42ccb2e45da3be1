/**
 * The publishable packages (@replicant/protocol, @replicant/sdk, @replicant/react): `npm pack`
 * produces tarballs that install into an empty project (from the local tarballs; react 18 and its
 * types come from the npm registry or npm's cache), import by their `exports`, type-check against
 * their declarations, and render a useDoc component server-side with React 18.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './harness.js';

const run = promisify(execFile);
const ROOT = new URL('../../../', import.meta.url).pathname;
const PACKAGES = ['protocol', 'sdk', 'sdk-react'];

test('npm pack: the three packages install and import in an empty project', { timeout: 240_000 }, async (t) => {
  const tmp = tempDir('replicant-pack-');
  t.after(() => tmp.cleanup());
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', tmp.dir, ...PACKAGES.flatMap((p) => ['-w', p])], { cwd: ROOT });
  const packed = JSON.parse(stdout) as { name: string; filename: string; files: { path: string }[] }[];
  assert.deepEqual(packed.map((p) => p.name).sort(), ['@replicant/protocol', '@replicant/react', '@replicant/sdk']);
  for (const p of packed) {
    const paths = p.files.map((f) => f.path);
    assert.ok(paths.includes('README.md') && paths.includes('package.json') && paths.includes('dist/src/index.d.ts'), `${p.name}: ${paths.length} files`);
    assert.ok(!paths.some((f) => f.includes('/test/') || f.endsWith('.tsbuildinfo')), `${p.name} ships no tests or build state`);
  }
  const tarball = (name: string) => `file:${join(tmp.dir, packed.find((p) => p.name === name)!.filename)}`;

  const app = join(tmp.dir, 'app');
  await run('mkdir', ['-p', app]);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'pack-test-app',
      private: true,
      type: 'module',
      dependencies: {
        '@replicant/protocol': tarball('@replicant/protocol'),
        '@replicant/sdk': tarball('@replicant/sdk'),
        '@replicant/react': tarball('@replicant/react'),
        react: '18.3.1',
        'react-dom': '18.3.1',
        '@types/react': '^18.3.0',
        '@types/react-dom': '^18.3.0',
      },
      // the sdk depends on @replicant/protocol 0.1.0 by version: take it from the tarball too
      overrides: { '@replicant/protocol': tarball('@replicant/protocol'), '@replicant/sdk': tarball('@replicant/sdk') },
    }),
  );
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'], { cwd: app });
  for (const p of ['@replicant/protocol', '@replicant/sdk', '@replicant/react']) {
    assert.ok(!existsSync(join(app, 'node_modules', p, 'src')), `${p} installed without its sources`);
    assert.equal(JSON.parse(readFileSync(join(app, 'node_modules', p, 'package.json'), 'utf8')).private, undefined);
  }

  writeFileSync(
    join(app, 'main.js'),
    `import { createElement as h } from 'react';
import { renderToString } from 'react-dom/server';
import { encodeClientJson } from '@replicant/protocol';
import { connect, memoryStorage, fileStorage, indexedDbStorage } from '@replicant/sdk';
import { ReplicantProvider, useDoc } from '@replicant/react';
function View() {
  const { state, seq, pending, status } = useDoc('d');
  return h('p', null, JSON.stringify(state) + ' ' + seq + ' ' + pending + ' ' + status);
}
const client = connect('ws://127.0.0.1:9', { storage: memoryStorage() });
const html = renderToString(h(ReplicantProvider, { client }, h(View)));
await client.close();
console.log(JSON.stringify({
  html,
  frame: encodeClientJson({ type: 'publish', doc: 'd', patch: '{}', ifSeq: 7n }),
  storages: [typeof fileStorage, typeof indexedDbStorage],
}));
`,
  );
  const out = JSON.parse((await run(process.execPath, ['main.js'], { cwd: app })).stdout);
  assert.deepEqual(out, {
    html: '<p>{} 0 0 connecting</p>',
    frame: '{"type":"publish","doc":"d","patch":{},"ifSeq":"7"}',
    storages: ['function', 'function'],
  });

  // the declarations resolve through `exports` for a TypeScript consumer
  writeFileSync(
    join(app, 'check.ts'),
    `import { connect, type LiveDoc } from '@replicant/sdk';
import { useDoc, type DocView } from '@replicant/react';
import { parseSeq } from '@replicant/protocol';
const c = connect('ws://x');
const p: Promise<bigint> = c.publish('d', { a: 1 }, { ifSeq: parseSeq('1') });
const f = (d: LiveDoc): number => d.pending;
const g: () => DocView = () => useDoc('d');
export { p, f, g };
`,
  );
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, lib: ['ES2023', 'DOM'] }, files: ['check.ts'] }),
  );
  await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', app]);
});
