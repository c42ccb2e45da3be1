/** The one patch bound: depth over MAX_PATCH_DEPTH and size over the caller's bound are bad_patch, never a throw. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeClientBinary, decodeClientJson, encodeClientBinary, jsonDepth, MAX_PATCH_DEPTH, parsePatch, ProtocolError } from '../src/index.js';

const deepObj = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const deepArr = (n: number) => '{"a":' + '['.repeat(n - 1) + ']'.repeat(n - 1) + '}';

test('depth: at the bound accepted, one over refused, 10,000 and 1,000,000 deep refused without a throw', () => {
  assert.equal(jsonDepth(JSON.parse(deepObj(MAX_PATCH_DEPTH))), MAX_PATCH_DEPTH);
  assert.ok(!(parsePatch(deepObj(MAX_PATCH_DEPTH)) instanceof ProtocolError));
  assert.ok(!(parsePatch(deepArr(MAX_PATCH_DEPTH)) instanceof ProtocolError));
  for (const text of [deepObj(MAX_PATCH_DEPTH + 1), deepArr(MAX_PATCH_DEPTH + 1), deepObj(10_000), deepArr(1_000_000)]) {
    const r = parsePatch(text);
    assert.ok(r instanceof ProtocolError && r.code === 'bad_patch', text.slice(0, 20));
  }
  const j = decodeClientJson(`{"type":"publish","doc":"d","patch":${deepObj(10_000)},"id":"x"}`);
  assert.ok(j instanceof ProtocolError && j.code === 'bad_patch' && j.id === 'x' && j.doc === 'd');
  const b = decodeClientBinary(encodeClientBinary({ type: 'publish', doc: 'd', patch: deepObj(10_000), id: 'y' }));
  assert.ok(b instanceof ProtocolError && b.code === 'bad_patch' && b.id === 'y');
});

test('size: over maxBytes is bad_patch', () => {
  const r = parsePatch('{"a":"' + 'x'.repeat(100) + '"}', 50);
  assert.ok(r instanceof ProtocolError && r.code === 'bad_patch');
  assert.deepEqual(parsePatch('{"a":1}', 50), { a: 1 });
});
