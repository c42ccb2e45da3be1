/**
 * The Redis snapshot store on the Redis deployments teams run: rediss:// with an ACL user (a test
 * CA made with openssl); Redis Sentinel with a master failover during writes (SENTINEL FAILOVER,
 * then a SIGKILLed master); a Redis Cluster with replicas whose master of the store's slot is
 * SIGKILLed during writes. No commit the store acknowledged is lost (every write WAITs for the
 * replica), and a commit no replica got is not acknowledged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deferred, makeTestCertificates, startRedis, startRedisCluster, startRedisSentinel } from '@replicant/testkit';
import { RedisSnapshotStore } from '../src/snapshot-store-redis.js';
import { RedisAuthError } from '../src/redis.js';
import type { DocSnapshot } from '../src/doc-state.js';

const quiet = () => {};
const snap = (doc: string, seq: bigint): DocSnapshot => ({ doc, seq, state: { seq: Number(seq) }, keys: [] });

test('rediss:// with an ACL user: verified against REDIS_TLS_CA_FILE; a wrong password fails at once, never echoed', async () => {
  const certs = await makeTestCertificates();
  const server = await startRedis({ tls: certs, user: { name: 'replicant', password: 'acl-Secret-42' } });
  try {
    assert.match(server.url, /^rediss:\/\/replicant:acl-Secret-42@127\.0\.0\.1:\d+$/);
    const store = await RedisSnapshotStore.open({ url: server.url, target: { tlsCaFile: certs.caFile }, log: quiet });
    try {
      await store.commit([snap('d', 3n)], new Map([[0, 4n]]));
      assert.deepEqual(await store.get('d'), snap('d', 3n));
      assert.equal(store.url, `rediss://replicant@127.0.0.1:${server.port}`);
    } finally {
      await store.close();
    }
    const started = Date.now();
    await assert.rejects(
      RedisSnapshotStore.open({ url: server.url.replace('acl-Secret-42', 'wrong-Secret-99'), target: { tlsCaFile: certs.caFile }, connectTimeoutMs: 10_000, log: quiet }),
      (err: Error) => {
        assert.ok(err instanceof RedisAuthError, String(err));
        assert.match(err.message, /^redis snapshot store rediss:\/\/replicant@127\.0\.0\.1:\d+: login refused \(WRONGPASS/);
        assert.doesNotMatch(err.message, /Secret/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 5_000, 'refused at once, not after the connect timeout');
    // without the CA the server's certificate is not trusted: no connection
    await assert.rejects(RedisSnapshotStore.open({ url: server.url, connectTimeoutMs: 1_000, log: quiet }), /not reachable within 1000 ms \(.*(self[- ]signed|unable to verify)/i);
  } finally {
    await server.close();
  }
});

/**
 * Commits (16 docs, seq and covered offset increasing) in a loop while `faults` runs; `ackedAfter(n)`
 * resolves once n more commits were acknowledged. Then every acknowledged commit must be readable
 * through `check` (a second store on the same Redis).
 */
async function writeThroughFaults(
  store: RedisSnapshotStore,
  check: RedisSnapshotStore,
  faults: (ackedAfter: (n: number) => Promise<void>) => Promise<void>,
): Promise<void> {
  const acked = new Map<string, bigint>();
  let ackedCovered = 0n;
  let ackedCount = 0;
  let failed = 0;
  let seq = 0n;
  let stop = false;
  let waiter: { target: number; resolve(): void } | undefined;
  const writer = (async () => {
    while (!stop) {
      const n = ++seq;
      const doc = `doc-${n % 16n}`;
      try {
        await store.commit([snap(doc, n)], new Map([[0, n]]));
        acked.set(doc, n);
        ackedCovered = n;
        ackedCount++;
        if (waiter && ackedCount >= waiter.target) waiter.resolve();
      } catch {
        failed++;
        await new Promise((r) => setTimeout(r, 20)); // a failing Redis answers at once: do not spin
      }
    }
  })();
  const ackedAfter = async (count: number) => {
    const d = deferred();
    waiter = { target: ackedCount + count, resolve: d.resolve };
    // bounded: a store that never recovers fails the test instead of hanging it
    const timer = setTimeout(() => d.reject(new Error(`no ${count} more acknowledged commits within 60 s (${ackedCount} acknowledged, ${failed} failed)`)), 60_000);
    try {
      await d.promise;
    } finally {
      clearTimeout(timer);
      waiter = undefined;
    }
  };
  try {
    await faults(ackedAfter);
  } finally {
    stop = true;
    await writer;
  }
  for (const [doc, n] of acked) {
    const got = await check.get(doc);
    assert.ok(got !== undefined && got.seq >= n, `${doc}: acknowledged seq ${n}, stored ${got?.seq}`);
  }
  assert.ok((await check.covered(0)) >= ackedCovered);
  assert.ok(acked.size === 16 && ackedCount >= 100, `${ackedCount} acknowledged, ${failed} failed`);
}

test('Sentinel: a master failover during writes (SENTINEL FAILOVER, then SIGKILL) loses no acknowledged commit', async () => {
  const s = await startRedisSentinel();
  const opts = { url: 'redis://sentinel', target: { sentinels: s.sentinels, sentinelMaster: s.masterName }, waitReplicas: 1, log: quiet };
  const store = await RedisSnapshotStore.open({ ...opts, commandTimeoutMs: 2_000 });
  const check = await RedisSnapshotStore.open(opts);
  try {
    await writeThroughFaults(store, check, async (ackedAfter) => {
      await ackedAfter(50);
      await s.failover();
      await ackedAfter(50);
      await s.killMaster();
      // the promoted master has no replica now: nothing it writes is acknowledged
      await check.whenReady(10_000);
      await assert.rejects(check.commit([snap('lonely', 1n)], new Map()), /acknowledged by 0 of 1 replicas/);
      // the killed server comes back (empty: no persistence) and the sentinel makes it a replica
      const dead = (await s.masterPort()) === s.master.port ? s.replica : s.master;
      await dead.restart();
      await ackedAfter(50);
    });
  } finally {
    await check.close();
    await store.close();
    await s.close();
  }
});

test('Redis Cluster: the master of the store\'s slot SIGKILLed during writes; no acknowledged commit lost', async () => {
  const c = await startRedisCluster({ replicas: 1 });
  const opts = { url: c.url, target: { cluster: true }, topic: 'failover.docs', waitReplicas: 1, log: quiet };
  const store = await RedisSnapshotStore.open({ ...opts, commandTimeoutMs: 2_000 });
  const check = await RedisSnapshotStore.open(opts);
  try {
    await writeThroughFaults(store, check, async (ackedAfter) => {
      await ackedAfter(50);
      const victim = await c.killMasterOf('{failover.docs}');
      // back (its nodes.conf kept): it rejoins as the new master's replica, and WAIT is answered again
      await victim.restart();
      await ackedAfter(50);
    });
  } finally {
    await check.close();
    await store.close();
    await c.close();
  }
});
