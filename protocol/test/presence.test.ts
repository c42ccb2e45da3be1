/** The presence fields of `subscribe` in both codecs, and the presence doc helpers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeClientBinary,
  decodeClientJson,
  encodeClientBinary,
  encodeClientJson,
  isPresenceDoc,
  MAX_PRESENCE_INFO_BYTES,
  parsePresenceReport,
  ProtocolError,
  readScopeDocOf,
  type SubscribeFrame,
} from '../src/index.js';

test('subscribe with presence and info round-trips through both codecs', () => {
  const f: SubscribeFrame = { type: 'subscribe', doc: 'room', lastSeq: 5n, presence: true, info: { name: 'Ann', n: 1 } };
  assert.deepEqual(decodeClientJson(encodeClientJson(f)), f);
  assert.deepEqual(decodeClientBinary(encodeClientBinary(f)), f);
  const plain: SubscribeFrame = { type: 'subscribe', doc: 'room' };
  assert.deepEqual(decodeClientBinary(encodeClientBinary(plain)), plain);
  assert.deepEqual(decodeClientJson('{"type":"subscribe","doc":"room","presence":true}'), { type: 'subscribe', doc: 'room', presence: true });
});

test('bad presence fields are bad_frame with the doc', () => {
  const bad = [
    '{"type":"subscribe","doc":"room","presence":"yes"}',
    '{"type":"subscribe","doc":"room","info":{"a":1}}',
    '{"type":"subscribe","doc":"room","presence":true,"info":[1]}',
    `{"type":"subscribe","doc":"room","presence":true,"info":{"a":"${'x'.repeat(MAX_PRESENCE_INFO_BYTES)}"}}`,
    '{"type":"subscribe","doc":"room~presence","presence":true}',
    `{"type":"subscribe","doc":"${'d'.repeat(250)}","presence":true}`,
  ];
  for (const text of bad) {
    const r = decodeClientJson(text);
    assert.ok(r instanceof ProtocolError, text.slice(0, 80));
    assert.deepEqual([r.code, r.doc], ['bad_frame', JSON.parse(text).doc]);
  }
});

test('presence doc ids and reports', () => {
  assert.equal(isPresenceDoc('room~presence'), true);
  assert.equal(isPresenceDoc('room'), false);
  assert.equal(readScopeDocOf('room~presence'), 'room');
  assert.equal(readScopeDocOf('room'), 'room');
  assert.equal(typeof parsePresenceReport({ gateway: 'g', boot: 'b', full: false, docs: { d: { n: 1, u: { a: [1, {}] } } } }), 'object');
  assert.equal(typeof parsePresenceReport({ gateway: 'g', boot: 'b', full: false, docs: { d: { n: 1, u: { a: [0, {}] } } } }), 'string');
  assert.equal(typeof parsePresenceReport({ gateway: 'g', boot: 'b', full: false, docs: { d: { n: -1, u: {} } } }), 'string');
});
