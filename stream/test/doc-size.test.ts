/**
 * MAX_DOC_BYTES in the fold: the incremental size DocState keeps equals the real serialized size
 * over random patch sequences, and an op past the bound is not applied (decided with the bound
 * its record carries, so readers configured differently agree).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError, applyMergePatch, type JsonObject } from '@replicant/protocol';
import { rng } from '@replicant/testkit';
import { DocState } from '../src/doc-state.js';
import { jsonSize, mergeSizeDelta } from '../src/doc-size.js';
import { decodeOp, encodeOp } from '../src/op.js';

const KEYS = ['a', 'b', 'c', 'é', '日本', '__proto__', 'k"q', 'z\u{1F600}'];

function randomValue(r: () => number, depth: number): unknown {
  const x = r();
  if (x < 0.15) return null;
  if (x < 0.3) return Math.floor(r() * 1e6) / (r() < 0.5 ? 1 : 7);
  if (x < 0.45) return ['', 'x', 'héllo', '\u{1F600}', 'a\nb"c\\', '\ud800'][Math.floor(r() * 6)].repeat(1 + Math.floor(r() * 3));
  if (x < 0.5) return r() < 0.5;
  if (x < 0.6) return [1, null, { a: null }, 'ü'].slice(0, Math.floor(r() * 5));
  return depth > 0 ? randomObject(r, depth - 1) : {};
}

function randomObject(r: () => number, depth: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const n = Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const k = KEYS[Math.floor(r() * KEYS.length)];
    Object.defineProperty(o, k, { value: randomValue(r, depth), enumerable: true, writable: true, configurable: true });
  }
  return o;
}

test('the incremental size equals Buffer.byteLength(JSON.stringify(state)) over random patch sequences', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const r = rng(seed);
    const doc = new DocState('d');
    for (let i = 0; i < 60; i++) {
      const patch = randomObject(r, 3) as JsonObject;
      const before = structuredClone(doc.state);
      const predicted = mergeSizeDelta(doc.state, patch);
      assert.deepEqual(doc.state, before, 'mergeSizeDelta does not modify the state');
      const res = doc.apply(BigInt(i + 1), patch, '', undefined, undefined);
      assert.equal(res.applied, true);
      const real = Buffer.byteLength(JSON.stringify(doc.state));
      assert.equal(doc.bytes, real, `seed ${seed} op ${i}: ${JSON.stringify(patch)}`);
      assert.equal(predicted, real - jsonSize(applyMergePatch(before, {}) as object), `seed ${seed} op ${i}: delta`);
    }
  }
});

test('a state loaded from a snapshot starts with its real size', () => {
  const s = DocState.from({ doc: 'd', seq: 5n, state: { a: 'ü'.repeat(10), b: [1, 2] }, keys: [] });
  assert.equal(s.bytes, Buffer.byteLength(JSON.stringify(s.state)));
});

test('an op whose result would be over its bound is not applied; the doc keeps its state and a smaller op still applies', () => {
  const doc = new DocState('d');
  const max = 1000;
  assert.equal(doc.apply(1n, { a: 'x'.repeat(900) }, '', undefined, max).applied, true);
  const before = JSON.stringify(doc.state);
  const r = doc.apply(2n, { b: 'y'.repeat(200) }, 'k1', undefined, max);
  assert.deepEqual(r, { applied: false, seq: 1n, outcome: 'too_large', changed: false });
  assert.equal(JSON.stringify(doc.state), before);
  assert.equal(doc.seq, 1n);
  // not remembered: a re-send of the key is judged again (here after the doc shrank)
  assert.equal(doc.apply(3n, { a: null }, '', undefined, max).applied, true);
  assert.equal(doc.apply(4n, { b: 'y'.repeat(200) }, 'k1', undefined, max).applied, true);
  assert.equal(doc.bytes, Buffer.byteLength(JSON.stringify(doc.state)));
  // exactly at the bound is allowed
  const room = max - doc.bytes;
  const exact = doc.apply(5n, { c: 'z'.repeat(room - '"c":"",'.length) }, '', undefined, max);
  assert.equal(exact.applied, true);
  assert.equal(doc.bytes, max);
  // sequenced keys: not decided either, so a re-send is judged again
  const tooBig = doc.apply(6n, { d: 'w'.repeat(50) }, '~c1.1.0', undefined, max);
  assert.equal(tooBig.applied, false);
  assert.equal(tooBig.applied === false && tooBig.outcome, 'too_large');
  assert.equal(doc.peek('~c1.1.0'), undefined);
  // an op that does not grow an oversized doc (e.g. loaded from before the bound) applies
  const big = new DocState('e', 1n, { a: 'x'.repeat(5000) });
  assert.equal(big.apply(2n, { a: 'x'.repeat(4000) }, '', undefined, max).applied, true);
  assert.equal(big.apply(3n, { b: 1 }, '', undefined, max).applied, false);
});

test('the bound travels in the op record; records without it are unbounded for every reader', () => {
  const withBound = decodeOp(encodeOp('{"a":1}', '', 0, undefined, 4096));
  assert.ok(!(withBound instanceof ProtocolError));
  assert.equal(withBound.maxDocBytes, 4096);
  const old = decodeOp(encodeOp('{"a":1}', '', 0));
  assert.ok(!(old instanceof ProtocolError));
  assert.equal(old.maxDocBytes, undefined);
  const doc = new DocState('d');
  assert.equal(doc.apply(1n, { a: 'x'.repeat(10_000) }, '', undefined, old.maxDocBytes).applied, true);
});
