import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readArgs } from '../src/args.js';

test('bench flags: --flag value, --flag=value, presence, numbers with a default', () => {
  const a = readArgs(['--quick', '--rate', '5', '--doc=x', '--wait-quiet', '3', 'extra']);
  assert.equal(a.has('--quick'), true);
  assert.equal(a.has('--nope'), false);
  assert.equal(a.val('--rate'), '5');
  assert.equal(a.val('--doc'), 'x');
  assert.equal(a.val('--missing'), undefined);
  assert.equal(a.num('--wait-quiet', 1), 3);
  assert.equal(a.num('--missing', 7), 7);
  assert.throws(() => readArgs(['--rate', 'fast']).num('--rate', 1), /--rate must be a positive number \(got fast\)/);
});
