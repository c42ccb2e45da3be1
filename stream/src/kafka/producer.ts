/**
 * The append path of the Kafka log: group commit per partition over one kafkajs producer.
 *
 * While a produce request of a partition is in flight, new appends queue and go out together in
 * the next request (`acks: -1`). An append resolves with the offset Kafka assigned (baseOffset +
 * index in the request) only after the acknowledgement. One request in flight per partition keeps
 * the acknowledged order equal to the log order (with or without the idempotent producer). A
 * partition always sends through the same kafkajs producer (its idempotence sequence is per
 * producer and partition); kafkajs' idempotent producer has one request per broker in flight, so
 * the log spreads partitions over several producers (KafkaLogOptions.producers).
 *
 * Bounds: accepted appends (queued + in flight) by count and bytes (AppendBudget); past the bound
 * `append` rejects at once with `LogUnavailableError` (HTTP 503 + Retry-After). One request
 * carries at most `maxRequestBytes` (one record always fits). A failed request (kafkajs has
 * already retried it) rejects each of its appends with `LogUnavailableError`; the broker error,
 * which may name broker addresses, goes to the log and the 'send-error' event only, never into the
 * error's message (that one reaches clients); the appends queued behind it for its partition are
 * rejected with it (an acknowledged append implies every earlier one of its partition was too).
 * The log stays usable. Callers may retry: a record that was written although its request
 * failed becomes a duplicate, harmless because ops carry idempotency keys and materialization dedups.
 *
 * Unresolved sends (idempotent producer): a failed request may have been written anyway (a slow or
 * stalled broker answers after kafkajs timed out). kafkajs then rolls the partition's sequence
 * number back (producer/sendMessages.js), so its next request of the partition reuses the failed
 * request's sequence range, and a broker that wrote the failed one takes a next request with as many
 * records for a retry of it: it answers success with the written batch's offsets and drops the new
 * records, which would resolve appends with offsets holding other records (an acknowledged write
 * that is not in the log). So a producer with a failed request is replaced by a fresh one (a new
 * producer id, whose sequences the broker has never seen, as Java's producer resets its producer id
 * on unresolved sequences); the old one is disconnected once its other partitions' requests finish.
 * Tested by stream/test/kafka-unresolved-send.test.ts.
 */
import type { EventEmitter } from 'node:events';
import type { CompressionTypes, Producer } from 'kafkajs';
import { LogUnavailableError } from '../stream-log.js';
import type { AppendResult } from '../stream-log.js';
import { AppendBudget } from '../stream-log-base.js';
import { kafkaMetrics } from '../metrics.js';
import { errorMessage } from './client.js';

interface Pending {
  readonly key: string;
  readonly value: Uint8Array;
  readonly size: number;
  resolve(r: AppendResult): void;
  reject(e: unknown): void;
}

interface SendPart {
  readonly id: number;
  queue: Pending[];
  active: boolean;
  done: Promise<void>;
}

/** one producer of the pool: partition p sends through slots[p mod slots.length] */
interface ProducerSlot {
  producer: Producer;
  /** the producer's connect() (InitProducerId); undefined until a send starts it again after it failed */
  connected?: Promise<void>;
}

export interface KafkaAppenderOptions {
  topic: string;
  brokers: string[];
  partitions: number;
  compression: CompressionTypes;
  maxInflightAppends: number;
  maxInflightBytes: number;
  maxRecordBytes: number;
  maxRequestBytes: number;
  lingerMs: number;
  quiet: boolean;
  events: EventEmitter;
  /** kafkajs' idempotent producer is on: a failed request makes its producer be replaced */
  idempotent: boolean;
  /** a new, unconnected producer configured like the initial ones */
  newProducer: () => Producer;
}

export interface KafkaAppenderCounts {
  /** appends acknowledged */
  appends: number;
  /** produce requests sent (each carries one or more appends of one partition) */
  sends: number;
  sendErrors: number;
  /** appends rejected because a request failed */
  failedAppends: number;
  /** appends rejected at once (bound reached, closed) */
  shedAppends: number;
  /** idempotent producers replaced by a fresh one (new producer id) after a failed request */
  producerResets: number;
}

export class KafkaAppender {
  private readonly metrics = kafkaMetrics();
  private readonly parts: SendPart[];
  private readonly budget: AppendBudget;
  private closed = false;
  /** partitions whose last produce request failed (cleared by a success, or by the log's health probe) */
  readonly failing = new Map<number, string>();
  readonly counts: KafkaAppenderCounts = { appends: 0, sends: 0, sendErrors: 0, failedAppends: 0, shedAppends: 0, producerResets: 0 };
  private readonly slots: ProducerSlot[];
  /** requests in flight per producer (a replaced one is disconnected when it has none) */
  private readonly sending = new Map<Producer, number>();
  /** disconnects of replaced producers not yet finished (close() waits for them) */
  private readonly disconnects = new Set<Promise<void>>();

  /** partition p sends through producers[p mod producers.length]; the producers are connected */
  constructor(
    producers: readonly Producer[],
    private readonly o: KafkaAppenderOptions,
  ) {
    this.slots = producers.map((producer) => ({ producer, connected: Promise.resolve() }));
    this.budget = new AppendBudget(o.maxInflightAppends, o.maxInflightBytes, o.maxRecordBytes);
    this.parts = Array.from({ length: o.partitions }, (_, id) => ({ id, queue: [], active: false, done: Promise.resolve() }));
  }

  get pendingAppends(): number {
    return this.budget.appends;
  }

  get pendingBytes(): number {
    return this.budget.bytes;
  }

  append(partition: number, docId: string, value: Uint8Array): Promise<AppendResult> {
    if (this.closed) return this.shed('stream log is closed');
    const admitted = this.budget.admit(docId, value);
    if (admitted instanceof RangeError) return Promise.reject(admitted);
    if (admitted === 'full') return this.shed('kafka in-flight append bound reached');
    this.metrics.inflight.inc();
    const part = this.parts[partition];
    return new Promise<AppendResult>((resolve, reject) => {
      part.queue.push({ key: docId, value, size: admitted.size, resolve, reject });
      if (!part.active) {
        part.active = true;
        part.done = this.sendLoop(part);
      }
    });
  }

  private shed(message: string): Promise<never> {
    this.counts.shedAppends++;
    this.metrics.appendsShed.inc();
    return Promise.reject(new LogUnavailableError(message));
  }

  /** Group commit: each request takes what queued while the previous one was in flight. */
  private async sendLoop(part: SendPart): Promise<void> {
    try {
      if (this.o.lingerMs > 0) await new Promise((r) => setTimeout(r, this.o.lingerMs));
      else await new Promise((r) => setImmediate(r));
      while (part.queue.length > 0) {
        let n = 0;
        let bytes = 0;
        while (n < part.queue.length && (n === 0 || bytes + part.queue[n].size <= this.o.maxRequestBytes)) {
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
    const { topic, brokers, quiet } = this.o;
    const t0 = performance.now();
    this.counts.sends++;
    const slot = this.slots[partition % this.slots.length];
    let producer: Producer | undefined;
    let base: bigint;
    try {
      producer = await this.acquire(slot);
      const meta = await producer.send({
        topic,
        acks: -1,
        compression: this.o.compression,
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
      // the request may have been written: its producer's sequences can no longer be trusted
      if (producer !== undefined && this.o.idempotent) this.replace(slot, producer);
      this.release(batch.length, bytes);
      this.counts.sendErrors++;
      this.counts.failedAppends += batch.length;
      this.metrics.sendErrors.inc();
      this.metrics.appendsFailed.inc(batch.length);
      const message = errorMessage(err);
      if (!this.failing.has(partition) && !quiet) {
        console.error(`kafka log: appends to topic "${topic}" partition ${partition} failing (brokers ${brokers.join(',')}): ${message}`);
      }
      this.failing.set(partition, message);
      this.o.events.emit('send-error', partition, message);
      const e = new LogUnavailableError(`append to partition ${partition} failed; retry`, 2);
      for (const r of batch) r.reject(e);
      // what queued behind the failed request fails with it, so an acknowledged append implies
      // every earlier append of its partition was acknowledged too (or failed before it was
      // queued): a caller that issues ops in order (the Kafka ingest) finds a prefix of them in the log
      const behind = this.parts[partition].queue.splice(0);
      if (behind.length > 0) {
        let behindBytes = 0;
        for (const r of behind) behindBytes += r.size;
        this.release(behind.length, behindBytes);
        this.counts.failedAppends += behind.length;
        this.metrics.appendsFailed.inc(behind.length);
        for (const r of behind) r.reject(e);
      }
      return;
    } finally {
      if (producer !== undefined) this.done(producer);
    }
    this.release(batch.length, bytes);
    if (this.failing.delete(partition) && !quiet) {
      console.warn(`kafka log: appends to topic "${topic}" partition ${partition} succeed again`);
    }
    this.counts.appends += batch.length;
    this.metrics.appends.inc(batch.length);
    this.metrics.batchSize.observe(batch.length);
    this.metrics.sendLatency.observe((performance.now() - t0) / 1000);
    for (let i = 0; i < batch.length; i++) batch[i].resolve({ partition, offset: base + BigInt(i) });
  }

  private release(count: number, bytes: number): void {
    this.budget.release(count, bytes);
    this.metrics.inflight.dec(count);
  }

  /**
   * The slot's producer, connected, counted as sending until done(). Waits for a replacement's
   * connect(); one that failed is tried again here (the send fails when it fails again).
   */
  private async acquire(slot: ProducerSlot): Promise<Producer> {
    for (;;) {
      const producer = slot.producer;
      if (slot.connected === undefined) {
        const c = producer.connect();
        slot.connected = c;
        c.catch(() => {
          if (slot.connected === c) slot.connected = undefined;
        });
      }
      await slot.connected;
      // replaced meanwhile (another partition's request on it failed): use the new one
      if (slot.producer !== producer) continue;
      this.sending.set(producer, (this.sending.get(producer) ?? 0) + 1);
      return producer;
    }
  }

  private done(producer: Producer): void {
    const n = (this.sending.get(producer) ?? 1) - 1;
    if (n > 0) {
      this.sending.set(producer, n);
      return;
    }
    this.sending.delete(producer);
    // still a slot's producer: kept; replaced (replace()) and now idle: disconnected
    if (this.slots.some((s) => s.producer === producer)) return;
    const d = producer.disconnect().catch(() => {});
    this.disconnects.add(d);
    void d.finally(() => this.disconnects.delete(d));
  }

  /** A fresh producer (new producer id) for the slot's partitions; `failed` goes once idle. */
  private replace(slot: ProducerSlot, failed: Producer): void {
    if (slot.producer !== failed) return; // already replaced after another failed request
    this.counts.producerResets++;
    this.metrics.producerResets.inc();
    slot.producer = this.o.newProducer();
    slot.connected = undefined; // connected by the next send of one of its partitions
    // `failed` is still counted as sending (done() has not run for the failed request): done()
    // disconnects it once idle
  }

  /**
   * Refuses new appends, waits until every accepted one was answered (their callers are waiting),
   * then disconnects the producers.
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.parts.map((p) => p.done));
    await Promise.all(this.slots.map((s) => s.producer.disconnect().catch(() => {})));
    await Promise.all([...this.disconnects]);
  }
}
