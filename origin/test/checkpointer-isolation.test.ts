/**
 * A checkpointer isolates a document it cannot write (issue 17): the other documents' snapshots
 * are stored and every partition's covered offset still advances, except that the failing doc's
 * partition is held at its first unwritten record; it is a metric and a log line. With log
 * retention, a restart still replays the failing doc's acknowledged records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLog, FileSnapshotStore, MemoryLog, MemorySnapshotStore, processMetrics, type DocSnapshot, type SnapshotStore } from '@replicant/stream';
import { Origin } from '../src/origin.js';

/** a store that refuses any batch holding the snapshot of `bad` (as a store refusing an oversized value would) */
class RefusingStore implements SnapshotStore {
  refusing = true;
  constructor(
    readonly inner: SnapshotStore,
    readonly bad: string,
  ) {}
  get(docId: string): Promise<DocSnapshot | undefined> {
    return this.inner.get(docId);
  }
  async commit(snapshots: DocSnapshot[], covered: Map<number, bigint>): Promise<void> {
    if (this.refusing && snapshots.some((s) => s.doc === this.bad)) throw Object.assign(new Error('value too large for 10.1.2.3:6379'), { code: 'E2BIG' });
    return this.inner.commit(snapshots, covered);
  }
  covered(partition: number): Promise<bigint> {
    return this.inner.covered(partition);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

async function gauge(name: string): Promise<number> {
  const m = processMetrics.getSingleMetric(name);
  assert.ok(m, `${name} is registered`);
  return (await m.get()).values[0]?.value ?? 0;
}

test('a doc whose snapshot cannot be written does not stop the other docs and partitions', async (t) => {
  const log = new MemoryLog({ partitions: 4 });
  const store = new RefusingStore(new MemorySnapshotStore(), 'bad');
  const logged: string[] = [];
  const origErr = console.error;
  console.error = (...a: unknown[]) => void logged.push(a.map(String).join(' '));
  t.after(() => (console.error = origErr));
  const origin = await Origin.start({ log, store, checkpointIntervalMs: 3_600_000 });
  t.after(() => origin.close());
  const P = log.partitionOf('bad');
  const good = Array.from({ length: 16 }, (_, i) => `good-${i}`);
  assert.ok(good.some((d) => log.partitionOf(d) === P), 'some good docs share the bad one partition');
  for (const d of good) await origin.write(d, '{"a":1}');
  const badSeq = await origin.write('bad', '{"b":1}');
  for (const d of good) await origin.write(d, '{"a":2}');
  await origin.checkpoint();

  for (const d of good) assert.deepEqual((await store.inner.get(d))?.state, { a: 2 }, `${d} is stored`);
  assert.equal(await store.inner.get('bad'), undefined);
  for (let p = 0; p < 4; p++) {
    const covered = await store.covered(p);
    if (p === P) assert.equal(covered, badSeq - 1n, 'held at the failing doc first unwritten record');
    else assert.equal(covered, origin.materializer.position(p), `partition ${p} advanced`);
  }
  assert.equal(await gauge('replicant_checkpoint_failing_docs'), 1);
  assert.ok(await gauge('replicant_checkpoint_doc_failures_total') >= 1);
  const line = logged.find((l) => l.includes('"bad"'));
  assert.ok(line, 'one log line names the doc');
  assert.ok(!line.includes('10.1.2.3'), 'no internal address in the log');

  // later checkpoints: the others keep advancing, the failing partition stays held
  for (const d of good) await origin.write(d, '{"a":3}');
  await origin.checkpoint();
  for (const d of good) assert.deepEqual((await store.inner.get(d))?.state, { a: 3 });
  assert.equal(await store.covered(P), badSeq - 1n);
  assert.equal(logged.filter((l) => l.includes('"bad"')).length, 1, 'logged once, not per checkpoint');

  // once the store takes it, everything catches up
  store.refusing = false;
  await origin.checkpoint();
  assert.deepEqual((await store.inner.get('bad'))?.state, { b: 1 });
  assert.equal(await store.covered(P), origin.materializer.position(P));
  assert.equal(await gauge('replicant_checkpoint_failing_docs'), 0);
});

test('with log retention, a restart after a failing doc still replays its acknowledged records', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'replicant-ckpt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const open = async (refusing: boolean) => {
    const files = await FileSnapshotStore.open({ dir });
    const store = new RefusingStore(files, 'bad');
    store.refusing = refusing;
    const log = await FileLog.open({
      dir: join(dir, 'log'),
      partitions: 1,
      segmentBytes: 4096,
      retention: { bytes: 4096, safeBefore: (p) => store.covered(p) },
    });
    const origin = await Origin.start({ log, store, checkpointIntervalMs: 3_600_000 });
    return { log, store, origin };
  };
  const errs = console.error;
  console.error = () => {};
  t.after(() => (console.error = errs));
  const a = await open(true);
  await a.origin.write('bad', JSON.stringify({ kept: 'acknowledged' }));
  const pad = 'z'.repeat(500);
  for (let i = 0; i < 200; i++) await a.origin.write(`good-${i % 10}`, JSON.stringify({ i, pad })); // ~100 KB: many segments
  await a.origin.checkpoint();
  await a.log.enforceRetention();
  const first = (await a.log.read(0, 0n, 1))[0];
  assert.equal(first?.offset, 0n, 'retention kept the failing doc first record');
  assert.ok((await a.store.covered(0)) === 0n);
  await a.origin.close(); // the final checkpoint still cannot write it

  const b = await open(false);
  t.after(() => b.origin.close());
  assert.deepEqual((await b.origin.read('bad')).state, { kept: 'acknowledged' });
  assert.equal((await b.origin.read('good-9')).state.i, 199);
});

test('a store that is down fails the checkpoint after a few tries, not one try per dirty doc', async (t) => {
  /** down: every commit that does I/O throws; an empty commit returns without I/O, as on Redis and files */
  class DownStore implements SnapshotStore {
    down = false;
    commits = 0;
    constructor(readonly inner: SnapshotStore) {}
    get(docId: string): Promise<DocSnapshot | undefined> {
      return this.inner.get(docId);
    }
    async commit(snapshots: DocSnapshot[], covered: Map<number, bigint>): Promise<void> {
      if (snapshots.length === 0 && covered.size === 0) return;
      this.commits++;
      if (this.down) throw Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:6379'), { code: 'ECONNREFUSED' });
      return this.inner.commit(snapshots, covered);
    }
    covered(partition: number): Promise<bigint> {
      return this.inner.covered(partition);
    }
    close(): Promise<void> {
      return this.inner.close();
    }
  }
  const log = new MemoryLog({ partitions: 4 });
  const store = new DownStore(new MemorySnapshotStore());
  const origErr = console.error;
  console.error = () => {};
  t.after(() => (console.error = origErr));
  const origin = await Origin.start({ log, store, checkpointIntervalMs: 3_600_000 });
  const docs = Array.from({ length: 100 }, (_, i) => `d-${i}`);
  for (const d of docs) await origin.write(d, '{"a":1}');
  store.down = true;
  store.commits = 0;
  await assert.rejects(origin.checkpoint());
  // the batch, 8 docs alone, and the probe (which does I/O): never the 100 docs one by one
  assert.ok(store.commits <= 10, `${store.commits} commits against a store that is down`);
  store.down = false;
  await origin.checkpoint();
  for (const d of docs) assert.deepEqual((await store.inner.get(d))?.state, { a: 1 });
  await origin.close();
});

test('a doc failing for over 5 minutes is logged as an error at most once a minute (time retention ignores covered offsets)', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const log = new MemoryLog({ partitions: 4 });
  const store = new RefusingStore(new MemorySnapshotStore(), 'bad');
  const logged: string[] = [];
  const origErr = console.error;
  console.error = (...a: unknown[]) => void logged.push(a.map(String).join(' '));
  t.after(() => (console.error = origErr));
  const origin = await Origin.start({ log, store, checkpointIntervalMs: 3_600_000 });
  const loud = () => logged.filter((l) => l.includes('have failed to checkpoint')).length;
  await origin.write('bad', '{"b":1}');
  await origin.checkpoint();
  assert.equal(loud(), 0, 'not at the first failure');
  t.mock.timers.tick(4 * 60_000);
  await origin.write('ok', '{"a":1}'); // something to checkpoint
  await origin.checkpoint();
  assert.equal(loud(), 0, 'not before 5 minutes');
  t.mock.timers.tick(2 * 60_000);
  await origin.write('ok', '{"a":2}');
  await origin.checkpoint();
  assert.equal(loud(), 1);
  await origin.write('ok', '{"a":3}');
  await origin.checkpoint();
  assert.equal(loud(), 1, 'at most once a minute');
  t.mock.timers.tick(61_000);
  await origin.write('ok', '{"a":4}');
  await origin.checkpoint();
  assert.equal(loud(), 2);
  store.refusing = false;
  await origin.close();
});
