/**
 * The distributed StreamLog: one Kafka topic through kafkajs (key = docId, value = the encoded Op,
 * unchanged). Same contract as the file log (stream-log.ts); how each part maps onto Kafka:
 *
 * - Placement: `partitionOf` is murmur2 (Kafka's Java-compatible default partitioner) and every
 *   record is sent with its partition set explicitly, so placement never depends on client config.
 * - Append = group commit per partition: while a produce request of a partition is in flight, new
 *   appends queue and go out together in the next request (`acks: -1`). An append resolves with the
 *   offset Kafka assigned (baseOffset + index in the request) only after the acknowledgement. One
 *   request in flight per partition keeps the acknowledged order equal to the log order. Accepted
 *   appends (queued + in flight) are bounded by count and bytes; past the bound `append` rejects at
 *   once with `LogUnavailableError` (HTTP 503 + Retry-After). A failed request (kafkajs has already
 *   retried it) rejects each of its appends with `LogUnavailableError` carrying the broker error;
 *   the log stays usable. Callers may retry: a record that was written although its request failed
 *   becomes a duplicate, harmless because ops carry idempotency keys and materialization dedups.
 * - Tail: kafkajs has no manual assign(), so each tail is a consumer in a group of its own (unique
 *   groupId) whose partition assigner hands exactly the requested partitions to the single member.
 *   On every GROUP_JOIN each partition is seeked to the tail's own position (the next offset it has
 *   not received), never to a group offset: `autoCommit` is off, positions live in the caller's
 *   checkpoints. kafkajs is told not to restart a crashed consumer (e.g. a broker down for longer
 *   than its retries); the tail starts a new consumer in a new group after a backoff instead, since
 *   rejoining the old group would wait for the dead member's session to time out. Records below
 *   the log start (deleted by retention) are skipped with a warning. `eachBatch` only moves the
 *   fetched records into a per-partition queue that a delivery loop hands to the handler in offset
 *   order, awaiting each call (a slow partition does not block the others led by the same broker).
 *   When a partition's queue exceeds `tailBufferBytes` the partition is paused (fetches stop) and it
 *   is resumed when the queue is down to half: at most tailBufferBytes + one fetch per partition.
 * - read(): served from a bounded per-partition window of recent records seen by tails when it
 *   covers the range; otherwise by a fallback reader (a consumer as above with every partition
 *   assigned and paused; a read seeks and resumes one partition and takes one fetched batch). Its
 *   group join costs about 3 s (the broker's initial rebalance delay), so it is created on demand
 *   and kept until idle for `readerIdleMs`.
 * - endOffset(): the high watermark (ListOffsets, read_committed) through the admin client.
 *
 * Compression: kafkajs has only gzip built in; snappy, lz4 and zstd need codec packages registered
 * in kafkajs' CompressionCodecs, which this module does not do (so only 'none' | 'gzip').
 *
 * The mock cluster of the tests (librdkafka's) cannot serve the idempotent producer (it reports
 * controller id 0): tests open with `idempotent: false`. Idempotence is not relied on for
 * correctness either way.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { AssignerProtocol, CompressionTypes, Kafka, Partitioners, logLevel as KafkaLevel } from 'kafkajs';
import type {
  Admin,
  Consumer,
  EachBatchPayload,
  KafkaMessage,
  LogEntry,
  PartitionAssigner,
  Producer,
  RetryOptions,
} from 'kafkajs';
import { Counter, Gauge, Histogram, register } from 'prom-client';
import { LogUnavailableError } from './stream-log.js';
import type { AppendResult, BatchHandler, LogRecord, StreamLog, Tail, TailOptions } from './stream-log.js';
import { partitionForKey } from './murmur2.js';
import { AppendBudget, DEFAULT_TAIL_BATCH, MAX_BATCH_BYTES, RECORD_OVERHEAD } from './stream-log-base.js';

export type KafkaLogLevel = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

export interface KafkaLogOptions {
  /** bootstrap brokers, `host:port` */
  brokers: string[];
  topic: string;
  /** kafkajs client id, also the prefix of the tails' group ids (default 'replicant') */
  clientId?: string;
  /**
   * Expected partition count. When omitted it is read from the topic metadata; when given it must
   * match the topic (a different count would move documents to other partitions). The topic is
   * never auto-created by producing or fetching; see `createTopic`.
   */
  partitions?: number;
  /**
   * When the topic does not exist, create it through the admin API (CreateTopics) with these
   * partitions and replication factor (default min(3, brokers in the cluster)), then go on. Without
   * it, or when creation fails (no permission, no controller), open() fails with a message naming
   * the brokers and the topic. The origin sets it; readers (replicas) never create the topic.
   */
  createTopic?: { partitions: number; replicationFactor?: number };
  /** kafkajs idempotent producer (default true; needs a real cluster, the test mock lacks it) */
  idempotent?: boolean;
  /** 'none' (default) or 'gzip': kafkajs built-ins; snappy/lz4/zstd would need codec packages */
  compression?: 'none' | 'gzip';
  /** most appends accepted and not yet acknowledged or rejected (default 100 000); over it appends shed */
  maxInflightAppends?: number;
  /** most bytes accepted and not yet acknowledged or rejected (default 64 MiB); over it appends shed */
  maxInflightBytes?: number;
  /** extra wait before the first request of an idle partition, to batch more (default 0: one event-loop turn) */
  lingerMs?: number;
  /** TCP connect timeout per broker (kafkajs connectionTimeout; default 3000) */
  connectTimeoutMs?: number;
  /** kafkajs request timeout (default 30 000) */
  requestTimeoutMs?: number;
  /** kafkajs log level (default 'warn'); kafkajs lines are printed as `kafka <level> [namespace] message` */
  logLevel?: KafkaLogLevel;
  /**
   * kafkajs retry policy for the producer, consumers and admin (default: 5 retries from 300 ms,
   * at most 30 s in all). A produce request that still fails rejects its appends.
   */
  retry?: RetryOptions;
  /** largest accepted record value (default 1 000 000: under the broker's default message.max.bytes) */
  maxRecordBytes?: number;
  /** most record bytes in one produce request per partition (default 900 000; one record always fits) */
  maxRequestBytes?: number;
  /** recent records seen by tails kept per partition to serve read() (default 2 MiB) */
  recentBytesPerPartition?: number;
  /** fetched records queued per tail partition before it is paused (default 1 MiB) */
  tailBufferBytes?: number;
  /** longest fetch wait; also the resume latency of a paused partition (default 500) */
  fetchMaxWaitMs?: number;
  /** kafkajs maxBytesPerPartition of the tail consumers (default 1 MiB) */
  fetchMaxBytesPerPartition?: number;
  /** a fallback read that has no answer in this time rejects with LogUnavailableError (default 30 000) */
  readTimeoutMs?: number;
  /** the fallback reader disconnects after this long without reads (default 60 000) */
  readerIdleMs?: number;
  /** while not ready, `ready` starts a health probe at most this often (default 2000) */
  readyProbeIntervalMs?: number;
}

export interface KafkaLogStats {
  /** appends acknowledged */
  appends: number;
  /** produce requests sent (each carries one or more appends of one partition) */
  sends: number;
  sendErrors: number;
  /** appends rejected because a request failed */
  failedAppends: number;
  /** appends rejected at once (bound reached, closed) */
  shedAppends: number;
  pendingAppends: number;
  pendingBytes: number;
  /** times a tail partition was paused because its handler fell behind */
  tailPauses: number;
  /** largest number of bytes ever queued in one tail partition */
  maxTailQueuedBytes: number;
  /** read() calls answered from the recent window / by the fallback reader */
  windowReads: number;
  fallbackReads: number;
  /** tail / reader group joins (first joins and rejoins) */
  groupJoins: number;
}

/**
 * Observable moments, for tests and operations (`log.events.on(name, ...)`):
 * - `pause` (partition, queuedBytes) / `resume` (partition): a tail partition's fetching stopped
 *   because its handler fell behind / restarted
 * - `join` (kind: 'tail' | 'read'): a tail or the fallback reader (re)joined its group and seeked
 * - `fetch` (kind: 'tail' | 'read'): a consumer finished one fetch round with one broker
 * - `send-error` (partition, message): a produce request failed; its appends were rejected
 * - `crash` (kind: 'tail' | 'read', message): a consumer stopped on an error (a tail starts a new
 *   one, in a new group, after a backoff; the reader is dropped and recreated by the next read)
 * - `probe` (ok: boolean): a health probe finished
 */
export type KafkaLogEventName = 'pause' | 'resume' | 'join' | 'fetch' | 'send-error' | 'crash' | 'probe';

export interface KafkaLogHealth {
  ready: boolean;
  topic: string;
  brokers: string[];
  partitions: number;
  /** why it is not ready */
  error?: string;
}

// ---------------------------------------------------------------------------------------------
// metrics: prom-client default registry, created once per process and shared by every KafkaLog

function counter(name: string, help: string): Counter {
  return (register.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help });
}
function gauge(name: string, help: string): Gauge {
  return (register.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help });
}
function histogram(name: string, help: string, buckets: number[]): Histogram {
  return (register.getSingleMetric(name) as Histogram | undefined) ?? new Histogram({ name, help, buckets });
}

const mAppends = counter('replicant_kafka_appends_total', 'Appends acknowledged by Kafka (acks=-1)');
const mAppendsShed = counter(
  'replicant_kafka_appends_shed_total',
  'Appends rejected at once: in-flight bound reached or log closed',
);
const mAppendsFailed = counter('replicant_kafka_appends_failed_total', 'Appends rejected because their produce request failed');
const mSendErrors = counter('replicant_kafka_send_errors_total', 'Produce requests that failed after kafkajs retries');
const mBatchSize = histogram(
  'replicant_kafka_send_batch_size',
  'Appends carried by one produce request (group commit)',
  [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
);
const mSendLatency = histogram(
  'replicant_kafka_send_latency_seconds',
  'Produce request latency until acknowledged by all in-sync replicas',
  [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
);
const mInflight = gauge('replicant_kafka_inflight_appends', 'Appends accepted and not yet acknowledged or rejected');
const mTailPauses = counter('replicant_kafka_tail_pauses_total', 'Tail partitions paused because the handler fell behind');
const mReads = counter('replicant_kafka_fallback_reads_total', 'read() calls not covered by the recent window');

// ---------------------------------------------------------------------------------------------

const LEVELS: Record<KafkaLogLevel, KafkaLevel> = {
  nothing: KafkaLevel.NOTHING,
  error: KafkaLevel.ERROR,
  warn: KafkaLevel.WARN,
  info: KafkaLevel.INFO,
  debug: KafkaLevel.DEBUG,
};

/** One line per kafkajs log entry, naming the broker and error when kafkajs gives them. */
function kafkaLogCreator() {
  return ({ namespace, level, label, log }: LogEntry) => {
    const { message, broker, error, topic, groupId } = log as {
      message: string;
      broker?: string;
      error?: string;
      topic?: string;
      groupId?: string;
    };
    const extra = [
      broker && `broker=${broker}`,
      topic && `topic=${topic}`,
      groupId && `group=${groupId}`,
      error && error !== message && `error=${error}`,
    ]
      .filter(Boolean)
      .join(' ');
    // known and intended: retries are finite so that a failing request rejects its appends
    if (message.startsWith('Limiting retries for the idempotent producer')) return;
    const line = `kafka ${label.toLowerCase()} [${namespace}] ${message}${extra ? ` (${extra})` : ''}`;
    if (level <= KafkaLevel.ERROR) console.error(line);
    else if (level === KafkaLevel.WARN) console.warn(line);
    else console.log(line);
  };
}

/** Assigns exactly `partitions` of `topic` to the first member (a tail's group has only one). */
function explicitAssigner(topic: string, partitions: readonly number[]): PartitionAssigner {
  return () => ({
    name: 'ReplicantExplicit',
    version: 0,
    async assign({ members }) {
      const ids = members.map((m) => m.memberId).sort();
      return ids.map((memberId, i) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: i === 0 ? { [topic]: [...partitions] } : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: 'ReplicantExplicit',
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
      };
    },
  });
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error && cause.message !== err.message ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}

/** The record a kafkajs message stands for; the value is copied so it does not pin the fetch buffer. */
function toRecord(partition: number, m: KafkaMessage): LogRecord {
  return {
    partition,
    offset: BigInt(m.offset),
    key: m.key ? m.key.toString('utf8') : '',
    value: m.value ? new Uint8Array(m.value) : new Uint8Array(0),
  };
}

function recordSize(r: LogRecord): number {
  return RECORD_OVERHEAD + r.key.length + r.value.length;
}

/** kafkajs' Batch has the offset it was fetched from, but its types do not declare it. */
function fetchedOffset(batch: EachBatchPayload['batch']): bigint {
  return BigInt((batch as unknown as { fetchedOffset: string }).fetchedOffset);
}

interface Pending {
  readonly key: string;
  readonly value: Uint8Array;
  readonly size: number;
  readonly t0: number;
  resolve(r: AppendResult): void;
  reject(e: unknown): void;
}

interface SendPart {
  readonly id: number;
  queue: Pending[];
  active: boolean;
  done: Promise<void>;
}

/** Recent records of one partition: a run with no missing offsets in [start, end). */
interface Window {
  start: bigint;
  end: bigint;
  recs: LogRecord[];
  sizes: number[];
  head: number;
  bytes: number;
}

export class KafkaLog implements StreamLog {
  /** see KafkaLogEventName */
  readonly events = new EventEmitter();
  private readonly sendParts: SendPart[];
  private readonly windows: Window[];
  private readonly tails = new Set<KafkaTail>();
  private reader?: KafkaReader;
  private closed = false;
  private closing?: Promise<void>;
  /** partitions whose last produce request failed (cleared by a success or a successful health probe) */
  private readonly failing = new Map<number, string>();
  private probing = false;
  private lastProbe = 0;
  private readonly readyProbeIntervalMs: number;
  private readonly counts = {
    appends: 0,
    sends: 0,
    sendErrors: 0,
    failedAppends: 0,
    shedAppends: 0,
    tailPauses: 0,
    maxTailQueuedBytes: 0,
    windowReads: 0,
    fallbackReads: 0,
    groupJoins: 0,
  };

  readonly brokers: string[];
  readonly topic: string;
  readonly clientId: string;
  readonly tailBufferBytes: number;
  readonly recentBytesPerPartition: number;
  private readonly budget: AppendBudget;
  private readonly maxRequestBytes: number;
  private readonly lingerMs: number;
  private readonly compression: CompressionTypes;
  readonly fetchMaxWaitMs: number;
  readonly fetchMaxBytesPerPartition: number;
  readonly readTimeoutMs: number;
  readonly readerIdleMs: number;
  readonly retry: RetryOptions;
  readonly quiet: boolean;

  private constructor(
    readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly producer: Producer,
    readonly partitions: number,
    opts: KafkaLogOptions,
  ) {
    this.brokers = [...opts.brokers];
    this.topic = opts.topic;
    this.clientId = opts.clientId ?? 'replicant';
    this.budget = new AppendBudget(opts.maxInflightAppends ?? 100_000, opts.maxInflightBytes ?? 64 * 1024 * 1024, opts.maxRecordBytes ?? 1_000_000);
    this.maxRequestBytes = opts.maxRequestBytes ?? 900_000;
    this.lingerMs = opts.lingerMs ?? 0;
    this.compression = opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    this.recentBytesPerPartition = opts.recentBytesPerPartition ?? 2 * 1024 * 1024;
    this.tailBufferBytes = opts.tailBufferBytes ?? 1024 * 1024;
    this.fetchMaxWaitMs = opts.fetchMaxWaitMs ?? 500;
    this.fetchMaxBytesPerPartition = opts.fetchMaxBytesPerPartition ?? 1024 * 1024;
    this.readTimeoutMs = opts.readTimeoutMs ?? 30_000;
    this.readerIdleMs = opts.readerIdleMs ?? 60_000;
    this.readyProbeIntervalMs = opts.readyProbeIntervalMs ?? 2000;
    this.retry = KafkaLog.retryOf(opts);
    this.quiet = opts.logLevel === 'nothing';
    this.sendParts = Array.from({ length: partitions }, (_, id) => ({
      id,
      queue: [],
      active: false,
      done: Promise.resolve(),
    }));
    this.windows = Array.from({ length: partitions }, () => ({
      start: 0n,
      end: 0n,
      recs: [],
      sizes: [],
      head: 0,
      bytes: 0,
    }));
  }

  private static retryOf(opts: KafkaLogOptions): RetryOptions {
    return opts.retry ?? { retries: 5, initialRetryTime: 300, maxRetryTime: 30_000 };
  }

  /**
   * Connects to the cluster and checks the topic. Throws (naming the brokers and the topic) when the
   * brokers cannot be reached, the topic does not exist, or its partition count is not `partitions`.
   */
  static async open(opts: KafkaLogOptions): Promise<KafkaLog> {
    if (!Array.isArray(opts.brokers) || opts.brokers.length === 0) throw new RangeError('kafka: brokers must not be empty');
    if (!opts.topic) throw new RangeError('kafka: topic must not be empty');
    if (opts.partitions !== undefined && (!Number.isInteger(opts.partitions) || opts.partitions < 1)) {
      throw new RangeError('kafka: partitions must be a positive integer');
    }
    const where = `brokers ${opts.brokers.join(',')}, topic "${opts.topic}"`;
    const retry = KafkaLog.retryOf(opts);
    const kafka = new Kafka({
      clientId: opts.clientId ?? 'replicant',
      brokers: opts.brokers,
      connectionTimeout: opts.connectTimeoutMs ?? 3000,
      requestTimeout: opts.requestTimeoutMs ?? 30_000,
      retry,
      logLevel: LEVELS[opts.logLevel ?? 'warn'],
      logCreator: kafkaLogCreator,
    });
    const admin = kafka.admin({ retry });
    const idempotent = opts.idempotent ?? true;
    const producer = kafka.producer({
      idempotent,
      allowAutoTopicCreation: false,
      // records always carry their partition; the partitioner is never consulted
      createPartitioner: Partitioners.DefaultPartitioner,
      // finite retries even when idempotent (kafkajs would default to retrying forever): a request
      // that keeps failing must reject its appends. At most one request per partition is in flight
      // (see append), which keeps the per-partition order with or without idempotence.
      retry: idempotent ? { ...retry, retries: Math.max(1, retry.retries ?? 5) } : retry,
    });
    let partitions: number;
    try {
      try {
        await admin.connect();
      } catch (err) {
        throw new Error(`kafka: cannot reach ${where}: ${errorMessage(err)}`);
      }
      let topics: string[];
      try {
        topics = await admin.listTopics();
      } catch (err) {
        throw new Error(`kafka: cannot read the metadata of ${where}: ${errorMessage(err)}`);
      }
      if (!topics.includes(opts.topic)) {
        if (!opts.createTopic) {
          throw new Error(
            `kafka: topic "${opts.topic}" does not exist on brokers ${opts.brokers.join(',')}: create it first ` +
              '(its partition count fixes where documents live; it is never auto-created)',
          );
        }
        await KafkaLog.createTopic(admin, opts, opts.createTopic);
      }
      const meta = await admin.fetchTopicMetadata({ topics: [opts.topic] });
      partitions = meta.topics.find((t) => t.name === opts.topic)?.partitions.length ?? 0;
      if (partitions < 1) throw new Error(`kafka: topic "${opts.topic}" has no partitions`);
      if (opts.partitions !== undefined && opts.partitions !== partitions) {
        throw new Error(
          `kafka: topic "${opts.topic}" has ${partitions} partitions but the log was opened with ${opts.partitions}: ` +
            'a different count would move documents to other partitions',
        );
      }
      try {
        await producer.connect();
      } catch (err) {
        throw new Error(`kafka: producer cannot connect to ${where}: ${errorMessage(err)}`);
      }
    } catch (err) {
      await producer.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
      throw err;
    }
    return new KafkaLog(kafka, admin, producer, partitions, opts);
  }

  /** CreateTopics for open(): replication factor min(3, brokers) unless given; a clear error otherwise. */
  private static async createTopic(
    admin: Admin,
    opts: KafkaLogOptions,
    spec: { partitions: number; replicationFactor?: number },
  ): Promise<void> {
    if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
      throw new RangeError('kafka: createTopic.partitions must be a positive integer');
    }
    let replicationFactor = spec.replicationFactor;
    let what = `${spec.partitions} partitions`;
    try {
      replicationFactor ??= Math.min(3, (await admin.describeCluster()).brokers.length);
      what += `, replication factor ${replicationFactor}`;
      await admin.createTopics({
        topics: [{ topic: opts.topic, numPartitions: spec.partitions, replicationFactor }],
        waitForLeaders: true,
      });
    } catch (err) {
      const e = err as { type?: string };
      // created meanwhile by another process: fine, the metadata check below reads its count
      if (e?.type === 'TOPIC_ALREADY_EXISTS') return;
      throw new Error(
        `kafka: topic "${opts.topic}" does not exist on brokers ${opts.brokers.join(',')} and creating it ` +
          `(${what}) failed: ${errorMessage(err)}; create the topic, or allow this client CreateTopics`,
      );
    }
    if (opts.logLevel !== 'nothing') {
      console.warn(`kafka log: created topic "${opts.topic}" (${what}) on brokers ${opts.brokers.join(',')}`);
    }
  }

  partitionOf(docId: string): number {
    return partitionForKey(docId, this.partitions);
  }

  stats(): KafkaLogStats {
    return { ...this.counts, pendingAppends: this.budget.appends, pendingBytes: this.budget.bytes };
  }

  /**
   * Cheap readiness for /readyz: open, and the last produce request of every partition (or the last
   * health probe) succeeded. While not ready, reading it starts a background health probe (at most
   * one per `readyProbeIntervalMs`), so readiness comes back even when no writes arrive to prove it.
   */
  get ready(): boolean {
    if (this.closed) return false;
    if (this.failing.size > 0 && !this.probing && Date.now() - this.lastProbe >= this.readyProbeIntervalMs) {
      this.probing = true;
      this.lastProbe = Date.now();
      void this.health().finally(() => (this.probing = false));
    }
    return this.failing.size === 0;
  }

  /**
   * Readiness probe for /readyz: asks the leaders of every partition for their offsets (bounded by
   * `timeoutMs`). A success also clears the failure left by a failed produce request.
   */
  async health(timeoutMs = 2000): Promise<KafkaLogHealth> {
    const base = { topic: this.topic, brokers: this.brokers, partitions: this.partitions };
    if (this.closed) return { ...base, ready: false, error: 'closed' };
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.admin.fetchTopicOffsets(this.topic),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      this.failing.clear();
      this.events.emit('probe', true);
      return { ...base, ready: true };
    } catch (err) {
      this.events.emit('probe', false);
      return {
        ...base,
        ready: false,
        error: `topic "${this.topic}" on brokers ${this.brokers.join(',')} unreachable: ${errorMessage(err)}`,
      };
    } finally {
      clearTimeout(timer);
    }
  }

  // ------------------------------------------------------------------------------------------
  // append

  append(docId: string, value: Uint8Array): Promise<AppendResult> {
    if (this.closed) return this.shed('stream log is closed');
    const admitted = this.budget.admit(docId, value);
    if (admitted instanceof RangeError) return Promise.reject(admitted);
    if (admitted === 'full') return this.shed('kafka in-flight append bound reached');
    const { size } = admitted;
    mInflight.inc();
    const part = this.sendParts[this.partitionOf(docId)];
    return new Promise<AppendResult>((resolve, reject) => {
      part.queue.push({ key: docId, value, size, t0: performance.now(), resolve, reject });
      if (!part.active) {
        part.active = true;
        part.done = this.sendLoop(part);
      }
    });
  }

  private shed(message: string): Promise<never> {
    this.counts.shedAppends++;
    mAppendsShed.inc();
    return Promise.reject(new LogUnavailableError(message));
  }

  /** Group commit: each request takes what queued while the previous one was in flight. */
  private async sendLoop(part: SendPart): Promise<void> {
    try {
      if (this.lingerMs > 0) await new Promise((r) => setTimeout(r, this.lingerMs));
      else await new Promise((r) => setImmediate(r));
      while (part.queue.length > 0) {
        let n = 0;
        let bytes = 0;
        while (n < part.queue.length && (n === 0 || bytes + part.queue[n].size <= this.maxRequestBytes)) {
          bytes += part.queue[n].size;
          n++;
        }
        const batch = part.queue.splice(0, n);
        await this.send(part.id, batch, bytes);
      }
    } finally {
      // synchronous with the empty-queue check above: an append after this point starts a new loop
      part.active = false;
    }
  }

  private async send(partition: number, batch: Pending[], bytes: number): Promise<void> {
    const t0 = performance.now();
    this.counts.sends++;
    let base: bigint;
    try {
      const meta = await this.producer.send({
        topic: this.topic,
        acks: -1,
        compression: this.compression,
        messages: batch.map((r) => ({
          key: r.key,
          value: Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength),
          partition,
        })),
      });
      const m = meta.find((x) => x.partition === partition);
      if (!m || m.errorCode !== 0 || m.baseOffset === undefined) {
        throw new Error(`unexpected produce response ${JSON.stringify(meta)}`);
      }
      base = BigInt(m.baseOffset);
    } catch (err) {
      this.release(batch.length, bytes);
      this.counts.sendErrors++;
      this.counts.failedAppends += batch.length;
      mSendErrors.inc();
      mAppendsFailed.inc(batch.length);
      const message = errorMessage(err);
      if (!this.failing.has(partition) && !this.quiet) {
        console.error(
          `kafka log: appends to topic "${this.topic}" partition ${partition} failing (brokers ${this.brokers.join(',')}): ${message}`,
        );
      }
      this.failing.set(partition, message);
      this.events.emit('send-error', partition, message);
      const e = new LogUnavailableError(`kafka append to ${this.topic}[${partition}] failed: ${message}`, 2);
      for (const r of batch) r.reject(e);
      return;
    }
    const now = performance.now();
    this.release(batch.length, bytes);
    if (this.failing.delete(partition) && !this.quiet) {
      console.warn(`kafka log: appends to topic "${this.topic}" partition ${partition} succeed again`);
    }
    this.counts.appends += batch.length;
    mAppends.inc(batch.length);
    mBatchSize.observe(batch.length);
    mSendLatency.observe((now - t0) / 1000);
    for (let i = 0; i < batch.length; i++) batch[i].resolve({ partition, offset: base + BigInt(i) });
  }

  private release(count: number, bytes: number): void {
    this.budget.release(count, bytes);
    mInflight.dec(count);
  }

  // ------------------------------------------------------------------------------------------
  // offsets, window, read

  private checkPartition(partition: number): void {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitions) {
      throw new RangeError(`partition ${partition} out of range [0, ${this.partitions})`);
    }
  }

  /** Log start (`low`) and high watermark (`high`) of every partition, through the admin client. */
  async offsets(): Promise<{ low: bigint[]; high: bigint[] }> {
    let offsets: { partition: number; low: string; high: string }[];
    try {
      offsets = await this.admin.fetchTopicOffsets(this.topic);
    } catch (err) {
      throw new LogUnavailableError(
        `kafka: cannot read the offsets of topic "${this.topic}" (brokers ${this.brokers.join(',')}): ${errorMessage(err)}`,
      );
    }
    const low = new Array<bigint>(this.partitions).fill(0n);
    const high = new Array<bigint>(this.partitions).fill(0n);
    for (const o of offsets) {
      if (o.partition >= this.partitions) continue;
      low[o.partition] = BigInt(o.low);
      high[o.partition] = BigInt(o.high);
    }
    return { low, high };
  }

  /** High watermarks of every partition. */
  async endOffsets(): Promise<bigint[]> {
    return (await this.offsets()).high;
  }

  async endOffset(partition: number): Promise<bigint> {
    this.checkPartition(partition);
    return (await this.endOffsets())[partition];
  }

  /** Adds records a tail received from a fetch at `coveredFrom` (no record in [coveredFrom, first) exists). */
  rememberFetched(partition: number, coveredFrom: bigint, recs: readonly LogRecord[], sizes: readonly number[]): void {
    const w = this.windows[partition];
    if (w.head === w.recs.length || coveredFrom > w.end) {
      // empty, or a run that does not continue the window: start over at what this fetch covers
      w.recs = [];
      w.sizes = [];
      w.head = 0;
      w.bytes = 0;
      w.start = w.end = coveredFrom;
    }
    for (let i = 0; i < recs.length; i++) {
      const r = recs[i];
      if (r.offset < w.end) continue;
      w.recs.push(r);
      w.sizes.push(sizes[i]);
      w.bytes += sizes[i];
      w.end = r.offset + 1n;
    }
    while (w.bytes > this.recentBytesPerPartition && w.head < w.recs.length) {
      w.bytes -= w.sizes[w.head];
      w.start = w.recs[w.head].offset + 1n;
      w.head++;
    }
    if (w.head > 1024 && w.head * 2 > w.recs.length) {
      w.recs = w.recs.slice(w.head);
      w.sizes = w.sizes.slice(w.head);
      w.head = 0;
    }
  }

  /** the range of offsets the recent window of a partition answers for (tests, operations) */
  windowRange(partition: number): { start: bigint; end: bigint; bytes: number } {
    this.checkPartition(partition);
    const w = this.windows[partition];
    return { start: w.start, end: w.end, bytes: w.bytes };
  }

  async read(partition: number, fromOffset: bigint, maxRecords: number): Promise<LogRecord[]> {
    this.checkPartition(partition);
    if (maxRecords <= 0) return [];
    const from = fromOffset < 0n ? 0n : fromOffset;
    const w = this.windows[partition];
    if (w.head < w.recs.length && from >= w.start && from < w.end) {
      this.counts.windowReads++;
      // first record at or after `from`
      let lo = w.head;
      let hi = w.recs.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (w.recs[mid].offset < from) lo = mid + 1;
        else hi = mid;
      }
      const out: LogRecord[] = [];
      let bytes = 0;
      for (let j = lo; j < w.recs.length && out.length < maxRecords && bytes < MAX_BATCH_BYTES; j++) {
        out.push(w.recs[j]);
        bytes += w.sizes[j];
      }
      return out;
    }
    if (this.closed) throw new LogUnavailableError('stream log is closed');
    const { low, high } = await this.offsets();
    if (from >= high[partition]) return [];
    this.counts.fallbackReads++;
    mReads.inc();
    this.reader ??= new KafkaReader(this, (r) => {
      if (this.reader === r) this.reader = undefined;
    });
    // records below the log start were deleted by retention: the first record >= from is at low or later
    return this.reader.read(partition, from < low[partition] ? low[partition] : from, maxRecords);
  }

  // ------------------------------------------------------------------------------------------
  // tail

  async tail(handler: BatchHandler, opts: TailOptions = {}): Promise<Tail> {
    if (this.closed) throw new LogUnavailableError('stream log is closed');
    const ids = [...new Set(opts.partitions ?? Array.from({ length: this.partitions }, (_, i) => i))];
    for (const p of ids) this.checkPartition(p);
    const starts = new Map<number, bigint>();
    const { low, high } = await this.offsets();
    for (const p of ids) {
      let f = opts.from ? opts.from(p) : high[p];
      if (f < low[p]) {
        if (f > 0n && !this.quiet) {
          console.warn(`kafka log: topic "${this.topic}" partition ${p} starts at ${low[p]} (retention): tail from ${f} skips to it`);
        }
        f = low[p];
      }
      starts.set(p, f);
    }
    const t = new KafkaTail(this, handler, starts, {
      maxBatch: Math.max(1, opts.maxBatchRecords ?? DEFAULT_TAIL_BATCH),
      onError: opts.onError ?? ((err: unknown, p: number) => console.error(`stream log tail, partition ${p}:`, err)),
    });
    this.tails.add(t);
    try {
      await t.start();
    } catch (err) {
      this.tails.delete(t);
      await t.close();
      throw new LogUnavailableError(
        `kafka: cannot start a tail of topic "${this.topic}" (brokers ${this.brokers.join(',')}): ${errorMessage(err)}`,
      );
    }
    return {
      close: async () => {
        this.tails.delete(t);
        await t.close();
      },
    };
  }

  /** for KafkaTail / KafkaReader */
  noteJoin(kind: 'tail' | 'read'): void {
    this.counts.groupJoins++;
    this.events.emit('join', kind);
  }
  notePause(partition: number, queuedBytes: number): void {
    this.counts.tailPauses++;
    mTailPauses.inc();
    this.noteQueued(queuedBytes);
    this.events.emit('pause', partition, queuedBytes);
  }
  noteQueued(queuedBytes: number): void {
    if (queuedBytes > this.counts.maxTailQueuedBytes) this.counts.maxTailQueuedBytes = queuedBytes;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      // appends already accepted still go out (their callers are waiting)
      await Promise.all(this.sendParts.map((p) => p.done));
      await Promise.all([...this.tails].map((t) => t.close()));
      this.tails.clear();
      await this.reader?.close();
      this.reader = undefined;
      await this.producer.disconnect().catch(() => {});
      await this.admin.disconnect().catch(() => {});
    })();
    return this.closing;
  }
}

// ---------------------------------------------------------------------------------------------

interface TailPart {
  readonly id: number;
  /** next offset to accept from Kafka (everything before it is queued or delivered) */
  next: bigint;
  /** fetched and not yet delivered, in offset order, from `head` */
  queue: LogRecord[];
  sizes: number[];
  head: number;
  queuedBytes: number;
  paused: boolean;
  wake?: () => void;
}

/** One tail: a consumer group of its own, with per-partition bounded queues and delivery loops. */
class KafkaTail {
  closed = false;
  private consumer?: Consumer;
  private readonly parts = new Map<number, TailPart>();
  private loops: Promise<void>[] = [];
  private restartTimer?: NodeJS.Timeout;
  private starting?: Promise<void>;
  /** consecutive failed starts (restart backoff) */
  private failures = 0;
  private readonly waits = new Set<() => void>();

  constructor(
    private readonly log: KafkaLog,
    private readonly handler: BatchHandler,
    starts: Map<number, bigint>,
    private readonly opts: { maxBatch: number; onError: (err: unknown, partition: number) => void },
  ) {
    for (const [id, next] of starts) {
      this.parts.set(id, { id, next, queue: [], sizes: [], head: 0, queuedBytes: 0, paused: false });
    }
  }

  async start(): Promise<void> {
    this.loops = [...this.parts.values()].map((tp) => this.deliver(tp));
    await this.startConsumer();
  }

  /**
   * A consumer in a group of its own. kafkajs is told never to restart it: after a crash a new
   * consumer in a new group takes over (rejoining the old group would wait for the crashed member's
   * session to expire), seeking every partition to the tail's position.
   */
  private startConsumer(): Promise<void> {
    const log = this.log;
    const ids = [...this.parts.keys()];
    const consumer = log.kafka.consumer({
      groupId: `${log.clientId}.tail.${randomUUID()}`,
      partitionAssigners: [explicitAssigner(log.topic, ids)],
      maxWaitTimeInMs: log.fetchMaxWaitMs,
      maxBytesPerPartition: log.fetchMaxBytesPerPartition,
      allowAutoTopicCreation: false,
      retry: { ...log.retry, restartOnFailure: async () => false },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (this.consumer !== consumer || this.closed) return;
      this.failures = 0;
      log.noteJoin('tail');
      // positions are ours, never the group's: seek every partition, and re-apply pauses
      for (const tp of this.parts.values()) {
        try {
          consumer.seek({ topic: log.topic, partition: tp.id, offset: tp.next.toString() });
          if (tp.paused) consumer.pause([{ topic: log.topic, partitions: [tp.id] }]);
        } catch (err) {
          this.opts.onError(err, tp.id);
        }
      }
    });
    consumer.on(consumer.events.FETCH, () => log.events.emit('fetch', 'tail'));
    consumer.on(consumer.events.CRASH, (e) => {
      if (this.consumer !== consumer || this.closed) return;
      this.consumer = undefined; // kafkajs has disconnected it
      const message = errorMessage(e.payload.error);
      log.events.emit('crash', 'tail', message);
      if (!log.quiet) {
        console.warn(
          `kafka log: tail of topic "${log.topic}" partitions ${ids.join(',')} stopped (brokers ${log.brokers.join(',')}): ` +
            `${message}; starting a new consumer`,
        );
      }
      const err = new LogUnavailableError(`kafka tail stopped: ${message}; a new consumer resumes from the tail's position`);
      for (const id of ids) this.opts.onError(err, id);
      this.scheduleRestart();
    });
    const run = (async () => {
      try {
        await consumer.connect();
        if (this.consumer === consumer) await consumer.subscribe({ topics: [log.topic], fromBeginning: true });
        if (this.consumer === consumer) {
          await consumer.run({
            autoCommit: false,
            eachBatchAutoResolve: false,
            eachBatch: (payload) => this.onBatch(consumer, payload),
          });
        }
        if (this.consumer !== consumer && this.closed) await consumer.disconnect().catch(() => {});
      } catch (err) {
        if (this.consumer === consumer) this.consumer = undefined;
        await consumer.disconnect().catch(() => {});
        throw err;
      }
    })();
    this.starting = run.catch(() => {});
    return run;
  }

  private scheduleRestart(): void {
    if (this.closed) return;
    const delay = Math.min(250 * 2 ** this.failures++, 10_000);
    this.restartTimer = setTimeout(() => {
      if (this.closed) return;
      this.startConsumer().catch((err) => {
        if (this.closed) return;
        for (const id of this.parts.keys()) this.opts.onError(err, id);
        this.scheduleRestart();
      });
    }, delay);
  }

  /** Moves a fetched batch into the partition's queue; pauses the partition past the bound. */
  private async onBatch(consumer: Consumer, { batch, resolveOffset }: EachBatchPayload): Promise<void> {
    const tp = this.parts.get(batch.partition);
    if (!tp || this.closed || consumer !== this.consumer) return;
    const log = this.log;
    const fetched = fetchedOffset(batch);
    if (fetched > tp.next) {
      // kafkajs fetches from our position; a later fetch offset means the position was out of
      // range and kafkajs reset it to the log start: the records in between were deleted by retention
      if (!log.quiet) {
        console.warn(
          `kafka log: topic "${log.topic}" partition ${tp.id}: offsets ${tp.next}..${fetched - 1n} were deleted ` +
            '(retention) before this tail read them; skipping to the log start',
        );
      }
      tp.next = fetched;
    }
    const coveredFrom = tp.next;
    const recs: LogRecord[] = [];
    const sizes: number[] = [];
    let bytes = 0;
    for (const m of batch.messages) {
      const r = toRecord(tp.id, m);
      if (r.offset < tp.next) continue;
      const size = recordSize(r);
      recs.push(r);
      sizes.push(size);
      bytes += size;
      tp.next = r.offset + 1n;
    }
    if (tp.next > 0n) resolveOffset((tp.next - 1n).toString()); // kafkajs fetches from tp.next next
    if (recs.length === 0) return;
    log.rememberFetched(tp.id, coveredFrom, recs, sizes);
    for (let i = 0; i < recs.length; i++) {
      tp.queue.push(recs[i]);
      tp.sizes.push(sizes[i]);
    }
    tp.queuedBytes += bytes;
    log.noteQueued(tp.queuedBytes);
    if (!tp.paused && tp.queuedBytes > log.tailBufferBytes) {
      tp.paused = true;
      log.notePause(tp.id, tp.queuedBytes);
      try {
        consumer.pause([{ topic: log.topic, partitions: [tp.id] }]);
      } catch {
        // not running (restarting): GROUP_JOIN applies the pause
      }
    }
    tp.wake?.();
  }

  private resume(tp: TailPart): void {
    tp.paused = false;
    this.log.events.emit('resume', tp.id);
    try {
      this.consumer?.resume([{ topic: this.log.topic, partitions: [tp.id] }]);
    } catch {
      // not running (restarting): a new consumer starts unpaused
    }
  }

  /** Hands queued records to the handler in offset order, one call at a time (backpressure). */
  private async deliver(tp: TailPart): Promise<void> {
    let backoff = 0;
    while (!this.closed) {
      if (tp.head >= tp.queue.length) {
        if (tp.paused) this.resume(tp);
        await this.wait((w) => {
          tp.wake = w;
          return () => {
            if (tp.wake === w) tp.wake = undefined;
          };
        });
        continue;
      }
      let end = tp.head;
      let bytes = 0;
      while (end < tp.queue.length && end - tp.head < this.opts.maxBatch && (end === tp.head || bytes < MAX_BATCH_BYTES)) {
        bytes += tp.sizes[end];
        end++;
      }
      const recs = tp.queue.slice(tp.head, end);
      try {
        // the handler's promise is the backpressure: nothing more is delivered until it settles
        await this.handler(tp.id, recs);
        backoff = 0;
      } catch (err) {
        if (this.closed) break;
        this.opts.onError(err, tp.id);
        backoff = Math.min(backoff === 0 ? 50 : backoff * 2, 1000);
        await this.wait((w) => {
          const timer = setTimeout(w, backoff);
          return () => clearTimeout(timer);
        });
        continue; // the same batch again (at-least-once)
      }
      tp.head = end;
      tp.queuedBytes -= bytes;
      if (tp.head === tp.queue.length) {
        tp.queue = [];
        tp.sizes = [];
        tp.head = 0;
      } else if (tp.head > 1024 && tp.head * 2 > tp.queue.length) {
        tp.queue = tp.queue.slice(tp.head);
        tp.sizes = tp.sizes.slice(tp.head);
        tp.head = 0;
      }
      if (tp.paused && tp.queuedBytes <= this.log.tailBufferBytes / 2) this.resume(tp);
    }
  }

  /** Waits until `arm`'s wake-up fires or the tail closes; the disarm function always runs. */
  private wait(arm: (wake: () => void) => () => void): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const armed: { disarm?: () => void; woken?: boolean } = {};
      const wake = () => {
        if (armed.woken) return;
        armed.woken = true;
        this.waits.delete(wake);
        armed.disarm?.();
        resolve();
      };
      this.waits.add(wake);
      armed.disarm = arm(wake);
      if (armed.woken) armed.disarm();
    });
  }

  /** Bytes queued per partition (tests). */
  queued(): Map<number, number> {
    return new Map([...this.parts.values()].map((tp) => [tp.id, tp.queuedBytes]));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    for (const w of [...this.waits]) w();
    const consumer = this.consumer;
    this.consumer = undefined;
    await Promise.all([consumer?.disconnect().catch(() => {}), this.starting, ...this.loops]);
  }
}

// ---------------------------------------------------------------------------------------------

interface ReadRequest {
  from: bigint;
  max: number;
  resolve(recs: LogRecord[]): void;
  reject(err: unknown): void;
}

/**
 * The fallback reader of read(): one consumer with every partition assigned and paused; a read
 * seeks one partition, resumes it, takes the first batch fetched from there and pauses it again.
 * Reads of one partition are serialized; reads of different partitions run concurrently.
 */
class KafkaReader {
  private consumer?: Consumer;
  private started?: Promise<void>;
  private readonly busy = new Map<number, ReadRequest>();
  private readonly locks = new Map<number, Promise<void>>();
  private active = 0;
  private idleTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly log: KafkaLog,
    private readonly onClosed: (r: KafkaReader) => void,
  ) {}

  private start(): Promise<void> {
    this.started ??= (async () => {
      const log = this.log;
      const all = Array.from({ length: log.partitions }, (_, i) => i);
      const consumer = log.kafka.consumer({
        groupId: `${log.clientId}.read.${randomUUID()}`,
        partitionAssigners: [explicitAssigner(log.topic, all)],
        maxWaitTimeInMs: Math.min(log.fetchMaxWaitMs, 100),
        maxBytesPerPartition: log.fetchMaxBytesPerPartition,
        allowAutoTopicCreation: false,
        retry: { ...log.retry, restartOnFailure: async () => false },
      });
      this.consumer = consumer;
      consumer.on(consumer.events.GROUP_JOIN, () => {
        if (this.consumer !== consumer) return;
        log.noteJoin('read');
        const idle = all.filter((p) => !this.busy.has(p));
        if (idle.length > 0) consumer.pause([{ topic: log.topic, partitions: idle }]);
        for (const [p, req] of this.busy) {
          consumer.seek({ topic: log.topic, partition: p, offset: req.from.toString() });
          consumer.resume([{ topic: log.topic, partitions: [p] }]);
        }
      });
      consumer.on(consumer.events.FETCH, () => log.events.emit('fetch', 'read'));
      consumer.on(consumer.events.CRASH, (e) => {
        if (this.consumer !== consumer) return;
        const message = errorMessage(e.payload.error);
        log.events.emit('crash', 'read', message);
        // dropped: its reads fail now (callers retry) and the next read starts a new reader
        void this.close(`kafka: reader of topic "${log.topic}" stopped: ${message}`);
      });
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: [log.topic], fromBeginning: true });
      } catch (err) {
        this.consumer = undefined;
        await consumer.disconnect().catch(() => {});
        throw err;
      }
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset }) => {
          const p = batch.partition;
          const req = this.busy.get(p);
          if (!req) {
            this.pause(p);
            return;
          }
          // a batch fetched from after `from` cannot prove that nothing in between exists
          if (fetchedOffset(batch) > req.from) return;
          const out: LogRecord[] = [];
          let bytes = 0;
          for (const m of batch.messages) {
            if (out.length >= req.max || bytes >= MAX_BATCH_BYTES) break;
            const r = toRecord(p, m);
            if (r.offset < req.from) continue;
            out.push(r);
            bytes += recordSize(r);
          }
          if (out.length === 0) {
            resolveOffset(batch.lastOffset()); // only records before `from` (compacted batch start): go on
            return;
          }
          this.busy.delete(p);
          this.pause(p);
          req.resolve(out);
        },
      });
    })();
    return this.started;
  }

  private pause(p: number): void {
    try {
      this.consumer?.pause([{ topic: this.log.topic, partitions: [p] }]);
    } catch {
      // not running: GROUP_JOIN pauses every idle partition
    }
  }

  async read(partition: number, from: bigint, max: number): Promise<LogRecord[]> {
    this.active++;
    clearTimeout(this.idleTimer);
    const prev = this.locks.get(partition) ?? Promise.resolve();
    let unlock!: () => void;
    const mine = new Promise<void>((r) => (unlock = r));
    const chain = prev.then(() => mine);
    this.locks.set(partition, chain);
    await prev;
    let timer: NodeJS.Timeout | undefined;
    try {
      const log = this.log;
      if (this.closed) throw new LogUnavailableError(`kafka: the reader of topic "${log.topic}" stopped; retry the read`);
      const result = new Promise<LogRecord[]>((resolve, reject) => {
        timer = setTimeout(() => {
          this.busy.delete(partition);
          this.pause(partition);
          reject(
            new LogUnavailableError(
              `kafka: read of topic "${log.topic}" partition ${partition} from offset ${from} had no answer within ` +
                `${log.readTimeoutMs} ms (brokers ${log.brokers.join(',')})`,
            ),
          );
        }, log.readTimeoutMs);
        this.busy.set(partition, { from, max, resolve, reject });
      });
      const started = this.start().catch((err) => {
        this.started = undefined;
        throw new LogUnavailableError(`kafka: cannot start a reader of topic "${log.topic}": ${errorMessage(err)}`);
      });
      await Promise.race([started, result]);
      if (this.busy.has(partition)) {
        try {
          this.consumer!.seek({ topic: log.topic, partition, offset: from.toString() });
          this.consumer!.resume([{ topic: log.topic, partitions: [partition] }]);
        } catch {
          // restarting: GROUP_JOIN seeks and resumes the busy partitions
        }
      }
      return await result;
    } finally {
      clearTimeout(timer);
      this.busy.delete(partition);
      unlock();
      if (this.locks.get(partition) === chain) this.locks.delete(partition);
      if (--this.active === 0 && !this.closed) {
        this.idleTimer = setTimeout(() => void this.close(), this.log.readerIdleMs);
        this.idleTimer.unref();
      }
    }
  }

  async close(reason = 'stream log is closed'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    this.onClosed(this);
    const closedErr = new LogUnavailableError(reason);
    for (const req of this.busy.values()) req.reject(closedErr);
    this.busy.clear();
    await this.started?.catch(() => {});
    await this.consumer?.disconnect().catch(() => {});
  }
}
