/**
 * In-memory StreamLog for unit tests: the same semantics as the file log (arrival-order offsets,
 * group commit, pending bound, durable-only tails) without files. Durability is simulated by a
 * turn of the event loop, and can be held to make "appends waiting for durability" observable.
 */
import { BaseLog } from './stream-log-base.js';
import type { LogBounds, QueuedRecord } from './stream-log-base.js';
import type { LogRecord } from './stream-log.js';

export interface MemoryLogOptions extends Omit<LogBounds, 'recentBytesPerPartition'> {
  /** default 4 */
  partitions?: number;
}

export class MemoryLog extends BaseLog {
  private held: (() => void)[] | undefined;
  private failNext: Error | undefined;

  constructor(opts: MemoryLogOptions = {}) {
    const partitions = opts.partitions ?? 4;
    if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError('partitions must be a positive integer');
    // every record stays in the window: the window is the whole log
    super('memory', partitions, [], { ...opts, recentBytesPerPartition: Number.POSITIVE_INFINITY });
  }

  /** Holds durability: appends queue (and count against the pending bound) until resumeDurability(). */
  pauseDurability(): void {
    this.held ??= [];
  }

  resumeDurability(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const r of held) r();
  }

  /** The next durability step fails with `err` (tests the failed-log path). */
  failNextSync(err: Error): void {
    this.failNext = err;
  }

  protected async persist(_partition: number, _batch: readonly QueuedRecord[]): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
    if (this.held) await new Promise<void>((r) => this.held!.push(r));
    const err = this.failNext;
    this.failNext = undefined;
    if (err) throw err;
    this.countFsync();
  }

  protected async readStored(): Promise<LogRecord[]> {
    return []; // unreachable: the in-memory window holds every record
  }

  override async close(): Promise<void> {
    this.resumeDurability(); // held appends must complete for close to drain them
    return super.close();
  }

  protected async closeStorage(): Promise<void> {}
}
