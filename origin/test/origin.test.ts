import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Origin, OriginError } from '../src/origin.js';
import { MemoryLog, MemorySnapshotStore, FileLog, FileSnapshotStore } from '@replicant/stream';
import { deferred, turns, withTempDir } from '@replicant/testkit';
import { GatedStore } from './helpers.js';

function isOriginError(code: string, status: number) {
  return (e: unknown) => e instanceof OriginError && e.code === code && e.status === status;
}

test('write returns the seq once applied; read sees it; never-written docs are seq 0, {}', async () => {
  const origin = await Origin.start({ log: new MemoryLog({ partitions: 2 }), store: new MemorySnapshotStore() });
  assert.deepEqual(await origin.read('fresh'), { seq: 0n, state: {} });
  assert.deepEqual(await origin.readJson('fresh'), { seq: 0n, stateJson: '{}' });
  const s1 = await origin.write('doc', '{"a":1,"o":{"x":1}}');
  const s2 = await origin.write('doc', '{"o":{"y":2},"a":null}');
  assert.ok(s2 > s1);
  assert.deepEqual(await origin.read('doc'), { seq: s2, state: { o: { x: 1, y: 2 } } });
  assert.deepEqual(await origin.readJson('doc'), { seq: s2, stateJson: '{"o":{"x":1,"y":2}}' });
  await origin.close();
});

test('bad input: 400 bad_doc_id / bad_patch / bad_request', async () => {
  const origin = await Origin.start({ log: new MemoryLog(), store: new MemorySnapshotStore() });
  await assert.rejects(origin.write('bad id', '{}'), isOriginError('bad_doc_id', 400));
  await assert.rejects(origin.write('', '{}'), isOriginError('bad_doc_id', 400));
  await assert.rejects(origin.write('x'.repeat(257), '{}'), isOriginError('bad_doc_id', 400));
  await assert.rejects(origin.write('d', '{"a":'), isOriginError('bad_patch', 400));
  await assert.rejects(origin.write('d', '[1,2]'), isOriginError('bad_patch', 400));
  await assert.rejects(origin.write('d', 'null'), isOriginError('bad_patch', 400));
  await assert.rejects(origin.write('d', '"str"'), isOriginError('bad_patch', 400));
  await assert.rejects(origin.write('d', '{}', 'k'.repeat(257)), isOriginError('bad_request', 400));
  await assert.rejects(origin.read('no/slash'), isOriginError('bad_doc_id', 400));
  assert.deepEqual(await origin.read('d'), { seq: 0n, state: {} });
  await origin.close();
});

test('idempotency key: a repeated key returns the first seq without appending again', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const origin = await Origin.start({ log, store: new MemorySnapshotStore() });
  const s = await origin.write('doc', '{"n":1}', 'key-1');
  const appends = log.stats().appends;
  assert.equal(await origin.write('doc', '{"n":2}', 'key-1'), s);
  assert.equal(log.stats().appends, appends, 'fast path: nothing appended');
  assert.deepEqual((await origin.read('doc')).state, { n: 1 });
  // the same key on another document is a different write
  assert.notEqual(await origin.write('other', '{"n":3}', 'key-1'), s);
  await origin.close();
});

test('idempotency key: concurrent duplicates are both appended but applied once, same seq', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const origin = await Origin.start({ log, store: new MemorySnapshotStore() });
  const [a, b] = await Promise.all([origin.write('doc', '{"n":1}', 'k'), origin.write('doc', '{"n":2}', 'k')]);
  assert.equal(a, b);
  assert.equal(log.stats().appends, 2);
  assert.deepEqual(await origin.read('doc'), { seq: a, state: { n: 1 } });
  await origin.close();
});

test('in-flight writes are bounded: over the bound, 503 unavailable with Retry-After', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const origin = await Origin.start({ log, store: new MemorySnapshotStore(), maxInflightWrites: 3 });
  log.pauseDurability();
  const pending = [1, 2, 3].map((i) => origin.write('doc', `{"i":${i}}`));
  assert.equal(origin.inflight, 3);
  await assert.rejects(origin.write('doc', '{"i":4}'), (e: unknown) => {
    assert.ok(e instanceof OriginError);
    assert.equal(e.code, 'unavailable');
    assert.equal(e.status, 503);
    assert.ok((e.retryAfterSec ?? 0) >= 1);
    return true;
  });
  log.resumeDurability();
  const seqs = await Promise.all(pending);
  assert.deepEqual(seqs, [1n, 2n, 3n]);
  assert.equal(origin.inflight, 0);
  assert.equal(await origin.write('doc', '{"i":5}'), 4n);
  await origin.close();
});

test('a log that sheds load turns into 503 unavailable', async () => {
  const log = new MemoryLog({ partitions: 1, maxPendingAppends: 1 });
  const origin = await Origin.start({ log, store: new MemorySnapshotStore() });
  log.pauseDurability();
  const first = origin.write('doc', '{"a":1}');
  await assert.rejects(origin.write('doc', '{"a":2}'), isOriginError('unavailable', 503));
  log.resumeDurability();
  assert.equal(await first, 1n);
  await origin.close();
});

test('in-flight reads are bounded', async () => {
  const store = new GatedStore();
  const origin = await Origin.start({ log: new MemoryLog(), store, maxInflightReads: 1 });
  const gate = deferred();
  store.getGate = gate.promise;
  const r1 = origin.read('cold-1');
  await store.getStarted.promise;
  await assert.rejects(origin.read('cold-2'), isOriginError('unavailable', 503));
  gate.resolve();
  assert.deepEqual(await r1, { seq: 0n, state: {} });
  await origin.close();
});

test('close drains in-flight writes, checkpoints, then refuses writes', async () => {
  const log = new MemoryLog({ partitions: 2 });
  const store = new MemorySnapshotStore();
  const origin = await Origin.start({ log, store, checkpointIntervalMs: 60_000 });
  log.pauseDurability();
  const pending = Array.from({ length: 10 }, (_, i) => origin.write(`doc-${i % 3}`, `{"i${i}":${i}}`));
  let closed = false;
  const closing = origin.close().then(() => (closed = true));
  await assert.rejects(origin.write('doc-0', '{}'), isOriginError('unavailable', 503));
  await turns();
  assert.equal(closed, false, 'close waits for in-flight writes');
  log.resumeDurability();
  const seqs = await Promise.all(pending);
  // per document, seqs strictly increase in write order
  for (let d = 0; d < 3; d++) {
    const mine = seqs.filter((_, i) => i % 3 === d);
    assert.deepEqual(mine, [...mine].sort((a, b) => (a < b ? -1 : 1)));
    assert.equal(new Set(mine).size, mine.length);
  }
  await closing;
  // the final checkpoint covers everything
  for (let p = 0; p < 2; p++) assert.equal(await store.covered(p), await log.endOffset(p));
  assert.equal(Object.keys((await store.get('doc-0'))!.state).length, 4);
});

test('files: acknowledged writes survive a restart (with and without a final checkpoint)', async () => {
  await withTempDir(async (dir) => {
    const open = async () =>
      Origin.start({
        log: await FileLog.open({ dir, partitions: 4 }),
        store: await FileSnapshotStore.open({ dir }),
        checkpointIntervalMs: 60_000,
      });
    const o1 = await open();
    const seqs = await Promise.all(Array.from({ length: 50 }, (_, i) => o1.write(`doc-${i % 5}`, `{"f${i}":${i}}`, `key-${i}`)));
    await o1.close();

    const o2 = await open();
    for (let d = 0; d < 5; d++) {
      const r = await o2.read(`doc-${d}`);
      assert.equal(Object.keys(r.state).length, 10);
    }
    // the idempotency window survived: replaying a key answers the original seq
    assert.equal(await o2.write('doc-3', '{"x":1}', 'key-13'), seqs[13]);
    const last = await o2.write('doc-0', '{"late":true}');
    // crash: no checkpoint reaches the store any more, so close's final checkpoint fails
    await o2.store.close();
    const err = console.error;
    console.error = () => {};
    await assert.rejects(o2.close(), /closed/).finally(() => (console.error = err));

    const o3 = await open();
    assert.deepEqual((await o3.read('doc-0')).seq, last);
    assert.equal((await o3.read('doc-0')).state.late, true);
    await o3.close();
  });
});

test('maxDocBytes outside 1 KiB .. 32 MiB is refused at start (a link base must fit the 64 MiB link frame)', async () => {
  for (const bad of [64 * 1024 * 1024, 32 * 1024 * 1024 + 1, 100, 1024.5]) {
    await assert.rejects(Origin.start({ log: new MemoryLog({ partitions: 1 }), store: new MemorySnapshotStore(), maxDocBytes: bad }), RangeError);
  }
  const o = await Origin.start({ log: new MemoryLog({ partitions: 1 }), store: new MemorySnapshotStore(), maxDocBytes: 32 * 1024 * 1024 });
  await o.close();
});
