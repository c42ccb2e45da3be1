import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readArgs } from '../src/args.js';

const KNOWN = ['--quick', '--rate', '--doc', '--wait-quiet', '--missing', '--nope'];

test('bench flags: --flag value, --flag=value, presence, numbers with a default', () => {
  const a = readArgs(['--quick', '--rate', '5', '--doc=x', '--wait-quiet', '3', 'extra'], KNOWN);
  assert.equal(a.has('--quick'), true);
  assert.equal(a.has('--nope'), false);
  assert.equal(a.val('--rate'), '5');
  assert.equal(a.val('--doc'), 'x');
  assert.equal(a.val('--missing'), undefined);
  assert.equal(a.num('--wait-quiet', 1), 3);
  assert.equal(a.num('--missing', 7), 7);
  assert.throws(() => readArgs(['--rate', 'fast'], KNOWN).num('--rate', 1), /--rate must be a positive number \(got fast\)/);
});

test('bench flags: an undeclared flag is refused before anything runs, and so is reading one in code', () => {
  assert.throws(() => readArgs(['--rate', '5', '--ratee=6'], KNOWN, 'bench-x'), /unknown flag --ratee\nusage: bench-x \[flags\]\nflags: --doc --missing --nope --quick --rate --wait-quiet/);
  assert.throws(() => readArgs([], KNOWN).has('--other'), /--other is read but not declared/);
});

test('bench flags: --help prints the flags and exits 0 instead of starting the bench', () => {
  // the real bench entry point: before this, `bench.js --help` started a full run with defaults
  const bench = fileURLToPath(new URL('../src/bench.js', import.meta.url));
  const r = spawnSync(process.execPath, [bench, '--help'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^usage: node load-tests\/dist\/src\/bench\.js \[flags\]\nflags: .*--no-hot .*--targets/);
  const bad = spawnSync(process.execPath, [bench, '--no-hott'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /unknown flag --no-hott/);
});
