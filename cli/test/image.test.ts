/**
 * The container image's build (scripts/build-image.sh, which the root Dockerfile RUNs): from a
 * clean copy of the source tree as the Docker build context holds it (the files git tracks or
 * would track, minus .dockerignore's entries), the script produces a runtime tree that
 * - holds no dev-only package (typescript, eslint, esbuild, playwright-core, @types/*, the test
 *   kit) and no compiled tests, but uWebSockets.js's native binary for this platform;
 * - runs `replicant dev` on its own: only its own node_modules (no NODE_PATH, no node_modules in
 *   any parent directory), its files read-only, as uid/gid 10001 (the image's user) when the test
 *   runs as root, writing only to DATA_DIR; /readyz and /healthz answer 200 on both ports and a
 *   POST/GET round trip works.
 * npm ci takes the registry's packages from the local npm cache when it has them (--prefer-offline).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { freePort, halt, launch, PortInUseError } from '@replicant/testkit';
import { tempDir } from './harness.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
/** the image's user (Dockerfile `USER`) */
const IMAGE_UID = 10001;
const DEV_ONLY = ['typescript', 'typescript-eslint', 'eslint', 'esbuild', 'playwright-core', 'protobufjs-cli', '@replicant/testkit', '@replicant/load-tests'];

/**
 * .dockerignore's patterns as the Docker build applies them to the context's paths. Only the two
 * forms the file uses are understood (`name`: that entry at the root; `** /glob`: any path
 * component), so a new form fails here rather than being silently ignored.
 */
function dockerignored(): (path: string) => boolean {
  const rules = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const glob = (g: string) => new RegExp(`^${g.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
  const tests = rules.map((r) => {
    if (r.startsWith('**/') && !r.slice(3).includes('/')) {
      const re = glob(r.slice(3));
      return (parts: string[]) => parts.some((p) => re.test(p));
    }
    assert.match(r, /^[A-Za-z0-9._-]+$/, `.dockerignore: unsupported pattern ${r}`);
    return (parts: string[]) => parts[0] === r;
  });
  return (path) => {
    const parts = path.split('/');
    return tests.some((t) => t(parts));
  };
}

/** copies the build context (tracked and untracked-but-not-ignored files, minus .dockerignore) to `dest` */
function copyContext(dest: string): number {
  const ignored = dockerignored();
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  let n = 0;
  for (const rel of listed.split('\0')) {
    if (!rel || ignored(rel) || !existsSync(join(ROOT, rel))) continue; // a deleted, not yet committed file
    assert.ok(lstatSync(join(ROOT, rel)).isFile(), `${rel}: only plain files are expected in the tree`);
    mkdirSync(dirname(join(dest, rel)), { recursive: true });
    copyFileSync(join(ROOT, rel), join(dest, rel)); // keeps the mode (executable scripts)
    n++;
  }
  return n;
}

/** every installed package's name under a node_modules directory, nested ones included */
function packagesUnder(nodeModules: string, out: string[] = []): string[] {
  for (const entry of readdirSync(nodeModules)) {
    if (entry.startsWith('.')) continue;
    const dirs = entry.startsWith('@') ? readdirSync(join(nodeModules, entry)).map((s) => join(entry, s)) : [entry];
    for (const d of dirs) {
      const pkg = join(nodeModules, d);
      if (lstatSync(pkg).isSymbolicLink()) {
        out.push(d); // a workspace link; its own dependencies are hoisted
        continue;
      }
      out.push(d);
      if (existsSync(join(pkg, 'node_modules'))) packagesUnder(join(pkg, 'node_modules'), out);
    }
  }
  return out;
}

test('image build: the script builds a clean context into a runtime tree that runs `replicant dev` read-only, as the image user', { timeout: 600_000 }, async (t) => {
  const tmp = tempDir('replicant-image-');
  t.after(() => {
    execFileSync('chmod', ['-R', 'u+w', tmp.dir]);
    tmp.cleanup();
  });
  chmodSync(tmp.dir, 0o755); // the image user must reach the tree and the data dir
  const src = join(tmp.dir, 'src');
  const out = join(tmp.dir, 'app');
  const files = copyContext(src);

  const started = Date.now();
  const log = execFileSync('bash', [join(src, 'scripts', 'build-image.sh'), src, out], {
    env: { ...process.env, NPM_CI_FLAGS: '--prefer-offline --loglevel=error' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  t.diagnostic(`build-image.sh: ${files} context files, ${((Date.now() - started) / 1000).toFixed(1)} s; ${log.trim().split('\n').at(-1)}`);

  // what is in the tree
  const installed = packagesUnder(join(out, 'node_modules'));
  assert.deepEqual(installed.filter((p) => DEV_ONLY.includes(p) || p.startsWith('@types/')), [], 'dev-only packages in the runtime tree');
  for (const p of ['uWebSockets.js', 'kafkajs', 'ioredis', 'protobufjs', 'prom-client', 'jose', '@replicant/cli', '@replicant/gateway']) {
    assert.ok(installed.includes(p), `${p} missing from the runtime tree`);
  }
  const uws = readdirSync(join(out, 'node_modules', 'uWebSockets.js', 'dist', 'bin'));
  assert.ok(uws.includes(`uws_${process.platform}_${process.arch}_${process.versions.modules}.node`), `uWebSockets.js binaries: ${uws.join(' ')}`);
  assert.deepEqual(uws.filter((f) => !f.startsWith(`uws_${process.platform}_${process.arch}_`)), [], 'binaries of other platforms are dropped');
  const dirs = readdirSync(out).sort();
  assert.deepEqual(dirs, ['auth', 'bin', 'cli', 'fanout', 'gateway', 'node_modules', 'origin', 'package-lock.json', 'package.json', 'protocol', 'sdk', 'stream']);
  for (const w of dirs.filter((d) => existsSync(join(out, d, 'dist')))) assert.ok(!existsSync(join(out, w, 'dist', 'test')), `${w}/dist/test shipped`);
  // nothing outside the tree can lend it a module
  for (let d = dirname(out); ; d = dirname(d)) {
    assert.ok(!existsSync(join(d, 'node_modules')), `${d}/node_modules would be visible to the runtime tree`);
    if (d === dirname(d)) break;
  }

  // run it as the image does: its files read-only, as the image user, data only under DATA_DIR
  execFileSync('chmod', ['-R', 'a-w', out]);
  const dataDir = join(tmp.dir, 'data');
  mkdirSync(dataDir);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(dataDir, IMAGE_UID, IMAGE_UID);
  const replicant = join(out, 'bin', 'replicant');
  const [bin, args] = asRoot
    ? ['/usr/bin/setpriv', [`--reuid=${IMAGE_UID}`, `--regid=${IMAGE_UID}`, '--clear-groups', replicant, 'dev']]
    : [replicant, ['dev']];
  let child: ChildProcess | undefined;
  let port = 0;
  let adminPort = 0;
  for (let attempt = 0; !child; attempt++) {
    [port, adminPort] = [await freePort(), await freePort()];
    try {
      child = await launch({
        name: 'replicant dev (image tree)',
        bin,
        args,
        // the image's environment: nothing but PATH (for the bin's `#!/usr/bin/env node`) and settings
        env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOST: '127.0.0.1', PORT: String(port), ADMIN_PORT: String(adminPort), DATA_DIR: dataDir },
        ready: /replicant dev ready on/,
        startTimeoutMs: 30_000,
        portInUse: /cannot listen/,
        dieWithParent: true,
      });
    } catch (err) {
      if (!(err instanceof PortInUseError) || attempt >= 5) throw err;
    }
  }
  const dev = child;
  t.after(() => halt(dev, 'SIGTERM'));
  const base = `http://127.0.0.1:${port}`;
  for (const url of [`${base}/readyz`, `http://127.0.0.1:${adminPort}/readyz`, `http://127.0.0.1:${adminPort}/healthz`]) {
    const r = await fetch(url);
    assert.equal(r.status, 200, `${url}: ${r.status} ${await r.text()}`);
  }
  const posted = await fetch(`${base}/v1/docs/image-test`, { method: 'POST', headers: { 'content-type': 'application/merge-patch+json' }, body: '{"built":"image"}' });
  assert.equal(posted.status, 200);
  const { seq } = (await posted.json()) as { seq: string };
  assert.match(seq, /^[1-9][0-9]*$/);
  const got = await fetch(`${base}/v1/docs/image-test`);
  assert.deepEqual(await got.json(), { seq, state: { built: 'image' } });
  const sdk = await fetch(`${base}/sdk.js`); // the demo page's bundle, read from the tree
  assert.equal(sdk.status, 200);
  await sdk.arrayBuffer();
  await halt(dev, 'SIGTERM');
  assert.equal(dev.exitCode, 0, 'replicant dev did not stop cleanly on SIGTERM');
  assert.ok(existsSync(join(dataDir, 'log')), 'the embedded log is under DATA_DIR');
});
