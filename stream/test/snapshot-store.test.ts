/**
 * The SnapshotStore contract, run against every implementation: in-memory, file, and the Redis
 * store on a real redis-server (one server for the file, a fresh key prefix per test), on a real
 * 3-master Redis Cluster (a fresh topic per test, so the tests' hash tags land on different
 * masters) and through Redis Sentinel (master + replica, every write WAITs for the replica).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, readFileSync } from 'node:fs';
import { mkdtemp, open, readFile, readdir, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SnapshotStore } from '../src/snapshot-store.js';
import type { DocSnapshot } from '../src/doc-state.js';
import { MemorySnapshotStore } from '../src/snapshot-store-memory.js';
import { FileSnapshotStore } from '../src/snapshot-store-file.js';
import { decodeSnapshot, encodeSnapshot } from '../src/snapshot-codec.js';
import { startRedis, startRedisCluster, startRedisSentinel, withTempDir, type RedisClusterSetup, type RedisSentinelSetup, type RedisServer } from '@replicant/testkit';
import { RedisSnapshotStore } from '../src/snapshot-store-redis.js';

let redis: Promise<RedisServer> | undefined;
let cluster: Promise<RedisClusterSetup> | undefined;
let sentinel: Promise<RedisSentinelSetup> | undefined;
let prefixes = 0;
after(async () => {
  await (await redis)?.close();
  await (await cluster)?.close();
  await (await sentinel)?.close();
});

const BIG = (1n << 60n) + 7n; // past 2^53: must survive as a decimal string

const IMPLS: [string, () => Promise<{ store: SnapshotStore; cleanup(): Promise<void> }>][] = [
  ['MemorySnapshotStore', async () => ({ store: new MemorySnapshotStore(), cleanup: async () => {} })],
  [
    'FileSnapshotStore',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'replicant-snap-'));
      return { store: await FileSnapshotStore.open({ dir }), cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  ],
  [
    'RedisSnapshotStore',
    async () => {
      redis ??= startRedis();
      const server = await redis;
      const store = await RedisSnapshotStore.open({ url: server.url, keyPrefix: `contract${++prefixes}:`, log: () => {} });
      return { store, cleanup: async () => {} };
    },
  ],
  [
    'RedisSnapshotStore on a Redis Cluster',
    async () => {
      cluster ??= startRedisCluster();
      const c = await cluster;
      const n = ++prefixes;
      const store = await RedisSnapshotStore.open({ url: c.url, target: { cluster: true }, keyPrefix: `contract${n}:`, topic: `topic-${n}`, log: () => {} });
      return { store, cleanup: async () => {} };
    },
  ],
  [
    'RedisSnapshotStore through Redis Sentinel',
    async () => {
      sentinel ??= startRedisSentinel();
      const s = await sentinel;
      const store = await RedisSnapshotStore.open({
        url: 'redis://sentinel-master',
        target: { sentinels: s.sentinels, sentinelMaster: s.masterName },
        waitReplicas: 1,
        keyPrefix: `contract${++prefixes}:`,
        log: () => {},
      });
      return { store, cleanup: async () => {} };
    },
  ],
];

function snap(doc: string, seq: bigint, state: DocSnapshot['state'], keys: [string, bigint][] = []): DocSnapshot {
  return { doc, seq, state, keys };
}

for (const [name, open] of IMPLS) {
  describe(`${name} (SnapshotStore contract)`, () => {
    test('unknown docs and partitions: undefined and 0n', async () => {
      const { store, cleanup } = await open();
      try {
        assert.equal(await store.get('nope'), undefined);
        assert.equal(await store.covered(0), 0n);
      } finally {
        await store.close();
        await cleanup();
      }
    });

    test('commit stores snapshots (bigints intact) and advances covered offsets', async () => {
      const { store, cleanup } = await open();
      try {
        const a = snap('doc-a', BIG, { x: { y: [1, 'two', null] }, s: 'é ☺' }, [['k1', 5n], ['k2', BIG]]);
        const b = snap('Doc:B~1.2_x-y', 3n, {});
        await store.commit([a, b], new Map([[0, BIG], [2, 9n]]));
        assert.deepEqual(await store.get('doc-a'), a);
        assert.deepEqual(await store.get('Doc:B~1.2_x-y'), b);
        assert.equal(await store.covered(0), BIG);
        assert.equal(await store.covered(1), 0n);
        assert.equal(await store.covered(2), 9n);
        // a later commit replaces snapshots; covered offsets never move backwards
        const a2 = snap('doc-a', BIG + 1n, { x: 1 });
        await store.commit([a2], new Map([[0, 5n], [1, 4n]]));
        assert.deepEqual(await store.get('doc-a'), a2);
        assert.equal(await store.covered(0), BIG);
        assert.equal(await store.covered(1), 4n);
        // the store keeps its own copy
        a2.state.x = 2;
        assert.deepEqual((await store.get('doc-a'))?.state, { x: 1 });
      } finally {
        await store.close();
        await cleanup();
      }
    });

    test('docs differing only by case are distinct', async () => {
      const { store, cleanup } = await open();
      try {
        await store.commit([snap('Abc', 1n, { v: 'upper' }), snap('abc', 2n, { v: 'lower' })], new Map());
        assert.deepEqual((await store.get('Abc'))?.state, { v: 'upper' });
        assert.deepEqual((await store.get('abc'))?.state, { v: 'lower' });
      } finally {
        await store.close();
        await cleanup();
      }
    });
  });
}

test('snapshot codec writes bigints as decimal strings', () => {
  const s = snap('d', BIG, { a: 1 }, [['k', 12n]]);
  const text = encodeSnapshot(s);
  assert.equal(text, `{"doc":"d","seq":"${BIG}","state":{"a":1},"keys":[["k","12"]]}`);
  assert.deepEqual(decodeSnapshot(text), s);
  assert.throws(() => decodeSnapshot('{"doc":"d","seq":12,"state":{},"keys":[]}'));
  assert.throws(() => decodeSnapshot('{"doc":"d","seq":"1","state":[],"keys":[]}'));
});

test('MemorySnapshotStore: a failed commit changes nothing', async () => {
  const store = new MemorySnapshotStore();
  store.failNextCommit(new Error('down'));
  await assert.rejects(store.commit([snap('d', 1n, {})], new Map([[0, 1n]])), /down/);
  assert.equal(await store.get('d'), undefined);
  assert.equal(await store.covered(0), 0n);
  await store.commit([snap('d', 1n, {})], new Map([[0, 1n]]));
  assert.equal(store.commits, 1);
});

test('FileSnapshotStore persists across reopen, sharded, with no temp files left', async () => {
  await withTempDir(async (dir) => {
    const store = await FileSnapshotStore.open({ dir, concurrency: 4 });
    const snaps = Array.from({ length: 50 }, (_, i) => snap(`doc-${i}`, BigInt(i + 1), { i }, [[`k${i}`, BigInt(i + 1)]]));
    await store.commit(snaps, new Map([[0, 40n], [1, 10n]]));
    await store.close();
    await assert.rejects(store.commit([], new Map()), /closed/);

    const again = await FileSnapshotStore.open({ dir });
    for (const s of snaps) assert.deepEqual(await again.get(s.doc), s);
    assert.equal(await again.covered(0), 40n);
    assert.equal(await again.covered(1), 10n);
    await again.close();

    const root = join(dir, 'snapshots');
    assert.deepEqual(JSON.parse(await readFile(join(root, 'covered.json'), 'utf8')), { '0': '40', '1': '10' });
    const shards = (await readdir(root)).filter((n) => n !== 'covered.json');
    assert.ok(shards.length > 1 && shards.every((n) => /^[0-9a-f]{2}$/.test(n)));
    for (const shard of shards) {
      for (const f of await readdir(join(root, shard))) assert.match(f, /^[0-9a-f]{64}\.s[01]$/);
    }
    assert.ok(!(await readdir(root)).some((n) => n.endsWith('.tmp')));
  });
});

test('FileSnapshotStore writes each snapshot and covered.json O_DSYNC, with no fdatasync after the write', async () => {
  await withTempDir(async (dir) => {
    const store = await FileSnapshotStore.open({ dir });
    // FileHandle's prototype, shared by every handle: count datasyncs, read each written fd's open
    // flags from /proc/self/fdinfo (octal) while it is open
    const probe = await open(dir, 'r');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void>; write: (...a: unknown[]) => Promise<unknown> };
    await probe.close();
    const { datasync, write } = proto;
    let datasyncs = 0;
    const writeFlags: number[] = [];
    proto.datasync = function (this: FileHandle) {
      datasyncs++;
      return datasync.call(this);
    };
    proto.write = function (this: FileHandle, ...a: unknown[]) {
      writeFlags.push(parseInt(/flags:\s+([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${this.fd}`, 'utf8'))![1], 8));
      return write.apply(this, a);
    };
    const snaps = Array.from({ length: 5 }, (_, i) => snap(`dsync-${i}`, BigInt(i + 1), { i }));
    try {
      await store.commit(snaps, new Map([[0, 5n]]));
    } finally {
      proto.datasync = datasync;
      proto.write = write;
    }
    assert.equal(writeFlags.length, 6, 'five snapshots and covered.json');
    assert.ok(writeFlags.every((f) => (f & constants.O_DSYNC) === constants.O_DSYNC), 'every file is written O_DSYNC');
    assert.equal(datasyncs, 0, 'no fdatasync after an O_DSYNC write');
    await store.close();
    const again = await FileSnapshotStore.open({ dir });
    for (const s of snaps) assert.deepEqual(await again.get(s.doc), s);
    assert.equal(await again.covered(0), 5n);
    await again.close();
  });
});

test('FileSnapshotStore: concurrent commits are serialized; the newest snapshot of a doc in a batch wins', async () => {
  await withTempDir(async (dir) => {
    const store = await FileSnapshotStore.open({ dir });
    await Promise.all([
      store.commit([snap('d', 1n, { v: 1 }), snap('d', 3n, { v: 3 }), snap('d', 2n, { v: 2 })], new Map([[0, 3n]])),
      store.commit([snap('e', 1n, { v: 1 })], new Map([[0, 4n]])),
    ]);
    assert.deepEqual((await store.get('d'))?.state, { v: 3 });
    assert.deepEqual((await store.get('e'))?.state, { v: 1 });
    assert.equal(await store.covered(0), 4n);
    await store.close();
  });
});
