/**
 * What the file log and the in-memory log share: offset assignment in arrival order, group commit
 * (one durability step covers every append queued while the previous one ran), the pending bound
 * (load shedding instead of an unbounded queue), a bounded window of recent durable records, and tail
 * delivery with backpressure. Subclasses only decide how a batch becomes durable and how older
 * records are read back.
 */
import { Backoff, type BackoffOptions } from '@replicant/protocol';
import { LogUnavailableError } from './stream-log.js';
import type { AppendResult, BatchHandler, LogRecord, StreamLog, Tail, TailOptions } from './stream-log.js';
import { partitionForKey } from './murmur2.js';
import { logMetrics } from './metrics.js';
import { RecentWindow } from './recent-window.js';
import { Waits } from './waits.js';

export interface LogBounds {
  /** most bytes accepted but not yet durable, over all partitions (default 64 MiB); over it appends shed */
  maxPendingBytes?: number;
  /** most appends accepted but not yet durable (default 100 000); over it appends shed */
  maxPendingAppends?: number;
  /** largest accepted record value in bytes (default 8 MiB) */
  maxRecordBytes?: number;
  /** recently durable records kept in memory per partition, serving tails without disk reads (default 2 MiB) */
  recentBytesPerPartition?: number;
}

/** Framing overhead of one record: length u32, crc u32, offset u64, key length u16. */
export const RECORD_OVERHEAD = 18;
/** A read or tail batch stops growing past this many bytes (at least one record is always returned). */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;
export const DEFAULT_TAIL_BATCH = 512;

/** An accepted append waiting for durability. */
export interface QueuedRecord {
  readonly offset: bigint;
  readonly key: string;
  readonly keyBytes: number;
  readonly value: Uint8Array;
  /** framed size in bytes (RECORD_OVERHEAD + key + value) */
  readonly size: number;
  readonly t0: number;
  resolve(r: AppendResult): void;
  reject(e: unknown): void;
}

interface Partition {
  readonly id: number;
  /** next offset to assign */
  nextOffset: bigint;
  /** next offset after the last durable record */
  durableEnd: bigint;
  queue: QueuedRecord[];
  flushActive: boolean;
  flushDone: Promise<void>;
  /** recent durable records, ending at durableEnd */
  readonly recent: RecentWindow;
  /** tail loops waiting for durableEnd to move */
  wakers: Set<() => void>;
}

/**
 * The admission bound shared by every stream log: validates a record and reserves room for it
 * synchronously (so a burst of calls within one tick is bounded too); released once the record is
 * durable or failed.
 */
export class AppendBudget {
  appends = 0;
  bytes = 0;

  constructor(
    readonly maxAppends: number,
    readonly maxBytes: number,
    readonly maxRecordBytes: number,
  ) {}

  /** the record's framed size and key length, a RangeError for a record no log takes, or 'full' */
  admit(docId: string, value: Uint8Array): { size: number; keyBytes: number } | RangeError | 'full' {
    const keyBytes = Buffer.byteLength(docId);
    if (keyBytes > 0xffff) return new RangeError('record key longer than 65535 bytes');
    if (value.length > this.maxRecordBytes) return new RangeError(`record value of ${value.length} bytes exceeds ${this.maxRecordBytes}`);
    const size = RECORD_OVERHEAD + keyBytes + value.length;
    if (this.appends >= this.maxAppends || (this.appends > 0 && this.bytes + size > this.maxBytes)) return 'full';
    this.appends++;
    this.bytes += size;
    return { size, keyBytes };
  }

  release(count: number, bytes: number): void {
    this.appends -= count;
    this.bytes -= bytes;
  }
}

export interface LogStats {
  appends: number;
  fsyncs: number;
  pendingAppends: number;
  pendingBytes: number;
}

export abstract class BaseLog implements StreamLog {
  private readonly metrics = logMetrics();
  private readonly parts: Partition[];
  protected readonly maxRecordBytes: number;
  private readonly budget: AppendBudget;
  private readonly recentLimit: number;
  private appendsDone = 0;
  private fsyncsDone = 0;
  private closed = false;
  private closing?: Promise<void>;
  private failure?: Error;
  private readonly tails = new Set<TailLoops>();

  protected constructor(
    private readonly kind: string,
    readonly partitions: number,
    endOffsets: readonly bigint[],
    bounds: LogBounds,
  ) {
    this.maxRecordBytes = bounds.maxRecordBytes ?? 8 * 1024 * 1024;
    this.budget = new AppendBudget(bounds.maxPendingAppends ?? 100_000, bounds.maxPendingBytes ?? 64 * 1024 * 1024, this.maxRecordBytes);
    this.recentLimit = bounds.recentBytesPerPartition ?? 2 * 1024 * 1024;
    this.parts = Array.from({ length: partitions }, (_, id) => ({
      id,
      nextOffset: endOffsets[id] ?? 0n,
      durableEnd: endOffsets[id] ?? 0n,
      queue: [],
      flushActive: false,
      flushDone: Promise.resolve(),
      recent: new RecentWindow(this.recentLimit, endOffsets[id] ?? 0n),
      wakers: new Set(),
    }));
  }

  /** Makes a batch durable (written and fsynced, in order); rejects if any of it may not be. */
  protected abstract persist(partition: number, batch: readonly QueuedRecord[]): Promise<void>;
  /** Reads durable records older than the in-memory window. */
  protected abstract readStored(
    partition: number,
    from: bigint,
    maxRecords: number,
    maxBytes: number,
    end: bigint,
  ): Promise<LogRecord[]>;
  protected abstract closeStorage(): Promise<void>;

  /** subclasses call this once per fsync they perform */
  protected countFsync(): void {
    this.fsyncsDone++;
    this.metrics.fsyncs.inc({ log: this.kind });
  }

  partitionOf(docId: string): number {
    return partitionForKey(docId, this.partitions);
  }

  /** the lowest offset an open tail of `partition` still has to deliver (retention keeps it) */
  protected tailLowWater(partition: number): bigint | undefined {
    let low: bigint | undefined;
    for (const t of this.tails) {
      const p = t.positions.get(partition);
      if (p !== undefined && (low === undefined || p < low)) low = p;
    }
    return low;
  }

  stats(): LogStats {
    return {
      appends: this.appendsDone,
      fsyncs: this.fsyncsDone,
      pendingAppends: this.budget.appends,
      pendingBytes: this.budget.bytes,
    };
  }

  append(docId: string, value: Uint8Array): Promise<AppendResult> {
    if (this.closed) return this.shed('stream log is closed');
    if (this.failure) return this.shed(`stream log failed: ${this.failure.message}`);
    const admitted = this.budget.admit(docId, value);
    if (admitted instanceof RangeError) return Promise.reject(admitted);
    if (admitted === 'full') return this.shed('stream log pending bound reached');
    const { size, keyBytes } = admitted;
    const part = this.parts[this.partitionOf(docId)];
    const offset = part.nextOffset++;
    return new Promise<AppendResult>((resolve, reject) => {
      part.queue.push({ offset, key: docId, keyBytes, value, size, t0: performance.now(), resolve, reject });
      this.kick(part);
    });
  }

  private shed(message: string): Promise<never> {
    this.metrics.appendsShed.inc({ log: this.kind });
    return Promise.reject(new LogUnavailableError(message));
  }

  private kick(part: Partition): void {
    if (part.flushActive) return;
    part.flushActive = true;
    part.flushDone = this.flushLoop(part);
  }

  /**
   * Group commit: each round takes everything queued so far and makes it durable with one sync.
   * The first round starts on the next turn of the event loop (setImmediate), not inside the
   * append that found the partition idle, so every append of the current turn (the HTTP requests
   * read in one poll, a fold batch's writes) shares that round's durable write; as the Kafka
   * appender's send loop does. Costs one loop turn of latency, no timer.
   */
  private async flushLoop(part: Partition): Promise<void> {
    try {
      await new Promise<void>((r) => setImmediate(r));
      while (part.queue.length > 0) {
        const batch = part.queue;
        part.queue = [];
        try {
          await this.persist(part.id, batch);
        } catch (err) {
          this.fail(part, batch, err);
          continue;
        }
        this.durable(part, batch);
      }
    } finally {
      // synchronous with the empty-queue check above: an append after this point starts a new loop
      part.flushActive = false;
    }
  }

  private release(batch: readonly QueuedRecord[]): void {
    let bytes = 0;
    for (const r of batch) bytes += r.size;
    this.budget.release(batch.length, bytes);
  }

  private durable(part: Partition, batch: readonly QueuedRecord[]): void {
    this.release(batch);
    part.durableEnd = batch[batch.length - 1].offset + 1n;
    this.appendsDone += batch.length;
    this.metrics.appends.inc({ log: this.kind }, batch.length);
    this.metrics.batchSize.observe({ log: this.kind }, batch.length);
    const now = performance.now();
    part.recent.add(
      batch.map((r) => ({ partition: part.id, offset: r.offset, key: r.key, value: r.value })),
      batch.map((r) => r.size),
    );
    for (const r of batch) {
      this.metrics.appendLatency.observe({ log: this.kind }, (now - r.t0) / 1000);
      r.resolve({ partition: part.id, offset: r.offset });
    }
    for (const w of [...part.wakers]) w();
  }

  /**
   * A failed write/fsync leaves the file state unknown (a later fsync may not cover earlier dirty
   * pages), so the log stops accepting appends; recovery on the next open truncates any torn tail.
   */
  private fail(part: Partition, batch: readonly QueuedRecord[], err: unknown): void {
    this.failure = err instanceof Error ? err : new Error(String(err));
    const e = new LogUnavailableError(`stream log write failed: ${this.failure.message}`);
    const queued = part.queue;
    part.queue = [];
    for (const r of [...batch, ...queued]) r.reject(e);
    this.release(batch);
    this.release(queued);
  }

  private part(partition: number): Partition {
    const p = this.parts[partition];
    if (!Number.isInteger(partition) || p === undefined) {
      throw new RangeError(`partition ${partition} out of range [0, ${this.partitions})`);
    }
    return p;
  }

  async endOffset(partition: number): Promise<bigint> {
    return this.part(partition).durableEnd;
  }

  async read(partition: number, fromOffset: bigint, maxRecords: number): Promise<LogRecord[]> {
    const part = this.part(partition);
    const from = fromOffset < 0n ? 0n : fromOffset;
    const end = part.durableEnd;
    if (from >= end || maxRecords <= 0) return [];
    if (!part.recent.covers(from)) return this.readStored(partition, from, maxRecords, MAX_BATCH_BYTES, end);
    return part.recent.read(from, maxRecords, MAX_BATCH_BYTES);
  }

  async tail(handler: BatchHandler, opts: TailOptions = {}): Promise<Tail> {
    if (this.closed) throw new LogUnavailableError('stream log is closed');
    const ids = opts.partitions ?? Array.from({ length: this.partitions }, (_, i) => i);
    for (const p of ids) this.part(p);
    const t = new TailLoops();
    const maxBatch = Math.max(1, opts.maxBatchRecords ?? DEFAULT_TAIL_BATCH);
    const onError =
      opts.onError ?? ((err: unknown, p: number) => console.error(`stream log tail, partition ${p}:`, err));
    t.loops = ids.map((p) =>
      this.tailLoop(t, this.parts[p], opts.from ? opts.from(p) : this.parts[p].durableEnd, handler, maxBatch, onError),
    );
    this.tails.add(t);
    return {
      close: async () => {
        this.tails.delete(t);
        await t.close();
      },
    };
  }

  private async tailLoop(
    t: TailLoops,
    part: Partition,
    start: bigint,
    handler: BatchHandler,
    maxBatch: number,
    onError: (err: unknown, partition: number) => void,
  ): Promise<void> {
    let pos = start;
    t.positions.set(part.id, pos);
    const backoff = new Backoff(TAIL_RETRY);
    while (!t.closed) {
      if (pos >= part.durableEnd) {
        await t.wait((w) => {
          part.wakers.add(w);
          return () => part.wakers.delete(w);
        });
        continue;
      }
      try {
        const recs = await this.read(part.id, pos, maxBatch);
        if (t.closed) break;
        if (recs.length > 0) {
          // the handler's promise is the backpressure: nothing more is read until it settles
          await handler(part.id, recs);
          pos = recs[recs.length - 1].offset + 1n;
          t.positions.set(part.id, pos);
        }
        backoff.reset();
      } catch (err) {
        if (t.closed) break;
        onError(err, part.id);
        await t.sleep(backoff.next());
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      // appends already accepted still become durable (their callers are waiting)
      await Promise.all(this.parts.map((p) => p.flushDone));
      await Promise.all([...this.tails].map((t) => t.close()));
      this.tails.clear();
      await this.closeStorage();
    })();
    return this.closing;
  }
}

/** a tail whose handler failed retries the same batch after 50 ms, doubling up to 1 s */
export const TAIL_RETRY: BackoffOptions = { initialMs: 50, maxMs: 1000, jitter: 'none' };

/** The per-partition loops of one tail, and the waits that close() must interrupt. */
class TailLoops extends Waits {
  loops: Promise<void>[] = [];
  /** per partition, the next offset this tail delivers */
  readonly positions = new Map<number, bigint>();

  override async close(): Promise<void> {
    super.close();
    await Promise.all(this.loops);
  }
}
