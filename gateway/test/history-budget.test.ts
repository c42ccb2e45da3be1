/**
 * History bounded in bytes (docs/architecture.md "Size bounds"): a gateway with 100 documents, each
 * sent 1,024 patches of 100 KB (10 GB in all), keeps its history under HISTORY_BUDGET_BYTES (by the
 * rings' own accounting, and in heap measured after GC, + 20 %), and a resume below the history it
 * kept gets a snapshot, one within it exactly the missing deltas: no gap, no duplicate.
 * The upstream is an in-memory seam implementation that hands out deltas as a replica would; the
 * client hop is the real one (uWS gateway, `ws` client).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as uWS from 'uWebSockets.js';
import WebSocket from 'ws';
import type { JsonObject } from '@replicant/protocol';
import { Delta, HistoryBudget, HistoryRing, type Upstream, type UpstreamListener } from '@replicant/fanout';
import { Gateway } from '../src/gateway.js';
import { CATCH_UP_ENTRIES } from '../src/local-fanout.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const DOCS = 100;
const PATCHES = 1024;
const PAD = 'x'.repeat(100_000);
const BUDGET = 32 * 1024 * 1024;

/** hands out a base at seq 1 and then whatever the test emits */
class SyntheticUpstream implements Upstream {
  readonly listeners = new Map<string, UpstreamListener>();
  subscribe(doc: string, l: UpstreamListener): void {
    this.listeners.set(doc, l);
    l.onBase(doc, 1n, {}, []);
  }
  unsubscribe(doc: string): void {
    this.listeners.delete(doc);
  }
  emit(doc: string, prevSeq: bigint, seq: bigint, n: number): void {
    // a flat patch text and its parsed form, as decodeOp makes them from a record
    const text = JSON.stringify({ v: `${n}:${doc}:${PAD}` });
    this.listeners.get(doc)!.onDelta(new Delta(doc, seq, prevSeq, text, JSON.parse(text) as JsonObject, Date.now()));
  }
}

function heapBytes(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function open(port: number): Promise<{ ws: WebSocket; frames: any[]; next: (pred: (f: any) => boolean) => Promise<any> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream`, ['replicant.v1.json']);
  const frames: any[] = [];
  let waiters: { pred: (f: any) => boolean; resolve: (f: any) => void }[] = [];
  ws.on('message', (d) => {
    const f = JSON.parse(d.toString());
    frames.push(f);
    waiters = waiters.filter((w) => (w.pred(f) ? (w.resolve(f), false) : true));
  });
  await once(ws, 'open');
  const next = (pred: (f: any) => boolean) => {
    const hit = frames.find(pred);
    return hit ? Promise.resolve(hit) : new Promise<any>((resolve) => waiters.push({ pred, resolve }));
  };
  return { ws, frames, next };
}

test('a gateway with 100 docs x 1,024 patches of 100 KB keeps history within HISTORY_BUDGET_BYTES; resumes below it get snapshots, without gaps', async (t) => {
  const upstream = new SyntheticUpstream();
  const budget = new HistoryBudget(BUDGET);
  const gateway = new Gateway({
    upstream,
    writer: { write: () => Promise.reject(new Error('read-only test')) },
    historyBudget: budget,
  });
  const app = uWS.App();
  gateway.attach(app);
  const port = await new Promise<number>((resolve) => app.listen('127.0.0.1', 0, (s) => resolve(uWS.us_socket_local_port(s as uWS.us_listen_socket))));
  t.after(async () => {
    await gateway.drain({ graceMs: 0 });
    app.close();
  });
  const docs = Array.from({ length: DOCS }, (_, i) => `doc-${i}`);
  // a subscriber with a window of 100: it takes the 100 snapshots and is then inactive (out of
  // credit), so the gateway keeps every doc and its history without sending the 10 GB
  const sub = await open(port);
  sub.ws.send(JSON.stringify({ type: 'hello', window: DOCS }));
  for (const doc of docs) sub.ws.send(JSON.stringify({ type: 'subscribe', doc }));
  await sub.next((f) => f.type === 'snapshot' && f.doc === docs.at(-1));
  assert.equal(gateway.fanout.inactiveCount, 1);
  const base = heapBytes();

  let maxUsed = 0;
  for (let n = 0; n < PATCHES; n++) {
    for (const doc of docs) upstream.emit(doc, BigInt(n + 1), BigInt(n + 2), n);
    maxUsed = Math.max(maxUsed, budget.used);
    if (n % 64 === 0) await new Promise((r) => setImmediate(r));
  }
  const latest = BigInt(PATCHES + 1);
  const retained = heapBytes() - base;
  t.diagnostic(`history accounted ${(maxUsed / 2 ** 20).toFixed(1)} MiB max, heap retained ${(retained / 2 ** 20).toFixed(1)} MiB, ${budget.evicted} deltas evicted`);
  assert.ok(maxUsed <= BUDGET, `ring accounting ${maxUsed} within the budget`);
  // the documents' states (one 100 KB value each) are not history; everything else is
  assert.ok(retained <= BUDGET * 1.2 + DOCS * PAD.length, `heap retained ${retained}`);

  // resumes: within the kept history, exactly the missing deltas; below it, a snapshot
  const rings = (gateway.fanout as unknown as { docs: Map<string, { ring: HistoryRing }> }).docs;
  let resumedWithDeltas = 0;
  let resumedWithSnapshots = 0;
  const probe = await open(port);
  for (const doc of [docs[0], docs[50], docs.at(-1)!]) {
    const kept = rings.get(doc)!.ring.all();
    const oldest = kept.length > 0 ? kept[0].prevSeq : latest;
    // below the kept history
    const from1 = probe.frames.length;
    probe.ws.send(JSON.stringify({ type: 'subscribe', doc, lastSeq: String(oldest - 1n) }));
    const snap = await probe.next((f) => f.doc === doc && (f.type === 'snapshot' || f.type === 'delta'));
    assert.equal(snap.type, 'snapshot', `${doc}: a resume from below the history gets a snapshot`);
    assert.equal(snap.seq, String(latest));
    assert.equal(probe.frames.indexOf(snap) >= from1, true);
    resumedWithSnapshots++;
    probe.ws.send(JSON.stringify({ type: 'unsubscribe', doc }));
    if (kept.length === 0) continue;
    // within it
    const from2 = probe.frames.length;
    probe.ws.send(JSON.stringify({ type: 'subscribe', doc, lastSeq: String(oldest) }));
    await probe.next((f) => f.doc === doc && f.seq === String(latest) && probe.frames.indexOf(f) >= from2);
    const got = probe.frames.slice(from2).filter((f) => f.doc === doc);
    assert.ok(got.every((f) => f.type === 'delta'), `${doc}: deltas only`);
    assert.equal(got[0].prevSeq, String(oldest), 'no gap');
    for (let k = 1; k < got.length; k++) assert.equal(got[k].prevSeq, got[k - 1].seq, 'chained, no duplicate');
    assert.equal(got.at(-1).seq, String(latest));
    resumedWithDeltas++;
    probe.ws.send(JSON.stringify({ type: 'unsubscribe', doc }));
  }
  assert.ok(resumedWithDeltas >= 1, 'the most recently written doc kept some history');
  assert.equal(resumedWithSnapshots, 3);
  probe.ws.close();
  sub.ws.close();
});

test('the catch-up cache is bounded: resumes with 200 distinct lastSeqs keep at most CATCH_UP_ENTRIES composed deltas, each resume still exact', async (t) => {
  const upstream = new SyntheticUpstream();
  const gateway = new Gateway({ upstream, writer: { write: () => Promise.reject(new Error('read-only test')) } });
  const app = uWS.App();
  gateway.attach(app);
  const port = await new Promise<number>((resolve) => app.listen('127.0.0.1', 0, (s) => resolve(uWS.us_socket_local_port(s as uWS.us_listen_socket))));
  t.after(async () => {
    await gateway.drain({ graceMs: 0 });
    app.close();
  });
  const doc = 'storm';
  const holder = await open(port); // keeps the doc subscribed at the gateway
  holder.ws.send(JSON.stringify({ type: 'subscribe', doc }));
  await holder.next((f) => f.type === 'snapshot');
  const N = 300;
  for (let n = 0; n < N; n++) {
    const text = JSON.stringify({ [`k${n % 5}`]: n });
    upstream.listeners.get(doc)!.onDelta(new Delta(doc, BigInt(n + 2), BigInt(n + 1), text, JSON.parse(text) as JsonObject, 0));
  }
  const latest = String(N + 1);
  await holder.next((f) => f.type === 'delta' && f.seq === latest);
  const docs = (gateway.fanout as unknown as { docs: Map<string, { catchUp?: Map<bigint, unknown>; catchUpBytes: number }> }).docs;
  const c = await open(port);
  let maxEntries = 0;
  for (let k = 0; k < 200; k++) {
    const from = String(N - 200 + k); // 200 distinct seqs the history covers
    const at = c.frames.length;
    c.ws.send(JSON.stringify({ type: 'subscribe', doc, lastSeq: from }));
    const f = await c.next((x) => x.doc === doc && (x.type === 'delta' || x.type === 'snapshot') && c.frames.indexOf(x) >= at);
    assert.equal(f.type, 'delta');
    assert.equal(f.prevSeq, from, 'no gap');
    assert.equal(f.seq, latest);
    c.ws.send(JSON.stringify({ type: 'unsubscribe', doc }));
    maxEntries = Math.max(maxEntries, docs.get(doc)!.catchUp?.size ?? 0);
  }
  // seqs the history does not hold get a snapshot and are not cached
  const at = c.frames.length;
  c.ws.send(JSON.stringify({ type: 'subscribe', doc, lastSeq: '1000000' }));
  c.ws.send(JSON.stringify({ type: 'unsubscribe', doc }));
  c.ws.send(JSON.stringify({ type: 'subscribe', doc, lastSeq: '0' })); // before the history (it starts at 1)
  const snap = await c.next((x) => x.doc === doc && x.type === 'snapshot' && c.frames.indexOf(x) >= at);
  assert.equal(snap.seq, latest);
  assert.equal(maxEntries, CATCH_UP_ENTRIES, 'the cache filled up to its bound and no further');
  assert.ok(docs.get(doc)!.catchUp!.size <= CATCH_UP_ENTRIES);
  assert.ok(!docs.get(doc)!.catchUp!.has(0n), 'a seq outside the history is not cached');
  c.ws.close();
  holder.ws.close();
});

test('a shared budget (dev): after the gateway\'s fanout closes, budget.used is back to the replica share', async () => {
  const upstream = new SyntheticUpstream();
  const budget = new HistoryBudget(BUDGET);
  // the replica's share of the same budget
  const replicaRing = new HistoryRing(16, Infinity, budget);
  replicaRing.push(new Delta('r', 2n, 1n, '{"a":1}', { a: 1 }, Date.now()));
  const share = budget.used;
  assert.ok(share > 0);
  const gateway = new Gateway({ upstream, writer: { write: () => Promise.reject(new Error('read-only test')) }, historyBudget: budget });
  const app = uWS.App();
  gateway.attach(app);
  const port = await new Promise<number>((resolve) => app.listen('127.0.0.1', 0, (s) => resolve(uWS.us_socket_local_port(s as uWS.us_listen_socket))));
  const sub = await open(port);
  sub.ws.send(JSON.stringify({ type: 'subscribe', doc: 'g' }));
  await sub.next((f) => f.type === 'snapshot' && f.doc === 'g');
  for (let n = 0; n < 8; n++) upstream.emit('g', BigInt(n + 1), BigInt(n + 2), n);
  assert.ok(budget.used > share, 'the gateway holds history of its own');
  // the fanout closes while the subscriber is still there (drain would unsubscribe it first):
  // close() itself gives the history back
  gateway.fanout.close();
  assert.equal(budget.used, share);
  await gateway.drain({ graceMs: 0 });
  app.close();
  assert.equal(budget.used, share);
});
