/**
 * THE place every ioredis client of the project is made (the snapshot store here, the connection
 * directory, fanout's replica registry), so every Redis use speaks the same deployment:
 *
 * - `redis://` or `rediss://` (TLS; `tlsCaFile` adds a CA to verify the server with), an ACL user
 *   and password as `user:password@` in the URL, a database as `/<db>`;
 * - `sentinels` (`host:port` list) + `sentinelMaster`: ioredis asks the sentinels for the master
 *   and follows failovers (the URL's host is then not used; its credentials, TLS and db are);
 * - `cluster`: the URL names one seed node of a Redis Cluster (ioredis Cluster; the other nodes are
 *   discovered). Every multi-key command or script of the project keeps its keys under one hash
 *   tag, so it is in one slot.
 *
 * Also: how a target appears in messages (never with its password) and the reconnect backoff
 * (capped, jittered, so a fleet reconnecting after a Redis restart does not stampede).
 */
import { readFileSync } from 'node:fs';
import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import { backoffDelay } from '@replicant/protocol';

export type RedisClient = Redis | Cluster;

/** where Redis is and how to reach it */
export interface RedisTarget {
  /** `redis[s]://[user:password@]host:port[/db]` */
  url: string;
  /** PEM CA bundle that signed the server's certificate (rediss:// only; default: the system CAs) */
  tlsCaFile?: string;
  /** Sentinel mode: the sentinels as `host:port` */
  sentinels?: readonly string[];
  /** the master's name the sentinels know (default `mymaster`) */
  sentinelMaster?: string;
  /** Redis Cluster: `url` is one seed node */
  cluster?: boolean;
}

/** the connection behaviour each user of a client picks */
export interface RedisClientOptions {
  lazyConnect?: boolean;
  enableOfflineQueue?: boolean;
  maxRetriesPerRequest?: number | null;
  autoResendUnfulfilledCommands?: boolean;
  commandTimeout?: number;
  connectTimeout?: number;
  /** cap of the reconnect backoff */
  maxReconnectDelayMs: number;
}

const hostPort = (hp: string): { host: string; port: number } => {
  const i = hp.lastIndexOf(':');
  return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
};

/** a target from a URL alone, or as given */
const targetOf = (t: RedisTarget | string): RedisTarget => (typeof t === 'string' ? { url: t } : t);

/** The URL without its password, for messages. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '<invalid redis url>';
  }
}

/** The target for messages: the URL without its password, and the sentinels or `(cluster)`. */
export function describeRedis(t: RedisTarget | string): string {
  const target = targetOf(t);
  const url = redactRedisUrl(target.url);
  if (target.sentinels?.length) return `${url} via sentinels ${target.sentinels.join(',')} (master ${target.sentinelMaster ?? 'mymaster'})`;
  return target.cluster ? `${url} (cluster)` : url;
}

/** ioredis' retryStrategy: protocol's backoff from 50 ms with equal jitter (never at once). */
export function redisBackoff(maxDelayMs: number): (attempt: number) => number {
  return (attempt) => backoffDelay(attempt, 50, maxDelayMs, 'equal', Math.random());
}

/**
 * A refused login (wrong ACL user or password, or none where one is needed): retrying cannot help,
 * so a process starting with it stops (the CLI exits 2) instead of retrying forever.
 */
export function isRedisAuthError(err: unknown): boolean {
  const m = err instanceof Error ? err.message : String(err);
  return /^(WRONGPASS|NOAUTH|NOPERM)\b|invalid password|invalid username-password/i.test(m);
}

/** A process given wrong Redis credentials (see isRedisAuthError). */
export class RedisAuthError extends Error {}

/** Redis holds data in a layout this version does not read: an operator must move it (not retried). */
export class RedisLayoutError extends Error {}

/**
 * The behaviour of a client whose commands fail fast while Redis is away (no offline queue, no
 * retry, nothing resent after a reconnect): for best-effort indexes such as the connection and
 * node directories, whose callers report a failure and try again on their own schedule.
 */
export const FAIL_FAST_CLIENT: RedisClientOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  commandTimeout: 5_000,
  maxReconnectDelayMs: 2_000,
};

/** Makes the one kind of client the target asks for, with the caller's connection behaviour. */
export function createRedisClient(t: RedisTarget | string, o: RedisClientOptions): RedisClient {
  const target = targetOf(t);
  const u = new URL(target.url);
  const tlsOn = u.protocol === 'rediss:';
  const tls = tlsOn ? (target.tlsCaFile ? { ca: readFileSync(target.tlsCaFile) } : {}) : undefined;
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  const common: RedisOptions = {
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    tls,
    lazyConnect: o.lazyConnect,
    enableOfflineQueue: o.enableOfflineQueue,
    maxRetriesPerRequest: o.maxRetriesPerRequest,
    autoResendUnfulfilledCommands: o.autoResendUnfulfilledCommands,
    commandTimeout: o.commandTimeout,
    connectTimeout: o.connectTimeout,
  };
  const retryStrategy = redisBackoff(o.maxReconnectDelayMs);
  if (target.cluster) {
    const { lazyConnect: _l, enableOfflineQueue: _q, ...perNode } = common;
    const options: ClusterOptions = {
      lazyConnect: o.lazyConnect,
      enableOfflineQueue: o.enableOfflineQueue,
      clusterRetryStrategy: retryStrategy,
      redisOptions: perNode,
    };
    return new Cluster([{ host: u.hostname, port: Number(u.port || 6379) }], options);
  }
  if (target.sentinels?.length) {
    return new Redis({
      ...common,
      db,
      sentinels: target.sentinels.map(hostPort),
      name: target.sentinelMaster ?? 'mymaster',
      enableTLSForSentinelMode: tlsOn,
      sentinelTLS: tls,
      sentinelRetryStrategy: retryStrategy,
      retryStrategy,
    });
  }
  return new Redis({ ...common, db, host: u.hostname, port: Number(u.port || 6379), retryStrategy });
}
