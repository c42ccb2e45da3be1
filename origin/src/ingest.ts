/**
 * Kafka-native ingestion (DESIGN.md "Kafka-native", docs/ingest.md): records of existing Kafka
 * topics become document ops, each applied exactly once. INGEST_TOPICS lists `<topic>=<format>
 * [:<doc prefix>]`; doc id = prefix + record key. Formats:
 * - `merge-patch`: the value is a JSON merge patch object.
 * - `upsert`: the value is the whole JSON object (a replace op: the fold turns it into the merge
 *   patch from the state it meets, stream/src/doc-state.ts); a tombstone (null value) clears the doc to `{}`.
 * - `debezium`: a Debezium change event, with or without the JsonConverter `schema`/`payload`
 *   wrapper; `c`/`r`/`u` replace the doc with `after`, `d` (and the tombstone after it) clear it.
 *   A JSON record key (the row's primary key) names the doc by its values joined with `:`.
 * Null members of a whole object are absent (a merge patch can neither hold nor produce one).
 *
 * Invariants:
 * - Exactly once: a record at (topic, partition, offset) is appended with the sequenced key
 *   `~ki<hash(topic)>-<partition>.<offset + 1>.<base>` (protocol/idempotency.ts), so the fold
 *   dedupes it per document with a high-water mark whatever was written in between. The high-water
 *   mark is exact because, per document, the records in the log are always a prefix of its records
 *   in topic order: one partition's records go out in rounds; a round's appends are issued in
 *   offset order in one synchronous call (Origin.ingest), the next round only once every append of
 *   this one is durable, and a failed append fails what queued behind it (file log: the log stops;
 *   Kafka log: the appender rejects its partition's queue). A failed round is appended again, whole.
 * - Offsets: a record's offset is resolved (and committed by kafkajs after the batch) only once its
 *   round is durable, so after a crash (SIGKILL) consumption resumes at or before the first record
 *   not in the log, and whatever is re-appended is a duplicate the fold drops.
 * - A bad record (not UTF-8 JSON, not an object, no or a bad key, a bad Debezium event, deeper than
 *   MAX_PATCH_DEPTH, a whole state over MAX_DOC_BYTES) is counted in
 *   `replicant_ingest_records_total{topic,result}` and skipped: it never blocks its partition.
 *   A merge patch that would grow a doc past MAX_DOC_BYTES is decided by the fold (doc_too_large).
 * - The record order of one document is its partition's order; a document fed from two partitions
 *   (or two topics) has no order between them.
 *
 * Bounds: a round is at most `maxRoundRecords` records and `maxRoundBytes`; rounds wait for room
 * under the origin's MAX_INFLIGHT_WRITES (they count as writes in flight until applied, shared
 * with HTTP writes) and under `maxInflightBytes` of ingested ops not yet applied, so consumption
 * pauses under the origin's write backpressure and resumes as it drains (kafkajs then fetches no
 * more for the waiting partition: at most one fetch, maxBytesPerPartition, per partition is held).
 * A failed round is retried after a backoff (250 ms doubling to 10 s), heartbeating meanwhile.
 */
import { createHash } from 'node:crypto';
import { Kafka, type Consumer, type EachBatchPayload, type KafkaMessage } from 'kafkajs';
import { Backoff, MAX_PATCH_DEPTH, formatSequencedKey, isValidDocId, jsonDepth, stripNullMembers } from '@replicant/protocol';
import { LATENCY_BUCKETS, defineMetrics, kafkaClientConfig, type KafkaSecurity } from '@replicant/stream';
import type { IngestOp, IngestOutcome, Origin } from './origin.js';

export type IngestFormat = 'merge-patch' | 'upsert' | 'debezium';

export interface IngestTopic {
  topic: string;
  format: IngestFormat;
  /** prepended to the record key to make the doc id ('' for none) */
  prefix: string;
}

export interface IngestOptions {
  origin: Origin;
  /** the cluster the topics are read from (INGEST_BROKERS, default KAFKA_BROKERS) */
  brokers: string[];
  topics: IngestTopic[];
  /** the origin's MAX_DOC_BYTES: a whole state (upsert, Debezium) over it is refused before appending */
  maxDocBytes: number;
  /** consumer group (default `replicant-ingest`) */
  groupId?: string;
  clientId?: string;
  /** most records per round (default 2000) */
  maxRoundRecords?: number;
  /** most op bytes per round (default 512 KiB, under one Kafka produce request) */
  maxRoundBytes?: number;
  /** op bytes appended and not yet applied, over all partitions (default 16 MiB) */
  maxInflightBytes?: number;
  /** kafkajs fetch wait (default 100 ms): the latency of a record arriving at an idle topic */
  fetchMaxWaitMs?: number;
  /**
   * consumer group session timeout (default 10 000): how long the partitions of an origin that
   * died (SIGKILL) wait before the group gives them to another member
   */
  sessionTimeoutMs?: number;
  /** partitions handled at once (default 16) */
  concurrency?: number;
  /** TLS and SASL of the ingest cluster (the KAFKA_SSL* / KAFKA_SASL_* settings) */
  security?: KafkaSecurity;
  /** kafkajs log level (default warn) */
  logLevel?: 'nothing' | 'error' | 'warn' | 'info';
}

/** why a record was skipped, or what became of it (the `result` label) */
export type IngestResult = IngestOutcome | 'not_json' | 'not_object' | 'bad_key' | 'bad_event' | 'bad_patch';

export const ingestMetrics = defineMetrics((m) => ({
  records: m.counter({
    name: 'replicant_ingest_records_total',
    help: 'Kafka ingest records by topic and result: ok, duplicate (applied before: a redelivery), doc_too_large, expired, error, and the skipped bad records not_json, not_object, bad_key, bad_event, bad_patch',
    labelNames: ['topic', 'result'],
  }),
  lag: m.gauge({
    name: 'replicant_ingest_lag_records',
    help: "Kafka ingest lag per topic partition: the partition's high watermark minus the next record to ingest (as of its last fetch)",
    labelNames: ['topic', 'partition'],
  }),
  inflight: m.gauge({ name: 'replicant_ingest_inflight_bytes', help: 'Kafka ingest: bytes of ops appended and not yet applied' }),
  waits: m.counter({
    name: 'replicant_ingest_backpressure_waits_total',
    help: "Kafka ingest rounds that waited for room under the origin's in-flight write bound or the ingest's byte bound",
  }),
  failures: m.counter({ name: 'replicant_ingest_round_failures_total', help: 'Kafka ingest rounds whose appends failed (retried whole)' }),
  age: m.histogram({
    name: 'replicant_ingest_record_age_seconds',
    help: "Kafka ingest: age of a round's last record when its appends are durable (now minus the record's Kafka timestamp; includes clock skew with its producer)",
    buckets: LATENCY_BUCKETS,
  }),
}));

export type Decoded = { docId: string; patchText: string; replace: boolean } | Exclude<IngestResult, IngestOutcome>;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function text(b: Buffer): string | undefined {
  try {
    return utf8.decode(b);
  } catch {
    return undefined;
  }
}

function parseJson(b: Buffer): { v: unknown } | undefined {
  const t = text(b);
  if (t === undefined) return undefined;
  try {
    return { v: JSON.parse(t) };
  } catch {
    return undefined;
  }
}

/** Debezium / JsonConverter: `{"schema":…,"payload":…}` carries the event in `payload` */
function unwrap(v: unknown): unknown {
  return isObject(v) && Object.hasOwn(v, 'payload') && Object.hasOwn(v, 'schema') ? v.payload : v;
}

/** the document id of a record key: the raw key, or for Debezium a JSON key's values joined by `:` */
function docIdOf(t: IngestTopic, key: Buffer | null): string | undefined {
  if (key === null) return undefined;
  let k = text(key);
  if (k === undefined || k === '') return undefined;
  if (t.format === 'debezium' && k.startsWith('{')) {
    const j = parseJson(key);
    const v = j && unwrap(j.v);
    if (!isObject(v)) return undefined;
    const parts = Object.values(v);
    if (parts.length === 0 || parts.some((x) => typeof x !== 'string' && typeof x !== 'number')) return undefined;
    k = parts.join(':');
  }
  const id = t.prefix + k;
  return isValidDocId(id) ? id : undefined;
}

/** A whole state as a replace op; over MAX_DOC_BYTES it is refused (the fold would refuse it too). */
function whole(docId: string, state: Record<string, unknown>, maxDocBytes: number): Decoded | 'doc_too_large' {
  if (jsonDepth(state) > MAX_PATCH_DEPTH) return 'bad_patch';
  const patchText = JSON.stringify(stripNullMembers(state));
  // UTF-16 length <= UTF-8 bytes: only a text that may be over the bound is measured
  if (patchText.length > maxDocBytes / 3 && Buffer.byteLength(patchText) > maxDocBytes) return 'doc_too_large';
  return { docId, patchText, replace: true };
}

/** What one record of topic `t` becomes: an op for a document, or why it is skipped. */
export function decodeRecord(t: IngestTopic, key: Buffer | null, value: Buffer | null, maxDocBytes: number): Decoded | 'doc_too_large' {
  const docId = docIdOf(t, key);
  if (docId === undefined) return 'bad_key';
  if (value === null) {
    // a tombstone: upsert and Debezium clear the doc (the tombstone after a Debezium delete is a no-op)
    return t.format === 'merge-patch' ? 'not_object' : { docId, patchText: '{}', replace: true };
  }
  const j = parseJson(value);
  if (j === undefined) return 'not_json';
  if (t.format === 'merge-patch') {
    if (!isObject(j.v)) return 'not_object';
    if (jsonDepth(j.v) > MAX_PATCH_DEPTH) return 'bad_patch';
    return { docId, patchText: JSON.stringify(j.v), replace: false };
  }
  if (t.format === 'upsert') return isObject(j.v) ? whole(docId, j.v, maxDocBytes) : 'not_object';
  const ev = unwrap(j.v);
  if (!isObject(ev)) return 'not_object';
  switch (ev.op) {
    case 'c':
    case 'r':
    case 'u':
      return isObject(ev.after) ? whole(docId, ev.after, maxDocBytes) : 'bad_event';
    case 'd':
      return { docId, patchText: '{}', replace: true };
    default:
      // 't' (truncate) and 'm' (message) name no row; anything else is not a change event
      return 'bad_event';
  }
}

/** the sequenced-key writer name of one topic partition: [A-Za-z0-9_-], at most 64 */
export function ingestClient(topic: string, partition: number): string {
  return `ki${createHash('sha256').update(topic).digest('base64url').slice(0, 16)}-${partition}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Ingest {
  private readonly metrics = ingestMetrics();
  private readonly topics = new Map<string, IngestTopic>();
  private consumer?: Consumer;
  private closed = false;
  private inflightBytes = 0;
  private byteWaiters: (() => void)[] = [];
  private readonly maxRoundRecords: number;
  private readonly maxRoundBytes: number;
  private readonly maxInflightBytes: number;
  private starting?: Promise<void>;
  private lastFailureLog = 0;
  /** rounds appended (tests, stats) */
  rounds = 0;
  /** per `topic/partition`: high watermark minus the next offset to ingest, as of the last batch */
  readonly lag = new Map<string, bigint>();

  private constructor(private readonly o: IngestOptions) {
    for (const t of o.topics) this.topics.set(t.topic, t);
    this.maxRoundRecords = o.maxRoundRecords ?? 2000;
    this.maxRoundBytes = o.maxRoundBytes ?? 512 * 1024;
    this.maxInflightBytes = o.maxInflightBytes ?? 16 * 1024 * 1024;
  }

  /**
   * Starts consuming in the background: a cluster or topic that is not reachable yet is retried
   * with backoff (each failure logged once, naming the brokers), never failing the origin.
   */
  static start(o: IngestOptions): Ingest {
    const ing = new Ingest(o);
    ing.starting = ing.run();
    return ing;
  }

  private what(): string {
    return `topics ${this.o.topics.map((t) => `${t.topic}=${t.format}`).join(',')} from brokers ${this.o.brokers.join(',')}`;
  }

  private async run(): Promise<void> {
    const backoff = new Backoff({ initialMs: 250, maxMs: 10_000, jitter: 'none' });
    while (!this.closed) {
      const kafka = new Kafka(
        kafkaClientConfig({
          clientId: this.o.clientId ?? 'replicant-ingest',
          brokers: this.o.brokers,
          security: this.o.security,
          connectionTimeout: 3000,
          logLevel: this.o.logLevel ?? 'warn',
        }),
      );
      const consumer = kafka.consumer({
        groupId: this.o.groupId ?? 'replicant-ingest',
        maxWaitTimeInMs: this.o.fetchMaxWaitMs ?? 100,
        sessionTimeout: this.o.sessionTimeoutMs ?? 10_000,
        heartbeatInterval: Math.floor((this.o.sessionTimeoutMs ?? 10_000) / 4),
        allowAutoTopicCreation: false,
      });
      this.consumer = consumer;
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        const assigned = Object.entries(e.payload.memberAssignment)
          .map(([t, ps]) => `${t}[${(ps as number[]).join(',')}]`)
          .join(' ');
        console.log(`ingest: consuming ${assigned || 'no partitions'} (group ${e.payload.groupId})`);
      });
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: this.o.topics.map((t) => t.topic), fromBeginning: true });
        if (this.closed) break;
        await consumer.run({
          autoCommit: true, // commits what was resolved, i.e. durable, after each batch
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: this.o.concurrency ?? 16,
          eachBatch: (p) => this.onBatch(p),
        });
        return;
      } catch (err) {
        await consumer.disconnect().catch(() => {});
        if (this.closed) return;
        const delay = backoff.next();
        console.error(`ingest: cannot consume ${this.what()} (${(err as Error).message}); retrying in ${delay} ms`);
        await sleep(delay);
      }
    }
  }

  private async onBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    const t = this.topics.get(batch.topic);
    if (t === undefined) return;
    const client = ingestClient(t.topic, batch.partition);
    const lagKey = `${batch.topic}/${batch.partition}`;
    const hw = BigInt(batch.highWatermark);
    const msgs = batch.messages;
    let i = 0;
    while (i < msgs.length) {
      if (this.closed || !p.isRunning() || p.isStale()) return;
      const ops: IngestOp[] = [];
      const skipped: Exclude<IngestResult, IngestOutcome>[] = [];
      let bytes = 0;
      let j = i;
      for (; j < msgs.length && ops.length < this.maxRoundRecords && bytes < this.maxRoundBytes; j++) {
        const op = this.toOp(t, client, msgs[j]);
        if (typeof op === 'string') {
          if (op === 'doc_too_large') this.metrics.records.inc({ topic: t.topic, result: op });
          else skipped.push(op);
          continue;
        }
        ops.push(op);
        bytes += op.patchText.length + op.docId.length + op.key.length;
      }
      if (skipped.length > 0) this.count(t.topic, skipped);
      if (ops.length > 0 && !(await this.appendRound(t, ops, bytes, p))) return;
      const lastMsg = msgs[j - 1];
      const ts = Number(lastMsg.timestamp);
      if (ops.length > 0 && ts > 0) this.metrics.age.observe(Math.max(0, Date.now() - ts) / 1000);
      const last = lastMsg.offset;
      p.resolveOffset(last);
      const lag = hw - BigInt(last) - 1n;
      this.lag.set(lagKey, lag < 0n ? 0n : lag);
      this.metrics.lag.set({ topic: t.topic, partition: String(batch.partition) }, Number(lag < 0n ? 0n : lag));
      i = j;
    }
  }

  private toOp(t: IngestTopic, client: string, m: KafkaMessage): IngestOp | Exclude<IngestResult, IngestOutcome> | 'doc_too_large' {
    const d = decodeRecord(t, m.key, m.value, this.o.maxDocBytes);
    if (typeof d === 'string') return d;
    // base: a seq at or past every seq the doc has now (its partition's applied position), so the
    // fold's dedupe horizon never takes a new op for an old one (doc-state.ts)
    const base = this.o.origin.materializer.position(this.o.origin.log.partitionOf(d.docId));
    return { docId: d.docId, patchText: d.patchText, replace: d.replace, key: formatSequencedKey(client, Number(m.offset) + 1, base) };
  }

  /** Appends one round until it is durable; false when the partition was taken away or the ingest closed. */
  private async appendRound(t: IngestTopic, ops: IngestOp[], bytes: number, p: EachBatchPayload): Promise<boolean> {
    const backoff = new Backoff({ initialMs: 250, maxMs: 10_000, jitter: 'none' });
    for (;;) {
      if (!(await this.room(ops.length, bytes, p))) return false;
      const round = this.o.origin.ingest(ops);
      this.rounds++;
      this.inflightBytes += bytes;
      this.metrics.inflight.inc(bytes);
      let durable = true;
      try {
        await round.durable;
      } catch (err) {
        durable = false;
        this.metrics.failures.inc();
        const now = Date.now();
        if (now - this.lastFailureLog > 1000) {
          this.lastFailureLog = now;
          console.error(`ingest: appending records of ${t.topic} failed (${(err as Error).message}); retrying the round`);
        }
      }
      void round.outcomes.then((outs) => {
        this.inflightBytes -= bytes;
        this.metrics.inflight.dec(bytes);
        // a failed round's outcomes are not final: its retry counts every record
        if (durable) this.count(t.topic, outs);
        const w = this.byteWaiters;
        this.byteWaiters = [];
        for (const r of w) r();
      });
      if (durable) return true;
      const until = Date.now() + backoff.next();
      while (Date.now() < until) {
        if (this.closed || !p.isRunning() || p.isStale()) return false;
        await sleep(Math.min(1000, until - Date.now()));
        await p.heartbeat().catch(() => {});
      }
    }
  }

  /** one counter increment per result present (a round's records mostly share one) */
  private count(topic: string, results: readonly IngestResult[]): void {
    let run = results[0];
    let n = 0;
    for (const r of results) {
      if (r === run) {
        n++;
        continue;
      }
      this.metrics.records.inc({ topic, result: run }, n);
      run = r;
      n = 1;
    }
    if (n > 0) this.metrics.records.inc({ topic, result: run }, n);
  }

  /** Waits for room under the origin's in-flight writes and the ingest's bytes, heartbeating. */
  private async room(n: number, bytes: number, p: EachBatchPayload): Promise<boolean> {
    let waited = false;
    for (;;) {
      if (this.closed || !p.isRunning() || p.isStale()) return false;
      const bytesFit = this.inflightBytes === 0 || this.inflightBytes + bytes <= this.maxInflightBytes;
      let wait: Promise<unknown>;
      if (!bytesFit) wait = new Promise<void>((r) => this.byteWaiters.push(r));
      else if (this.o.origin.hasWriteRoom(n)) return true;
      else wait = this.o.origin.writeRoom(n);
      if (!waited) {
        waited = true;
        this.metrics.waits.inc();
      }
      // heartbeat at least every 3 s while paused, so the group keeps the partition
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([wait, new Promise((r) => (timer = setTimeout(r, 3000)))]);
      clearTimeout(timer);
      await p.heartbeat().catch(() => {});
    }
  }

  /** lag of every partition consumed so far, summed (tests, stats) */
  totalLag(): bigint {
    let s = 0n;
    for (const l of this.lag.values()) s += l;
    return s;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.byteWaiters.splice(0)) w();
    await this.consumer?.disconnect().catch(() => {});
    await this.starting;
  }
}
