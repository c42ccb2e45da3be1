// Runs every compiled test file (packages/*/dist/test/**/*.test.js) with Node's test runner.
// Node 20's runner takes no globs, so the files are listed here. Usage: node scripts/test.mjs [filter]
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const packages = ['protocol', 'auth', 'stream', 'origin', 'fanout', 'gateway', 'sdk', 'sdk-react', 'cli', 'load-tests', 'testkit', 'examples', 'scale'];
const filter = process.argv[2];
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js') && (!filter || p.includes(filter))) files.push(p);
  }
};
for (const pkg of packages) {
  const dir = join(root, pkg, 'dist', 'test');
  if (existsSync(dir)) walk(dir);
}
if (files.length === 0) {
  console.error('no test files found: run `npm run build` first');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...files], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(r.status ?? 1);
