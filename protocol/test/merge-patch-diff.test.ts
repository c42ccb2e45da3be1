/**
 * diffMergePatch is exact: for random pairs of states (folds of random merge patches, so no object
 * member is null), applying the diff to the first gives the second, leaves both inputs alone and
 * shares nothing with them; states no merge patch reaches are refused. The gateway sends such a
 * diff as the one delta that keeps its subscribers' chains when an upstream re-bases past its
 * history (gateway/src/local-fanout.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMergePatch, diffMergePatch } from '../src/merge-patch.js';
import { rng } from '@replicant/testkit';

const KEYS = ['a', 'b', 'c', '__proto__'];

function randomValue(r: () => number, depth: number): unknown {
  const x = r();
  if (x < 0.2) return null;
  if (x < 0.45) return Math.floor(r() * 3);
  if (x < 0.55) return [Math.floor(r() * 3), null];
  if (x < 0.6) return 'txt';
  if (depth <= 0) return true;
  return randomPatch(r, depth - 1);
}

function randomPatch(r: () => number, depth: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of KEYS) {
    if (r() < 0.45) Object.defineProperty(o, k, { value: randomValue(r, depth), writable: true, enumerable: true, configurable: true });
  }
  return o;
}

const clone = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

/** a state as the log makes them: a fold of merge patches from {} */
function randomState(r: () => number): Record<string, unknown> {
  let s: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 4); i > 0; i--) s = applyMergePatch(s, randomPatch(r, 3)) as Record<string, unknown>;
  return s;
}

test('the diff is exact: apply(from, diff(from, to)) == to for random states', () => {
  const r = rng(7396);
  let empty = 0;
  for (let i = 0; i < 20_000; i++) {
    const from = randomState(r);
    // `to` is often `from` moved on by a few ops, sometimes unrelated
    let to = r() < 0.2 ? randomState(r) : (clone(from) as Record<string, unknown>);
    for (let j = Math.floor(r() * 3); j > 0; j--) to = applyMergePatch(to, randomPatch(r, 3)) as Record<string, unknown>;
    const fromText = JSON.stringify(from);
    const toText = JSON.stringify(to);
    const p = diffMergePatch(from, to);
    assert.ok(p !== undefined, `case ${i}: a fold is always reachable: ${fromText} -> ${toText}`);
    assert.equal(JSON.stringify(from), fromText, 'from is not modified');
    assert.equal(JSON.stringify(to), toText, 'to is not modified');
    const applied = applyMergePatch(clone(from), p);
    assert.deepEqual(applied, to, `seed 7396 case ${i}: ${fromText} -> ${toText} via ${JSON.stringify(p)}`);
    // nothing shared: changing the result of the patch's application leaves `to` alone
    applyMergePatch(applied, { a: 'changed', b: { c: 'changed' } });
    assert.equal(JSON.stringify(to), toText, 'the patch shares nothing with to');
    if (Object.keys(p).length === 0) empty++;
  }
  assert.ok(empty > 100 && empty < 15_000, `${empty} unchanged pairs: the property is not vacuous`);
});

test('the diff leaves unchanged members out, deletes with null, and refuses states no patch reaches', () => {
  assert.deepEqual(diffMergePatch({ a: 1, b: { c: 2, d: [1] } }, { a: 1, b: { c: 3, d: [1] } }), { b: { c: 3 } });
  assert.deepEqual(diffMergePatch({ a: 1, b: { c: 2 } }, { b: {} }), { a: null, b: { c: null } });
  assert.deepEqual(diffMergePatch({ a: 1 }, { a: { b: 2 } }), { a: { b: 2 } });
  assert.deepEqual(diffMergePatch({ a: { b: 2 } }, { a: [null] }), { a: [null] }, 'arrays are values: nulls in them are fine');
  assert.deepEqual(diffMergePatch({}, {}), {});
  assert.equal(diffMergePatch({}, { a: null }), undefined);
  assert.equal(diffMergePatch({ a: 1 }, { a: { b: null } }), undefined);
  assert.equal(diffMergePatch({ a: { b: 1 } }, { a: { b: 1, c: { d: null } } }), undefined);
});
