/**
 * The Redis deployments teams run, from the Debian packages (redis-server, redis-sentinel,
 * redis-cli), for tests:
 *
 * - `startRedisSentinel()`: a master, one replica and one redis-sentinel watching them (quorum 1,
 *   down-after 1 s), so `SENTINEL FAILOVER` or a SIGKILLed master promotes the replica in seconds;
 * - `startRedisCluster()`: a 3-master Redis Cluster made with `redis-cli --cluster create`.
 *
 * Redis publishes no event for "replica in sync" or "cluster slots assigned", so readiness is polled
 * (bounded by a deadline): the INFO replication / CLUSTER INFO answers are the only signal there is.
 * Bounds: 3 processes (sentinel) or 3 (cluster); every data directory is removed by close() or at exit.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, halt, launch, ownDir, releaseDir, run } from './process.js';
import { startRedis, type RedisServer } from './redis-server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** polls `check` every 50 ms until it is true; rejects naming `what` after `ms` */
async function pollUntil(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`redis: ${what} not within ${ms} ms`);
    await sleep(50);
  }
}

async function ask<T>(url: string, f: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  r.on('error', () => {});
  try {
    await r.connect();
    return await f(r);
  } finally {
    r.disconnect();
  }
}

export interface RedisSentinelSetup {
  readonly master: RedisServer;
  readonly replica: RedisServer;
  /** `127.0.0.1:<port>` of the sentinel (REDIS_SENTINELS) */
  readonly sentinels: string[];
  /** the monitored master's name (REDIS_SENTINEL_MASTER) */
  readonly masterName: string;
  /** the port the sentinels name as master now */
  masterPort(): Promise<number>;
  /** SENTINEL FAILOVER; resolves once the sentinel names the other server as master */
  failover(): Promise<void>;
  /** SIGKILL the current master; resolves once the sentinel has promoted the replica */
  killMaster(): Promise<void>;
  close(): Promise<void>;
}

/** A master, its replica (in sync) and a sentinel that monitors them. */
export async function startRedisSentinel(opts: { masterName?: string } = {}): Promise<RedisSentinelSetup> {
  const masterName = opts.masterName ?? 'mymaster';
  const master = await startRedis({ persistence: false });
  const replica = await startRedis({ replicaOf: master.port });
  const dir = mkdtempSync(join(tmpdir(), 'replicant-sentinel-'));
  ownDir(dir);
  let sentinel: ChildProcess | undefined;
  const close = async () => {
    if (sentinel) await halt(sentinel, 'SIGTERM');
    sentinel = undefined;
    await Promise.all([master.close(), replica.close()]);
    releaseDir(dir);
  };
  try {
    await pollUntil(
      () => ask(replica.url, async (r) => /master_link_status:up/.test(await r.info('replication'))),
      15_000,
      'replica in sync with its master',
    );
    const port = await freePort();
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 1`,
        `sentinel down-after-milliseconds ${masterName} 1000`,
        `sentinel failover-timeout ${masterName} 10000`,
        `sentinel parallel-syncs ${masterName} 1`,
      ].join('\n') + '\n',
    );
    sentinel = await launch({
      name: `redis-sentinel on port ${port}`,
      bin: process.env.REDIS_SENTINEL_BIN ?? 'redis-sentinel',
      args: [conf],
      ready: /\+monitor master/,
      startTimeoutMs: 10_000,
      dieWithParent: true,
    });
    const sentinelUrl = `redis://127.0.0.1:${port}`;
    const masterPort = () =>
      ask(sentinelUrl, async (r) => Number(((await r.call('SENTINEL', 'get-master-addr-by-name', masterName)) as string[])[1]));
    // the sentinel must know the replica before it can fail over to it
    await pollUntil(
      () =>
        ask(sentinelUrl, async (r) => {
          const replicas = (await r.call('SENTINEL', 'replicas', masterName)) as string[][];
          if (replicas.length !== 1) return false;
          const f = new Map<string, string>();
          for (let i = 0; i + 1 < replicas[0].length; i += 2) f.set(replicas[0][i], replicas[0][i + 1]);
          return f.get('flags') === 'slave' && f.get('master-link-status') === 'ok';
        }),
      15_000,
      'sentinel discovering the replica',
    );
    const promoted = async (from: number) =>
      pollUntil(
        async () => {
          const p = await masterPort();
          if (p === from) return false;
          const to = p === master.port ? master : replica;
          return ask(to.url, async (r) => /role:master/.test(await r.info('replication')));
        },
        30_000,
        'the sentinel promoting the replica',
      );
    return {
      master,
      replica,
      sentinels: [`127.0.0.1:${port}`],
      masterName,
      masterPort,
      async failover() {
        const from = await masterPort();
        // NOGOODSLAVE while the sentinel's view of the replica is older than it accepts: ask again
        await pollUntil(
          () => ask(sentinelUrl, (r) => r.call('SENTINEL', 'FAILOVER', masterName)).then(() => true),
          15_000,
          'SENTINEL FAILOVER accepted',
        );
        await promoted(from);
      },
      async killMaster() {
        const from = await masterPort();
        await (from === master.port ? master : replica).kill9();
        await promoted(from);
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export interface RedisClusterSetup {
  readonly nodes: readonly RedisServer[];
  /** `redis://127.0.0.1:<port>` of the first node: a seed (REDIS_URL with REDIS_CLUSTER=true) */
  readonly url: string;
  /** the node serving `key`'s slot as master now */
  masterOf(key: string): Promise<RedisServer>;
  /**
   * SIGKILL the master of `key`'s slot; resolves once a replica serves the slot (the cluster's own
   * failover, cluster-node-timeout 2 s). Needs `replicas`.
   */
  killMasterOf(key: string): Promise<RedisServer>;
  close(): Promise<void>;
}

/**
 * Three cluster-enabled masters (each with `replicas` replicas, default 0), slots spread by
 * `redis-cli --cluster create`; resolves once the cluster is ok on every node.
 */
export async function startRedisCluster(opts: { replicas?: number } = {}): Promise<RedisClusterSetup> {
  const replicas = opts.replicas ?? 0;
  const nodes: RedisServer[] = [];
  const close = async () => {
    await Promise.all(nodes.map((n) => n.close()));
  };
  /** the port serving `slot` as master, as a running node says */
  const slotMaster = async (slot: number): Promise<number> => {
    for (const n of nodes) {
      if (!n.running) continue;
      const slots = (await ask(n.url, (r) => r.call('CLUSTER', 'SLOTS'))) as [number, number, [string, number]][];
      const range = slots.find(([from, to]) => from <= slot && slot <= to);
      if (range) return range[2][1];
    }
    throw new Error('redis cluster: no running node answers CLUSTER SLOTS');
  };
  const slotOf = async (key: string) => (await ask(nodes.find((n) => n.running)!.url, (r) => r.call('CLUSTER', 'KEYSLOT', key))) as number;
  const byPort = (port: number) => {
    const n = nodes.find((x) => x.port === port);
    if (!n) throw new Error(`redis cluster: no node on port ${port}`);
    return n;
  };
  try {
    for (let i = 0; i < 3 * (1 + replicas); i++) nodes.push(await startRedis({ cluster: true }));
    await run('redis-cli --cluster create', process.env.REDIS_CLI_BIN ?? 'redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ], 60_000);
    await pollUntil(
      async () => {
        for (const n of nodes) {
          const info = await ask(n.url, (r) => r.call('CLUSTER', 'INFO') as Promise<string>);
          if (!/cluster_state:ok/.test(info) || !new RegExp(`cluster_known_nodes:${nodes.length}\\b`).test(info)) return false;
        }
        return true;
      },
      30_000,
      'the cluster to be ok on every node',
    );
    if (replicas > 0) {
      // every replica attached and in sync, so a failover has somewhere to go
      await pollUntil(
        async () => {
          for (const n of nodes) {
            const info = await ask(n.url, (r) => r.info('replication'));
            if (/role:slave/.test(info) && !/master_link_status:up/.test(info)) return false;
          }
          return true;
        },
        30_000,
        'the cluster replicas in sync',
      );
    }
    return {
      nodes,
      url: nodes[0].url,
      masterOf: async (key) => byPort(await slotMaster(await slotOf(key))),
      async killMasterOf(key) {
        const slot = await slotOf(key);
        const victim = byPort(await slotMaster(slot));
        await victim.kill9();
        await pollUntil(async () => (await slotMaster(slot)) !== victim.port, 30_000, `a replica taking over slot ${slot}`);
        return victim;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
