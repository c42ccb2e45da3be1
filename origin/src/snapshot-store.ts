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
}
