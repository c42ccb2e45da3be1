/**
 * Kafka faults under write load, in cluster mode (real processes): `replicant origin`, one
 * `replicant fanout` and one `replicant gateway` over a real Kafka cluster (3 KRaft brokers) and
 * Redis. While 16 writers push 5,000 writes, each with its own Idempotency-Key and its own field:
 * at write 1,000 the broker leading partition 0 is SIGKILLed, at write 2,500 it is restarted (it
 * recovers its log and rejoins), and at write 3,500 another broker is SIGSTOPped for 2 s (a stall:
 * its connections stay open, nothing is answered). Writers retry 503s with the same key a bounded
 * number of times.
 *
 * Asserted: every 503 is a clear `unavailable` error with Retry-After; every write that got a 200
 * is in origin's state (GET) with its value, and appears in exactly one delta of a subscribed
 * client's stream (never twice, never missing); nothing in the state or the stream comes from
 * anywhere but an attempted write; each stream is one snapshot then a chained run of deltas; and
 * the killed broker's partitions took acknowledged writes while it was down (failover happened).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from './cluster-harness.js';
import { getDoc, RawClient } from './harness.js';
import { partitionForKey } from '@replicant/stream';

const WRITES = 5000;
const WRITERS = 16;
const DOCS = 40;
const MAX_ATTEMPTS = 12;
/** writers back off this long after a 503 (shorter than its Retry-After, to keep the test short) */
const RETRY_DELAY_MS = 250;
const PARTITIONS = 8;
/** how long the second broker stays SIGSTOPped (well under kafkajs' 30 s request timeout) */
const STALL_MS = 2000;

interface Outcome {
  doc: string;
  field: string;
  /** seq of the 200, if any */
  seq?: string;
  /** acknowledged while the killed broker was down */
  whileDown?: boolean;
  attempts: number;
}

describe('Kafka broker down and back up during 5,000 writes (origin + fanout + gateway processes)', () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster({ fanouts: 1, gateways: 1, partitions: PARTITIONS });
  });
  after(async () => {
    await c?.stop();
  });

  test('every acknowledged write is in the state and in exactly one delta; failures are clear 503s', async (t) => {
    const docs = Array.from({ length: DOCS }, (_, i) => `kf-${i}`);
    // one subscribed client per doc, through the gateway, JSON subprotocol
    const clients = await Promise.all(docs.map(() => RawClient.open(c.gateways[0].wsUrl)));
    try {
      docs.forEach((d, i) => clients[i].send({ type: 'subscribe', doc: d }));
      await Promise.all(docs.map((d, i) => clients[i].next((f) => f.type === 'snapshot' && f.doc === d)));

      const outcomes: Outcome[] = [];
      const rejections: { status: number; retryAfter: string | null; body: any }[] = [];
      const leaders = await c.kafka.leaders(c.topic);
      const victim = leaders.get(0)!;
      const victimParts = new Set([...leaders].filter(([, l]) => l === victim).map(([p]) => p));
      const staller = [1, 2, 3].find((id) => id !== victim)!;
      let down = false;
      const faults: Promise<void>[] = [];
      let next = 0;
      const writer = async () => {
        for (;;) {
          const i = next++;
          if (i >= WRITES) return;
          if (i === 1000) {
            down = true;
            faults.push(c.kafka.kill9(victim));
          }
          if (i === 2500) {
            faults.push(
              (async () => {
                await faults[0];
                await c.kafka.restart(victim);
                down = false;
              })(),
            );
          }
          if (i === 3500) {
            faults.push(
              (async () => {
                await faults[1];
                await c.kafka.pause(staller);
                // the stall's length is the fault itself, not a synchronisation
                await new Promise((res) => setTimeout(res, STALL_MS));
                c.kafka.resume(staller);
              })(),
            );
          }
          const o: Outcome = { doc: docs[i % DOCS], field: `f${i}`, attempts: 0 };
          outcomes[i] = o;
          while (o.attempts < MAX_ATTEMPTS) {
            o.attempts++;
            const r = await fetch(`${c.origin.url}/v1/docs/${o.doc}`, {
              method: 'POST',
              headers: { 'content-type': 'application/merge-patch+json', 'idempotency-key': `kf-key-${i}` },
              body: JSON.stringify({ [o.field]: i }),
            });
            const body = await r.json();
            if (r.status === 200) {
              assert.match(body.seq, /^[1-9]\d*$/);
              o.seq = body.seq;
              o.whileDown = down;
              break;
            }
            rejections.push({ status: r.status, retryAfter: r.headers.get('retry-after'), body });
            assert.equal(r.status, 503, `write ${i}: ${r.status} ${JSON.stringify(body)}`);
            await new Promise((res) => setTimeout(res, RETRY_DELAY_MS));
          }
        }
      };
      await Promise.all(Array.from({ length: WRITERS }, writer));
      await Promise.all(faults);
      assert.equal(faults.length, 3, 'all three faults ran');

      // failures during the faults (if any) are clear: 503, code unavailable, a message, Retry-After seconds
      for (const r of rejections) {
        assert.equal(r.body.error.code, 'unavailable');
        assert.equal(typeof r.body.error.message, 'string');
        assert.ok(r.body.error.message.length > 0);
        assert.match(r.retryAfter ?? '', /^[1-9]\d*$/, 'Retry-After in whole seconds');
      }
      const acked = outcomes.filter((o) => o.seq !== undefined);
      const failed = outcomes.filter((o) => o.seq === undefined);
      const retriedOk = acked.filter((o) => o.attempts > 1);
      const failedOver = acked.filter((o) => o.whileDown && victimParts.has(partitionForKey(o.doc, PARTITIONS)));
      t.diagnostic(
        `${acked.length} writes acknowledged (${retriedOk.length} after a retry), ${failed.length} gave up after ` +
          `${MAX_ATTEMPTS} attempts; ${rejections.length} 503s; broker ${victim} killed and restarted, broker ` +
          `${staller} stalled ${STALL_MS} ms; ${failedOver.length} writes to the killed broker's partitions acknowledged while it was down`,
      );
      assert.ok(failedOver.length > 0, "the killed broker's partitions failed over and took writes");

      // origin's state: every acknowledged write is there with its value
      const attempted = new Map(outcomes.map((o, i) => [o.field, { o, i }]));
      const finals = new Map<string, { seq: string; state: Record<string, unknown> }>();
      for (const d of docs) finals.set(d, await getDoc(c.origin.url, d));
      for (const o of acked) {
        const st = finals.get(o.doc)!;
        assert.equal(st.state[o.field], Number(o.field.slice(1)), `acknowledged ${o.field} in ${o.doc}: ${JSON.stringify({ ...o, docSeq: st.seq, keys: Object.keys(st.state).length })}`);
        assert.ok(BigInt(st.seq) >= BigInt(o.seq!), `${o.doc} seq ${st.seq} covers the ack ${o.seq}`);
      }
      let landedAnyway = 0;
      for (const [d, st] of finals) {
        for (const [field, value] of Object.entries(st.state)) {
          const a = attempted.get(field);
          assert.ok(a && a.o.doc === d && a.i === value, `${d}.${field} = ${String(value)} comes from an attempted write`);
          if (a.o.seq === undefined) landedAnyway++;
        }
      }
      t.diagnostic(`${landedAnyway} writes that gave up had landed anyway (their append was durable, the answer was lost)`);

      // the delta stream of each client: caught up to the final seq, one snapshot, chained deltas,
      // and each field in exactly one delta
      for (let k = 0; k < DOCS; k++) {
        const d = docs[k];
        const target = BigInt(finals.get(d)!.seq);
        await clients[k].next((f) => f.type === 'delta' && f.doc === d && BigInt(f.seq) >= target);
        const frames = clients[k].frames.filter((f) => f.doc === d);
        assert.deepEqual(
          clients[k].frames.filter((f) => f.type === 'error'),
          [],
          `no error frames for ${d}`,
        );
        assert.equal(frames[0].type, 'snapshot');
        assert.equal(frames.filter((f) => f.type === 'snapshot').length, 1, `${d}: no resync snapshot`);
        let seq = BigInt(frames[0].seq);
        const seen = new Map<string, number>();
        const state: Record<string, unknown> = { ...frames[0].state };
        for (const f of frames.slice(1)) {
          assert.equal(f.type, 'delta');
          assert.equal(BigInt(f.prevSeq), seq, `${d}: delta ${f.seq} chains on ${seq}`);
          assert.ok(BigInt(f.seq) > seq);
          seq = BigInt(f.seq);
          for (const [field, value] of Object.entries(f.patch as Record<string, unknown>)) {
            seen.set(field, (seen.get(field) ?? 0) + 1);
            state[field] = value;
          }
        }
        assert.equal(seq, target, `${d}: the stream ends at origin's seq`);
        assert.deepEqual(state, finals.get(d)!.state, `${d}: the stream folds to origin's state`);
        for (const [field, n] of seen) assert.equal(n, 1, `${d}.${field} is in ${n} deltas`);
      }
      for (const o of acked) {
        const k = docs.indexOf(o.doc);
        const n = clients[k].frames.filter((f) => f.type === 'delta' && f.doc === o.doc && o.field in f.patch).length;
        assert.equal(n, 1, `acknowledged ${o.field} of ${o.doc} is in exactly one delta (found ${n})`);
      }
    } finally {
      for (const cl of clients) cl.close();
    }
  });
});
