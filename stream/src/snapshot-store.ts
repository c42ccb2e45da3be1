/**
 * The snapshot-store seam: checkpointed document snapshots plus, per partition, the log offset up to
 * which every document of that partition is covered by the stored snapshots.
 *
 * Implementations side by side: snapshot-store-file.ts (embedded default), snapshot-store-memory.ts
 * (tests), and later snapshot-store-redis.ts (ioredis).
 */
import type { DocSnapshot } from './doc-state.js';

export interface SnapshotStore {
  get(docId: string): Promise<DocSnapshot | undefined>;
  /**
   * Atomically-enough stores a batch of snapshots and then advances the covered offsets: a reader
   * that sees covered offset C for a partition finds every doc of that partition at least as new as
   * C in the store.
   */
  commit(snapshots: DocSnapshot[], covered: Map<number, bigint>): Promise<void>;
  /** next offset to replay from, per partition (0n when nothing was checkpointed) */
  covered(partition: number): Promise<bigint>;
  close(): Promise<void>;
  /**
   * Optional, for stores that can lose their contents behind the process's back (a Redis restarted
   * without persistence, flushed, or restored from an older dump): `listener` is called when a call
   * notices it, and that call fails. Registering makes the caller the owner of the checkpoints (the
   * origin): from the loss on, every call fails with the same error until `adopt()`.
   */
  onLoss?(listener: (err: Error) => void): void;
  /**
   * Accepts the store's current contents as the new base (after a loss: no snapshots, covered
   * offsets 0 or whatever an older dump held). The owner must then rebuild from the covered offsets.
   */
  adopt?(): Promise<void>;
}

/** A store noticed that its snapshots and covered offsets are not the ones this process last saw. */
export class SnapshotStoreLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotStoreLostError';
  }
}
