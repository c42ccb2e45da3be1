/**
 * The convergence scenario shared by the embedded and the cluster acceptance tests: SDK clients
 * spread over gateways and docs, concurrent HTTP writers, then every client must hold exactly the
 * origin's state, having seen strictly increasing seqs with every delta chained on the previous one.
 */
import assert from 'node:assert/strict';
import { connect, type ReplicantClient } from '@replicant/sdk';
import { getDoc, post } from './harness.js';

export interface ConvergenceOptions {
  /** gateway WebSocket URLs; clients are spread round-robin */
  wsUrls: string[];
  /** origin HTTP base URL (writes and final reads) */
  originUrl: string;
  clients: number;
  docs: number;
  writers: number;
  writes: number;
  prefix: string;
  /** called once, mid-way through the writes (fault injection) */
  midway?: () => Promise<void>;
  /** allowed extra snapshots per client (0: exactly one snapshot, no resync) */
  extraSnapshots?: number;
  /** fail if any client emits an `error` event (default: errors are not checked) */
  noErrors?: boolean;
  /** client token for every SDK connection (a cluster with client auth) */
  token?: string;
  /** headers of every HTTP write and read, e.g. `authorization: Bearer <API key>` */
  headers?: Record<string, string>;
}

export interface ConvergenceResult {
  clients: ReplicantClient[];
  deliveries: number;
}

export async function runConvergence(o: ConvergenceOptions): Promise<ConvergenceResult> {
  const docs = Array.from({ length: o.docs }, (_, i) => `${o.prefix}-${i}`);
  const clients: ReplicantClient[] = [];
  const observed: { doc: string; seqs: bigint[]; snapshots: number; bad: string[] }[] = [];
  const errors: string[] = [];
  const synced: Promise<void>[] = [];
  try {
    for (let i = 0; i < o.clients; i++) {
      const doc = docs[i % o.docs];
      const c = connect(o.wsUrls[i % o.wsUrls.length], { protocol: i % 2 === 0 ? 'binary' : 'json', token: o.token });
      clients.push(c);
      const ob = { doc, seqs: [] as bigint[], snapshots: 0, bad: [] as string[] };
      observed.push(ob);
      let cur: bigint | undefined;
      c.onEvent((ev) => {
        if (ev.type === 'error') errors.push(`client ${i}: ${ev.error.code} ${ev.error.message}`);
        if (ev.type === 'snapshot' && ev.doc === doc) {
          ob.snapshots++;
          if (cur !== undefined && ev.seq < cur) ob.bad.push(`snapshot ${ev.seq} after ${cur}`);
          cur = ev.seq;
          ob.seqs.push(ev.seq);
        } else if (ev.type === 'delta' && ev.doc === doc) {
          if (ev.outcome !== 'applied') ob.bad.push(`delta ${ev.seq} ${ev.outcome}`);
          else if (ev.prevSeq !== cur) ob.bad.push(`delta ${ev.seq} prevSeq ${ev.prevSeq} != ${cur}`);
          if (ev.outcome === 'applied') {
            cur = ev.seq;
            ob.seqs.push(ev.seq);
          }
        }
      });
      synced.push(new Promise((resolve) => c.subscribe(doc, () => resolve())));
    }
    await Promise.all(synced);

    let next = 0;
    let midwayDone: Promise<void> | undefined;
    const writer = async (w: number) => {
      for (;;) {
        const i = next++;
        if (i >= o.writes) return;
        if (o.midway && i === Math.floor(o.writes / 2)) midwayDone = o.midway();
        const doc = docs[(i * 7 + w) % o.docs];
        const patch: Record<string, unknown> = { [`k${i % 37}`]: i, last: { writer: w, i } };
        if (i % 10 === 0) patch[`k${(i + 1) % 37}`] = null;
        // retry 503s with the same idempotency key: the write lands once
        for (let attempt = 0; ; attempt++) {
          const r = await post(o.originUrl, doc, patch, { ...o.headers, 'idempotency-key': `${o.prefix}-w-${i}` });
          if (r.status === 200) break;
          assert.equal(r.status, 503, JSON.stringify(r.body));
          assert.ok(attempt < 200, 'write kept failing');
          await new Promise((res) => setTimeout(res, 50));
        }
      }
    };
    await Promise.all(Array.from({ length: o.writers }, (_, w) => writer(w)));
    await midwayDone;

    const finals = new Map<string, { seq: string; state: unknown }>();
    for (const d of docs) finals.set(d, await getDoc(o.originUrl, d, o.headers));
    await Promise.all(
      clients.map(
        (c, i) =>
          new Promise<void>((resolve) => {
            const target = BigInt(finals.get(observed[i].doc)!.seq);
            const sub = c.subscribe(observed[i].doc, (live) => {
              if (live.seq >= target) {
                sub.unsubscribe();
                resolve();
              }
            });
          }),
      ),
    );
    if (o.noErrors) assert.deepEqual(errors, [], 'no client saw an error');
    let deliveries = 0;
    for (let i = 0; i < o.clients; i++) {
      const ob = observed[i];
      const fin = finals.get(ob.doc)!;
      const live = clients[i].subscribe(ob.doc, () => {}).doc;
      assert.equal(String(live.seq), fin.seq, `client ${i} seq on ${ob.doc}`);
      assert.deepEqual(live.state, fin.state, `client ${i} state on ${ob.doc}`);
      assert.deepEqual(ob.bad, [], `client ${i} chain on ${ob.doc}`);
      assert.ok(ob.snapshots >= 1 && ob.snapshots <= 1 + (o.extraSnapshots ?? 0), `client ${i} snapshots: ${ob.snapshots}`);
      for (let k = 1; k < ob.seqs.length; k++) assert.ok(ob.seqs[k] > ob.seqs[k - 1], `client ${i} seqs strictly increase`);
      deliveries += ob.seqs.length;
    }
    return { clients, deliveries };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}
