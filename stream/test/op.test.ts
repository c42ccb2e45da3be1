import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError, pb } from '@replicant/protocol';
import { decodeOp, encodeOp } from '../src/op.js';

test('encodeOp / decodeOp round trip', () => {
  const op = decodeOp(encodeOp('{"a":{"b":[1,2]},"c":null}', 'key-1', 1_700_000_000_123));
  assert.ok(!(op instanceof ProtocolError));
  assert.deepEqual(op, {
    patch: { a: { b: [1, 2] }, c: null },
    patchText: '{"a":{"b":[1,2]},"c":null}',
    key: 'key-1',
    tsMs: 1_700_000_000_123,
  });
  const noKey = decodeOp(encodeOp('{}', '', 0));
  assert.ok(!(noKey instanceof ProtocolError));
  assert.equal(noKey.key, '');
});

test('decodeOp returns a ProtocolError for bad input', () => {
  const notOp = decodeOp(new Uint8Array([0xff, 0xff, 0xff]));
  assert.ok(notOp instanceof ProtocolError);
  const notObject = decodeOp(encodeOp('[1]', '', 0));
  assert.ok(notObject instanceof ProtocolError && notObject.code === 'bad_patch');
  const notJson = decodeOp(encodeOp('{', '', 0));
  assert.ok(notJson instanceof ProtocolError && notJson.code === 'bad_patch');
  const badUtf8 = decodeOp(pb.Op.encode({ patch: new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]) }).finish());
  assert.ok(badUtf8 instanceof ProtocolError && badUtf8.code === 'bad_patch');
});
