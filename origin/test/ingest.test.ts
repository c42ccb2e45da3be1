/**
 * The Kafka ingest's parts that need no broker: how records decode (formats, bad records), the
 * replace op of the fold (upsert/Debezium), and Origin.ingest rounds: outcomes, exactly-once across
 * a retried round, and the write-room backpressure. The consumer itself runs against real brokers
 * in cli/test/ingest.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSequencedKey } from '@replicant/protocol';
import { DocState, MemoryLog, MemorySnapshotStore } from '@replicant/stream';
import { Origin } from '../src/origin.js';
import { decodeRecord, ingestClient, type IngestTopic } from '../src/ingest.js';

const b = (s: string) => Buffer.from(s);
const T = (format: IngestTopic['format'], prefix = 'p:'): IngestTopic => ({ topic: 't', format, prefix });
const MAX = 1024 * 1024;

test('merge-patch records: an object is an op for prefix + key; bad records say why', () => {
  assert.deepEqual(decodeRecord(T('merge-patch'), b('k1'), b('{"a":1,"b":null}'), MAX), { docId: 'p:k1', patchText: '{"a":1,"b":null}', replace: false });
  assert.equal(decodeRecord(T('merge-patch'), b('k1'), b('{"a":'), MAX), 'not_json');
  assert.equal(decodeRecord(T('merge-patch'), b('k1'), Buffer.from([0xff, 0xfe]), MAX), 'not_json');
  assert.equal(decodeRecord(T('merge-patch'), b('k1'), b('[1]'), MAX), 'not_object');
  assert.equal(decodeRecord(T('merge-patch'), b('k1'), b('7'), MAX), 'not_object');
  assert.equal(decodeRecord(T('merge-patch'), b('k1'), null, MAX), 'not_object');
  assert.equal(decodeRecord(T('merge-patch'), null, b('{}'), MAX), 'bad_key');
  assert.equal(decodeRecord(T('merge-patch'), b(''), b('{}'), MAX), 'bad_key');
  assert.equal(decodeRecord(T('merge-patch'), b('has space'), b('{}'), MAX), 'bad_key');
  assert.equal(decodeRecord(T('merge-patch', ''), b('-leading-dash'), b('{}'), MAX), 'bad_key');
  assert.equal(decodeRecord(T('merge-patch'), b('x'.repeat(300)), b('{}'), MAX), 'bad_key');
  assert.equal(decodeRecord(T('merge-patch'), b('k'), b('{"a":'.repeat(70) + '1' + '}'.repeat(70)), MAX), 'bad_patch');
});

test('upsert records: the whole object without null members replaces; a tombstone clears; over MAX_DOC_BYTES is refused', () => {
  assert.deepEqual(decodeRecord(T('upsert'), b('k'), b('{"a":1,"n":null,"o":{"x":null,"y":2}}'), MAX), {
    docId: 'p:k',
    patchText: '{"a":1,"o":{"y":2}}',
    replace: true,
  });
  assert.deepEqual(decodeRecord(T('upsert'), b('k'), null, MAX), { docId: 'p:k', patchText: '{}', replace: true });
  assert.equal(decodeRecord(T('upsert'), b('k'), b('"x"'), MAX), 'not_object');
  assert.equal(decodeRecord(T('upsert'), b('k'), b(JSON.stringify({ big: 'x'.repeat(2000) })), 1024), 'doc_too_large');
});

test('debezium records: c/r/u upsert `after`, d and tombstones clear, with and without the schema wrapper; keys by primary-key values', () => {
  const t = T('debezium', 'customers:');
  const key = b('{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"dbserver1.inventory.customers.Key"},"payload":{"id":1001}}');
  const ev = (op: string, after: unknown) => ({ before: null, after, source: { connector: 'postgresql', db: 'inventory', table: 'customers' }, op, ts_ms: 1 });
  const row = { id: 1001, first_name: 'Sally', email: null };
  assert.deepEqual(decodeRecord(t, key, b(JSON.stringify({ schema: { type: 'struct' }, payload: ev('c', row) })), MAX), {
    docId: 'customers:1001',
    patchText: '{"id":1001,"first_name":"Sally"}',
    replace: true,
  });
  assert.deepEqual(decodeRecord(t, b('{"id":1001}'), b(JSON.stringify(ev('u', row))), MAX), {
    docId: 'customers:1001',
    patchText: '{"id":1001,"first_name":"Sally"}',
    replace: true,
  });
  assert.deepEqual(decodeRecord(t, b('{"id":1001}'), b(JSON.stringify(ev('r', row))), MAX), {
    docId: 'customers:1001',
    patchText: '{"id":1001,"first_name":"Sally"}',
    replace: true,
  });
  assert.deepEqual(decodeRecord(t, b('{"id":1001}'), b(JSON.stringify({ ...ev('d', null), before: row })), MAX), {
    docId: 'customers:1001',
    patchText: '{}',
    replace: true,
  });
  assert.deepEqual(decodeRecord(t, key, null, MAX), { docId: 'customers:1001', patchText: '{}', replace: true });
  assert.deepEqual(decodeRecord(t, b('{"order":7,"line":"a"}'), b(JSON.stringify(ev('c', { x: 1 }))), MAX), { docId: 'customers:7:a', patchText: '{"x":1}', replace: true });
  assert.equal(decodeRecord(t, b('{"id":1}'), b(JSON.stringify(ev('t', null))), MAX), 'bad_event');
  assert.equal(decodeRecord(t, b('{"id":1}'), b(JSON.stringify(ev('u', null))), MAX), 'bad_event');
  assert.equal(decodeRecord(t, b('{"id":1}'), b('{"no":"op"}'), MAX), 'bad_event');
  assert.equal(decodeRecord(t, b('{"id":{"nested":1}}'), b(JSON.stringify(ev('c', {}))), MAX), 'bad_key');
  assert.equal(decodeRecord(t, b('{}'), b(JSON.stringify(ev('c', {}))), MAX), 'bad_key');
  // a plain (string converter) key is used as is
  assert.deepEqual(decodeRecord(t, b('42'), b(JSON.stringify(ev('c', { a: 1 }))), MAX), { docId: 'customers:42', patchText: '{"a":1}', replace: true });
});

test('ingest clients are sequenced-key writer names, distinct per topic partition', () => {
  const a = ingestClient('orders', 0);
  assert.match(a, /^[A-Za-z0-9_-]{1,64}$/);
  assert.notEqual(a, ingestClient('orders', 1));
  assert.notEqual(a, ingestClient('orders2', 0));
  assert.match(ingestClient('x'.repeat(249), 4095), /^[A-Za-z0-9_-]{1,64}$/);
});

test('fold: a replace op takes the doc to exactly its state and reports the merge patch it applied', () => {
  const d = new DocState('d');
  d.apply(1n, { a: 1, o: { x: 1, y: 2 }, keep: [1] }, '', undefined, undefined);
  const r = d.apply(2n, { o: { y: 3 }, z: true }, '', undefined, undefined, true);
  assert.equal(r.applied, true);
  assert.deepEqual(d.state, { o: { y: 3 }, z: true });
  assert.deepEqual(r.applied && r.patch, { a: null, keep: null, o: { x: null, y: 3 }, z: true });
  // a replay of an older seq does nothing
  assert.equal(d.apply(2n, {}, '', undefined, undefined, true).applied, false);
  assert.deepEqual(d.state, { o: { y: 3 }, z: true });
  // the size bound holds for replace ops too
  const too = d.apply(3n, { big: 'x'.repeat(100) }, '', undefined, 50, true);
  assert.equal(!too.applied && too.outcome, 'too_large');
  assert.deepEqual(d.state, { o: { y: 3 }, z: true });
});

const keyOf = (offset: number) => formatSequencedKey(ingestClient('t', 0), offset + 1, 0n);

test('Origin.ingest: a round is appended in order and applied; outcomes say ok / duplicate / doc_too_large', async () => {
  const origin = await Origin.start({ log: new MemoryLog({ partitions: 2 }), store: new MemorySnapshotStore(), maxDocBytes: 1024 });
  const round = origin.ingest([
    { docId: 'a', patchText: '{"x":1}', key: keyOf(0), replace: false },
    { docId: 'b', patchText: '{"q":1,"r":2}', key: keyOf(1), replace: true },
    { docId: 'a', patchText: '{"y":2}', key: keyOf(2), replace: false },
    { docId: 'b', patchText: '{"r":3}', key: keyOf(3), replace: true },
    { docId: 'a', patchText: JSON.stringify({ big: 'x'.repeat(2000) }), key: keyOf(4), replace: false },
  ]);
  await round.durable;
  assert.deepEqual(await round.outcomes, ['ok', 'ok', 'ok', 'ok', 'doc_too_large']);
  assert.deepEqual((await origin.read('a')).state, { x: 1, y: 2 });
  assert.deepEqual((await origin.read('b')).state, { r: 3 });
  assert.equal(origin.inflight, 0);
  // the same round again (a redelivery after a crash before the offsets were committed): nothing twice
  const again = origin.ingest([
    { docId: 'a', patchText: '{"x":1}', key: keyOf(0), replace: false },
    { docId: 'a', patchText: '{"y":2}', key: keyOf(2), replace: false },
    { docId: 'b', patchText: '{"r":3}', key: keyOf(3), replace: true },
  ]);
  await again.durable;
  assert.deepEqual(await again.outcomes, ['duplicate', 'duplicate', 'duplicate']);
  await origin.write('a', '{"x":10}');
  // an old record of `a` re-delivered after another writer's write: still not applied again
  const late = origin.ingest([{ docId: 'a', patchText: '{"x":1}', key: keyOf(0), replace: false }]);
  assert.deepEqual(await late.outcomes, ['duplicate']);
  assert.deepEqual((await origin.read('a')).state, { x: 10, y: 2 });
  await origin.close();
});

test('Origin.ingest: a failed round leaves a prefix per doc; its retry applies each record once, in order', async (t) => {
  const log = new MemoryLog({ partitions: 1, maxPendingAppends: 3 });
  const origin = await Origin.start({ log, store: new MemorySnapshotStore() });
  t.after(() => origin.close());
  // the log sheds past 3 pending appends: records 3.. of this round fail
  const ops = Array.from({ length: 6 }, (_, i) => ({ docId: 'd', patchText: JSON.stringify({ last: i, [`u${i}`]: i }), key: keyOf(i), replace: false }));
  const first = origin.ingest(ops);
  await assert.rejects(first.durable, (e: { code?: string }) => e.code === 'unavailable');
  assert.deepEqual(await first.outcomes, ['ok', 'ok', 'ok', 'error', 'error', 'error']);
  // the retry, in rounds the bound admits
  const r1 = origin.ingest(ops.slice(0, 3));
  await r1.durable;
  const r2 = origin.ingest(ops.slice(3));
  await r2.durable;
  assert.deepEqual([...(await r1.outcomes), ...(await r2.outcomes)], ['duplicate', 'duplicate', 'duplicate', 'ok', 'ok', 'ok']);
  const page = await origin.history('d', 0n, 100);
  assert.deepEqual(
    page.ops.map((o) => JSON.parse(o.patchText).last),
    [0, 1, 2, 3, 4, 5],
  );
  assert.deepEqual((await origin.read('d')).state, { last: 5, u0: 0, u1: 1, u2: 2, u3: 3, u4: 4, u5: 5 });
});

test('Origin.writeRoom: ingest rounds wait while writes in flight fill MAX_INFLIGHT_WRITES, and go on as they drain', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const origin = await Origin.start({ log, store: new MemorySnapshotStore(), maxInflightWrites: 4 });
  log.pauseDurability();
  const writes = [origin.write('w', '{"a":1}'), origin.write('w', '{"b":1}'), origin.write('w', '{"c":1}')];
  assert.equal(origin.hasWriteRoom(2), false);
  assert.equal(origin.hasWriteRoom(1), true);
  let roomy = false;
  const room = origin.writeRoom(2).then(() => (roomy = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(roomy, false, 'no room while 3 of 4 are in flight');
  log.resumeDurability();
  await Promise.all(writes);
  await room;
  assert.equal(roomy, true);
  await origin.close();
});
