/**
 * One redis-server for a whole `describe` block, with a raw ioredis client on it (for tests that
 * look at keys directly): started in `before`, the client disconnected and the server closed in
 * `after`. Tests sharing the server keep apart by key prefix.
 */
import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer, type RedisServerOptions } from './redis-server.js';

export interface RedisSuite {
  /** the suite's server (inside its tests and hooks, once `before` has run) */
  readonly server: RedisServer;
  /** a raw client on it */
  readonly raw: Redis;
}

/** Registers the suite's hooks; the handle's `server` and `raw` are there inside its tests. */
export function redisPerSuite(opts: RedisServerOptions = {}): RedisSuite {
  let server: RedisServer | undefined;
  let raw: Redis | undefined;
  before(async () => {
    server = await startRedis(opts);
    raw = new Redis(server.url);
  });
  after(async () => {
    raw?.disconnect();
    await server?.close();
  });
  const up = <T>(x: T | undefined): T => {
    if (x === undefined) throw new Error('redisPerSuite: used outside the tests of its suite');
    return x;
  };
  return {
    get server() {
      return up(server);
    },
    get raw() {
      return up(raw);
    },
  };
}
