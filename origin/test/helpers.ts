/** Origin test helpers: a snapshot store that can be held at a gate. */
import { deferred } from '@replicant/testkit';
import { MemorySnapshotStore, type DocSnapshot, type SnapshotStore } from '@replicant/stream';

/**
 * A MemorySnapshotStore whose get/commit can be held at a gate, with call counters and a promise for
 * "the next commit completed".
 */
export class GatedStore implements SnapshotStore {
  readonly inner = new MemorySnapshotStore();
  gets = 0;
  commits = 0;
  getGate?: Promise<void>;
  commitGate?: Promise<void>;
  private commitWaiters: (() => void)[] = [];
  /** resolves when a get() call has reached the gate */
  getStarted = deferred();
  commitStarted = deferred();

  async get(docId: string): Promise<DocSnapshot | undefined> {
    this.gets++;
    this.getStarted.resolve();
    if (this.getGate) await this.getGate;
    return this.inner.get(docId);
  }

  async commit(snapshots: DocSnapshot[], covered: Map<number, bigint>): Promise<void> {
    this.commitStarted.resolve();
    if (this.commitGate) await this.commitGate;
    await this.inner.commit(snapshots, covered);
    this.commits++;
    const ws = this.commitWaiters;
    this.commitWaiters = [];
    for (const w of ws) w();
  }

  nextCommit(): Promise<void> {
    return new Promise((r) => this.commitWaiters.push(r));
  }

  covered(partition: number): Promise<bigint> {
    return this.inner.covered(partition);
  }

  async close(): Promise<void> {}
}
