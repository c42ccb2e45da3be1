/**
 * One redis-server for a whole `describe` block, with a raw ioredis client on it (for tests that
 * look at keys directly): started in `before`, the client disconnected and the server closed in
 * `after`. Tests sharing the server keep apart by key prefix.
 */
import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer, type RedisServerOptions } from './redis-server.js';

/** Registers the suite's hooks; `onStart` gets the server and the raw client once they are up. */
export function redisPerSuite(onStart: (server: RedisServer, raw: Redis) => void, opts: RedisServerOptions = {}): void {
  let server: RedisServer | undefined;
  let raw: Redis | undefined;
  before(async () => {
    server = await startRedis(opts);
    raw = new Redis(server.url);
    onStart(server, raw);
  });
  after(async () => {
    raw?.disconnect();
    await server?.close();
  });
}
