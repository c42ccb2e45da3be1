/**
 * A Redis snapshot store that loses its contents (restarted without persistence) under a running
 * origin. Before the lineage check, the origin's materializer would reload a document it had
 * evicted from memory from the (now empty) store as `{}` and keep folding new ops onto it, and its
 * checkpoints would advance covered offsets over snapshots that no longer exist: history silently
 * gone. Now the store notices (its lineage key is gone), the origin rebuilds its view from the log,
 * and every reader agrees with the fold of every acknowledged write.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, type RedisServer } from '@replicant/testkit';
import { applyMergePatch, type JsonObject } from '@replicant/protocol';
import {
  RedisSnapshotStore,
  SnapshotStoreLostError,
  MemorySnapshotStore,
  MemoryLog,
  encodeOp,
  type SnapshotStore,
  type DocSnapshot,
} from '@replicant/stream';
import { deferred } from '@replicant/testkit';
import { Materializer } from '../src/materializer.js';
import { Origin, OriginError } from '../src/origin.js';

const quiet = () => {};

describe('snapshot store loss (Redis restarted without persistence) under a running origin', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis(); // no persistence: a restart starts empty
  });
  after(async () => {
    await server?.close();
  });

  test('the origin rebuilds from the log; evicted documents keep their history; checkpoints are consistent again', async (t) => {
    const log = new MemoryLog({ partitions: 4 });
    const store = await RedisSnapshotStore.open({ url: server.url, log: quiet, maxReconnectDelayMs: 50 });
    // a reader of the same store, as a replica would hold one
    const reader = await RedisSnapshotStore.open({ url: server.url, log: quiet, maxReconnectDelayMs: 50 });
    const logged: string[] = [];
    const consoleError = console.error;
    console.error = (...args: unknown[]) => logged.push(args.map(String).join(' '));
    // 4 cached documents out of 40: most are evicted and must come back from the store
    const origin = await Origin.start({ log, store, checkpointIntervalMs: 20, docCacheSize: 4 });
    const model = new Map<string, JsonObject>();
    let shed = 0;
    const write = async (doc: string, patch: JsonObject, key: string) => {
      for (let attempt = 0; ; attempt++) {
        try {
          const seq = await origin.write(doc, JSON.stringify(patch), key);
          model.set(doc, applyMergePatch(model.get(doc) ?? {}, patch) as JsonObject);
          return seq;
        } catch (err) {
          // while the view is rebuilt (or Redis restarts) writes answer 503: retry with the same key
          assert.ok(err instanceof OriginError && err.status === 503, String(err));
          assert.ok(attempt < 200, 'write kept failing');
          shed++;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const docs = Array.from({ length: 40 }, (_, i) => `loss-${i}`);
    try {
      for (let round = 0; round < 3; round++) {
        await Promise.all(docs.map((d, i) => write(d, { [`before${round}`]: i, last: round }, `${d}-b${round}`)));
      }
      await origin.checkpoint();
      assert.equal(origin.materializer.dirtyCount, 0);
      assert.ok(origin.materializer.cachedCount <= 4, 'most documents live only in the store now');
      const coveredBefore = await reader.covered(log.partitionOf(docs[0]));
      assert.ok(coveredBefore > 0n);

      await server.restart(); // empty: snapshots, covered offsets and the lineage are gone
      await store.whenReady(5_000);
      await reader.whenReady(5_000);

      // every document gets more writes; most of them were evicted from origin's memory
      for (let round = 0; round < 2; round++) {
        await Promise.all(docs.map((d, i) => write(d, { [`after${round}`]: i, last: 10 + round }, `${d}-a${round}`)));
      }
      await origin.whenServing();
      assert.equal(origin.rebuilds, 1, 'one rebuild');
      assert.match(logged.join('\n'), /snapshots and covered offsets of topic replicant\.docs are gone.*rebuilding the materialized view from the log/);
      assert.match(logged.join('\n'), /materialized view rebuilt from the log/);

      // origin's state is the fold of every acknowledged write, history before the loss included
      for (const d of docs) assert.deepEqual((await origin.read(d)).state, model.get(d), d);

      // the reader noticed once (a covered offset from before must not be mixed with what follows),
      // then reads the new contents consistently
      await assert.rejects(reader.covered(0), SnapshotStoreLostError);
      await reader.covered(0);

      // after a checkpoint the store is consistent: a fresh materializer from its snapshots and
      // covered offsets (not from offset 0) computes the same documents
      await origin.checkpoint();
      const fresh = await Materializer.start({ log, store: reader });
      try {
        for (const d of docs) assert.deepEqual((await fresh.read(d)).state, model.get(d), `fresh reader: ${d}`);
      } finally {
        await fresh.close();
      }
    } finally {
      console.error = consoleError;
      await origin.close();
      await reader.close();
    }
    t.diagnostic(`${shed} write attempts answered 503 during the restart and rebuild (retried with the same key)`);
  });
});

/**
 * A memory store that can lose everything on demand, like a Redis restarted without persistence:
 * after lose(), every call fails with SnapshotStoreLostError until adopt(). Loads can be held at a
 * gate, so a loss can be reported while a view is being built.
 */
class LossyStore implements SnapshotStore {
  inner = new MemorySnapshotStore();
  private lost?: SnapshotStoreLostError;
  private readonly listeners: ((err: Error) => void)[] = [];
  gate?: Promise<void>;
  /** resolves when a get() waits at the gate */
  held = deferred();
  losses = 0;

  lose(): void {
    this.inner = new MemorySnapshotStore();
    this.lost = new SnapshotStoreLostError(`lossy store: contents gone (${++this.losses})`);
    for (const l of this.listeners) l(this.lost);
  }
  private check(): void {
    if (this.lost) throw this.lost;
  }
  async get(docId: string): Promise<DocSnapshot | undefined> {
    this.check();
    if (this.gate) {
      this.held.resolve();
      await this.gate;
    }
    this.check();
    return this.inner.get(docId);
  }
  async commit(snapshots: DocSnapshot[], covered: Map<number, bigint>): Promise<void> {
    this.check();
    await this.inner.commit(snapshots, covered);
  }
  async covered(partition: number): Promise<bigint> {
    this.check();
    return this.inner.covered(partition);
  }
  async close(): Promise<void> {}
  onLoss(listener: (err: Error) => void): void {
    this.listeners.push(listener);
  }
  async adopt(): Promise<void> {
    this.lost = undefined;
  }
}

describe('origin rebuilds: a loss reported while a view is being built starts it over', () => {
  const quietly = async <T>(fn: () => Promise<T>): Promise<T> => {
    const consoleError = console.error;
    console.error = () => {};
    try {
      return await fn();
    } finally {
      console.error = consoleError;
    }
  };

  test('a second loss during the rebuild, and a loss during start: one consistent view, every write kept', async () => {
    await quietly(async () => {
      const log = new MemoryLog({ partitions: 2 });
      const store = new LossyStore();
      const model = new Map<string, JsonObject>();
      const docs = Array.from({ length: 10 }, (_, i) => `r-${i}`);
      const check = async (o: Origin, what: string) => {
        for (const d of docs) assert.deepEqual((await o.read(d)).state, model.get(d), `${what}: ${d}`);
      };
      const write = async (o: Origin, round: number) => {
        for (const d of docs) {
          const patch = { [`k${round}`]: round, last: round };
          await o.write(d, JSON.stringify(patch), `${d}-${round}`);
          model.set(d, applyMergePatch(model.get(d) ?? {}, patch) as JsonObject);
        }
      };

      const origin = await Origin.start({ log, store, checkpointIntervalMs: 1_000_000, docCacheSize: 2 });
      await write(origin, 0);
      await write(origin, 1);
      await origin.checkpoint();

      // loss 1 starts a rebuild; hold its loads, then loss 2 while it catches up
      let release!: () => void;
      store.gate = new Promise<void>((r) => (release = r));
      store.held = deferred();
      store.lose();
      assert.equal(origin.isRebuilding, true);
      await assert.rejects(origin.write('r-0', '{"x":1}', 'during'), (err: unknown) => err instanceof OriginError && err.status === 503);
      await store.held.promise;
      store.held = deferred();
      store.lose();
      await store.held.promise; // the view started over and reached the store again
      store.gate = undefined;
      release();
      await origin.whenServing();
      assert.equal(origin.rebuilds, 1, 'the second loss restarted the rebuild instead of finishing on stale contents');
      await check(origin, 'after two losses');
      await write(origin, 2);
      await check(origin, 'after more writes');
      await origin.close();

      // a loss while a fresh origin catches up at start: start() starts over and returns a good view
      // (a new log and store: close() closed the first ones)
      const log2 = new MemoryLog({ partitions: 2 });
      const store2 = new LossyStore();
      for (let i = 0; i < 30; i++) {
        await log2.append(docs[i % docs.length], encodeOp(JSON.stringify({ [`s${i}`]: i }), `s-${i}`, 0));
      }
      const model2 = new Map<string, JsonObject>();
      for (let i = 0; i < 30; i++) model2.set(docs[i % docs.length], { ...model2.get(docs[i % docs.length]), [`s${i}`]: i });
      store2.gate = new Promise<void>((r) => (release = r));
      const starting = Origin.start({ log: log2, store: store2, checkpointIntervalMs: 1_000_000, docCacheSize: 2 });
      await store2.held.promise;
      store2.held = deferred();
      store2.lose();
      await store2.held.promise;
      store2.gate = undefined;
      release();
      const again = await starting;
      assert.equal(again.isRebuilding, false);
      assert.equal(store2.losses, 1);
      for (const d of docs) assert.deepEqual((await again.read(d)).state, model2.get(d), `started through a loss: ${d}`);
      await again.close();
    });
  });
});
