/**
 * Duplicate records in the Kafka log (what a producer retry leaves behind: the same Op bytes, same
 * idempotency key, appended twice), in-process against a real Kafka cluster (3 brokers). It lives in cli/test
 * because it needs both origin's Materializer and fanout's Replica (origin cannot depend on fanout).
 *
 * Readers compared: origin's Materializer (live, checkpointing into a snapshot store), a fanout
 * Replica subscribed from the start (live deltas), a fresh Materializer on a second KafkaLog
 * replaying from offset 0, and a cold Replica on that second log bootstrapping from the checkpoint
 * (snapshot with its idempotency-key window) plus the log after the covered offset, where some
 * duplicates sit. Asserted: every reader skips exactly the duplicates, so the sequence of applied
 * seqs and the final (seq, state) of every document are identical everywhere and equal to the fold
 * of the first copies.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startKafka, type KafkaCluster } from '@replicant/testkit';
import { applyMergePatch, type JsonObject } from '@replicant/protocol';
import {
  KafkaLog,
  MemorySnapshotStore,
  encodeOp,
  partitionForKey,
  type AppendResult,
  type KafkaLogOptions,
} from '@replicant/stream';
import { Checkpointer, Materializer } from '@replicant/origin';
import { Replica, type Delta, type UpstreamListener } from '@replicant/fanout';

const TOPIC = 'dups';
const PARTITIONS = 2;

/** a doc id in `partition` */
function docIn(partition: number, salt: string): string {
  for (let i = 0; ; i++) if (partitionForKey(`${salt}${i}`, PARTITIONS) === partition) return `${salt}${i}`;
}

interface Rec {
  doc: string;
  patch: JsonObject;
  key: string;
  value: Uint8Array;
  at?: AppendResult;
}

/** records one listener's view of each doc: its base and the deltas after it */
class Recorder implements UpstreamListener {
  readonly bases = new Map<string, { seq: bigint; state: JsonObject }>();
  readonly deltas = new Map<string, Delta[]>();
  readonly errors: string[] = [];
  private waiters: { pred: () => boolean; resolve(): void }[] = [];
  onBase(doc: string, seq: bigint, state: JsonObject): void {
    this.bases.set(doc, { seq, state: structuredClone(state) });
    this.deltas.set(doc, []);
    this.check();
  }
  onDelta(d: Delta): void {
    this.deltas.get(d.doc)!.push(d);
    this.check();
  }
  onError(doc: string, code: string, message: string): void {
    this.errors.push(`${doc}: ${code} ${message}`);
  }
  /** the doc's seq as this listener sees it */
  seq(doc: string): bigint | undefined {
    const ds = this.deltas.get(doc);
    if (ds === undefined) return undefined;
    return ds.length > 0 ? ds[ds.length - 1].seq : this.bases.get(doc)!.seq;
  }
  until(pred: () => boolean): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }
  private check(): void {
    this.waiters = this.waiters.filter((w) => (w.pred() ? (w.resolve(), false) : true));
  }
}

describe('duplicate records (same Op bytes appended twice) on a real Kafka cluster', () => {
  let kafka: KafkaCluster;
  before(async () => {
    kafka = await startKafka({ nodes: 3 });
    await kafka.createTopic(TOPIC, { partitions: PARTITIONS });
  });
  after(async () => {
    await kafka?.stop();
  });

  const options = (clientId: string): KafkaLogOptions => ({
    brokers: kafka.bootstraps,
    topic: TOPIC,
    clientId,
    logLevel: 'nothing',
    fetchMaxWaitMs: 20,
    connectTimeoutMs: 500,
    requestTimeoutMs: 3000,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 500 },
  });

  test('origin materializer, live replica, a fresh replay from offset 0 and a cold replica agree on seqs and state', async () => {
    const A = docIn(0, 'a');
    const B = docIn(0, 'b');
    const C = docIn(1, 'c');
    const docs = [A, B, C];
    const op = (doc: string, patch: JsonObject, key: string): Rec => ({
      doc,
      patch,
      key,
      value: encodeOp(JSON.stringify(patch), key, 1_700_000_000_000),
    });
    const dup = (r: Rec): Rec => ({ ...r, at: undefined }); // the very same bytes
    const appended: Rec[] = [];

    const log = await KafkaLog.open(options('dups-origin'));
    const store = new MemorySnapshotStore();
    const live = new Recorder();
    let mat: Materializer | undefined;
    let replica: Replica | undefined;
    let log2: KafkaLog | undefined;
    let fresh: Materializer | undefined;
    let cold: Replica | undefined;
    try {
      [mat, replica] = await Promise.all([Materializer.start({ log, store }), Replica.start({ log, store })]);
      const cp = new Checkpointer(mat, store); // checkpoints on demand only (not started)
      for (const d of docs) replica.subscribe(d, live);
      await live.until(() => docs.every((d) => live.bases.has(d)));

      const append = async (recs: Rec[]) => {
        // concurrent: copies of one op may share a produce request and a fetched batch
        const rs = await Promise.all(recs.map((r) => log.append(r.doc, r.value)));
        recs.forEach((r, i) => (r.at = rs[i]));
        appended.push(...recs);
        await Promise.all(rs.map((r) => mat!.waitApplied(r.partition, r.offset)));
      };
      const a1 = op(A, { x: 1, tag: 'a1' }, 'ka1');
      const a2 = op(A, { x: 2, y: { deep: true } }, 'ka2');
      const b1 = op(B, { list: [1, 2, 3] }, 'kb1');
      const b2 = op(B, { list: null, n: 1 }, 'kb2');
      const c1 = op(C, { c: 'one' }, 'kc1');
      const c2 = op(C, { c: 'two' }, 'kc2');
      const u = op(A, { unkeyed: 1 }, ''); // no key: both copies are applied (an idempotent patch)
      // back to back, and a copy of a1 after a2 (re-applying it would turn x back to 1)
      await append([a1, dup(a1), a2, dup(a1), b1, c1, dup(c1), u, dup(u)]);
      // a copy of b1 after b2 (would bring the list back), in a later batch
      await append([b2]);
      await append([dup(b1), c2, dup(c1)]);
      // checkpoint: snapshots carry the key windows, covered offsets move past everything so far
      await cp.checkpointNow();
      for (let p = 0; p < PARTITIONS; p++) assert.equal(await store.covered(p), await log.endOffset(p));
      // copies of ops from before the checkpoint, after it: a reader bootstrapping from the
      // snapshot must skip them through the snapshot's key window
      const a3 = op(A, { x: 3 }, 'ka3');
      await append([dup(a2), dup(b2), a3, dup(c2)]);
      await append([dup(a3), dup(a1)]);

      // the records really are in the log twice (or more)
      const copies = new Map<string, number>();
      for (const r of appended) if (r.key) copies.set(`${r.doc}/${r.key}`, (copies.get(`${r.doc}/${r.key}`) ?? 0) + 1);
      assert.equal(copies.get(`${A}/ka1`), 4);
      assert.equal(copies.get(`${C}/kc1`), 3);
      for (const r of appended) {
        const [rec] = await log.read(r.at!.partition, r.at!.offset, 1);
        assert.equal(rec.key, r.doc);
        assert.deepEqual(Buffer.from(rec.value), Buffer.from(r.value), 'stored bytes are the appended bytes');
      }

      // what every reader must compute: the first copy of each keyed op applies, later copies skip
      const order = [...appended].sort((x, y) =>
        x.at!.partition !== y.at!.partition ? x.at!.partition - y.at!.partition : Number(x.at!.offset - y.at!.offset),
      );
      const firstSeq = new Map<string, bigint>();
      const expected = new Map<string, { seqs: bigint[]; state: JsonObject }>(docs.map((d) => [d, { seqs: [], state: {} }]));
      const expectedResult = new Map<Rec, bigint>();
      for (const r of order) {
        const seq = r.at!.offset + 1n;
        const e = expected.get(r.doc)!;
        const k = `${r.doc}/${r.key}`;
        if (r.key !== '' && firstSeq.has(k)) {
          expectedResult.set(r, firstSeq.get(k)!);
          continue;
        }
        if (r.key !== '') firstSeq.set(k, seq);
        e.seqs.push(seq);
        e.state = applyMergePatch(e.state, r.patch) as JsonObject;
        expectedResult.set(r, seq);
      }
      assert.deepEqual(expected.get(A)!.state, { x: 3, tag: 'a1', y: { deep: true }, unkeyed: 1 });
      assert.deepEqual(expected.get(B)!.state, { n: 1 });
      assert.deepEqual(expected.get(C)!.state, { c: 'two' });

      // second reader set, as another process would be: its own KafkaLog, a fresh materializer
      // replaying from offset 0 (empty store), a cold replica bootstrapping from the checkpoint
      log2 = await KafkaLog.open(options('dups-reader'));
      const coldRec = new Recorder();
      [fresh, cold] = await Promise.all([
        Materializer.start({ log: log2, store: new MemorySnapshotStore() }),
        Replica.start({ log: log2, store }),
      ]);
      for (const d of docs) cold.subscribe(d, coldRec);
      await coldRec.until(() => docs.every((d) => coldRec.bases.has(d)));
      await live.until(() => docs.every((d) => (live.seq(d) ?? 0n) >= expected.get(d)!.seqs.at(-1)!));

      const materializers: [string, Materializer][] = [
        ['origin materializer', mat],
        ['fresh materializer', fresh],
      ];
      for (const [which, m] of materializers) {
        // per record: the seq it produced (its own when applied, the first copy's when skipped)
        for (const r of appended) {
          assert.equal(await m.waitApplied(r.at!.partition, r.at!.offset), expectedResult.get(r), `${which}: ${r.doc} ${r.key || '(no key)'}`);
        }
        for (const d of docs) {
          const s = await m.read(d);
          assert.equal(s.seq, expected.get(d)!.seqs.at(-1), `${which}: seq of ${d}`);
          assert.deepEqual(s.state, expected.get(d)!.state, `${which}: state of ${d}`);
        }
      }
      for (const d of docs) {
        // live replica: one delta per applied op, in the same seqs, chained, folding to the state
        const ds = live.deltas.get(d)!;
        assert.equal(live.bases.get(d)!.seq, 0n);
        assert.deepEqual(ds.map((x) => x.seq), expected.get(d)!.seqs, `live replica: applied seqs of ${d}`);
        ds.forEach((x, i) => assert.equal(x.prevSeq, i === 0 ? 0n : ds[i - 1].seq));
        assert.deepEqual(replica.peek(d)?.state, expected.get(d)!.state, `live replica: state of ${d}`);
        // cold replica: a base from the checkpoint plus the log after it; its seqs are a suffix of the same sequence
        const base = coldRec.bases.get(d)!;
        const coldSeqs = [base.seq, ...coldRec.deltas.get(d)!.map((x) => x.seq)];
        const all = [0n, ...expected.get(d)!.seqs];
        assert.deepEqual(coldSeqs, all.slice(all.indexOf(base.seq)), `cold replica: seqs of ${d}`);
        assert.equal(cold.peek(d)?.seq, expected.get(d)!.seqs.at(-1), `cold replica: seq of ${d}`);
        assert.deepEqual(cold.peek(d)?.state, expected.get(d)!.state, `cold replica: state of ${d}`);
      }
      // and the cold replica really started from the checkpoint, with duplicates after it
      assert.ok(coldRec.bases.get(A)!.seq > 0n);
      assert.deepEqual([...live.errors, ...coldRec.errors], []);
    } finally {
      await cold?.close();
      await fresh?.close();
      await replica?.close();
      await mat?.close();
      await log2?.close();
      await log.close();
    }
  });
});
