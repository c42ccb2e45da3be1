import { test } from 'node:test';
import assert from 'node:assert/strict';
import { processMetrics as register } from '@replicant/stream';
import type { JsonObject } from '@replicant/protocol';
import { Materializer } from '../src/materializer.js';
import { Checkpointer } from '../src/checkpointer.js';
import { MemoryLog, MemorySnapshotStore, encodeOp, type SnapshotStore } from '@replicant/stream';
import { deferred, turns } from '@replicant/testkit';
import { GatedStore } from './helpers.js';

async function append(log: MemoryLog, doc: string, patch: JsonObject, key = '') {
  return log.append(doc, encodeOp(JSON.stringify(patch), key, Date.now()));
}

async function write(log: MemoryLog, mat: Materializer, doc: string, patch: JsonObject, key = ''): Promise<bigint> {
  const r = await append(log, doc, patch, key);
  return mat.waitApplied(r.partition, r.offset);
}

async function appliedCount(): Promise<number> {
  const m = await register.getSingleMetric('replicant_materializer_ops_total')!.get();
  return m.values.filter((v) => v.labels.result === 'applied').reduce((s, v) => s + v.value, 0);
}

async function endOffsets(log: MemoryLog): Promise<bigint[]> {
  return Promise.all(Array.from({ length: log.partitions }, (_, p) => log.endOffset(p)));
}

test('folds ops; waitApplied gives offset + 1, or the first seq for a duplicate key', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const mat = await Materializer.start({ log, store: new MemorySnapshotStore() });
  assert.deepEqual(await mat.read('d'), { doc: 'd', seq: 0n, state: {}, keys: [] });
  assert.equal(await write(log, mat, 'd', { a: 1, n: { x: 1 } }, 'k1'), 1n);
  assert.equal(await write(log, mat, 'd', { b: 2, n: { y: 2 } }), 2n);
  assert.equal(await write(log, mat, 'other', { z: true }), 3n);
  assert.equal(await write(log, mat, 'd', { a: 'changed' }, 'k1'), 1n, 'duplicate key: first seq');
  const d = await mat.read('d');
  assert.equal(d.seq, 2n);
  assert.deepEqual(d.state, { a: 1, n: { x: 1, y: 2 }, b: 2 });
  assert.equal(mat.peekKeySeq('d', 'k1'), 1n);
  assert.equal(mat.peekKeySeq('d', 'nope'), undefined);
  // read returns a copy
  (d.state as Record<string, unknown>).a = 'mutated';
  assert.equal((await mat.read('d')).state.a, 1);
  await mat.close();
  await log.close();
});

test('a waiter arriving after its op was applied still gets the right seq', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const mat = await Materializer.start({ log, store: new MemorySnapshotStore() });
  const first = await append(log, 'd', { a: 1 }, 'k');
  const dup = await append(log, 'd', { a: 2 }, 'k');
  await mat.waitPositions(await endOffsets(log));
  assert.equal(await mat.waitApplied(first.partition, first.offset), 1n);
  assert.equal(await mat.waitApplied(dup.partition, dup.offset), 1n);
  assert.deepEqual((await mat.read('d')).state, { a: 1 });
  await mat.close();
  await log.close();
});

test('pending waiters are bounded; close rejects the rest with unavailable', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const mat = await Materializer.start({ log, store: new MemorySnapshotStore(), maxWaiters: 2 });
  const w1 = mat.waitApplied(0, 10n);
  const w2 = mat.waitApplied(0, 11n);
  await assert.rejects(mat.waitApplied(0, 12n), (e: { code?: string }) => e.code === 'unavailable');
  await mat.close();
  await assert.rejects(w1, (e: { code?: string }) => e.code === 'unavailable');
  await assert.rejects(w2, (e: { code?: string }) => e.code === 'unavailable');
  await log.close();
});

test('a document seen for the first time is loaded from the store before its op applies (backpressure)', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const store = new GatedStore();
  await store.inner.commit([{ doc: 'd', seq: 0n, state: { stored: true }, keys: [] }], new Map());
  const mat = await Materializer.start({ log, store });
  const gate = deferred();
  store.getGate = gate.promise;
  const r = await append(log, 'd', { a: 1 });
  let applied = false;
  const w = mat.waitApplied(r.partition, r.offset).then((s) => {
    applied = true;
    return s;
  });
  await store.getStarted.promise;
  await append(log, 'd', { b: 1 }); // queued behind the load
  await turns();
  assert.equal(applied, false);
  assert.equal(mat.position(0), 0n, 'the tail waits for the load');
  gate.resolve();
  assert.equal(await w, 1n);
  await mat.waitPositions(await endOffsets(log));
  assert.deepEqual((await mat.read('d')).state, { stored: true, a: 1, b: 1 });
  assert.equal(store.gets, 1, 'one load per document');
  await mat.close();
  await log.close();
});

test('clean documents are kept in a bounded LRU and reloaded from the store', async () => {
  const log = new MemoryLog({ partitions: 2 });
  const store = new GatedStore();
  const mat = await Materializer.start({ log, store, docCacheSize: 2 });
  const cp = new Checkpointer(mat, store, { intervalMs: 60_000 });
  for (let i = 0; i < 5; i++) await write(log, mat, `doc-${i}`, { i });
  assert.equal(mat.dirtyCount, 5, 'dirty documents are never evicted');
  await cp.checkpointNow();
  assert.equal(mat.dirtyCount, 0);
  assert.ok(mat.cachedCount <= 2, `${mat.cachedCount} cached`);
  const getsBefore = store.gets;
  const d0 = await mat.read('doc-0');
  assert.deepEqual(d0.state, { i: 0 });
  assert.equal(store.gets, getsBefore + 1);
  // evicted and reloaded documents keep folding correctly
  await write(log, mat, 'doc-1', { more: true });
  assert.deepEqual((await mat.read('doc-1')).state, { i: 1, more: true });
  assert.ok(mat.cachedCount <= 3);
  await cp.close();
  await mat.close();
  await log.close();
});

test('checkpoint: snapshots and positions commit together; a doc changed during the commit stays dirty', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const store = new GatedStore();
  const mat = await Materializer.start({ log, store });
  const cp = new Checkpointer(mat, store, { intervalMs: 60_000 });
  await write(log, mat, 'a', { v: 1 });
  await write(log, mat, 'b', { v: 1 });
  const gate = deferred();
  store.commitGate = gate.promise;
  const running = cp.checkpointNow();
  await store.commitStarted.promise;
  await write(log, mat, 'a', { v: 2 }); // re-dirtied while the commit is in flight
  gate.resolve();
  await running;
  assert.equal(await store.covered(0), 2n, 'positions as captured');
  assert.deepEqual((await store.inner.get('a'))?.state, { v: 1 });
  assert.equal(mat.dirtyCount, 1, 'a stays dirty, b is clean');
  await cp.checkpointNow();
  assert.equal(mat.dirtyCount, 0);
  assert.deepEqual((await store.inner.get('a'))?.state, { v: 2 });
  assert.equal(await store.covered(0), 3n);
  // nothing changed: no commit
  const commits = store.commits;
  await cp.checkpointNow();
  assert.equal(store.commits, commits);
  await cp.close();
  await mat.close();
  await log.close();
});

test('the periodic checkpoint runs on its own; close writes a final one', async () => {
  const log = new MemoryLog({ partitions: 2 });
  const store = new GatedStore();
  const mat = await Materializer.start({ log, store });
  const cp = new Checkpointer(mat, store, { intervalMs: 10 });
  cp.start();
  const committed = store.nextCommit();
  await write(log, mat, 'x', { a: 1 });
  await committed;
  assert.deepEqual((await store.inner.get('x'))?.state, { a: 1 });
  await write(log, mat, 'y', { b: 1 });
  await mat.close();
  await cp.close();
  assert.deepEqual((await store.inner.get('y'))?.state, { b: 1 });
  const ends = await endOffsets(log);
  for (let p = 0; p < 2; p++) assert.equal(await store.covered(p), ends[p]);
  await log.close();
});

test('a failed checkpoint leaves documents dirty and the next one succeeds', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const store = new MemorySnapshotStore();
  const mat = await Materializer.start({ log, store });
  const cp = new Checkpointer(mat, store);
  await write(log, mat, 'd', { a: 1 });
  // a store that is down fails the batch, the doc alone, and the covered offsets (the checkpointer
  // retries a failed batch one doc at a time before giving up: checkpointer-isolation.test.ts)
  store.failNextCommit(new Error('store down'), 3);
  const err = console.error;
  console.error = () => {};
  try {
    await assert.rejects(cp.checkpointNow(), /store down/);
    assert.equal(mat.dirtyCount, 1);
    await cp.checkpointNow();
  } finally {
    console.error = err;
  }
  assert.equal(mat.dirtyCount, 0);
  assert.deepEqual((await store.get('d'))?.state, { a: 1 });
  await cp.close();
  await mat.close();
  await log.close();
});

test('restart resumes from covered offsets without loss or double application', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const store = new MemorySnapshotStore();
  const mat = await Materializer.start({ log, store });
  const cp = new Checkpointer(mat, store);
  await write(log, mat, 'd', { a: 1 }, 'k1');
  await write(log, mat, 'd', { a: 2, list: [1] }, 'k2');
  await cp.checkpointNow(); // covered = 2
  await write(log, mat, 'd', { b: 1 }, 'k3');
  await write(log, mat, 'e', { e: 1 });
  // crash: no final checkpoint
  await mat.close();

  const before = await appliedCount();
  const mat2 = await Materializer.start({ log, store });
  assert.equal(await appliedCount(), before + 2, 'only the ops after the checkpoint are applied again');
  assert.deepEqual(await mat2.read('d'), {
    doc: 'd',
    seq: 3n,
    state: { a: 2, list: [1], b: 1 },
    keys: [
      ['k1', 1n],
      ['k2', 2n],
      ['k3', 3n],
    ],
  });
  assert.equal(await write(log, mat2, 'd', { a: 'dup' }, 'k1'), 1n, 'the key window survives the restart');
  await mat2.close();

  // a crash between writing snapshots and covered offsets: snapshots are ahead of the covered offset
  const snap = await (async () => {
    const m = await Materializer.start({ log, store });
    const s = await m.read('d');
    await m.close();
    return s;
  })();
  await store.commit([snap], new Map());
  const before3 = await appliedCount();
  const mat3 = await Materializer.start({ log, store });
  assert.equal(await appliedCount(), before3 + 1, "only 'e' is applied: d's ops are in its snapshot");
  assert.deepEqual((await mat3.read('d')).state, { a: 2, list: [1], b: 1 });
  assert.deepEqual((await mat3.read('e')).state, { e: 1 });
  await mat3.close();
  await log.close();
});

test('too many dirty documents make the tail wait for a checkpoint', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const store = new GatedStore();
  const mat = await Materializer.start({ log, store, maxDirtyDocs: 2 });
  const cp = new Checkpointer(mat, store, { intervalMs: 60_000 });
  cp.start();
  const gate = deferred();
  store.commitGate = gate.promise;
  await Promise.all([write(log, mat, 'a', { v: 1 }), write(log, mat, 'b', { v: 1 }), write(log, mat, 'c', { v: 1 })]);
  await store.commitStarted.promise; // over the bound: a checkpoint was requested
  let applied = false;
  const w = write(log, mat, 'd', { v: 1 }).then(() => (applied = true));
  await turns();
  assert.equal(applied, false, 'applying waits while the checkpoint is held');
  gate.resolve();
  await w;
  assert.ok(store.commits >= 1);
  await cp.close();
  await mat.close();
  await log.close();
});

test('start waits until the log is replayed up to its end', async () => {
  const log = new MemoryLog({ partitions: 3 });
  for (let i = 0; i < 30; i++) await append(log, `doc-${i % 7}`, { [`f${i}`]: i });
  const store: SnapshotStore = new MemorySnapshotStore();
  const mat = await Materializer.start({ log, store });
  const ends = await endOffsets(log);
  for (let p = 0; p < 3; p++) assert.equal(mat.position(p), ends[p]);
  assert.equal(Object.keys((await mat.read('doc-0')).state).length, 5);
  await mat.close();
  await log.close();
});
