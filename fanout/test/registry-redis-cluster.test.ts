/**
 * The Redis users besides the snapshot store on the deployments teams run: the replica registry
 * (scripts over an entry and the index, MGET over entries, pub/sub) and the connection directory
 * (MULTI over a gateway's hash and the index) on a real 3-master Redis Cluster, where a multi-key
 * command whose keys are in different slots fails with CROSSSLOT; and the registry's refusal of a
 * wrong ACL password over rediss://.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTestCertificates, startRedis, startRedisCluster, type RedisClusterSetup } from '@replicant/testkit';
import { RedisAuthError, RedisConnectionDirectory } from '@replicant/stream';
import type { ConnectionSummary } from '@replicant/protocol';
import { RedisRegistry } from '../src/registry-redis.js';
import type { Registry, ReplicaInfo } from '../src/registry.js';

const quiet = () => {};
const info = (id: string) => ({ id, address: `127.0.0.1:${7000 + id.length}`, partitions: [0, 1], load: 1 });

/** Resolves at the first change after which `pred` holds (at once if it already does). */
function until(reg: Registry, pred: (list: ReplicaInfo[]) => boolean, timeoutMs = 10_000): Promise<void> {
  if (pred(reg.list())) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out; view: ${JSON.stringify(reg.list().map((r) => r.id))}`));
    }, timeoutMs);
    const off = reg.onChange(() => {
      if (!pred(reg.list())) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

describe('on a 3-master Redis Cluster', () => {
  let cluster: RedisClusterSetup;
  before(async () => {
    cluster = await startRedisCluster();
  });
  after(async () => {
    await cluster?.close();
  });

  test('the replica registry: register, watch, deregister', async () => {
    const opts = { url: cluster.url, target: { cluster: true }, keyPrefix: 'rc:', ttlMs: 1500, log: quiet };
    const replica = new RedisRegistry(opts);
    const watcher = new RedisRegistry(opts);
    try {
      await watcher.start();
      await replica.register(info('alpha'));
      await replica.register(info('beta'));
      await until(watcher, (l) => l.length === 2);
      assert.deepEqual(watcher.list().map((r) => r.id), ['alpha', 'beta']);
      await replica.deregister('alpha');
      await until(watcher, (l) => l.length === 1 && l[0].id === 'beta');
    } finally {
      await replica.close();
      await watcher.close();
    }
  });

  test('the connection directory: publish and list', async () => {
    const dir = new RedisConnectionDirectory({ url: cluster.url, target: { cluster: true }, namespace: 'rc.docs' });
    try {
      // the client connects in the background; nothing is queued before it is ready (offline queue off)
      const summary = (id: string): ConnectionSummary => ({ id, gateway: id.split('.')[0], sub: 'u1', meta: {}, docs: 0, since: 0 });
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          await dir.publish('gw-a', [summary('gw-a.1.1'), summary('gw-a.1.2')], 10_000);
          break;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      await dir.publish('gw-b', [summary('gw-b.1.1')], 10_000);
      const page = await dir.list({ limit: 10, meta: {} });
      assert.deepEqual(page.connections.map((c) => c.id), ['gw-a.1.1', 'gw-a.1.2', 'gw-b.1.1']);
    } finally {
      dir.close();
    }
  });
});

test('the registry over rediss:// refuses a wrong ACL password at once, without echoing it', async () => {
  const certs = await makeTestCertificates();
  const server = await startRedis({ tls: certs, user: { name: 'reg', password: 'Right-Pass-77' } });
  try {
    const ok = new RedisRegistry({ url: server.url, target: { tlsCaFile: certs.caFile }, log: quiet });
    await ok.start();
    await ok.close();
    const bad = new RedisRegistry({ url: server.url.replace('Right-Pass-77', 'Wrong-Pass-78'), target: { tlsCaFile: certs.caFile }, connectTimeoutMs: 10_000, log: quiet });
    const started = Date.now();
    await assert.rejects(bad.start(), (err: Error) => {
      assert.ok(err instanceof RedisAuthError, String(err));
      assert.match(err.message, /^redis registry rediss:\/\/reg@127\.0\.0\.1:\d+: login refused \(WRONGPASS/);
      assert.doesNotMatch(err.message, /Pass-7/);
      return true;
    });
    assert.ok(Date.now() - started < 5_000);
    await bad.close();
  } finally {
    await server.close();
  }
});
