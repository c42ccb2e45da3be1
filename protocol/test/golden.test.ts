/**
 * Golden bytes of the protobuf wire (replicant.proto), as kafkajs keeps per-version fixtures: each
 * sample frame's encoding must equal the checked-in bytes in fixtures/wire-v1.json, and those bytes
 * must decode to the sample. A schema change that moves a field number or changes a type breaks
 * this test, so old clients, gateways, replicas and logs on disk keep reading the new code's bytes.
 *
 * Adding a frame or field on purpose: add its sample below, then regenerate the fixture with
 * `REPLICANT_WRITE_FIXTURES=1 node --test protocol/dist/test/golden.test.js` and commit both; an
 * existing entry must never change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  decodeClientBinary,
  decodeServerBinary,
  encodeClientBinary,
  encodeServerBinary,
  pb,
  seqToLong,
  type ClientFrame,
  type ServerFrame,
} from '../src/index.js';

const FIXTURE = new URL('../../test/fixtures/wire-v1.json', import.meta.url);
const BIG = (1n << 64n) - 1n;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (s: string) => Buffer.from(s);

const client: Record<string, ClientFrame> = {
  auth: { type: 'auth', token: 'a.b.c' },
  hello: { type: 'hello', window: 256 },
  'hello-meta': { type: 'hello', window: 256, meta: { region: 'eu' } },
  credit: { type: 'credit', n: 64 },
  subscribe: { type: 'subscribe', doc: 'doc-1' },
  'subscribe-lastSeq': { type: 'subscribe', doc: 'd', lastSeq: BIG },
  unsubscribe: { type: 'unsubscribe', doc: 'd' },
  publish: { type: 'publish', doc: 'd', patch: '{"a":{"b":null},"c":[1,2,"ü"]}', id: 'key-1' },
  ping: { type: 'ping' },
};

const server: Record<string, ServerFrame> = {
  snapshot: { type: 'snapshot', doc: 'd', seq: 12n, state: '{"x":{"y":[1,{"z":"é"}]}}' },
  delta: { type: 'delta', doc: 'd', seq: 12345678901234567890n, prevSeq: 7n, patch: '{"a":null,"b":2}' },
  ack: { type: 'ack', id: 'k', seq: 42n },
  error: { type: 'error', code: 'bad_patch', message: 'patch must be an object', doc: 'd', id: 'k' },
  goaway: { type: 'goaway', reconnectMs: 1234 },
  pong: { type: 'pong' },
  welcome: { type: 'welcome', connection: 'gw-1.k3x9.1' },
  message: { type: 'message', id: 'm1', data: '{"text":"hi"}' },
  disconnect: { type: 'disconnect', reconnect: false },
};

const linkDelta = { doc: 'd', seq: seqToLong(9n), prevSeq: seqToLong(3n), patch: bytes('{"a":1}'), tsMs: seqToLong(1_700_000_000_000n) };
const link: Record<string, InstanceType<typeof pb.LinkFrame> | Parameters<typeof pb.LinkFrame.encode>[0]> = {
  hello: { hello: { nodeId: 'gw-1', window: 4096 } },
  subscribe: { subscribe: { doc: 'd', lastSeq: seqToLong(BIG) } },
  unsubscribe: { unsubscribe: { doc: 'd' } },
  credit: { credit: { n: 128 } },
  snapshot: { snapshot: { doc: 'd', seq: seqToLong(9n), state: bytes('{"a":1}'), history: [linkDelta] } },
  delta: { delta: linkDelta },
  error: { error: { doc: 'd', code: 'not_served', message: 'partition 3 is not served here' } },
  hot: { hot: { doc: 'd', spread: 3, slot: 1 } },
};

const op = { patch: bytes('{"a":1}'), key: 'idem-1', tsMs: seqToLong(1_700_000_000_000n) };

function encodings(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, f] of Object.entries(client)) out[`client/${k}`] = hex(encodeClientBinary(f));
  for (const [k, f] of Object.entries(server)) out[`server/${k}`] = hex(encodeServerBinary(f));
  for (const [k, f] of Object.entries(link)) out[`link/${k}`] = hex(pb.LinkFrame.encode(f).finish());
  out['log/op'] = hex(pb.Op.encode(op).finish());
  return out;
}

if (process.env.REPLICANT_WRITE_FIXTURES === '1') {
  writeFileSync(FIXTURE, `${JSON.stringify(encodings(), null, 2)}\n`);
}
const golden = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, string>;

test('every sample encodes to its golden bytes, and every golden entry has a sample', () => {
  const now = encodings();
  assert.deepEqual(Object.keys(now).sort(), Object.keys(golden).sort());
  for (const [k, v] of Object.entries(golden)) assert.equal(now[k], v, `${k}: the wire changed`);
});

test('golden bytes decode to the samples', () => {
  for (const [k, f] of Object.entries(client)) assert.deepEqual(decodeClientBinary(Buffer.from(golden[`client/${k}`], 'hex')), f, k);
  for (const [k, f] of Object.entries(server)) {
    const got = decodeServerBinary(Buffer.from(golden[`server/${k}`], 'hex')) as Record<string, unknown>;
    const want: Record<string, unknown> = { ...f };
    if (f.type === 'snapshot') want.state = JSON.parse(f.state);
    if (f.type === 'delta') want.patch = JSON.parse(f.patch);
    if (f.type === 'message') want.data = JSON.parse(f.data);
    for (const field of Object.keys(want)) assert.deepEqual(got[field], want[field], `${k}.${field}`);
  }
  // link frames and ops: decoding and re-encoding gives the same bytes
  for (const k of Object.keys(link)) {
    const b = Buffer.from(golden[`link/${k}`], 'hex');
    assert.equal(hex(pb.LinkFrame.encode(pb.LinkFrame.decode(b)).finish()), golden[`link/${k}`], k);
  }
  const decoded = pb.Op.decode(Buffer.from(golden['log/op'], 'hex'));
  assert.equal(decoded.key, 'idem-1');
  assert.equal(Buffer.from(decoded.patch).toString(), '{"a":1}');
});
