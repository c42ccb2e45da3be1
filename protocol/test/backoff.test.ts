import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, fullJitterDelay, Backoff } from '../src/index.js';

test('full jitter delay = random * min(max, initial * 2^attempt)', () => {
  assert.equal(fullJitterDelay(0, 250, 15_000, 0.5), 125);
  assert.equal(fullJitterDelay(3, 250, 15_000, 0.5), 1000);
  assert.equal(fullJitterDelay(10, 250, 15_000, 0.5), 7500);
  assert.equal(fullJitterDelay(5000, 250, 15_000, 0.999), 14_985);
  assert.equal(fullJitterDelay(2, 250, 15_000, 0), 0);
  const b = new Backoff({}, () => 1 - Number.EPSILON);
  assert.deepEqual([b.next(), b.next(), b.next()], [249, 499, 999]);
  b.reset();
  assert.equal(b.attempts, 0);
  assert.equal(b.next(), 249);
});

test('equal and no jitter', () => {
  const none = new Backoff({ initialMs: 250, maxMs: 10_000, jitter: 'none' });
  assert.deepEqual(Array.from({ length: 8 }, () => none.next()), [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  assert.equal(backoffDelay(0, 50, 2000, 'equal', 0), 25);
  assert.equal(backoffDelay(0, 50, 2000, 'equal', 1 - Number.EPSILON), 49);
  assert.equal(backoffDelay(20, 50, 2000, 'equal', 0.5), 1500);
});
