import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, redisPerSuite, startRedis } from '@replicant/testkit';
import type { RedisServer } from '@replicant/testkit';
import type { DocSnapshot } from '../src/doc-state.js';
import { SnapshotStoreLostError } from '../src/snapshot-store.js';
import { RedisSnapshotStore } from '../src/snapshot-store-redis.js';
import type { RedisSnapshotStoreOptions } from '../src/snapshot-store-redis.js';
import { RedisLayoutError } from '../src/redis.js';

const BIG = (1n << 60n) + 7n; // past 2^53: must survive as a decimal string
const MAX_U64 = (1n << 64n) - 1n;
const quiet = () => {};

function snap(doc: string, seq: bigint, state: DocSnapshot['state'], keys: [string, bigint][] = []): DocSnapshot {
  return { doc, seq, state, keys };
}

let prefixes = 0;
/** every test gets its own key prefix, so tests sharing a server never see each other's keys */
function open(server: RedisServer, opts: Partial<RedisSnapshotStoreOptions> = {}): Promise<RedisSnapshotStore> {
  return RedisSnapshotStore.open({ url: server.url, keyPrefix: `t${++prefixes}:`, log: quiet, maxReconnectDelayMs: 100, ...opts });
}

/** two stores on one prefix: what two checkpointers of one topic are */
async function twoCheckpointers(server: RedisServer): Promise<[RedisSnapshotStore, RedisSnapshotStore]> {
  const s1 = await open(server);
  return [s1, await RedisSnapshotStore.open({ url: server.url, keyPrefix: `t${prefixes}:`, log: quiet })];
}

describe('RedisSnapshotStore on one redis-server', () => {
  const redis = redisPerSuite();

  test('snapshots in the old key layout (before hash tags) stop open() with a clear error; moved as docs/operations.md says, they are read', async () => {
    const raw = redis.raw;
    await raw.hset('old:snap:d1', 'seq', '7', 'json', '{"doc":"d1","seq":"7","state":{"a":1},"keys":[]}');
    await raw.hset('old:covered:replicant.docs', '0', '8');
    await raw.set('old:lineage:replicant.docs', 'abcdef:3');
    await assert.rejects(RedisSnapshotStore.open({ url: redis.server.url, keyPrefix: 'old:', log: quiet }), (err: Error) => {
      assert.ok(err instanceof RedisLayoutError, String(err));
      assert.match(err.message, /holds snapshots of topic replicant\.docs in the old key layout .* move them to the hash-tagged layout with every Replicant process stopped/);
      return true;
    });
    assert.equal(await raw.exists('old:{replicant.docs}:lineage'), 0, 'no fresh lineage was created beside the old one');
    // the procedure of docs/operations.md: every snap key, then covered, then lineage
    for (const k of await raw.keys('old:snap:*')) await raw.rename(k, `old:{replicant.docs}:snap:${k.slice('old:snap:'.length)}`);
    await raw.rename('old:covered:replicant.docs', 'old:{replicant.docs}:covered');
    await raw.rename('old:lineage:replicant.docs', 'old:{replicant.docs}:lineage');
    const store = await RedisSnapshotStore.open({ url: redis.server.url, keyPrefix: 'old:', log: quiet });
    try {
      assert.deepEqual(await store.get('d1'), snap('d1', 7n, { a: 1 }));
      assert.equal(await store.covered(0), 8n);
    } finally {
      await store.close();
    }
  });

  test('round trip: bigints intact, unknown docs and partitions are undefined and 0n, own copies', async () => {
    const store = await open(redis.server);
    try {
      assert.equal(store.ready, true);
      assert.equal(await store.get('nope'), undefined);
      assert.equal(await store.covered(0), 0n);
      const a = snap('doc-a', BIG, { x: { y: [1, 'two', null] }, s: 'é ☺' }, [['k1', 5n], ['k2', BIG]]);
      const b = snap('Doc:B~1.2_x-y', 3n, {});
      const c = snap('doc-c', MAX_U64, { top: true });
      await store.commit([a, b, c], new Map([[0, BIG], [2, 9n], [3, MAX_U64]]));
      assert.deepEqual(await store.get('doc-a'), a);
      assert.deepEqual(await store.get('Doc:B~1.2_x-y'), b);
      assert.deepEqual(await store.get('doc-c'), c);
      assert.equal(await store.covered(0), BIG);
      assert.equal(await store.covered(1), 0n);
      assert.equal(await store.covered(2), 9n);
      assert.equal(await store.covered(3), MAX_U64);
      a.state.x = 2;
      assert.deepEqual((await store.get('doc-a'))?.state, { x: { y: [1, 'two', null] }, s: 'é ☺' });
      // docs differing only by case are distinct
      await store.commit([snap('Abc', 1n, { v: 'upper' }), snap('abc', 2n, { v: 'lower' })], new Map());
      assert.deepEqual((await store.get('Abc'))?.state, { v: 'upper' });
      assert.deepEqual((await store.get('abc'))?.state, { v: 'lower' });
    } finally {
      await store.close();
    }
  });

  test('key layout: <prefix>{<topic>}:snap:<doc> = {seq, json}; <prefix>{<topic>}:covered = partition -> offset (one hash tag: one Cluster slot)', async () => {
    const store = await RedisSnapshotStore.open({ url: redis.server.url, keyPrefix: 'layout:', topic: 'my.topic', log: quiet });
    const other = await RedisSnapshotStore.open({ url: redis.server.url, keyPrefix: 'layout:', topic: 'other.topic', log: quiet });
    try {
      await store.commit([snap('d1', 42n, { a: 1 })], new Map([[0, 43n], [5, 7n]]));
      assert.deepEqual(await redis.raw.hgetall('layout:{my.topic}:snap:d1'), {
        seq: '42',
        json: '{"doc":"d1","seq":"42","state":{"a":1},"keys":[]}',
      });
      assert.deepEqual(await redis.raw.hgetall('layout:{my.topic}:covered'), { '0': '43', '5': '7' });
      // covered offsets and snapshots are per topic (each topic's keys share its hash tag)
      assert.equal(await other.covered(0), 0n);
      assert.equal(await other.get('d1'), undefined);
      const defaults = await RedisSnapshotStore.open({ url: redis.server.url, log: quiet });
      await defaults.commit([], new Map([[1, 1n]]));
      assert.equal(await redis.raw.hget('replicant:{replicant.docs}:covered', '1'), '1');
      await redis.raw.del('replicant:{replicant.docs}:covered');
      await defaults.close();
    } finally {
      await store.close();
      await other.close();
    }
  });

  test('covered offsets never move backwards, also between two stores (two checkpointers)', async () => {
    const [s1, s2] = await twoCheckpointers(redis.server);
    try {
      await s1.commit([], new Map([[0, 10n], [1, 99n]]));
      await s2.commit([], new Map([[0, 5n], [1, 100n], [2, 1n]]));
      assert.equal(await s1.covered(0), 10n, 'a stale retry does not regress');
      assert.equal(await s1.covered(1), 100n);
      assert.equal(await s1.covered(2), 1n);
      // decimal comparison, not lexicographic: 9 < 10, and exact past 2^53
      await s1.commit([], new Map([[0, 9n]]));
      assert.equal(await s2.covered(0), 10n);
      await s1.commit([], new Map([[3, (1n << 53n) + 1n]]));
      await s2.commit([], new Map([[3, 1n << 53n]]));
      assert.equal(await s1.covered(3), (1n << 53n) + 1n);
      // interleaved concurrent commits end at the maximum
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? s1 : s2).commit([], new Map([[4, BigInt((i * 7919) % 1000)]]))),
      );
      assert.equal(await s1.covered(4), BigInt(Math.max(...Array.from({ length: 40 }, (_, i) => (i * 7919) % 1000))));
    } finally {
      await s1.close();
      await s2.close();
    }
  });

  test('an older snapshot never overwrites a newer one (seq compared as 64-bit decimals)', async () => {
    const [s1, s2] = await twoCheckpointers(redis.server);
    try {
      await s1.commit([snap('d', 10n, { v: 10 })], new Map());
      await s2.commit([snap('d', 9n, { v: 9 })], new Map());
      assert.deepEqual(await s1.get('d'), snap('d', 10n, { v: 10 }), '"9" > "10" as strings, yet 9 < 10');
      await s2.commit([snap('d', 11n, { v: 11 })], new Map());
      assert.equal((await s1.get('d'))?.seq, 11n);
      // the same seq again is accepted (deterministic materialization: same state)
      await s1.commit([snap('d', 11n, { v: 11 })], new Map());
      assert.deepEqual((await s1.get('d'))?.state, { v: 11 });
      // exact past 2^53, where doubles collapse neighbours
      const hi = (1n << 62n) + 1n;
      await s1.commit([snap('big', hi, { v: 'new' })], new Map());
      await s1.commit([snap('big', hi - 1n, { v: 'old' })], new Map());
      assert.deepEqual((await s1.get('big'))?.state, { v: 'new' });
      // within one batch the newest snapshot of a doc wins, whatever the order
      await s1.commit([snap('e', 3n, { v: 3 }), snap('e', 5n, { v: 5 }), snap('e', 4n, { v: 4 })], new Map());
      assert.deepEqual((await s1.get('e'))?.state, { v: 5 });
      // a mixed batch: the stale doc is skipped, the others are written
      await s1.commit([snap('d', 1n, { v: 1 }), snap('f', 1n, { v: 'f' })], new Map([[0, 2n]]));
      assert.deepEqual((await s1.get('d'))?.state, { v: 11 });
      assert.deepEqual((await s1.get('f'))?.state, { v: 'f' });
    } finally {
      await s1.close();
      await s2.close();
    }
  });

  test('large batches are chunked: every snapshot is stored', async () => {
    const store = await open(redis.server, { chunkSize: 64, chunkBytes: 4096, concurrency: 3 });
    try {
      const snaps = Array.from({ length: 1000 }, (_, i) => snap(`doc-${i}`, BigInt(i + 1), { i, pad: 'x'.repeat(i % 50) }));
      await store.commit(snaps, new Map([[0, 1001n]]));
      for (const i of [0, 1, 63, 64, 65, 500, 999]) assert.deepEqual(await store.get(`doc-${i}`), snaps[i]);
      const keys = await redis.raw.keys(`t${prefixes}:{replicant.docs}:snap:*`);
      assert.equal(keys.length, 1000);
      assert.equal(await store.covered(0), 1001n);
    } finally {
      await store.close();
    }
  });

  test('after close every call fails', async () => {
    const store = await open(redis.server);
    await store.close();
    await store.close();
    assert.equal(store.ready, false);
    await assert.rejects(store.commit([], new Map()), /redis snapshot store redis:\/\/127\.0\.0\.1:\d+: commit failed: store is closed/);
    await assert.rejects(store.get('d'), /store is closed/);
    await assert.rejects(store.covered(0), /store is closed/);
  });

  test('a stored snapshot under the wrong key, or unreadable, is reported, not returned', async () => {
    const store = await open(redis.server);
    try {
      await redis.raw.hset(`t${prefixes}:{replicant.docs}:snap:x`, 'seq', '1', 'json', '{"doc":"y","seq":"1","state":{},"keys":[]}');
      await assert.rejects(store.get('x'), /snapshot under x holds y/);
      await redis.raw.hset(`t${prefixes}:{replicant.docs}:snap:z`, 'seq', '1', 'json', '{"doc":"z"');
      await assert.rejects(store.get('z'), /redis snapshot store redis:\/\/127\.0\.0\.1:\d+: stored snapshot of z is unreadable/);
    } finally {
      await store.close();
    }
  });
});

test('open() fails after connectTimeoutMs when nothing listens, naming the URL without its password', async () => {
  const port = await freePort();
  const t0 = Date.now();
  await assert.rejects(
    RedisSnapshotStore.open({ url: `redis://app:s3cret@127.0.0.1:${port}/0`, connectTimeoutMs: 300, log: quiet }),
    (err: Error) => {
      assert.match(err.message, new RegExp(`redis snapshot store redis://app@127\\.0\\.0\\.1:${port}/0: not reachable within 300 ms`));
      assert.match(err.message, /ECONNREFUSED/);
      assert.doesNotMatch(err.message, /s3cret/);
      return true;
    },
  );
  assert.ok(Date.now() - t0 < 3_000);
});

test('Redis down: calls fail fast with a clear error (nothing queued); after a restart the same store works again', async () => {
  const server = await startRedis({ persistence: true });
  const logged: string[] = [];
  const store = await RedisSnapshotStore.open({ url: server.url, log: (m) => logged.push(m), maxReconnectDelayMs: 100 });
  try {
    await store.commit([snap('d', 1n, { v: 1 })], new Map([[0, 1n]]));
    await server.stop();
    // the client notices the closed connection asynchronously (bounded wait)
    const deadline = Date.now() + 5_000;
    while (store.ready && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.equal(store.ready, false);

    const t0 = performance.now();
    const attempts = Array.from({ length: 1000 }, (_, i) => store.commit([snap('d', BigInt(i + 2), { v: i + 2 })], new Map([[0, BigInt(i + 2)]])));
    const results = await Promise.allSettled(attempts);
    const elapsed = performance.now() - t0;
    assert.ok(results.every((r) => r.status === 'rejected'));
    const reason = (results[0] as PromiseRejectedResult).reason as Error;
    assert.match(
      reason.message,
      new RegExp(`^redis snapshot store ${server.url}: commit \\(1 snapshots\\) failed: not connected, reconnecting in the background`),
    );
    assert.ok(elapsed < 1_000, `1000 commits while down settled in ${elapsed.toFixed(0)} ms: they fail at once, not queued`);
    await assert.rejects(store.get('d'), /get d failed: not connected/);
    await assert.rejects(store.covered(0), /covered 0 failed: not connected/);
    assert.match(logged.join('\n'), /connection lost/);

    await server.restart();
    await store.whenReady(5_000);
    assert.equal(store.ready, true);
    assert.match(logged.join('\n'), /reconnected/);
    // nothing from the failed attempts reached Redis; the persisted state is intact
    assert.deepEqual(await store.get('d'), snap('d', 1n, { v: 1 }));
    assert.equal(await store.covered(0), 1n);
    // scripts are re-sent after the restart emptied the server's script cache
    await store.commit([snap('d', 5n, { v: 5 })], new Map([[0, 5n]]));
    assert.deepEqual((await store.get('d'))?.state, { v: 5 });
    assert.equal(await store.covered(0), 5n);
  } finally {
    await store.close();
    await server.close();
  }
});

describe('RedisSnapshotStore lineage: a store that lost its contents is noticed, never mixed', () => {
  const redis = redisPerSuite();

  test('<prefix>{<topic>}:lineage = <id>:<generation>; commits that advance covered offsets bump the generation', async () => {
    const store = await open(redis.server);
    try {
      const key = `t${prefixes}:{replicant.docs}:lineage`;
      const first = await redis.raw.get(key);
      assert.match(first ?? '', /^[0-9a-f]{16}:0$/);
      await store.commit([snap('d', 1n, {})], new Map());
      assert.equal(await redis.raw.get(key), first, 'snapshots alone do not bump it');
      await store.commit([], new Map([[0, 2n]]));
      await store.commit([], new Map([[0, 3n]]));
      assert.equal(await redis.raw.get(key), first!.replace(/:0$/, ':2'));
      // a second store (a replica) sees the same lineage and follows the generation
      const other = await RedisSnapshotStore.open({ url: redis.server.url, keyPrefix: `t${prefixes}:`, log: quiet });
      assert.equal(await other.covered(0), 3n);
      await store.commit([], new Map([[0, 4n]]));
      assert.equal(await other.covered(0), 4n);
      await other.close();
    } finally {
      await store.close();
    }
  });

  test('a reader: the first call after the loss fails, later calls read the new contents', async () => {
    const owner = await open(redis.server);
    const prefix = `t${prefixes}:`;
    const reader = await RedisSnapshotStore.open({ url: redis.server.url, keyPrefix: prefix, log: quiet });
    try {
      await owner.commit([snap('d', 5n, { v: 5 })], new Map([[0, 6n]]));
      assert.equal(await reader.covered(0), 6n);
      // gone: as after a restart without persistence (FLUSHALL on this prefix only)
      for (const k of await redis.raw.keys(`${prefix}*`)) await redis.raw.del(k);
      // a covered offset read before the loss must not be combined with a snapshot read after it
      await assert.rejects(reader.get('d'), (err: Error) => {
        assert.ok(err instanceof SnapshotStoreLostError);
        assert.match(err.message, /snapshots and covered offsets of topic replicant\.docs are gone/);
        return true;
      });
      assert.equal(await reader.get('d'), undefined);
      assert.equal(await reader.covered(0), 0n);
    } finally {
      await owner.close();
      await reader.close();
    }
  });

  test('the owner (onLoss): every call fails from the loss until adopt(); nothing is written meanwhile', async () => {
    const owner = await open(redis.server);
    const prefix = `t${prefixes}:`;
    const losses: Error[] = [];
    owner.onLoss((err) => losses.push(err));
    try {
      await owner.commit([snap('a', 1n, { v: 1 }), snap('b', 2n, { v: 2 })], new Map([[0, 3n]]));
      for (const k of await redis.raw.keys(`${prefix}*`)) await redis.raw.del(k);
      // a checkpoint after the loss would advance covered offsets over snapshots that are gone
      await assert.rejects(owner.commit([snap('a', 4n, { v: 4 })], new Map([[0, 5n]])), SnapshotStoreLostError);
      assert.equal(losses.length, 1);
      assert.deepEqual(await redis.raw.keys(`${prefix}*`), [], 'the failed commit wrote nothing');
      await assert.rejects(owner.get('a'), SnapshotStoreLostError);
      await assert.rejects(owner.covered(0), SnapshotStoreLostError);
      await owner.adopt();
      assert.equal(await owner.covered(0), 0n);
      assert.equal(await owner.get('a'), undefined);
      await owner.commit([snap('a', 4n, { v: 4 })], new Map([[0, 5n]]));
      assert.equal(await owner.covered(0), 5n);
      assert.equal(losses.length, 1);
    } finally {
      await owner.close();
    }
  });

  test('a rollback (restored from an older dump: lower generation) and a replaced lineage are noticed too', async () => {
    const owner = await open(redis.server);
    const prefix = `t${prefixes}:`;
    const key = `${prefix}{replicant.docs}:lineage`;
    const losses: string[] = [];
    owner.onLoss((err) => losses.push(err.message));
    try {
      await owner.commit([], new Map([[0, 1n]]));
      const dump = await redis.raw.get(key); // generation 1
      await owner.commit([], new Map([[0, 2n]]));
      await redis.raw.set(key, dump!);
      await assert.rejects(owner.covered(0), /went back in time \(generation 1 < 2/);
      await owner.adopt();
      assert.equal(await owner.covered(0), 2n);
      await redis.raw.set(key, 'someone-else:7');
      await assert.rejects(owner.get('x'), /were replaced \(lineage [0-9a-f]{16} -> someone-else\)/);
      assert.equal(losses.length, 2);
    } finally {
      await owner.close();
    }
  });
});
