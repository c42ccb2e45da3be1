/**
 * One tail of the Kafka log: a consumer in a consumer group of its own (see assigner.ts), with a
 * bounded queue and a delivery loop per partition.
 *
 * On every GROUP_JOIN each partition is seeked to the tail's own position (the next offset it has
 * not received), never to a group offset: `autoCommit` is off, positions live in the caller's
 * checkpoints. kafkajs is told not to restart a crashed consumer (e.g. a broker down for longer
 * than its retries); the tail starts a new consumer in a new group after a backoff instead, since
 * rejoining the old group would wait for the dead member's session to time out. Records below
 * the log start (deleted by retention) are skipped with a warning. `eachBatch` only moves the
 * fetched records into the partition's queue; the delivery loop hands them to the handler in
 * offset order, awaiting each call (a slow partition does not block the others led by the same
 * broker).
 *
 * Offsets that are not data records (transaction markers, aborted transactional records,
 * compaction gaps) are never delivered; once everything queued before them was handled, the tail
 * reports the offset after them (`onPosition`), so a reader's position reaches the log end.
 *
 * Bound: when a partition's queue exceeds `tailBufferBytes` the partition is paused (fetches stop)
 * and it is resumed when the queue is down to half: at most tailBufferBytes + one fetch per partition.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, EachBatchPayload } from 'kafkajs';
import { LogUnavailableError } from '../stream-log.js';
import type { BatchHandler, LogRecord } from '../stream-log.js';
import { Backoff, backoffDelay } from '@replicant/protocol';
import { MAX_BATCH_BYTES, TAIL_RETRY } from '../stream-log-base.js';
import { Waits } from '../waits.js';
import { explicitAssigner } from './assigner.js';
import { errorMessage, fetchedOffset, recordSize, toRecord, type KafkaLogContext } from './client.js';

interface TailPart {
  readonly id: number;
  /** next offset to accept from Kafka (everything before it is queued, delivered or not a data record) */
  next: bigint;
  /** every offset below this was delivered (or reported to onPosition) */
  delivered: bigint;
  /** fetched and not yet delivered, in offset order, from `head` */
  queue: LogRecord[];
  sizes: number[];
  head: number;
  queuedBytes: number;
  paused: boolean;
  wake?: () => void;
}

/** One tail: a consumer group of its own, with per-partition bounded queues and delivery loops. */
export class KafkaTail {
  private consumer?: Consumer;
  private readonly parts = new Map<number, TailPart>();
  private loops: Promise<void>[] = [];
  private restartTimer?: NodeJS.Timeout;
  private starting?: Promise<void>;
  /** consecutive failed starts (restart backoff) */
  private failures = 0;
  private readonly waits = new Waits();

  constructor(
    private readonly log: KafkaLogContext,
    private readonly handler: BatchHandler,
    starts: Map<number, bigint>,
    private readonly opts: {
      maxBatch: number;
      onError: (err: unknown, partition: number) => void;
      onPosition?: (partition: number, next: bigint) => void;
    },
  ) {
    for (const [id, next] of starts) {
      this.parts.set(id, { id, next, delivered: next, queue: [], sizes: [], head: 0, queuedBytes: 0, paused: false });
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
    // kafkajs does not call eachBatch for a batch of only transaction markers (or aborted records)
    // but reports it here with its last offset: the position moves past them
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      if (this.consumer !== consumer || this.closed) return;
      const { partition, firstOffset, lastOffset } = e.payload as { partition: number; firstOffset: string | null; lastOffset: string };
      if (firstOffset !== null) this.skipTo(this.parts.get(partition), BigInt(lastOffset) + 1n);
    });
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
    const delay = backoffDelay(this.failures++, 250, 10_000, 'none', 0);
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
    // the batch may end in offsets that are not data records (a transaction's commit marker)
    if (batch.firstOffset() !== null) {
      const last = BigInt(batch.lastOffset()) + 1n; // the batch's last offset, data or not
      if (last > tp.next) tp.next = last;
    }
    if (tp.next > 0n) resolveOffset((tp.next - 1n).toString()); // kafkajs fetches from tp.next next
    if (recs.length === 0) {
      tp.wake?.();
      return;
    }
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

  /** offsets below `next` that were fetched are all queued or not data records */
  private skipTo(tp: TailPart | undefined, next: bigint): void {
    if (tp === undefined || next <= tp.next) return;
    tp.next = next;
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
    const backoff = new Backoff(TAIL_RETRY);
    while (!this.closed) {
      if (tp.head >= tp.queue.length) {
        if (tp.next > tp.delivered) {
          // everything queued was handled: the rest below tp.next is not data
          tp.delivered = tp.next;
          this.opts.onPosition?.(tp.id, tp.next);
        }
        if (tp.paused) this.resume(tp);
        await this.waits.wait((w) => {
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
        backoff.reset();
      } catch (err) {
        if (this.closed) break;
        this.opts.onError(err, tp.id);
        await this.waits.sleep(backoff.next());
        continue; // the same batch again (at-least-once)
      }
      tp.head = end;
      tp.delivered = recs[recs.length - 1].offset + 1n;
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

  /** Bytes queued per partition (tests). */
  queued(): Map<number, number> {
    return new Map([...this.parts.values()].map((tp) => [tp.id, tp.queuedBytes]));
  }

  get closed(): boolean {
    return this.waits.closed;
  }

  async close(): Promise<void> {
    this.waits.close();
    clearTimeout(this.restartTimer);
    const consumer = this.consumer;
    this.consumer = undefined;
    await Promise.all([consumer?.disconnect().catch(() => {}), this.starting, ...this.loops]);
  }
}
