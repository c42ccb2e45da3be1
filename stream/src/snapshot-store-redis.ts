/**
 * The distributed SnapshotStore on Redis (ioredis).
 *
 * Keys (prefix default `replicant:`), all under the hash tag `{<topic>}` so that on a Redis Cluster
 * they are in one slot (every script below reads the lineage together with snapshots or offsets):
 * - `<prefix>{<topic>}:snap:<docId>`: a hash `{seq, json}`; `json` is the snapshot-codec form, `seq` the
 *   snapshot's seq as a decimal string, kept apart so a Lua script can compare it without parsing
 *   the document. A write whose seq is below the stored one is ignored: an older snapshot (a stale
 *   retry, a lagging second checkpointer) never overwrites a newer one.
 * - `<prefix>{<topic>}:covered`: a hash partition -> covered offset (decimal). Advanced by a Lua script
 *   that never moves an offset backwards, and only after every snapshot of the commit was written.
 * - `<prefix>{<topic>}:lineage`: `<id>:<generation>`. Created (random id, generation 0) by the first
 *   store that opens an empty Redis; every commit that advances covered offsets bumps the
 *   generation. Every read and write checks it atomically with its data (one Lua script): a missing
 *   lineage (Redis restarted without persistence, flushed, keys evicted), another id, or a lower
 *   generation (restored from an older dump) means the snapshots and covered offsets are no longer
 *   the ones this process saw. Mixing the two (a covered offset read before the loss with a snapshot
 *   read after it, or advancing covered offsets over documents whose snapshots vanished) would
 *   silently drop history, so the call fails with SnapshotStoreLostError instead. A reader (a
 *   replica) then adopts the store's current contents for its next calls; the owner of the
 *   checkpoints (the origin, see `onLoss`) keeps failing until it calls `adopt()` and rebuilds.
 *
 * Seqs and offsets are compared as canonical decimal strings (length, then lexicographically), so the
 * full 64-bit range is exact: Lua numbers are doubles.
 *
 * Availability: the offline queue is disabled and in-flight commands are failed (not replayed) when
 * the connection drops, so while Redis is unreachable every call fails at once with an error naming
 * the Redis URL (password removed) and nothing accumulates in memory; ioredis reconnects in the
 * background with capped, jittered exponential backoff, and the store works again without being
 * re-created. A command that gets no answer fails after `commandTimeoutMs`.
 *
 * Failover (Sentinel, Cluster): Redis replicates asynchronously, so a write the master answered can
 * vanish with it. With `waitReplicas` n > 0 every write script is followed, in the same pipeline on
 * the same connection, by `WAIT n`: a commit resolves only once n replicas hold all of its writes,
 * so a promoted replica has every acknowledged commit. Fewer replicas within `waitTimeoutMs` fail
 * the commit (the writes may still be there; a retry rewrites them, seqs never go back).
 */
import { createHash, randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { parseSeq } from '@replicant/protocol';
import type { DocSnapshot } from './doc-state.js';
import { SnapshotStoreLostError } from './snapshot-store.js';
import type { SnapshotStore } from './snapshot-store.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot-codec.js';
import { forEachLimit } from './limit.js';
import { createRedisClient, describeRedis, isRedisAuthError, RedisAuthError, RedisLayoutError, type RedisClient, type RedisTarget } from './redis.js';

export interface RedisSnapshotStoreOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://`) */
  url: string;
  /** TLS CA, Sentinel, Cluster (redis.ts); default: the URL alone */
  target?: Omit<RedisTarget, 'url'>;
  /** replicas every write must reach before it counts (WAIT; default 0) */
  waitReplicas?: number;
  /** how long a write waits for `waitReplicas` (default 2000 ms) */
  waitTimeoutMs?: number;
  /** prefix of every key (default `replicant:`) */
  keyPrefix?: string;
  /** namespaces the covered offsets: one hash per topic (default `replicant.docs`) */
  topic?: string;
  /** open() fails if Redis is not ready within this time; also the per-attempt TCP connect timeout (default 10 000 ms) */
  connectTimeoutMs?: number;
  /** a command with no answer within this time fails (default 5000 ms) */
  commandTimeoutMs?: number;
  /** cap of the reconnect backoff (default 2000 ms) */
  maxReconnectDelayMs?: number;
  /** snapshots per write command (default 256) */
  chunkSize?: number;
  /** encoded bytes per write command, at least one snapshot (default 1 MiB) */
  chunkBytes?: number;
  /** write commands in flight at once during a commit (default 4) */
  concurrency?: number;
  /** connection-state messages (lost, reconnected); default console.error */
  log?: (msg: string) => void;
}

export const DEFAULT_REDIS_KEY_PREFIX = 'replicant:';
export const DEFAULT_SNAPSHOT_TOPIC = 'replicant.docs';

/** Lua: `a >= b` for canonical non-negative decimal strings. */
const DEC_GE = `local function ge(a, b) if #a ~= #b then return #a > #b end return a >= b end`;

/**
 * Lua: `ok(cur)` is true when the lineage value `cur` (or false) has id ARGV[1] and a generation of
 * at least ARGV[2]; `gen(cur)` is its generation.
 */
const LINEAGE_OK = `local function gen(cur) return tonumber(string.match(cur, ':(%d+)$')) end
local function ok(cur)
  if not cur then return false end
  local id = string.match(cur, '^(.*):%d+$')
  return id == ARGV[1] and gen(cur) >= tonumber(ARGV[2])
end`;

/** KEYS[1] = lineage; ARGV[1] = a fresh id. Creates the lineage when missing; returns it. */
const OPEN_LINEAGE = `if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[1] .. ':0') end
return redis.call('GET', KEYS[1])`;

/** KEYS[1] = lineage, KEYS[2] = hash, ARGV[1] = field: {lineage, HGET} read at one instant. */
const READ_FIELD = `return {redis.call('GET', KEYS[1]), redis.call('HGET', KEYS[2], ARGV[1])}`;

/**
 * KEYS[1] = lineage, KEYS[2..] = snapshot keys; ARGV = id, generation, seq1, json1, seq2, json2, ...
 * Returns {written, lineage}; writes nothing (written = -1) when the lineage is not the expected one.
 */
const PUT_SNAPSHOTS = `${DEC_GE}
${LINEAGE_OK}
local lin = redis.call('GET', KEYS[1])
if not ok(lin) then return {-1, lin} end
local written = 0
for i = 2, #KEYS do
  local seq = ARGV[2 * i - 1]
  local cur = redis.call('HGET', KEYS[i], 'seq')
  if (not cur) or ge(seq, cur) then
    redis.call('HSET', KEYS[i], 'seq', seq, 'json', ARGV[2 * i])
    written = written + 1
  end
end
return {written, lin}`;

/**
 * KEYS[1] = lineage, KEYS[2] = covered hash; ARGV = id, generation, partition1, offset1, ...
 * Offsets only move forward; the lineage's generation is bumped. Returns {moved, lineage}, moved = -1
 * (nothing written) when the lineage is not the expected one.
 */
const ADVANCE_COVERED = `${DEC_GE}
${LINEAGE_OK}
local lin = redis.call('GET', KEYS[1])
if not ok(lin) then return {-1, lin} end
local moved = 0
for i = 3, #ARGV, 2 do
  local cur = redis.call('HGET', KEYS[2], ARGV[i])
  if (not cur) or (ARGV[i + 1] ~= cur and ge(ARGV[i + 1], cur)) then
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
    moved = moved + 1
  end
end
lin = ARGV[1] .. ':' .. (gen(lin) + 1)
redis.call('SET', KEYS[1], lin)
return {moved, lin}`;

interface Script {
  lua: string;
  sha: string;
}

function script(lua: string): Script {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

const PUT = script(PUT_SNAPSHOTS);
const ADVANCE = script(ADVANCE_COVERED);
const OPEN = script(OPEN_LINEAGE);
const READ = script(READ_FIELD);

interface Lineage {
  id: string;
  gen: number;
}

function parseLineage(v: unknown): Lineage | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(.*):(\d+)$/.exec(v);
  return m ? { id: m[1], gen: Number(m[2]) } : undefined;
}

export class RedisSnapshotStore implements SnapshotStore {
  readonly url: string;
  private readonly prefix: string;
  private readonly coveredKey: string;
  private readonly chunkSize: number;
  private readonly chunkBytes: number;
  private readonly concurrency: number;
  private readonly lineageKey: string;
  private readonly topic: string;
  private readonly waitReplicas: number;
  private readonly waitTimeoutMs: number;
  private closed = false;
  /** the lineage this store last saw (undefined: none, the key was missing) */
  private lineage: Lineage | undefined;
  /** set for an owner (onLoss registered) from a detected loss until adopt() */
  private lost: SnapshotStoreLostError | undefined;
  private readonly lossListeners: ((err: Error) => void)[] = [];

  private constructor(
    private readonly redis: RedisClient,
    opts: RedisSnapshotStoreOptions,
  ) {
    this.url = describeRedis({ ...opts.target, url: opts.url });
    this.topic = opts.topic ?? DEFAULT_SNAPSHOT_TOPIC;
    // the hash tag: every key of this store in one Cluster slot
    this.prefix = `${opts.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX}{${this.topic}}:`;
    this.coveredKey = `${this.prefix}covered`;
    this.lineageKey = `${this.prefix}lineage`;
    this.waitReplicas = opts.waitReplicas ?? 0;
    this.waitTimeoutMs = opts.waitTimeoutMs ?? 2000;
    this.chunkSize = Math.max(1, opts.chunkSize ?? 256);
    this.chunkBytes = Math.max(1, opts.chunkBytes ?? 1 << 20);
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
  }

  /** Connects and resolves once Redis answers; rejects (naming the URL) after `connectTimeoutMs`. */
  static async open(opts: RedisSnapshotStoreOptions): Promise<RedisSnapshotStore> {
    const connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    const log = opts.log ?? ((msg: string) => console.error(msg));
    const shown = describeRedis({ ...opts.target, url: opts.url });
    const redis = createRedisClient({ ...opts.target, url: opts.url }, {
      lazyConnect: true,
      // bounded memory while Redis is unreachable: nothing is queued, in-flight commands fail at the
      // first reconnect attempt instead of waiting for (and being replayed after) the reconnect
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: opts.commandTimeoutMs ?? 5_000,
      connectTimeout: connectTimeoutMs,
      maxReconnectDelayMs: opts.maxReconnectDelayMs ?? 2_000,
    });
    const store = new RedisSnapshotStore(redis, opts);
    let lastError: Error | undefined;
    let wasReady = false;
    let down = false;
    redis.on('error', (err: Error) => {
      lastError = err;
    });
    redis.on('close', () => {
      if (wasReady && !down && !store.closed) {
        down = true;
        log(`redis snapshot store ${shown}: connection lost${lastError ? ` (${lastError.message})` : ''}, reconnecting`);
      }
    });
    redis.on('ready', () => {
      if (down) log(`redis snapshot store ${shown}: reconnected`);
      wasReady = true;
      down = false;
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => {
          // a refused login is final: say so now instead of after the timeout
          if (!isRedisAuthError(err)) return;
          clearTimeout(timer);
          redis.off('ready', onReady);
          reject(new RedisAuthError(`redis snapshot store ${shown}: login refused (${err.message})`));
        };
        redis.on('error', onError);
        const timer = setTimeout(() => {
          redis.off('ready', onReady);
          redis.off('error', onError);
          reject(
            new Error(
              `redis snapshot store ${shown}: not reachable within ${connectTimeoutMs} ms` +
                (lastError ? ` (${lastError.message})` : ''),
            ),
          );
        }, connectTimeoutMs);
        const onReady = () => {
          clearTimeout(timer);
          redis.off('error', onError);
          resolve();
        };
        redis.once('ready', onReady);
        // a refused first attempt is retried by retryStrategy like any later reconnect
        redis.connect().catch(() => {});
      });
      // the lineage this process starts from (created when Redis holds none)
      let old = 0;
      try {
        // snapshots in the layout before hash tags (never on a Cluster, which it could not run on):
        // starting afresh beside them would rebuild from the log and lose what retention deleted
        const legacy = `${opts.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX}lineage:${store.topic}`;
        if (!opts.target?.cluster) old = (await redis.exists(legacy)) - (await redis.exists(store.lineageKey));
        if (old <= 0) store.lineage = parseLineage(await store.run(OPEN, [store.lineageKey], [randomBytes(8).toString('hex')]));
      } catch (err) {
        throw store.fail('open', err);
      }
      if (old > 0) {
        throw new RedisLayoutError(
          `redis snapshot store ${shown}: holds snapshots of topic ${store.topic} in the old key layout ` +
            `(${opts.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX}snap:<doc>, covered:<topic>, lineage:<topic>); ` +
            'move them to the hash-tagged layout with every Replicant process stopped (docs/operations.md "Redis: snapshots, covered offsets, registry")',
        );
      }
    } catch (err) {
      redis.disconnect();
      throw err;
    }
    return store;
  }

  onLoss(listener: (err: Error) => void): void {
    this.lossListeners.push(listener);
  }

  async adopt(): Promise<void> {
    if (this.closed) throw this.fail('adopt', new Error('closed'));
    let v: unknown;
    try {
      v = await this.run(OPEN, [this.lineageKey], [randomBytes(8).toString('hex')]);
    } catch (err) {
      throw this.fail('adopt', err);
    }
    this.lineage = parseLineage(v);
    this.lost = undefined;
  }

  /**
   * Checks a lineage value read together with data. Same id and a generation not below the last
   * one seen: fine (the generation is remembered). Otherwise the store lost what this process saw:
   * the call fails, listeners hear about it, and an owner keeps failing until adopt().
   */
  private checkLineage(v: unknown): void {
    const cur = parseLineage(v);
    const known = this.lineage;
    if (cur !== undefined && known !== undefined && cur.id === known.id && cur.gen >= known.gen) {
      known.gen = cur.gen;
      return;
    }
    if (cur === undefined && known === undefined) return;
    const what = `snapshots and covered offsets of topic ${this.topic}`;
    let why: string;
    if (cur === undefined) why = `the ${what} are gone (Redis restarted without persistence, flushed or evicted keys)`;
    else if (known === undefined || cur.id !== known.id) why = `the ${what} were replaced (lineage ${known?.id ?? 'none'} -> ${cur.id})`;
    else why = `the ${what} went back in time (generation ${cur.gen} < ${known.gen}: restored from an older dump?)`;
    const err = new SnapshotStoreLostError(`redis snapshot store ${this.url}: ${why}`);
    if (this.lossListeners.length > 0) this.lost = err;
    else this.lineage = cur; // a reader: its next calls see the current contents consistently
    for (const l of this.lossListeners) l(err);
    throw err;
  }

  /** reads one hash field together with the lineage, checking it */
  private async readField(op: string, key: string, field: string): Promise<string | null> {
    this.checkOpen(op);
    let r: [unknown, string | null];
    try {
      r = (await this.run(READ, [this.lineageKey, key], [field])) as [unknown, string | null];
    } catch (err) {
      throw this.fail(op, err);
    }
    this.checkLineage(r[0]);
    return r[1];
  }

  private lineageArgs(): string[] {
    return [this.lineage!.id, String(this.lineage!.gen)];
  }

  /** Connected to Redis (for /readyz). */
  get ready(): boolean {
    return !this.closed && this.redis.status === 'ready';
  }

  /** Resolves once connected (at once if already); rejects after `timeoutMs` or if the store is closed. */
  whenReady(timeoutMs = 10_000): Promise<void> {
    if (this.ready) return Promise.resolve();
    if (this.closed) return Promise.reject(this.fail('whenReady', new Error('closed')));
    return new Promise((resolve, reject) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.redis.off('ready', onReady);
        reject(this.fail('whenReady', new Error(`not connected after ${timeoutMs} ms`)));
      }, timeoutMs);
      this.redis.once('ready', onReady);
    });
  }

  private snapKey(docId: string): string {
    return `${this.prefix}snap:${docId}`;
  }

  private fail(op: string, err: unknown): Error {
    const cause = err instanceof Error ? err : new Error(String(err));
    const state =
      this.closed ? 'store is closed' : this.redis.status === 'ready' ? cause.message : `not connected, reconnecting in the background (${cause.message})`;
    const e = new Error(`redis snapshot store ${this.url}: ${op} failed: ${state}`, { cause });
    return e;
  }

  private checkOpen(op: string): void {
    if (this.closed) throw this.fail(op, new Error('closed'));
    if (this.lost) throw this.lost;
  }

  /** EVALSHA, falling back to EVAL when the server does not know the script (e.g. after a restart). */
  private async run(s: Script, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.redis.evalsha(s.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return await this.redis.eval(s.lua, keys.length, ...keys, ...args);
    }
  }

  /**
   * A write script; with waitReplicas, followed by WAIT in one pipeline (the same connection, so
   * WAIT covers this write: on a new connection after a failover it would vouch for nothing).
   */
  private async write(s: Script, keys: string[], args: string[]): Promise<unknown> {
    if (this.waitReplicas === 0) return this.run(s, keys, args);
    const r = await this.redis.pipeline().eval(s.lua, keys.length, ...keys, ...args).wait(this.waitReplicas, this.waitTimeoutMs).exec();
    if (r === null) throw new Error('pipeline aborted');
    const [[scriptErr, result], [waitErr, acked]] = r as [[Error | null, unknown], [Error | null, unknown]];
    if (scriptErr) {
      // a Cluster redirects a pipeline only when all of it was refused; WAIT (keyless) is not, so
      // the slot map is refreshed here: this write fails, the next one goes to the slot's new master
      if (this.redis instanceof Cluster && /^(MOVED|ASK|CLUSTERDOWN|READONLY)\b/.test(scriptErr.message)) this.redis.refreshSlotsCache();
      throw scriptErr;
    }
    if (waitErr) throw waitErr;
    if (typeof acked !== 'number' || acked < this.waitReplicas) {
      throw new Error(`written but acknowledged by ${String(acked)} of ${this.waitReplicas} replicas within ${this.waitTimeoutMs} ms`);
    }
    return result;
  }

  async get(docId: string): Promise<DocSnapshot | undefined> {
    const text = await this.readField(`get ${docId}`, this.snapKey(docId), 'json');
    if (text === null) return undefined;
    let s: DocSnapshot;
    try {
      s = decodeSnapshot(text);
    } catch (err) {
      throw new Error(`redis snapshot store ${this.url}: stored snapshot of ${docId} is unreadable: ${(err as Error).message}`, { cause: err });
    }
    if (s.doc !== docId) throw new Error(`redis snapshot store ${this.url}: snapshot under ${docId} holds ${s.doc}`);
    return s;
  }

  async commit(snapshots: DocSnapshot[], covered: Map<number, bigint>): Promise<void> {
    this.checkOpen('commit');
    // a reader that saw the lineage vanish starts a new one before writing
    if (this.lineage === undefined) await this.adopt();
    // one key per document: if a batch holds a document twice, the newest snapshot wins
    const latest = new Map<string, DocSnapshot>();
    for (const s of snapshots) {
      const cur = latest.get(s.doc);
      if (cur === undefined || s.seq >= cur.seq) latest.set(s.doc, s);
    }
    const chunks: { keys: string[]; args: string[] }[] = [];
    let chunk = { keys: [] as string[], args: [] as string[] };
    let bytes = 0;
    for (const s of latest.values()) {
      const json = encodeSnapshot(s);
      if (chunk.keys.length > 0 && (chunk.keys.length >= this.chunkSize || bytes + json.length > this.chunkBytes)) {
        chunks.push(chunk);
        chunk = { keys: [], args: [] };
        bytes = 0;
      }
      chunk.keys.push(this.snapKey(s.doc));
      chunk.args.push(s.seq.toString(), json);
      bytes += json.length;
    }
    if (chunk.keys.length > 0) chunks.push(chunk);
    const results: [number, unknown][] = [];
    try {
      // the chunks are pipelined (several in flight on the one connection)
      await forEachLimit(chunks, this.concurrency, async (c) => {
        results.push((await this.write(PUT, [this.lineageKey, ...c.keys], [...this.lineageArgs(), ...c.args])) as [number, unknown]);
      });
    } catch (err) {
      throw this.fail(`commit (${latest.size} snapshots)`, err);
    }
    for (const [, lin] of results) this.checkLineage(lin);
    if (covered.size === 0) return;
    const args = this.lineageArgs();
    for (const [p, off] of covered) args.push(String(p), off.toString());
    let r: [number, unknown];
    try {
      // only once every snapshot is stored: a reader seeing offset C finds the docs at least as new
      r = (await this.write(ADVANCE, [this.lineageKey, this.coveredKey], args)) as [number, unknown];
    } catch (err) {
      throw this.fail('commit (covered offsets)', err);
    }
    this.checkLineage(r[1]);
  }

  async covered(partition: number): Promise<bigint> {
    const v = await this.readField(`covered ${partition}`, this.coveredKey, String(partition));
    if (v === null) return 0n;
    const off = parseSeq(v);
    if (off === undefined) throw new Error(`redis snapshot store ${this.url}: malformed covered offset for partition ${partition}: ${v}`);
    return off;
  }

  /** QUIT (or drop the connection if Redis is unreachable); later calls fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.redis.status === 'ready') {
      try {
        await this.redis.quit();
        return;
      } catch {
        // fall through
      }
    }
    this.redis.disconnect();
  }
}
