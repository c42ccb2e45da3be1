import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergePatch, applyMergePatch } from '../src/index.js';

test('merge patch: RFC 7386 appendix A examples', () => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, expected] of cases) assert.deepEqual(mergePatch(target, patch), expected);
});

test('merge patch never mutates the target and shares untouched subtrees', () => {
  const state = { keep: { deep: [1] }, change: { x: 1 } };
  const next = applyMergePatch(state, { change: { y: 2 } });
  assert.deepEqual(state, { keep: { deep: [1] }, change: { x: 1 } });
  assert.deepEqual(next, { keep: { deep: [1] }, change: { x: 1, y: 2 } });
  assert.equal(next.keep, state.keep);
});

test('merge patch treats a __proto__ key as data, not as a prototype', () => {
  const patch = JSON.parse('{"__proto__":{"polluted":true}}');
  const next = applyMergePatch({}, patch);
  assert.equal(Object.getPrototypeOf(next), Object.prototype);
  assert.deepEqual(Object.keys(next), ['__proto__']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
