/** Shared test helpers: temp directories and small promise utilities (no sleeps). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DocSnapshot } from '../src/doc-state.js';
import type { SnapshotStore } from '../src/snapshot-store.js';
import { MemorySnapshotStore } from '../src/snapshot-store-memory.js';

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'replicant-origin-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A few event-loop turns: used only to assert that something does NOT happen. */
export async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

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
