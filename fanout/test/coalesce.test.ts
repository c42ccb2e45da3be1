/**
 * coalesceDeltas: a chained run becomes one delta from the first prevSeq to the last seq when the
 * patches compose, split exactly where they do not, and folding the result gives the same state
 * as folding the run op by op.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMergePatch } from '@replicant/protocol';
import { coalesceDeltas, Delta } from '../src/delta.js';

function run(patches: Record<string, unknown>[], first = 10n): Delta[] {
  let prev = first;
  return patches.map((p, i) => {
    const seq = prev + 1n + BigInt(i % 2); // seqs are increasing, not contiguous
    const d = new Delta('doc', seq, prev, JSON.stringify(p), p, 1000 + i);
    prev = seq;
    return d;
  });
}

const fold = (state: Record<string, unknown>, ds: Delta[]) => {
  let s: unknown = structuredClone(state);
  for (const d of ds) s = applyMergePatch(s, JSON.parse(d.patch));
  return s;
};

test('a composable run becomes one delta covering it, encoded with the chain ends', () => {
  const ds = run([{ n: 1, t: 1 }, { n: 2, t: 2 }, { n: 3, x: { y: 1 } }, { x: { z: null } }]);
  const out = coalesceDeltas(ds)!;
  assert.equal(out.length, 1);
  assert.equal(out[0].prevSeq, ds[0].prevSeq);
  assert.equal(out[0].seq, ds[3].seq);
  assert.equal(out[0].ops, 4);
  assert.equal(out[0].tsMs, ds[3].tsMs);
  assert.deepEqual(JSON.parse(out[0].patch), { n: 3, t: 2, x: { y: 1, z: null } });
  const frame = JSON.parse(out[0].jsonFrame());
  assert.deepEqual([frame.prevSeq, frame.seq], [String(ds[0].prevSeq), String(ds[3].seq)]);
  const base = { x: { z: 1, w: 2 }, keep: true };
  assert.deepEqual(fold(base, out), fold(base, ds));
});

test('a run splits where a key set to a scalar or deleted is then patched with an object', () => {
  const ds = run([{ a: 1 }, { b: 2 }, { a: { k: 1 } }, { c: null }, { c: { k: 2 } }, { d: 4 }]);
  const out = coalesceDeltas(ds)!;
  assert.deepEqual(
    out.map((d) => [d.prevSeq, d.seq, d.ops]),
    [
      [ds[0].prevSeq, ds[1].seq, 2],
      [ds[1].seq, ds[3].seq, 2],
      [ds[3].seq, ds[5].seq, 2],
    ],
  );
  for (const base of [{}, { a: { old: 1 }, c: { old: 2 } }, { a: 5, c: 'x' }]) assert.deepEqual(fold(base, out), fold(base, ds));
  // with a bound of one output delta, a run that needs three is refused (the caller sends a snapshot)
  assert.equal(coalesceDeltas(ds, 1), undefined);
  assert.equal(coalesceDeltas(ds, 3)!.length, 3);
});

test('a single delta is passed through as the same object (its cached frames are reused)', () => {
  const ds = run([{ a: 1 }]);
  assert.equal(coalesceDeltas(ds)![0], ds[0]);
  assert.deepEqual(coalesceDeltas([]), []);
});
