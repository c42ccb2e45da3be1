import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeClientBinary,
  decodeClientJson,
  decodeServerBinary,
  decodeServerJson,
  encodeClientBinary,
  encodeClientJson,
  encodeServerBinary,
  encodeServerJson,
  isValidDocId,
  parseSeq,
  ProtocolError,
  type ClientFrame,
  type ServerFrame,
} from '../src/index.js';

const BIG = (1n << 64n) - 1n;

const clientFrames: ClientFrame[] = [
  { type: 'auth', token: 'a.b.c' },
  { type: 'hello', window: 256 },
  { type: 'hello', window: 16, meta: { region: 'eu', 'tier.x': 'pro ü' } },
  { type: 'credit', n: 64 },
  { type: 'subscribe', doc: 'doc-1' },
  { type: 'subscribe', doc: 'doc:2~x.y_z', lastSeq: 0n },
  { type: 'subscribe', doc: 'd', lastSeq: BIG },
  { type: 'unsubscribe', doc: 'd' },
  { type: 'publish', doc: 'd', patch: '{"a":{"b":null},"c":[1,2,"ü"]}', id: 'key-1' },
  { type: 'publish', doc: 'd', patch: '{}' },
  { type: 'publish', doc: 'd', patch: '{"n":1}', id: '~client_1.7.42', ifSeq: 42n },
  { type: 'publish', doc: 'd', patch: '{}', ifSeq: 0n },
  { type: 'publish', doc: 'd', patch: '{}', ifSeq: BIG },
  { type: 'ping' },
];

test('publish ifSeq uses the contract spelling: {"ifSeq":"123"}', () => {
  assert.equal(
    encodeClientJson({ type: 'publish', doc: 'd', patch: '{"a":1}', id: 'k', ifSeq: 123n }),
    '{"type":"publish","doc":"d","patch":{"a":1},"id":"k","ifSeq":"123"}',
  );
});

test('client frames round-trip through both codecs', () => {
  for (const f of clientFrames) {
    assert.deepEqual(decodeClientJson(encodeClientJson(f)), f, `json ${f.type}`);
    assert.deepEqual(decodeClientBinary(encodeClientBinary(f)), f, `binary ${f.type}`);
  }
});

const serverFrames: ServerFrame[] = [
  { type: 'snapshot', doc: 'd', seq: 0n, state: '{}' },
  { type: 'snapshot', doc: 'd', seq: BIG, state: '{"x":{"y":[1,{"z":"é"}]}}' },
  { type: 'delta', doc: 'd', seq: 12345678901234567890n, prevSeq: 7n, patch: '{"a":null,"b":2}' },
  { type: 'ack', id: 'k"ey', seq: 42n },
  { type: 'error', code: 'bad_patch', message: 'patch "must" be an object', doc: 'd', id: 'k' },
  { type: 'error', code: 'bad_frame', message: 'nope' },
  { type: 'goaway', reconnectMs: 1234 },
  { type: 'pong' },
];

test('server frames round-trip through both codecs, JSON payloads parsed', () => {
  for (const f of serverFrames) {
    const expected: any = { ...f };
    if (f.type === 'snapshot') expected.state = JSON.parse(f.state);
    if (f.type === 'delta') expected.patch = JSON.parse(f.patch);
    const j = decodeServerJson(encodeServerJson(f)) as any;
    const b = decodeServerBinary(encodeServerBinary(f)) as any;
    for (const got of [j, b]) {
      for (const k of Object.keys(expected)) assert.deepEqual(got[k], expected[k], `${f.type}.${k}`);
    }
  }
});

test('the JSON encoding uses the contract field names exactly', () => {
  assert.equal(
    encodeServerJson({ type: 'delta', doc: 'd', seq: 5n, prevSeq: 3n, patch: '{"a":1}' }),
    '{"type":"delta","doc":"d","seq":"5","prevSeq":"3","patch":{"a":1}}',
  );
  assert.equal(encodeServerJson({ type: 'snapshot', doc: 'd', seq: 0n, state: '{}' }), '{"type":"snapshot","doc":"d","seq":"0","state":{}}');
  assert.equal(encodeServerJson({ type: 'ack', id: 'x', seq: 9n }), '{"type":"ack","id":"x","seq":"9"}');
  assert.equal(encodeServerJson({ type: 'goaway', reconnectMs: 10 }), '{"type":"goaway","reconnectMs":10}');
  assert.equal(encodeServerJson({ type: 'pong' }), '{"type":"pong"}');
  assert.deepEqual(JSON.parse(encodeClientJson({ type: 'subscribe', doc: 'd', lastSeq: 123n })), { type: 'subscribe', doc: 'd', lastSeq: '123' });
});

test('malformed input becomes a typed ProtocolError, never an exception', () => {
  const bad: [string, string][] = [
    ['', 'bad_frame'],
    ['{', 'bad_frame'],
    ['null', 'bad_frame'],
    ['[]', 'bad_frame'],
    ['{"type":"subscribe"}', 'bad_doc_id'],
    ['{"type":"subscribe","doc":"-leading-dash"}', 'bad_doc_id'],
    [`{"type":"subscribe","doc":"${'a'.repeat(257)}"}`, 'bad_doc_id'],
    ['{"type":"subscribe","doc":"d","lastSeq":12}', 'bad_seq'],
    ['{"type":"subscribe","doc":"d","lastSeq":"18446744073709551616"}', 'bad_seq'],
    ['{"type":"subscribe","doc":"d","lastSeq":"01"}', 'bad_seq'],
    ['{"type":"publish","doc":"d","patch":null}', 'bad_patch'],
    ['{"type":"publish","doc":"d","patch":[1]}', 'bad_patch'],
    ['{"type":"publish","doc":"d","patch":{},"id":5}', 'bad_frame'],
    ['{"type":"publish","doc":"d","patch":{},"ifSeq":42}', 'bad_seq'],
    ['{"type":"publish","doc":"d","patch":{},"ifSeq":"-1"}', 'bad_seq'],
    ['{"type":"hello","window":0}', 'bad_frame'],
    ['{"type":"hello","window":65537}', 'bad_frame'],
    ['{"type":"credit","n":1.5}', 'bad_frame'],
    ['{"type":"auth"}', 'bad_frame'],
    ['{"type":"launch"}', 'bad_frame'],
  ];
  for (const [text, code] of bad) {
    const r = decodeClientJson(text);
    assert.ok(r instanceof ProtocolError, text);
    assert.equal((r as ProtocolError).code, code, text);
  }
  const binaries = [new Uint8Array([0xff]), new Uint8Array([0x0a, 0x05, 0x01]), new Uint8Array(0), new Uint8Array([0x32, 0x02, 0x0a, 0x00])];
  for (const b of binaries) assert.ok(decodeClientBinary(b) instanceof ProtocolError, `binary ${[...b]}`);
  // a publish whose patch bytes are not UTF-8 JSON
  const p = encodeClientBinary({ type: 'publish', doc: 'd', patch: '{}', id: 'i' });
  const broken = Buffer.from(p);
  broken[broken.length - 5] = 0xff;
  assert.ok(decodeClientBinary(broken) instanceof ProtocolError);
  assert.ok(decodeServerBinary(new Uint8Array([1, 2, 3])) instanceof ProtocolError);
  assert.ok(decodeServerJson('{"type":"delta","seq":"x"}') instanceof ProtocolError);
});

test('doc ids and seqs', () => {
  for (const ok of ['a', 'A0', 'x.y:z~w-v_u', '9'.repeat(256)]) assert.ok(isValidDocId(ok), ok);
  for (const no of ['', '.a', '_a', 'a b', 'a/b', 'é', '9'.repeat(257), 5]) assert.ok(!isValidDocId(no), String(no));
  assert.equal(parseSeq('0'), 0n);
  assert.equal(parseSeq('18446744073709551615'), BIG);
  for (const no of ['', '-1', '1.0', '00', '18446744073709551616', 1]) assert.equal(parseSeq(no), undefined, String(no));
});

test('hello.meta: flat string values, at most 1 KiB as JSON, in both codecs', () => {
  const fits = { k: 'x'.repeat(1024 - '{"k":""}'.length) };
  for (const meta of [fits, { a: '' }]) {
    const f: ClientFrame = { type: 'hello', window: 1, meta };
    assert.deepEqual(decodeClientJson(encodeClientJson(f)), f);
    assert.deepEqual(decodeClientBinary(encodeClientBinary(f)), f);
  }
  const over = { k: `${fits.k}y` };
  for (const meta of [over, { n: 1 }, { o: { x: 'y' } }, ['a'], 'eu', { '': 'empty key' }]) {
    const j = decodeClientJson(JSON.stringify({ type: 'hello', window: 1, meta }));
    assert.ok(j instanceof ProtocolError && j.code === 'bad_frame', JSON.stringify(meta));
  }
  const b = decodeClientBinary(encodeClientBinary({ type: 'hello', window: 1, meta: over }));
  assert.ok(b instanceof ProtocolError && b.code === 'bad_frame');
});

test('welcome, message and disconnect round-trip through both codecs', () => {
  const frames: ServerFrame[] = [
    { type: 'welcome', connection: 'gw-1.ab12cd34.z' },
    { type: 'message', id: 'm-1', data: '{"a":[1,{"b":"ü"}]}' },
    { type: 'disconnect', reconnect: false },
    { type: 'disconnect', reconnect: true },
  ];
  for (const f of frames) {
    const want = f.type === 'message' ? { ...f, data: JSON.parse(f.data) } : f;
    assert.deepEqual(decodeServerJson(encodeServerJson(f)), want);
    assert.deepEqual(decodeServerBinary(encodeServerBinary(f)), want);
  }
  assert.equal(encodeServerJson({ type: 'disconnect', reconnect: false }), '{"type":"disconnect","reconnect":false}');
});
