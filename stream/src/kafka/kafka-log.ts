/**
 * The distributed StreamLog: one Kafka topic through kafkajs (key = docId, value = the encoded Op,
 * unchanged). Same contract as the file log (stream-log.ts). This module opens the log (topic
 * check, optional creation, partition count), answers offsets, health and read(), and owns the
 * parts, one concept per file:
 *
 * - producer.ts: append = group commit per partition (`acks: -1`), bounded in-flight appends.
 * - tail.ts: each tail a consumer of its own with bounded per-partition queues (pause/resume).
 * - reader.ts: the fallback reader for catch-up reads the recent window does not cover.
 * - assigner.ts: the assigner that gives a one-member group exactly the partitions it asked for.
 * - client.ts: kafkajs glue (log lines, errors, message -> LogRecord).
 *
 * Placement: `partitionOf` is murmur2 (Kafka's Java-compatible default partitioner) and every
 * record is sent with its partition set explicitly, so placement never depends on client config.
 * read() is served from a bounded per-partition window of recent records seen by tails
 * (RecentWindow, shared with the file log) when it covers the range, else by the fallback reader.
 * endOffset(p) is the high watermark of p, one ListOffsets to p's leader (offsets.ts: what it
 * guarantees across leader changes); offsets() asks every partition through the admin client.
 *
 * Compression: kafkajs has only gzip built in; snappy, lz4 and zstd need codec packages registered
 * in kafkajs' CompressionCodecs, which this module does not do (so only 'none' | 'gzip').
 *
 * The idempotent producer is on by default (the tests run it against real brokers); ordering and
 * exactly-once application do not depend on it: one request in flight per partition keeps the
 * order, and ops carry idempotency keys that materialization dedups.
 *
 * A stalled broker (SIGSTOP, long GC pause): kafkajs does not refresh its metadata after a request
 * timeout, only after connection errors, so requests to a stalled leader fail after
 * `requestTimeoutMs` x retries (appends answer 503) and succeed again once the broker answers or
 * is restarted; a broker that crashed (connection refused/reset) is failed over at once.
 */
import { EventEmitter } from 'node:events';
import { CompressionTypes, Kafka, Partitioners } from 'kafkajs';
import type { Admin, Producer, RetryOptions } from 'kafkajs';
import { LogUnavailableError } from '../stream-log.js';
import type { AppendResult, BatchHandler, LogRecord, StreamLog, Tail, TailOptions } from '../stream-log.js';
import { partitionForKey } from '../murmur2.js';
import { DEFAULT_TAIL_BATCH, MAX_BATCH_BYTES } from '../stream-log-base.js';
import { RecentWindow } from '../recent-window.js';
import { kafkaMetrics } from '../metrics.js';
import { errorMessage, isKafkaAuthError, KafkaAuthError, kafkaClientConfig, type KafkaLogContext, type KafkaLogLevel, type KafkaSecurity } from './client.js';
import { KafkaAppender, type KafkaAppenderCounts } from './producer.js';
import { KafkaReader } from './reader.js';
import { KafkaTail } from './tail.js';
import { PartitionOffsets } from './offsets.js';

export type { KafkaLogLevel, KafkaSecurity, KafkaSaslMechanism, KafkaClientSettings } from './client.js';
export { kafkaClientConfig, isKafkaAuthError, KafkaAuthError } from './client.js';

/** what origin creates a missing topic with */
export interface TopicSpec {
  partitions: number;
  replicationFactor?: number;
  /** min.insync.replicas (default min(2, replication factor)): with acks=-1 an append then survives the loss of a broker */
  minInsyncReplicas?: number;
  /** retention.bytes per partition (absent or 0: the broker's default) */
  retentionBytes?: number;
  /** retention.ms (absent or 0: the broker's default) */
  retentionMs?: number;
}

/** the topic configs CreateTopics sets */
export function topicConfig(spec: TopicSpec, replicationFactor: number): { name: string; value: string }[] {
  const out = [{ name: 'min.insync.replicas', value: String(spec.minInsyncReplicas ?? Math.min(2, replicationFactor)) }];
  if (spec.retentionBytes) out.push({ name: 'retention.bytes', value: String(spec.retentionBytes) });
  if (spec.retentionMs) out.push({ name: 'retention.ms', value: String(spec.retentionMs) });
  return out;
}

export interface KafkaLogOptions {
  /** bootstrap brokers, `host:port` */
  brokers: string[];
  /** TLS and SASL (client.ts kafkaClientConfig) */
  security?: KafkaSecurity;
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
  createTopic?: TopicSpec;
  /** kafkajs idempotent producer (default true, as in the tests on real brokers) */
  idempotent?: boolean;
  /**
   * kafkajs producers the appends are spread over: partition p always uses producer p mod n
   * (default min(partitions, 8)). kafkajs' idempotent producer sends one request per broker at a
   * time, so partitions that share a producer and a leader wait for each other's requests; with a
   * producer each they are in flight together (bench:writes measures the difference).
   */
  producers?: number;
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
  /** every endOffset() call settles within this: it retries leadership changes, connection errors and unanswered requests (each step <= 2 s) until then (default 10 000) */
  endOffsetRetryMs?: number;
}

/** the appender's counts (producer.ts) and the tails' and readers' */
export interface KafkaLogStats extends KafkaAppenderCounts {
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
  /** ListOffsets requests sent by endOffset() (calls in one event-loop turn share one per leader) */
  endOffsetRequests: number;
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
export class KafkaLog implements StreamLog, KafkaLogContext {
  private readonly metrics = kafkaMetrics();
  /** see KafkaLogEventName */
  readonly events = new EventEmitter();
  private readonly appender: KafkaAppender;
  private readonly partitionOffsets: PartitionOffsets;
  private readonly windows: RecentWindow[];
  private readonly tails = new Set<KafkaTail>();
  private reader?: KafkaReader;
  private closed = false;
  private closing?: Promise<void>;
  private probing = false;
  private lastProbe = 0;
  private readonly readyProbeIntervalMs: number;
  private readonly counts = {
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
  readonly fetchMaxWaitMs: number;
  readonly fetchMaxBytesPerPartition: number;
  readonly readTimeoutMs: number;
  readonly readerIdleMs: number;
  readonly retry: RetryOptions;
  readonly quiet: boolean;

  private constructor(
    readonly kafka: Kafka,
    private readonly admin: Admin,
    producers: Producer[],
    newProducer: () => Producer,
    readonly partitions: number,
    opts: KafkaLogOptions,
  ) {
    this.brokers = [...opts.brokers];
    this.topic = opts.topic;
    this.clientId = opts.clientId ?? 'replicant';
    this.recentBytesPerPartition = opts.recentBytesPerPartition ?? 2 * 1024 * 1024;
    this.tailBufferBytes = opts.tailBufferBytes ?? 1024 * 1024;
    this.fetchMaxWaitMs = opts.fetchMaxWaitMs ?? 500;
    this.fetchMaxBytesPerPartition = opts.fetchMaxBytesPerPartition ?? 1024 * 1024;
    this.readTimeoutMs = opts.readTimeoutMs ?? 30_000;
    this.readerIdleMs = opts.readerIdleMs ?? 60_000;
    this.readyProbeIntervalMs = opts.readyProbeIntervalMs ?? 2000;
    this.retry = KafkaLog.retryOf(opts);
    this.quiet = opts.logLevel === 'nothing';
    this.appender = new KafkaAppender(producers, {
      topic: this.topic,
      brokers: this.brokers,
      partitions,
      compression: opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
      maxInflightAppends: opts.maxInflightAppends ?? 100_000,
      maxInflightBytes: opts.maxInflightBytes ?? 64 * 1024 * 1024,
      maxRecordBytes: opts.maxRecordBytes ?? 1_000_000,
      maxRequestBytes: opts.maxRequestBytes ?? 900_000,
      lingerMs: opts.lingerMs ?? 0,
      quiet: this.quiet,
      events: this.events,
      idempotent: opts.idempotent ?? true,
      newProducer,
    });
    this.windows = Array.from({ length: partitions }, () => new RecentWindow(this.recentBytesPerPartition));
    this.partitionOffsets = new PartitionOffsets(kafka, this.topic, opts.endOffsetRetryMs ?? 10_000);
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
    const kafka = new Kafka(
      kafkaClientConfig({
        clientId: opts.clientId ?? 'replicant',
        brokers: opts.brokers,
        security: opts.security,
        connectionTimeout: opts.connectTimeoutMs ?? 3000,
        requestTimeout: opts.requestTimeoutMs ?? 30_000,
        retry,
        logLevel: opts.logLevel,
      }),
    );
    const admin = kafka.admin({ retry });
    const idempotent = opts.idempotent ?? true;
    if (opts.producers !== undefined && (!Number.isInteger(opts.producers) || opts.producers < 1 || opts.producers > 256)) {
      throw new RangeError('kafka: producers must be an integer in [1, 256]');
    }
    const newProducer = () =>
      kafka.producer({
        idempotent,
        allowAutoTopicCreation: false,
        // records always carry their partition; the partitioner is never consulted
        createPartitioner: Partitioners.DefaultPartitioner,
        // finite retries even when idempotent (kafkajs would default to retrying forever): a request
        // that keeps failing must reject its appends. At most one request per partition is in flight
        // (see producer.ts), which keeps the per-partition order with or without idempotence.
        retry: idempotent ? { ...retry, retries: Math.max(1, retry.retries ?? 5) } : retry,
      });
    const producers: Producer[] = [];
    let partitions: number;
    try {
      try {
        await admin.connect();
      } catch (err) {
        if (isKafkaAuthError(err)) {
          const sec = opts.security ?? {};
          throw new KafkaAuthError(
            `kafka: brokers ${opts.brokers.join(',')} refused the SASL ${sec.saslMechanism ?? ''} login of user ${JSON.stringify(sec.saslUsername ?? '')}: ${errorMessage(err)}`,
          );
        }
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
      for (let i = 0; i < (opts.producers ?? Math.min(partitions, 8)); i++) producers.push(newProducer());
      try {
        await Promise.all(producers.map((p) => p.connect()));
      } catch (err) {
        throw new Error(`kafka: producer cannot connect to ${where}: ${errorMessage(err)}`);
      }
    } catch (err) {
      await Promise.all(producers.map((p) => p.disconnect().catch(() => {})));
      await admin.disconnect().catch(() => {});
      throw err;
    }
    return new KafkaLog(kafka, admin, producers, newProducer, partitions, opts);
  }

  /** CreateTopics for open(): replication factor min(3, brokers) unless given; a clear error otherwise. */
  private static async createTopic(
    admin: Admin,
    opts: KafkaLogOptions,
    spec: TopicSpec,
  ): Promise<void> {
    if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
      throw new RangeError('kafka: createTopic.partitions must be a positive integer');
    }
    let replicationFactor = spec.replicationFactor;
    let what = `${spec.partitions} partitions`;
    try {
      replicationFactor ??= Math.min(3, (await admin.describeCluster()).brokers.length);
      what += `, replication factor ${replicationFactor}`;
      const configEntries = topicConfig(spec, replicationFactor);
      what += configEntries.map((c) => `, ${c.name}=${c.value}`).join('');
      await admin.createTopics({
        topics: [{ topic: opts.topic, numPartitions: spec.partitions, replicationFactor, configEntries }],
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
    return {
      ...this.appender.counts,
      ...this.counts,
      pendingAppends: this.appender.pendingAppends,
      pendingBytes: this.appender.pendingBytes,
      endOffsetRequests: this.partitionOffsets.requests,
    };
  }

  /**
   * Cheap readiness for /readyz: open, and the last produce request of every partition (or the last
   * health probe) succeeded. While not ready, reading it starts a background health probe (at most
   * one per `readyProbeIntervalMs`), so readiness comes back even when no writes arrive to prove it.
   */
  get ready(): boolean {
    if (this.closed) return false;
    if (this.appender.failing.size > 0 && !this.probing && Date.now() - this.lastProbe >= this.readyProbeIntervalMs) {
      this.probing = true;
      this.lastProbe = Date.now();
      void this.health().finally(() => (this.probing = false));
    }
    return this.appender.failing.size === 0;
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
      this.appender.failing.clear();
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
    return this.appender.append(this.partitionOf(docId), docId, value);
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

  /** The high watermark of one partition: one ListOffsets to its leader (offsets.ts). */
  /** StreamLog.logStart: the partition's log start offset (moved by retention or deleteRecords) */
  async logStart(partition: number): Promise<bigint> {
    return (await this.offsets()).low[partition];
  }

  async endOffset(partition: number): Promise<bigint> {
    this.checkPartition(partition);
    if (this.closed) throw new LogUnavailableError('stream log is closed');
    try {
      return await this.partitionOffsets.latest(partition);
    } catch (err) {
      throw new LogUnavailableError(
        `kafka: cannot read the end offset of topic "${this.topic}" partition ${partition} (brokers ${this.brokers.join(',')}): ${errorMessage(err)}`,
      );
    }
  }

  /** Adds records a tail received from a fetch at `coveredFrom` (no record in [coveredFrom, first) exists). */
  rememberFetched(partition: number, coveredFrom: bigint, recs: readonly LogRecord[], sizes: readonly number[]): void {
    this.windows[partition].add(recs, sizes, coveredFrom);
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
    if (w.covers(from)) {
      this.counts.windowReads++;
      return w.read(from, maxRecords, MAX_BATCH_BYTES);
    }
    if (this.closed) throw new LogUnavailableError('stream log is closed');
    const { low, high } = await this.offsets();
    if (from >= high[partition]) return [];
    this.counts.fallbackReads++;
    this.metrics.reads.inc();
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
      onPosition: opts.onPosition,
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
    this.metrics.tailPauses.inc();
    this.noteQueued(queuedBytes);
    this.events.emit('pause', partition, queuedBytes);
  }
  noteQueued(queuedBytes: number): void {
    if (queuedBytes > this.counts.maxTailQueuedBytes) this.counts.maxTailQueuedBytes = queuedBytes;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      // appends already accepted still go out (their callers are waiting); then its producers disconnect
      await this.appender.close();
      await Promise.all([...this.tails].map((t) => t.close()));
      this.tails.clear();
      await this.reader?.close();
      this.reader = undefined;
      await this.partitionOffsets.close();
      await this.admin.disconnect().catch(() => {});
    })();
    return this.closing;
  }
}

