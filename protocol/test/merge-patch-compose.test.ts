/**
 * composeMergePatch is exact or refuses: a property test over random states and patch pairs checks
 * that whenever it returns a patch, applying it equals applying the two patches in turn, on many
 * random states (and on the states that stress it: missing keys, scalars and objects where the
 * patches merge). Runs of deltas are coalesced with it (fanout/delta.ts), so this is the guarantee
 * that a coalesced delta never yields a different state than the ops one by one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMergePatch, composeMergePatch } from '../src/merge-patch.js';
import { rng } from '@replicant/testkit';

const KEYS = ['a', 'b', 'c', '__proto__'];

function randomValue(r: () => number, depth: number, patch: boolean): unknown {
  const x = r();
  if (patch && x < 0.2) return null;
  if (x < 0.45) return Math.floor(r() * 3);
  if (x < 0.55) return [Math.floor(r() * 3)];
  if (x < 0.6) return 'txt';
  if (depth <= 0) return true;
  return randomObject(r, depth - 1, patch);
}

function randomObject(r: () => number, depth: number, patch: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of KEYS) {
    if (r() < 0.45) Object.defineProperty(o, k, { value: randomValue(r, depth, patch), writable: true, enumerable: true, configurable: true });
  }
  return o;
}

const clone = (v: unknown): unknown => JSON.parse(JSON.stringify(v));
const apply = (s: unknown, p: unknown): unknown => applyMergePatch(clone(s), clone(p));

test('composition is exact: apply(s, compose(a, b)) == apply(apply(s, a), b) for random s, a, b', () => {
  const r = rng(7386);
  let composed = 0;
  let refused = 0;
  for (let i = 0; i < 20_000; i++) {
    const a = randomObject(r, 3, true);
    const b = randomObject(r, 3, true);
    const aText = JSON.stringify(a);
    const bText = JSON.stringify(b);
    const c = composeMergePatch(a, b);
    assert.equal(JSON.stringify(a), aText, 'a is not modified');
    assert.equal(JSON.stringify(b), bText, 'b is not modified');
    if (c === undefined) {
      refused++;
      continue;
    }
    composed++;
    for (let j = 0; j < 8; j++) {
      const s = randomObject(r, 3, false);
      assert.deepEqual(apply(s, c), apply(apply(s, a), b), `seed 7386 case ${i}: s=${JSON.stringify(s)} a=${aText} b=${bText}`);
    }
    // a state with every key an object and one with every key a scalar: where merges diverge most
    const objs = Object.fromEntries(KEYS.map((k) => [k, { a: 1, b: { c: 2 } }]));
    const scalars = Object.fromEntries(KEYS.map((k) => [k, 5]));
    for (const s of [{}, objs, scalars]) assert.deepEqual(apply(s, c), apply(apply(s, a), b), `case ${i} on ${JSON.stringify(s)}`);
  }
  // the property is not vacuous: most pairs compose, and the refusals happen
  assert.ok(composed > 10_000, `${composed} composed`);
  assert.ok(refused > 100, `${refused} refused`);
});

test('composition refuses exactly where one merge patch cannot express the pair', () => {
  // set to a scalar, then patched with an object: the result is the object alone
  assert.equal(composeMergePatch({ a: 1 }, { a: { b: 2 } }), undefined);
  // deleted, then patched with an object
  assert.equal(composeMergePatch({ a: null }, { a: { b: 2 } }), undefined);
  // the same, one level down
  assert.equal(composeMergePatch({ x: { a: [1] } }, { x: { a: { b: 2 } } }), undefined);
  // everything else composes
  assert.deepEqual(composeMergePatch({ a: 1, b: 2 }, { a: 3, c: null }), { a: 3, b: 2, c: null });
  assert.deepEqual(composeMergePatch({ a: { b: 1, c: null } }, { a: { b: null, d: 4 } }), { a: { b: null, c: null, d: 4 } });
  assert.deepEqual(composeMergePatch({ a: { b: 1 } }, { a: 7 }), { a: 7 });
  assert.deepEqual(composeMergePatch({ a: null }, { a: [1] }), { a: [1] });
  assert.deepEqual(composeMergePatch({}, { a: { b: null } }), { a: { b: null } });
});
