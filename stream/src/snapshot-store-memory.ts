/**
 * In-memory SnapshotStore for unit tests. Snapshots are kept in their encoded form, so nothing a
 * caller holds is shared with the store and the bigint encoding is exercised as with real stores.
 */
import type { DocSnapshot } from './doc-state.js';
import type { SnapshotStore } from './snapshot-store.js';
import { decodeSnapshot, encodeSnapshot, mergeCovered } from './snapshot-codec.js';

export class MemorySnapshotStore implements SnapshotStore {
  private readonly docs = new Map<string, string>();
  private readonly offsets = new Map<number, bigint>();
  private failNext: Error | undefined;
  private failures = 0;
  /** number of successful commits */
  commits = 0;

  async get(docId: string): Promise<DocSnapshot | undefined> {
    const s = this.docs.get(docId);
    return s === undefined ? undefined : decodeSnapshot(s);
  }

  async commit(snapshots: DocSnapshot[], covered: Map<number, bigint>): Promise<void> {
    const err = this.failNext;
    if (--this.failures <= 0) this.failNext = undefined;
    if (err) throw err;
    for (const s of snapshots) this.docs.set(s.doc, encodeSnapshot(s));
    mergeCovered(this.offsets, covered);
    this.commits++;
  }

  async covered(partition: number): Promise<bigint> {
    return this.offsets.get(partition) ?? 0n;
  }

  /** The next `times` commits fail with `err` (tests the checkpoint retry path). */
  failNextCommit(err: Error, times = 1): void {
    this.failNext = err;
    this.failures = times;
  }

  /** number of stored document snapshots */
  get size(): number {
    return this.docs.size;
  }

  async close(): Promise<void> {}
}
