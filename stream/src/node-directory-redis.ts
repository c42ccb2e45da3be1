/**
 * The cluster's node directory for the console (docs/operations.md "The console"): every role
 * (origin, fanout, gateway) announces itself — id, role, admin URL, public URL — so a console on
 * any admin port can list the nodes and read each one's /stats and /readyz.
 *
 * Layout (one hash tag, one slot): `{replicant:nodes:<ns>}:live` is a ZSET of node ids scored by
 * the time their entry expires; `{…}:info` is a HASH of node id -> info JSON. A node re-announces
 * every interval (one MULTI of two commands: no per-connection or per-message work); a lost node
 * drops out of list() once its score passes and is pruned by the next announce.
 * Bounds: one entry per live node; list() reads at most MAX_LISTED_NODES.
 */
import { createRedisClient, FAIL_FAST_CLIENT, type RedisClient, type RedisTarget } from './redis.js';

export const MAX_LISTED_NODES = 1000;
/** how long an announce waits for the Redis connection before it is tried (and fails until the next) */
const CONNECT_WAIT_MS = 5000;

export interface NodeInfo {
  id: string;
  role: 'origin' | 'fanout' | 'gateway' | 'dev';
  /** base URL of its admin listener (/stats, /readyz, /console/) */
  admin: string;
  /** base URL of its public listener (origin: HTTP API; gateway: WebSocket + edge HTTP) */
  public?: string;
}

export class RedisNodeDirectory {
  private readonly redis: RedisClient;
  private readonly prefix: string;

  constructor(opts: { url: string; target?: Omit<RedisTarget, 'url'>; namespace: string }) {
    this.redis = createRedisClient({ ...opts.target, url: opts.url }, FAIL_FAST_CLIENT);
    this.redis.on('error', () => {}); // reported by the failing command
    this.prefix = `{replicant:nodes:${opts.namespace}}:`;
  }

  /** (re)announces a node for `ttlMs`; waits up to CONNECT_WAIT_MS for the connection first (no offline queue) */
  async announce(info: NodeInfo, ttlMs: number): Promise<void> {
    if (this.redis.status !== 'ready') await this.connected();
    const now = Date.now();
    await this.redis
      .multi()
      .hset(`${this.prefix}info`, info.id, JSON.stringify(info))
      .zadd(`${this.prefix}live`, now + ttlMs, info.id)
      .zremrangebyscore(`${this.prefix}live`, '-inf', now)
      .exec();
  }

  private connected(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.redis.off('ready', done);
        resolve();
      };
      const t = setTimeout(done, CONNECT_WAIT_MS);
      this.redis.once('ready', done);
    });
  }

  async withdraw(id: string): Promise<void> {
    await this.redis.multi().zrem(`${this.prefix}live`, id).hdel(`${this.prefix}info`, id).exec();
  }

  /** the live nodes, ordered by id */
  async list(): Promise<NodeInfo[]> {
    const ids = (await this.redis.zrangebyscore(`${this.prefix}live`, Date.now(), '+inf', 'LIMIT', 0, MAX_LISTED_NODES)).sort();
    if (ids.length === 0) return [];
    const texts = await this.redis.hmget(`${this.prefix}info`, ...ids);
    const out: NodeInfo[] = [];
    for (const t of texts) {
      if (t === null) continue;
      try {
        out.push(JSON.parse(t) as NodeInfo);
      } catch {
        // a malformed entry is left out
      }
    }
    return out;
  }

  close(): void {
    this.redis.disconnect();
  }
}
