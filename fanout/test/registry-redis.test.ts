import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, redisPerSuite, startRedis } from '@replicant/testkit';
import { RedisRegistry } from '../src/registry-redis.js';
import type { RedisRegistryOptions } from '../src/registry-redis.js';
import type { Registry, ReplicaInfo } from '../src/registry.js';

const TTL = 900;
const quiet = () => {};
const ids = (r: Registry) => r.list().map((x) => x.id);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function info(id: string, partitions = [0, 1]) {
  return { id, address: `127.0.0.1:${7000 + id.length}`, partitions, load: 1 };
}

/** Resolves at the first change after which `pred` holds (at once if it already does). */
function until(reg: Registry, pred: (list: ReplicaInfo[]) => boolean, timeoutMs = 5_000, what = 'registry view'): Promise<void> {
  if (pred(reg.list())) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for: ${what}; view: ${JSON.stringify(reg.list().map((r) => r.id))}`));
    }, timeoutMs);
    const off = reg.onChange(() => {
      if (!pred(reg.list())) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Polls with a bounded deadline: only for states with no event (a key written by another process). */
async function eventually(pred: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(10);
  }
}

let prefixes = 0;

describe('RedisRegistry on one redis-server', () => {
  const redis = redisPerSuite();
  const make = (prefix: string, opts: Partial<RedisRegistryOptions> = {}) =>
    new RedisRegistry({ url: redis.server.url, keyPrefix: prefix, ttlMs: TTL, log: quiet, maxReconnectDelayMs: 100, ...opts });

  test('register: key with TTL, index, announcement; watchers see it at once and keep it while it heartbeats', async () => {
    const prefix = `r${++prefixes}:`;
    const replica = make(prefix);
    const watcher = make(prefix);
    await watcher.start();
    assert.equal(watcher.ready, true);
    assert.deepEqual(watcher.list(), []);
    const messages: string[] = [];
    const sub = new Redis(redis.server.url);
    await sub.subscribe(`${prefix}replicas`);
    sub.on('message', (_c: string, m: string) => messages.push(m));
    try {
      const seen = until(watcher, (l) => l.length === 1, 5_000, 'the replica announced');
      const t0 = Date.now();
      await replica.register(info('alpha', [3, 1, 1]));
      assert.deepEqual(ids(replica), ['alpha'], 'the registering instance sees its own replica at once');
      await seen;
      const got = watcher.list()[0];
      assert.deepEqual({ ...got, updatedAt: 0 }, { id: 'alpha', address: '127.0.0.1:7005', partitions: [1, 3], load: 1, updatedAt: 0 });
      assert.ok(got.updatedAt >= t0);

      const stored = JSON.parse((await redis.raw.get(`${prefix}{replicas}:replica:alpha`))!);
      assert.equal(stored.id, 'alpha');
      const pttl = await redis.raw.pttl(`${prefix}{replicas}:replica:alpha`);
      assert.ok(pttl > 0 && pttl <= TTL, `pttl ${pttl}`);
      assert.deepEqual(await redis.raw.zrange(`${prefix}{replicas}`, 0, -1), ['alpha']);
      await eventually(() => messages.length > 0, 2_000, 'the up message');
      assert.equal(JSON.parse(messages[0]).op, 'up');

      // load updates are heartbeats: visible, no routing notification
      let changes = 0;
      watcher.onChange(() => changes++);
      await replica.register({ ...info('alpha', [1, 3]), load: 42 });
      await eventually(() => watcher.list()[0]?.load === 42, 2_000, 'the new load');
      // alive across several TTLs (a negative assertion: this wait is the point)
      await sleep(TTL * 2.5);
      assert.deepEqual(ids(watcher), ['alpha']);
      assert.equal(changes, 0, 'no flapping');
      assert.ok(JSON.parse((await redis.raw.get(`${prefix}{replicas}:replica:alpha`))!).updatedAt > got.updatedAt, 'heartbeats rewrite the entry');
    } finally {
      sub.disconnect();
      await replica.close();
      await watcher.close();
    }
  });

  test('deregister and close: removed from Redis and from every view, with a notification', async () => {
    const prefix = `r${++prefixes}:`;
    const replica = make(prefix);
    const other = make(prefix);
    const watcher = make(prefix);
    await watcher.start();
    await replica.register(info('a'));
    await replica.register(info('b'));
    await other.register(info('c'));
    await until(watcher, (l) => l.length === 3);

    const gone = until(watcher, (l) => !l.some((r) => r.id === 'a'));
    await replica.deregister('a');
    assert.deepEqual(ids(replica), ['b', 'c']);
    await gone;
    assert.equal(await redis.raw.exists(`${prefix}{replicas}:replica:a`), 0);
    assert.deepEqual(await redis.raw.zrange(`${prefix}{replicas}`, 0, -1), ['b', 'c']);

    const closed = until(watcher, (l) => l.length === 1);
    await replica.close(); // deregisters b
    await closed;
    assert.deepEqual(ids(watcher), ['c']);
    await assert.rejects(replica.register(info('z')), /redis registry redis:\/\/127\.0\.0\.1:\d+: start failed: registry is closed/);
    await other.close();
    await watcher.close();
    assert.deepEqual(await redis.raw.keys(`${prefix}*`), []);
  });

  test('a kill -9 replica (heartbeats stop, no deregister) leaves the view about one TTL later', async () => {
    const prefix = `r${++prefixes}:`;
    const watcher = make(prefix);
    await watcher.start();
    const mod = new URL('../src/registry-redis.js', import.meta.url).href;
    const script = `
      const { RedisRegistry } = await import(${JSON.stringify(mod)});
      const r = new RedisRegistry({ url: ${JSON.stringify(redis.server.url)}, keyPrefix: ${JSON.stringify(prefix)}, ttlMs: ${TTL}, log: () => {} });
      await r.register({ id: 'doomed', address: '127.0.0.1:9', partitions: [0], load: 0 });
      console.log('registered');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('registered') && resolve());
        child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
      });
      await until(watcher, (l) => l.some((r) => r.id === 'doomed'));
      const left = until(watcher, (l) => !l.some((r) => r.id === 'doomed'), TTL * 4, 'the killed replica to expire');
      const t0 = Date.now();
      child.kill('SIGKILL');
      await left;
      const elapsed = Date.now() - t0;
      // its last heartbeat was at most ttl/3 before the kill; the key expires ttl after it
      assert.ok(elapsed >= TTL / 2 && elapsed <= TTL + 500, `left after ${elapsed} ms (ttl ${TTL})`);
      assert.equal(await redis.raw.exists(`${prefix}{replicas}:replica:doomed`), 0);
    } finally {
      child.kill('SIGKILL');
      await exited;
      await watcher.close();
    }
  });

  test('missed messages are repaired by the periodic resync', async () => {
    const prefix = `r${++prefixes}:`;
    const watcher = make(prefix, { resyncMs: 100 });
    await watcher.start();
    // a replica announced without a message (as if the watcher's subscriber had missed it)
    const entry = { ...info('silent'), updatedAt: Date.now() };
    const time = await redis.raw.time();
    const nowMs = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
    await redis.raw.set(`${prefix}{replicas}:replica:silent`, JSON.stringify(entry), 'PX', 60_000);
    await redis.raw.zadd(`${prefix}{replicas}`, nowMs + 60_000, 'silent');
    await until(watcher, (l) => l.some((r) => r.id === 'silent'), 2_000, 'resync to find the unannounced replica');
    // ... and removed without a message
    await redis.raw.del(`${prefix}{replicas}:replica:silent`);
    await until(watcher, (l) => l.length === 0, 2_000, 'resync to drop the silently removed replica');
    // garbage in Redis is ignored, not fatal
    await redis.raw.set(`${prefix}{replicas}:replica:junk`, 'not json', 'PX', 60_000);
    await redis.raw.zadd(`${prefix}{replicas}`, nowMs + 60_000, 'junk');
    await redis.raw.publish(`${prefix}replicas`, '{broken');
    const ok = make(prefix);
    await ok.register(info('ok'));
    await until(watcher, (l) => l.some((r) => r.id === 'ok'));
    assert.deepEqual(ids(watcher), ['ok']);
    await ok.close();
    await watcher.close();
  });

  test('invalid registrations are rejected before touching Redis', async () => {
    const reg = make(`r${++prefixes}:`);
    await assert.rejects(reg.register({ ...info('x'), address: 'no-port' }), /host:port/);
    await assert.rejects(reg.register({ ...info('x'), partitions: [1.5] }), /partitions/);
    await reg.close();
  });
});

test('start() fails after connectTimeoutMs when nothing listens, naming the URL without its password', async () => {
  const port = await freePort();
  const reg = new RedisRegistry({ url: `redis://:pw123@127.0.0.1:${port}`, connectTimeoutMs: 300, log: quiet });
  await assert.rejects(reg.start(), (err: Error) => {
    assert.match(err.message, new RegExp(`^redis registry redis://127\\.0\\.0\\.1:${port}: not reachable within 300 ms`));
    assert.doesNotMatch(err.message, /pw123/);
    return true;
  });
  await reg.close();
});

test('a Redis restart: the view is kept while Redis is down, replicas re-register on reconnect, nothing flaps', async () => {
  const server = await startRedis(); // not persistent: the restart loses every key
  const raw = new Redis(server.url, { maxRetriesPerRequest: 0, retryStrategy: () => 50, enableOfflineQueue: false });
  raw.on('error', () => {});
  const opts = { url: server.url, ttlMs: TTL, log: quiet, maxReconnectDelayMs: 100 };
  const replica = new RedisRegistry(opts);
  const watcher = new RedisRegistry(opts);
  const views: string[][] = [];
  try {
    await watcher.start();
    watcher.onChange(() => views.push(ids(watcher)));
    await replica.register(info('survivor'));
    await until(watcher, (l) => l.length === 1);

    await server.stop();
    await eventually(() => !watcher.ready && !replica.ready, 5_000, 'both registries to notice the outage');
    await assert.rejects(replica.register(info('newcomer')), /redis registry redis:\/\/127\.0\.0\.1:\d+: register newcomer failed: not connected/);
    // down for longer than the TTL: the view is frozen, not emptied (a negative assertion: this wait is the point)
    await sleep(TTL * 1.5);
    assert.deepEqual(ids(watcher), ['survivor']);
    assert.deepEqual(ids(replica), ['survivor']);

    await server.restart();
    await Promise.all([replica.whenReady(5_000), watcher.whenReady(5_000)]);
    // the restart lost every key (no persistence): the replica writes itself again on reconnect
    await eventually(async () => (await raw.exists('replicant:{replicas}:replica:survivor').catch(() => 0)) === 1, 5_000, 'the re-registration');
    // heartbeats go on after the restart; the watcher keeps the replica past the grace period
    await sleep(TTL * 1.5);
    assert.equal(await raw.exists('replicant:{replicas}:replica:survivor'), 1);
    assert.deepEqual(await raw.zrange('replicant:{replicas}', 0, -1), ['survivor']);
    assert.deepEqual(ids(watcher), ['survivor']);
    assert.ok(views.every((v) => v.includes('survivor')), `the replica never left the view: ${JSON.stringify(views)}`);

    // and registration works again without re-creating anything
    await replica.register(info('newcomer'));
    await until(watcher, (l) => l.length === 2);
  } finally {
    raw.disconnect();
    await replica.close();
    await watcher.close();
    await server.close();
  }
});
