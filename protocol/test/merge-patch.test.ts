import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMergePatch } from '../src/merge-patch.js';

// RFC 7386, Appendix A: [original, patch, result]
const APPENDIX_A: [string, string, string][] = [
  ['{"a":"b"}', '{"a":"c"}', '{"a":"c"}'],
  ['{"a":"b"}', '{"b":"c"}', '{"a":"b","b":"c"}'],
  ['{"a":"b"}', '{"a":null}', '{}'],
  ['{"a":"b","b":"c"}', '{"a":null}', '{"b":"c"}'],
  ['{"a":["b"]}', '{"a":"c"}', '{"a":"c"}'],
  ['{"a":"c"}', '{"a":["b"]}', '{"a":["b"]}'],
  ['{"a":{"b":"c"}}', '{"a":{"b":"d","c":null}}', '{"a":{"b":"d"}}'],
  ['{"a":[{"b":"c"}]}', '{"a":[1]}', '{"a":[1]}'],
  ['["a","b"]', '["c","d"]', '["c","d"]'],
  ['{"a":"b"}', '["c"]', '["c"]'],
  ['{"a":"foo"}', 'null', 'null'],
  ['{"a":"foo"}', '"bar"', '"bar"'],
  ['{"e":null}', '{"a":1}', '{"e":null,"a":1}'],
  ['[1,2]', '{"a":"b","c":null}', '{"a":"b"}'],
  ['{}', '{"a":{"bb":{"ccc":null}}}', '{"a":{"bb":{}}}'],
];

for (const [original, patch, result] of APPENDIX_A) {
  test(`RFC 7386 Appendix A: ${original} + ${patch} = ${result}`, () => {
    assert.deepEqual(applyMergePatch(JSON.parse(original), JSON.parse(patch)), JSON.parse(result));
    assert.equal(JSON.stringify(applyMergePatch(JSON.parse(original), JSON.parse(patch))), result);
  });
}

test('RFC 7386 section 3 example', () => {
  const target = {
    title: 'Goodbye!',
    author: { givenName: 'John', familyName: 'Doe' },
    tags: ['example', 'sample'],
    content: 'This will be unchanged',
  };
  const patch = { title: 'Hello!', phoneNumber: '+01-123-456-7890', author: { familyName: null }, tags: ['example'] };
  assert.deepEqual(applyMergePatch(target, patch), {
    title: 'Hello!',
    author: { givenName: 'John' },
    tags: ['example'],
    content: 'This will be unchanged',
    phoneNumber: '+01-123-456-7890',
  });
});

test('an object target is updated in place and returned', () => {
  const target: Record<string, unknown> = { a: 1 };
  const out = applyMergePatch(target, { b: 2 });
  assert.equal(out, target);
  assert.deepEqual(target, { a: 1, b: 2 });
});

test('nothing of the patch is aliased into the result', () => {
  const patch: { o: Record<string, unknown>; arr: { y: number }[] } = { o: { x: 1, gone: null }, arr: [{ y: 1 }] };
  const out = applyMergePatch({}, patch) as { o: Record<string, unknown>; arr: { y: number }[] };
  assert.notEqual(out.o, patch.o);
  assert.notEqual(out.arr, patch.arr);
  assert.notEqual(out.arr[0], patch.arr[0]);
  assert.deepEqual(out, { o: { x: 1 }, arr: [{ y: 1 }] }); // nulls inside new objects are processed
  // reusing / mutating the patch afterwards does not change the state
  patch.o.x = 99;
  patch.arr[0].y = 99;
  assert.deepEqual(out, { o: { x: 1 }, arr: [{ y: 1 }] });
  // and mutating the state does not change the patch
  (out.o as Record<string, unknown>).z = 1;
  assert.equal(Object.hasOwn(patch.o, 'z'), false);
});

test('"__proto__" is an ordinary member, never the prototype', () => {
  const patch = JSON.parse('{"__proto__":{"polluted":true},"a":{"__proto__":{"x":1}}}');
  const out = applyMergePatch({}, patch) as Record<string, unknown>;
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.equal(JSON.stringify(out), '{"__proto__":{"polluted":true},"a":{"__proto__":{"x":1}}}');
  const removed = applyMergePatch(out, JSON.parse('{"__proto__":null}'));
  assert.equal(JSON.stringify(removed), '{"a":{"__proto__":{"x":1}}}');
  // inherited members are not merge targets
  assert.equal(JSON.stringify(applyMergePatch({}, JSON.parse('{"toString":{"a":1}}'))), '{"toString":{"a":1}}');
});

test('deterministic: the same ops give the same state and the same key order', () => {
  let seed = 42;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed % n;
  };
  const keys = ['a', 'b', 'c', 'd', '1', '2'];
  const value = (depth: number): unknown => {
    switch (rnd(depth > 2 ? 4 : 6)) {
      case 0:
        return null;
      case 1:
        return rnd(100);
      case 2:
        return `s${rnd(10)}`;
      case 3:
        return [rnd(5), { k: rnd(3) }];
      default: {
        const o: Record<string, unknown> = {};
        for (let i = rnd(4); i >= 0; i--) o[keys[rnd(keys.length)]] = value(depth + 1);
        return o;
      }
    }
  };
  const ops = Array.from({ length: 300 }, () => {
    const o: Record<string, unknown> = {};
    for (let i = rnd(4); i >= 0; i--) o[keys[rnd(keys.length)]] = value(0);
    return JSON.stringify(o);
  });
  let x: unknown = {};
  let y: unknown = {};
  for (const op of ops) {
    x = applyMergePatch(x, JSON.parse(op));
    y = applyMergePatch(y, JSON.parse(op));
  }
  assert.equal(JSON.stringify(x), JSON.stringify(y));
  // replaying from a serialized checkpoint gives the same result as folding from scratch
  let z: unknown = {};
  for (const [i, op] of ops.entries()) {
    z = applyMergePatch(z, JSON.parse(op));
    if (i === 150) z = JSON.parse(JSON.stringify(z));
  }
  assert.equal(JSON.stringify(z), JSON.stringify(x));
});
