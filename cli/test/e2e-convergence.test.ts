/**
 * Acceptance: 200 SDK clients on 20 docs over real sockets against a real `replicant dev` process,
 * 2,000 writes over HTTP from 4 concurrent writers. Every client ends with exactly the origin's
 * state, saw strictly increasing seqs, and every delta's prevSeq equalled the seq it had before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type ReplicantClient } from '@replicant/sdk';
import { getDoc, post, startDevProcess, tempDir } from './harness.js';

const CLIENTS = 200;
const DOCS = 20;
const WRITERS = 4;
const WRITES = 2000;

interface Observed {
  doc: string;
  seqs: bigint[];
  snapshots: number;
  badChain: string[];
}

test('200 clients on 20 docs converge to the origin state after 2,000 concurrent writes', async (t) => {
  const tmp = tempDir();
  const dev = await startDevProcess({ dataDir: tmp.dir });
  const clients: ReplicantClient[] = [];
  t.after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await dev.stop();
    tmp.cleanup();
  });

  const docs = Array.from({ length: DOCS }, (_, i) => `conv-${i}`);
  const observed: Observed[] = [];
  const synced: Promise<void>[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const doc = docs[i % DOCS];
    const c = connect(dev.wsUrl, { protocol: i % 2 === 0 ? 'binary' : 'json' });
    clients.push(c);
    const o: Observed = { doc, seqs: [], snapshots: 0, badChain: [] };
    observed.push(o);
    let cur: bigint | undefined;
    c.onEvent((ev) => {
      if (ev.type === 'snapshot' && ev.doc === doc) {
        o.snapshots++;
        if (cur !== undefined && ev.seq < cur) o.badChain.push(`snapshot ${ev.seq} after ${cur}`);
        cur = ev.seq;
        o.seqs.push(ev.seq);
      } else if (ev.type === 'delta' && ev.doc === doc) {
        if (ev.outcome !== 'applied') o.badChain.push(`delta ${ev.seq} ${ev.outcome}`);
        if (ev.prevSeq !== cur) o.badChain.push(`delta ${ev.seq} prevSeq ${ev.prevSeq} != ${cur}`);
        cur = ev.seq;
        o.seqs.push(ev.seq);
      }
    });
    synced.push(new Promise((resolve) => c.subscribe(doc, () => resolve())));
  }
  await Promise.all(synced);

  // 4 concurrent writers, 500 writes each, spread over the docs.
  let next = 0;
  const writer = async (w: number) => {
    for (;;) {
      const i = next++;
      if (i >= WRITES) return;
      const doc = docs[(i * 7 + w) % DOCS];
      const patch: Record<string, unknown> = { [`k${i % 37}`]: i, last: { writer: w, i } };
      if (i % 10 === 0) patch[`k${(i + 1) % 37}`] = null; // deletions too
      const r = await post(dev.url, doc, patch, { 'idempotency-key': `w-${i}` });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));

  // Every client must reach the origin's final seq for its doc; await it through the listener.
  const finals = new Map<string, { seq: string; state: unknown }>();
  for (const d of docs) finals.set(d, await getDoc(dev.url, d));
  await Promise.all(
    clients.map(
      (c, i) =>
        new Promise<void>((resolve) => {
          const doc = observed[i].doc;
          const target = BigInt(finals.get(doc)!.seq);
          const sub = c.subscribe(doc, (live) => {
            if (live.seq >= target) {
              sub.unsubscribe();
              resolve();
            }
          });
        }),
    ),
  );

  let totalSeqs = 0;
  for (let i = 0; i < CLIENTS; i++) {
    const o = observed[i];
    const fin = finals.get(o.doc)!;
    const live = clients[i].subscribe(o.doc, () => {}).doc;
    assert.equal(String(live.seq), fin.seq, `client ${i} seq`);
    assert.deepEqual(live.state, fin.state, `client ${i} state on ${o.doc}`);
    assert.deepEqual(o.badChain, [], `client ${i} chain`);
    assert.equal(o.snapshots, 1, `client ${i} got one snapshot`);
    for (let k = 1; k < o.seqs.length; k++) assert.ok(o.seqs[k] > o.seqs[k - 1], `client ${i} seqs strictly increase`);
    totalSeqs += o.seqs.length;
  }
  // every write reached every one of its doc's 10 clients (plus the initial snapshot each)
  assert.equal(totalSeqs, CLIENTS + WRITES * (CLIENTS / DOCS));
});
