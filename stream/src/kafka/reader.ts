/**
 * The fallback reader of KafkaLog.read() (reads the recent window does not cover): one consumer with
 * every partition assigned and paused; a read seeks one partition, resumes it, takes the first
 * batch fetched from there and pauses it again. Reads of one partition are serialized; reads of
 * different partitions run concurrently. Its group join is paid once, so it is created on demand
 * and kept until idle for `readerIdleMs`. Bound: one pending read per partition (others queue on
 * the partition's lock), each bounded by `readTimeoutMs`.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import { LogUnavailableError } from '../stream-log.js';
import type { LogRecord } from '../stream-log.js';
import { MAX_BATCH_BYTES } from '../stream-log-base.js';
import { explicitAssigner } from './assigner.js';
import { errorMessage, fetchedOffset, recordSize, toRecord, type KafkaLogContext } from './client.js';

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
export class KafkaReader {
  private consumer?: Consumer;
  private started?: Promise<void>;
  private readonly busy = new Map<number, ReadRequest>();
  private readonly locks = new Map<number, Promise<void>>();
  private active = 0;
  private idleTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly log: KafkaLogContext,
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
