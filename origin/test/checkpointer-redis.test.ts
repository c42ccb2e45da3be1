/**
 * The checkpointer and materializer over a real redis-server (RedisSnapshotStore from
 * @replicant/stream): checkpoints fail while Redis is down, are retried, and nothing is lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis } from '@replicant/testkit';
import type { JsonObject } from '@replicant/protocol';
import { MemoryLog, RedisSnapshotStore, encodeOp, mergeCovered, type DocSnapshot, type SnapshotStore } from '@replicant/stream';
import { Checkpointer } from '../src/checkpointer.js';
import { Materializer } from '../src/materializer.js';

const quiet = () => {};

/** Wraps a store: counts commits and failures, and lets a test await a condition on them. */
class WatchedStore implements SnapshotStore {
  commits = 0;
  readonly failures: Error[] = [];
  /** merged covered offsets of the successful commits */
  readonly committed = new Map<number, bigint>();
  private waiters: (() => void)[] = [];

  constructor(readonly inner: SnapshotStore) {}

  get(docId: string): Promise<DocSnapshot | undefined> {
    return this.inner.get(docId);
  }

  async commit(snapshots: DocSnapshot[], covered: Map<number, bigint>): Promise<void> {
    try {
      await this.inner.commit(snapshots, covered);
    } catch (err) {
      this.failures.push(err as Error);
      this.wake();
      throw err;
    }
    mergeCovered(this.committed, covered);
    this.commits++;
    this.wake();
  }

  covered(partition: number): Promise<bigint> {
    return this.inner.covered(partition);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  /** resolves once `pred` holds, re-checked after every commit attempt */
  async until(pred: () => boolean): Promise<void> {
    while (!pred()) await new Promise<void>((r) => this.waiters.push(r));
  }
}

test('Checkpointer + Materializer + RedisSnapshotStore keep checkpointing across a Redis restart with no lost state', async () => {
  const server = await startRedis({ persistence: true });
  const store = new WatchedStore(await RedisSnapshotStore.open({ url: server.url, log: quiet, maxReconnectDelayMs: 100 }));
  const log = new MemoryLog({ partitions: 2 });
  const mat = await Materializer.start({ log, store });
  const cp = new Checkpointer(mat, store, { intervalMs: 20 });
  const expected = new Map<string, JsonObject>();
  const write = async (doc: string, patch: JsonObject) => {
    const r = await log.append(doc, encodeOp(JSON.stringify(patch), '', Date.now()));
    const seq = await mat.waitApplied(r.partition, r.offset);
    expected.set(doc, { ...(expected.get(doc) ?? {}), ...patch });
    return seq;
  };
  const ends = () => Promise.all([0, 1].map((p) => log.endOffset(p)));
  const coveredAll = async () => {
    const e = await ends();
    return () => e.every((off, p) => (store.committed.get(p) ?? 0n) >= off);
  };
  const consoleError = console.error;
  const errors: string[] = [];
  console.error = (...args: unknown[]) => errors.push(args.map(String).join(' '));
  try {
    cp.start();
    for (let i = 0; i < 20; i++) await write(`doc-${i}`, { i, phase: 1 });
    await store.until(await coveredAll());

    await server.stop();
    // ops on cached docs are still applied while Redis is down (their checkpoints fail and are retried)
    for (let i = 0; i < 10; i++) await write(`doc-${i}`, { phase: 2 });
    const failuresBefore = store.failures.length;
    await store.until(() => store.failures.length > failuresBefore);
    assert.match(store.failures.at(-1)!.message, /^redis snapshot store redis:\/\/127\.0\.0\.1:\d+: commit .*failed: not connected/);
    assert.ok(mat.dirtyCount > 0, 'uncheckpointed docs stay dirty');
    // a doc that is not cached needs the store: applying waits for Redis (backpressure, no loss)
    const fresh = write('fresh', { born: 'during the outage' });

    await server.restart();
    await fresh;
    await write('doc-0', { phase: 3 });
    await store.until(await coveredAll());
    assert.equal(mat.dirtyCount, 0);
    assert.match(errors.join('\n'), /checkpoint failed \(will retry\)/);
    assert.match(errors.join('\n'), /checkpoint recovered/);
    await cp.close();
    await mat.close();
  } finally {
    console.error = consoleError;
  }

  // everything is in Redis: a new store sees every doc at its latest state, covered = the log end
  const check = await RedisSnapshotStore.open({ url: server.url, log: quiet });
  const e = await ends();
  for (let p = 0; p < 2; p++) assert.equal(await check.covered(p), e[p]);
  for (const [doc, state] of expected) assert.deepEqual((await check.get(doc))?.state, state, doc);
  // and a restarted materializer starts from there with the same state
  const mat2 = await Materializer.start({ log, store: check });
  for (const [doc, state] of expected) assert.deepEqual((await mat2.read(doc)).state, state, doc);
  await mat2.close();
  await check.close();
  await store.close();
  await log.close();
  await server.close();
});
