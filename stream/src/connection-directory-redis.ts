/**
 * The cluster's connection directory for GET /v1/connections (docs/presence-and-server-api.md):
 * every gateway publishes the summaries of its connections into Redis, origin reads them.
 *
 * Why a registry and not a command: the listing is a query, not an ordered effect, so it stays off
 * the log, and origin needs no request/reply path to every gateway. Layout (one hash tag, so every
 * key is in one slot): `{prefix}gateways` is a ZSET of gateway ids scored by the time their entries
 * expire; `{prefix}gw:<id>` is a HASH of connection id -> summary JSON with the same TTL. A
 * gateway rewrites its hash atomically when its connections changed (MULTI: fill a temporary key,
 * RENAME it over), so a reader never sees half of one, and otherwise only extends the TTL; a lost
 * gateway's entries expire after the TTL.
 *
 * Bounds: at most MAX_PUBLISHED_PER_GATEWAY summaries per gateway (more are left out and counted by
 * the caller); a listing reads every live gateway's hash from the cursor's gateway on (O(published
 * connections) per page, so it is for operators and backends, not hot paths); a page ≤ its limit.
 */
import { MAX_CONNECTIONS_PAGE, metaMatches, type ConnectionPage, type ConnectionQuery, type ConnectionSummary } from '@replicant/protocol';
import { createRedisClient, FAIL_FAST_CLIENT, type RedisClient, type RedisTarget } from './redis.js';

export const MAX_PUBLISHED_PER_GATEWAY = 100_000;

export interface RedisConnectionDirectoryOptions {
  url: string;
  /** TLS CA, Sentinel, Cluster (redis.ts); default: the URL alone */
  target?: Omit<RedisTarget, 'url'>;
  /** key namespace (default the topic), so clusters sharing a Redis stay apart */
  namespace: string;
}

export class RedisConnectionDirectory {
  private readonly redis: RedisClient;
  private readonly prefix: string;

  constructor(opts: RedisConnectionDirectoryOptions) {
    this.redis = createRedisClient({ ...opts.target, url: opts.url }, FAIL_FAST_CLIENT);
    this.redis.on('error', () => {}); // reported by the failing command
    this.prefix = `{replicant:conns:${opts.namespace}}:`;
  }

  /**
   * Replaces a gateway's published connections (at most MAX_PUBLISHED_PER_GATEWAY) for `ttlMs`;
   * `undefined` = unchanged: only their TTL is extended.
   */
  async publish(gateway: string, summaries: ConnectionSummary[] | undefined, ttlMs: number): Promise<void> {
    const key = `${this.prefix}gw:${gateway}`;
    if (summaries === undefined) {
      await this.redis.multi().pexpire(key, ttlMs).zadd(`${this.prefix}gateways`, Date.now() + ttlMs, gateway).exec();
      return;
    }
    const tmp = `${key}:next`;
    const m = this.redis.multi().del(tmp);
    const n = Math.min(summaries.length, MAX_PUBLISHED_PER_GATEWAY);
    const CHUNK = 1000;
    for (let i = 0; i < n; i += CHUNK) {
      const args: string[] = [];
      for (let j = i; j < Math.min(n, i + CHUNK); j++) args.push(summaries[j].id, JSON.stringify(summaries[j]));
      m.hset(tmp, ...args);
    }
    if (n > 0) m.rename(tmp, key).pexpire(key, ttlMs);
    else m.del(key);
    m.zadd(`${this.prefix}gateways`, Date.now() + ttlMs, gateway);
    m.zremrangebyscore(`${this.prefix}gateways`, '-inf', Date.now());
    await m.exec();
  }

  /** one page over every live gateway's connections, ordered by (gateway id, connection number) */
  async list(q: ConnectionQuery): Promise<ConnectionPage> {
    const limit = Math.min(Math.max(1, q.limit), MAX_CONNECTIONS_PAGE);
    const gateways = (await this.redis.zrangebyscore(`${this.prefix}gateways`, Date.now(), '+inf')).sort();
    let start = 0;
    let afterN = -1;
    if (q.after !== undefined) {
      const g = gateways.findIndex((id) => gatewayOf(q.after!, id));
      if (g < 0) {
        // the cursor's gateway is gone: continue with the next id in order
        start = gateways.findIndex((id) => id > q.after!);
        if (start < 0) return { connections: [], next: null };
      } else {
        start = g;
        afterN = ordinal(q.after);
      }
    }
    const out: ConnectionSummary[] = [];
    for (let g = start; g < gateways.length && out.length <= limit; g++) {
      const all = await this.redis.hvals(`${this.prefix}gw:${gateways[g]}`);
      const hits: { n: number; c: ConnectionSummary }[] = [];
      for (const text of all) {
        let c: ConnectionSummary;
        try {
          c = JSON.parse(text) as ConnectionSummary;
        } catch {
          continue;
        }
        const n = ordinal(c.id);
        if (g === start && n <= afterN) continue;
        if (q.sub !== undefined && c.sub !== q.sub) continue;
        if (!metaMatches(c.meta, q.meta)) continue;
        hits.push({ n, c });
      }
      hits.sort((a, b) => a.n - b.n);
      for (const h of hits) {
        out.push(h.c);
        if (out.length > limit) break;
      }
    }
    const page = out.slice(0, limit);
    return { connections: page, next: out.length > limit ? page[page.length - 1].id : null };
  }

  close(): void {
    this.redis.disconnect();
  }
}

/** is `id` one of gateway `gw`'s connection ids (`<gw>.<boot>.<n>`) */
function gatewayOf(id: string, gw: string): boolean {
  return id.startsWith(`${gw}.`) && id.slice(gw.length + 1).split('.').length === 2;
}

function ordinal(id: string): number {
  const n = parseInt(id.slice(id.lastIndexOf('.') + 1), 36);
  return Number.isFinite(n) ? n : -1;
}
