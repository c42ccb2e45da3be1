/**
 * A replica's history bounded in bytes (docs/architecture.md "Size bounds"): 100 documents, each
 * written with 1,024 patches (1 KB here: the memory log keeps every record, so the 100 KB of the
 * gateway-side test would be 10 GB of log), half of them idle (no receiver). The history stays
 * within HISTORY_BUDGET_BYTES by the rings' accounting and in heap after GC (+ 20 %); idle
 * documents' history goes first; a base for a resume inside the kept history carries exactly the
 * missing deltas, and one below it does not reach back (the gateway then bridges or snapshots).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MemoryLog, MemorySnapshotStore, encodeOp, processMetrics } from '@replicant/stream';
import { Replica } from '../src/replica.js';
import { HistoryBudget } from '../src/history-ring.js';
import type { Delta } from '../src/delta.js';
import type { UpstreamListener } from '../src/upstream.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const DOCS = 100;
const PATCHES = 1024;
const PAD = 'y'.repeat(1000);
const BUDGET = 4 * 1024 * 1024;

class Tracker implements UpstreamListener {
  readonly seqs = new Map<string, bigint>();
  onBase(doc: string, seq: bigint): void {
    this.seqs.set(doc, seq);
  }
  onDelta(d: Delta): void {
    assert.equal(d.prevSeq, this.seqs.get(d.doc), 'no gap');
    this.seqs.set(d.doc, d.seq);
  }
  onError(doc: string, code: string): void {
    assert.fail(`${doc}: ${code}`);
  }
}

function heapBytes(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

test('a replica with 100 docs x 1,024 patches keeps history within HISTORY_BUDGET_BYTES, idle docs first; resumes below it are not served from history', async () => {
  const log = new MemoryLog({ partitions: 4 });
  const store = new MemorySnapshotStore();
  const budget = new HistoryBudget(BUDGET);
  const replica = await Replica.start({ log, store, historyBudget: budget });
  const docs = Array.from({ length: DOCS }, (_, i) => `doc-${i}`);
  const tracker = new Tracker();
  for (const doc of docs) replica.subscribe(doc, tracker);
  for (const doc of docs.slice(0, DOCS / 2)) replica.unsubscribe(doc, tracker); // idle, still materialized
  const last = new Map<string, bigint>();
  const probeSeqs: bigint[] = []; // every seq of the probed doc (the last one), in order
  let maxUsed = 0;
  for (let n = 0; n < PATCHES; n++) {
    const rs = await Promise.all(docs.map((doc) => log.append(doc, encodeOp(JSON.stringify({ n, pad: PAD }), '', 0))));
    rs.forEach((r, i) => last.set(docs[i], r.offset + 1n));
    probeSeqs.push(rs[DOCS - 1].offset + 1n);
    maxUsed = Math.max(maxUsed, budget.used);
  }
  const active = docs.slice(DOCS / 2);
  await Promise.all(active.map((doc) => new Promise<void>((resolve) => {
    const check = () => (tracker.seqs.get(doc) === last.get(doc) ? resolve() : setImmediate(check));
    check();
  })));
  maxUsed = Math.max(maxUsed, budget.used);
  assert.ok(maxUsed <= BUDGET, `accounting ${maxUsed} within the budget`);
  const gauge = await processMetrics.getSingleMetric('replicant_history_bytes')!.get();
  assert.equal(gauge.values[0].value, budget.used, 'replicant_history_bytes reports it');

  // idle documents' history went first: they hold none while active ones still hold some
  for (const doc of docs.slice(0, DOCS / 2)) assert.equal(replica.base(doc, undefined, 1024)!.history.length, 0, `${doc} (idle) kept history`);
  const kept = active.map((doc) => replica.base(doc, undefined, 1024)!.history);
  assert.ok(kept.some((h) => h.length > 0), 'active docs keep history');

  // resumes: inside the kept history exactly the missing deltas; below it the base cannot chain
  const doc = active.at(-1)!;
  const h = replica.base(doc, undefined, 1024)!.history;
  const from = h[0].prevSeq;
  const inside = replica.base(doc, from, 1024)!;
  assert.equal(inside.history[0].prevSeq, from);
  assert.equal(inside.history.at(-1)!.seq, inside.seq);
  const older = probeSeqs[probeSeqs.indexOf(from) - 1]; // the doc's seq before the oldest kept
  assert.ok(older !== undefined);
  const below = replica.base(doc, older, 64)!;
  assert.notEqual(below.history[0]?.prevSeq, older, 'history does not reach back: the receiver needs a bridge or a snapshot');
  assert.ok(below.history.length <= 64);

  // heap: what the replica retains (rings, states) is what closing it gives back
  const alive = heapBytes();
  await replica.close();
  const retained = alive - heapBytes();
  assert.equal(budget.used, 0, 'closing gives every byte back');
  assert.ok(retained <= BUDGET * 1.2 + DOCS * (PAD.length + 64), `heap retained ${retained}`);
  await log.close();
});
