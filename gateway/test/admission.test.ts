/**
 * The upgrade token bucket at its bound: a burst is admitted at once, then exactly the rate; a
 * refusal answers a Retry-After of at least one second and is counted; idle time refills up to the
 * burst and no further.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Admission } from '../src/admission.js';

test('admission admits the burst, then the rate; refusals are counted with a Retry-After', () => {
  let now = 0;
  const a = new Admission(100, 20, () => now);
  let admitted = 0;
  for (let i = 0; i < 50; i++) if (a.take()) admitted++;
  assert.equal(admitted, 20, 'the burst');
  assert.equal(a.refused, 30);
  assert.ok(a.retryAfterSec() >= 1);
  now += 100; // 100 ms at 100/s = 10 tokens
  admitted = 0;
  for (let i = 0; i < 50; i++) if (a.take()) admitted++;
  assert.equal(admitted, 10, 'the rate');
  now += 60_000; // a long idle refills to the burst, not beyond
  admitted = 0;
  for (let i = 0; i < 50; i++) if (a.take()) admitted++;
  assert.equal(admitted, 20);
  assert.throws(() => new Admission(0, 1), RangeError);
});
