/**
 * history.ts at its bounds (in-memory seams): the page byte bound, the scan bound (422), the
 * concurrent-read bound (503), the fold deciding what is history, and restore under a concurrent
 * write (it never lands on a state it was not computed for), ops refused by the size bound (not
 * history), and aborted / over-budget reads stopping between batches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLog, MemoryLog, MemorySnapshotStore, encodeOp, type AppendResult } from '@replicant/stream';
import { History, HISTORY_MAX_CONCURRENT, HISTORY_PAGE_MAX_BYTES, HISTORY_TIME_BUDGET_MS } from '../src/history.js';
import { Origin, OriginError } from '../src/origin.js';
import { ViewRules } from '@replicant/protocol';
import { GatedStore } from './helpers.js';

test('a history page ends at HISTORY_PAGE_MAX_BYTES of patches (at least one op); next continues', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const h = new History(log, new MemorySnapshotStore());
  const big = 'x'.repeat(Math.floor(HISTORY_PAGE_MAX_BYTES / 3));
  for (let i = 0; i < 4; i++) await log.append('d', encodeOp(JSON.stringify({ [`k${i}`]: big }), '', 0));
  const p1 = await h.page('d', 0n, 1000);
  assert.equal(p1.ops.length, 2, 'the third op would pass the byte bound');
  assert.equal(p1.next, 2n);
  const p2 = await h.page('d', p1.next!, 1000);
  assert.deepEqual(p2.ops.map((o) => o.seq), [3n, 4n]);
  assert.equal(p2.next, null);
  // one op over the bound still makes a page
  await log.append('d', encodeOp(JSON.stringify({ huge: 'y'.repeat(HISTORY_PAGE_MAX_BYTES + 10) }), '', 0));
  const p3 = await h.page('d', 4n, 1000);
  assert.equal(p3.ops.length, 1);
  await log.close();
});

test('history folds like subscribers: duplicates, conflicts and invalid records are not ops; limit pages', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const h = new History(log, new MemorySnapshotStore());
  await log.append('d', encodeOp('{"a":1}', 'k', 0)); // seq 1
  await log.append('other', encodeOp('{"o":1}', '', 0)); // seq 2, another doc
  await log.append('d', encodeOp('{"a":1}', 'k', 0)); // seq 3: duplicate key
  await log.append('d', encodeOp('{"b":2}', '', 0, 2n)); // seq 4: ifSeq 2, doc at 1: conflict
  await log.append('d', new Uint8Array([0xff, 0xff])); // seq 5: invalid
  await log.append('d', encodeOp('{"c":3}', '', 0, 1n)); // seq 6: ifSeq 1 matches
  const p = await h.page('d', 0n, 1);
  assert.deepEqual([p.ops.map((o) => o.seq), p.next], [[1n], 1n]);
  const rest = await h.page('d', 1n, 1000);
  assert.deepEqual(rest.ops.map((o) => [o.seq, o.prevSeq, o.patchText]), [[6n, 1n, '{"c":3}']]);
  assert.deepEqual(await h.stateAt('d', 5n), { seq: 1n, state: { a: 1 } });
  assert.deepEqual(await h.stateAt('d', 100n), { seq: 6n, state: { a: 1, c: 3 } });
  await log.close();
});

test('a read that would scan more records than its bound is 422 history_scan_limit', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const h = new History(log, new MemorySnapshotStore(), undefined, 10);
  for (let i = 0; i < 10; i++) await log.append(i % 2 ? 'd' : 'e', encodeOp(`{"i":${i}}`, '', 0));
  assert.equal((await h.stateAt('d', 10n)).seq, 10n, 'exactly at the bound: served');
  await log.append('d', encodeOp('{"i":10}', '', 0));
  await assert.rejects(h.stateAt('d', 11n), (e: OriginError) => e.status === 422 && e.code === 'history_scan_limit');
  await log.close();
});

test('more than HISTORY_MAX_CONCURRENT history reads at once: the next is 503 unavailable', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const store = new GatedStore();
  let open!: () => void;
  store.getGate = new Promise<void>((r) => (open = r));
  const h = new History(log, store);
  await log.append('d', encodeOp('{"a":1}', '', 0));
  const held = Array.from({ length: HISTORY_MAX_CONCURRENT }, () => h.stateAt('d', 1n));
  await store.getStarted.promise;
  await assert.rejects(h.page('d', 0n, 10), (e: OriginError) => e.status === 503 && e.code === 'unavailable');
  open();
  for (const r of await Promise.all(held)) assert.deepEqual(r, { seq: 1n, state: { a: 1 } });
  assert.equal((await h.page('d', 0n, 10)).ops.length, 1, 'served again once the reads finished');
  await log.close();
});

test('restore under a concurrent write: recomputed, never applied on a state it was not computed for', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const origin = await Origin.start({ log, store: new MemorySnapshotStore() });
  const s1 = await origin.write('d', '{"a":1}');
  await origin.write('d', '{"a":2,"b":2}');
  // the restore's first append is preceded by another writer's op: its ifSeq no longer matches
  const append = log.append.bind(log);
  let injected = false;
  log.append = async (docId: string, value: Uint8Array): Promise<AppendResult> => {
    if (!injected) {
      injected = true;
      await append(docId, encodeOp('{"c":3}', '', Date.now()));
    }
    return append(docId, value);
  };
  const seq = await origin.restore('d', s1);
  assert.deepEqual(await origin.read('d'), { seq, state: { a: 1 } }, 'the concurrent c:3 is undone too: GET equals ?at=s1');
  assert.deepEqual(await origin.stateAt('d', s1), { seq: s1, state: { a: 1 } });
  // with the caller's If-Match the restore is written once, conditionally
  await origin.write('d', '{"z":1}');
  await assert.rejects(origin.restore('d', s1, undefined, seq), (e: OriginError) => e.status === 412);
  await origin.close();
});

test('retention deleting records while a read runs: the read starts over from the new log start (no 410, no gap)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'history-moved-'));
  let safe = 0n;
  // tiny segments, no recent window (reads go to the files), retention bounded by `safe`
  const log = await FileLog.open({ dir, partitions: 1, segmentBytes: 512, recentBytesPerPartition: 1, retention: { bytes: 1, safeBefore: () => safe } });
  t.after(async () => {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 40; i++) await log.append('other', encodeOp(`{"i":${i}}`, '', 0));
  const s1 = (await log.append('d', encodeOp('{"a":1}', '', 0))).offset + 1n;
  await log.append('d', encodeOp('{"b":2}', '', 0));
  const store = new GatedStore();
  // the checkpoints cover every 'other' record (and 'd' has no snapshot: it had no op below them)
  await store.inner.commit([], new Map([[0, s1 - 1n]]));
  let open!: () => void;
  store.getGate = new Promise<void>((r) => (open = r));
  const h = new History(log, store);
  // the read chooses its base (offset 0: nothing deleted yet) and waits at the store
  const reading = h.stateAt('d', s1);
  await store.getStarted.promise;
  safe = s1 - 1n;
  await log.enforceRetention();
  assert.ok(log.startOffset(0) > 0n, 'retention deleted the first segments');
  open();
  assert.deepEqual(await reading, { seq: s1, state: { a: 1 } });
  assert.equal(store.gets, 2, 'one start over');
});

test('an op refused as doc_too_large is not history: pages and ?at= states equal what subscribers held', async (t) => {
  const log = new MemoryLog({ partitions: 1 });
  const origin = await Origin.start({ log, store: new MemorySnapshotStore(), maxDocBytes: 1024 }); // the smallest bound Origin accepts
  t.after(() => origin.close());
  const s1 = await origin.write('d', '{"a":1}');
  // its record carries the bound; the fold refuses it (413) and every reader must too
  await assert.rejects(origin.write('d', JSON.stringify({ big: 'x'.repeat(2000) })), (e: OriginError) => e.status === 413 && e.code === 'doc_too_large');
  const s3 = await origin.write('d', '{"b":2}');
  assert.deepEqual(await origin.read('d'), { seq: s3, state: { a: 1, b: 2 } });
  const h = new History(log, new MemorySnapshotStore());
  const p = await h.page('d', 0n, 100);
  assert.deepEqual(p.ops.map((o) => [o.seq, o.prevSeq]), [[s1, 0n], [s3, s1]], 'the refused op is not listed; the prevSeq chain skips it');
  assert.deepEqual(await h.stateAt('d', s3 - 1n), { seq: s1, state: { a: 1 } });
  assert.deepEqual(await h.stateAt('d', s3), { seq: s3, state: { a: 1, b: 2 } });
});

test('an aborted request stops its history scan at the next batch and frees its slot; a read past its time budget is 503', async (t) => {
  const log = new MemoryLog({ partitions: 1 });
  for (let i = 0; i < 5000; i++) await log.append('d', encodeOp(`{"i":${i}}`, '', 0));
  const h = new History(log, new MemorySnapshotStore());
  const read = log.read.bind(log);
  let reads = 0;
  const controllers: AbortController[] = [];
  log.read = async (...args: Parameters<typeof log.read>) => {
    reads++;
    for (const c of controllers) c.abort(); // every client goes away during its first batch
    return read(...args);
  };
  // as many reads as there are slots, each aborted: all stop after one batch
  const held = Array.from({ length: HISTORY_MAX_CONCURRENT }, () => {
    const c = new AbortController();
    controllers.push(c);
    return h.stateAt('d', 5000n, c.signal);
  });
  for (const r of held) await assert.rejects(r, (e: OriginError) => e.status === 503 && /aborted/.test(e.message));
  assert.ok(reads <= HISTORY_MAX_CONCURRENT, `at most one batch each, not the 5 batches of the whole scan (${reads} reads)`);
  controllers.length = 0;
  assert.deepEqual(await h.stateAt('d', 5000n), { seq: 5000n, state: { i: 4999 } }, 'the slots are free again');
  // the time budget: a scan whose batches take too long stops with 503 unavailable
  t.mock.timers.enable({ apis: ['Date'] });
  log.read = async (...args: Parameters<typeof log.read>) => {
    t.mock.timers.tick(HISTORY_TIME_BUDGET_MS / 2); // a slow log
    return read(...args);
  };
  await assert.rejects(h.stateAt('d', 5000n), (e: OriginError) => e.status === 503 && e.code === 'unavailable' && /longer than/.test(e.message));
  await log.close();
});

test('a page read through a view: patches projected against the state before them, invisible ops left out, prevSeq chained on the view, from a snapshot base and through a replace op', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const store = new MemorySnapshotStore();
  const h = new History(log, store);
  const rules = ViewRules.parse({ views: [{ docs: 'g', private: { '/hands/{sub}': 'owner', '/seed': 'nobody' } }] }).forDoc('g')!;
  const alice = rules.viewFor({ sub: 'alice' });
  const put = async (patch: object, replace = false) => (await log.append('g', encodeOp(JSON.stringify(patch), '', 0, undefined, undefined, replace))).offset + 1n;
  const s1 = await put({ hands: { alice: [1], bob: [2] }, board: 1 });
  await put({ seed: 's' }); // s2: nothing alice sees
  await put({ hands: { bob: [3] } }); // s3: nothing alice sees
  // the snapshot store holds the doc as of s3: reads at or after it start there
  await store.commit([{ doc: 'g', seq: 3n, state: { hands: { alice: [1], bob: [3] }, board: 1, seed: 's' }, keys: [] }], new Map([[0, 3n]]));
  const s4 = await put({ board: 2, seed: 't' });
  await put({ hands: { bob: null } }); // s5: nothing alice sees
  // a replace op (Kafka ingest) is the merge patch the fold applied: projected like any other
  const s6 = await put({ hands: { alice: [9] }, board: 2 }, true);
  const s7 = await put({ hands: { carol: [] } });

  const page = async (after: bigint, limit = 1000) => (await h.page('g', after, limit, undefined, alice)).ops.map((o) => [o.seq, o.prevSeq, JSON.parse(o.patchText)]);
  assert.deepEqual(await page(0n), [
    [s1, 0n, { hands: { alice: [1] }, board: 1 }],
    [s4, s1, { board: 2 }],
    [s6, s4, { hands: { alice: [9] } }],
  ]);
  // from the snapshot base: the first op chains on the doc's seq at `after` (what ?at= answers)
  assert.deepEqual(await page(3n), [
    [s4, 3n, { board: 2 }],
    [s6, s4, { hands: { alice: [9] } }],
  ]);
  assert.equal((await h.stateAt('g', 3n)).seq, 3n);
  // pages count the view's ops; `next` continues the chain
  const p1 = await h.page('g', 0n, 2, undefined, alice);
  assert.deepEqual([p1.ops.map((o) => o.seq), p1.next], [[s1, s4], s4]);
  assert.deepEqual(await page(p1.next!), [[s6, s4, { hands: { alice: [9] } }]]);
  // the whole doc's page is the raw one
  assert.deepEqual((await h.page('g', 0n, 1000, undefined, rules.full)).ops.map((o) => o.seq), [s1, 2n, 3n, s4, 5n, s6, s7]);
  await log.close();
});
