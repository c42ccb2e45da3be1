/**
 * The distributed SnapshotStore on Redis (ioredis).
 *
 * Keys (prefix default `replicant:`):
 * - `<prefix>snap:<docId>`: a hash `{seq, json}`; `json` is the snapshot-codec form, `seq` the
 *   snapshot's seq as a decimal string, kept apart so a Lua script can compare it without parsing
 *   the document. A write whose seq is below the stored one is ignored: an older snapshot (a stale
 *   retry, a lagging second checkpointer) never overwrites a newer one.
 * - `<prefix>covered:<topic>`: a hash partition -> covered offset (decimal). Advanced by a Lua script
 *   that never moves an offset backwards, and only after every snapshot of the commit was written.
 *
 * Seqs and offsets are compared as canonical decimal strings (length, then lexicographically), so the
 * full 64-bit range is exact: Lua numbers are doubles.
 *
 * Availability: the offline queue is disabled and in-flight commands are failed (not replayed) when
 * the connection drops, so while Redis is unreachable every call fails at once with an error naming
 * the Redis URL (password removed) and nothing accumulates in memory; ioredis reconnects in the
 * background with capped, jittered exponential backoff, and the store works again without being
 * re-created. A command that gets no answer fails after `commandTimeoutMs`.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { parseSeq } from '@replicant/protocol';
import type { DocSnapshot } from './doc-state.js';
import type { SnapshotStore } from './snapshot-store.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot-codec.js';
import { forEachLimit } from './limit.js';

export interface RedisSnapshotStoreOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://`) */
  url: string;
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

/** KEYS = snapshot keys; ARGV = seq1, json1, seq2, json2, ...; returns how many were written. */
const PUT_SNAPSHOTS = `${DEC_GE}
local written = 0
for i = 1, #KEYS do
  local seq = ARGV[2 * i - 1]
  local cur = redis.call('HGET', KEYS[i], 'seq')
  if (not cur) or ge(seq, cur) then
    redis.call('HSET', KEYS[i], 'seq', seq, 'json', ARGV[2 * i])
    written = written + 1
  end
end
return written`;

/** KEYS[1] = covered hash; ARGV = partition1, offset1, ...; offsets only move forward. */
const ADVANCE_COVERED = `${DEC_GE}
local moved = 0
for i = 1, #ARGV, 2 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  if (not cur) or (ARGV[i + 1] ~= cur and ge(ARGV[i + 1], cur)) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    moved = moved + 1
  end
end
return moved`;

interface Script {
  lua: string;
  sha: string;
}

function script(lua: string): Script {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

const PUT = script(PUT_SNAPSHOTS);
const ADVANCE = script(ADVANCE_COVERED);

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

/** Capped exponential backoff with jitter, for ioredis' retryStrategy. */
export function redisBackoff(maxDelayMs: number): (attempt: number) => number {
  return (attempt) => {
    const exp = Math.min(maxDelayMs, 50 * 2 ** Math.min(attempt, 16));
    return Math.round(exp / 2 + (Math.random() * exp) / 2);
  };
}

export class RedisSnapshotStore implements SnapshotStore {
  readonly url: string;
  private readonly prefix: string;
  private readonly coveredKey: string;
  private readonly chunkSize: number;
  private readonly chunkBytes: number;
  private readonly concurrency: number;
  private closed = false;

  private constructor(
    private readonly redis: Redis,
    opts: RedisSnapshotStoreOptions,
  ) {
    this.url = redactRedisUrl(opts.url);
    this.prefix = opts.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX;
    this.coveredKey = `${this.prefix}covered:${opts.topic ?? DEFAULT_SNAPSHOT_TOPIC}`;
    this.chunkSize = Math.max(1, opts.chunkSize ?? 256);
    this.chunkBytes = Math.max(1, opts.chunkBytes ?? 1 << 20);
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
  }

  /** Connects and resolves once Redis answers; rejects (naming the URL) after `connectTimeoutMs`. */
  static async open(opts: RedisSnapshotStoreOptions): Promise<RedisSnapshotStore> {
    const connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    const log = opts.log ?? ((msg: string) => console.error(msg));
    const shown = redactRedisUrl(opts.url);
    const redis = new Redis(opts.url, {
      lazyConnect: true,
      // bounded memory while Redis is unreachable: nothing is queued, in-flight commands fail at the
      // first reconnect attempt instead of waiting for (and being replayed after) the reconnect
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: opts.commandTimeoutMs ?? 5_000,
      connectTimeout: connectTimeoutMs,
      retryStrategy: redisBackoff(opts.maxReconnectDelayMs ?? 2_000),
    });
    let lastError: Error | undefined;
    let wasReady = false;
    let down = false;
    redis.on('error', (err: Error) => {
      lastError = err;
    });
    redis.on('close', () => {
      if (wasReady && !down) {
        down = true;
        log(`redis snapshot store ${shown}: connection lost${lastError ? ` (${lastError.message})` : ''}, reconnecting`);
      }
    });
    redis.on('ready', () => {
      if (down) log(`redis snapshot store ${shown}: reconnected`);
      wasReady = true;
      down = false;
    });
    const store = new RedisSnapshotStore(redis, opts);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          redis.off('ready', onReady);
          reject(
            new Error(
              `redis snapshot store ${shown}: not reachable within ${connectTimeoutMs} ms` +
                (lastError ? ` (${lastError.message})` : ''),
            ),
          );
        }, connectTimeoutMs);
        const onReady = () => {
          clearTimeout(timer);
          resolve();
        };
        redis.once('ready', onReady);
        // a refused first attempt is retried by retryStrategy like any later reconnect
        redis.connect().catch(() => {});
      });
    } catch (err) {
      redis.disconnect();
      throw err;
    }
    return store;
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

  async get(docId: string): Promise<DocSnapshot | undefined> {
    this.checkOpen('get');
    let text: string | null;
    try {
      text = await this.redis.hget(this.snapKey(docId), 'json');
    } catch (err) {
      throw this.fail(`get ${docId}`, err);
    }
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
    try {
      // the chunks are pipelined (several in flight on the one connection)
      await forEachLimit(chunks, this.concurrency, (c) => this.run(PUT, c.keys, c.args));
    } catch (err) {
      throw this.fail(`commit (${latest.size} snapshots)`, err);
    }
    if (covered.size === 0) return;
    const args: string[] = [];
    for (const [p, off] of covered) args.push(String(p), off.toString());
    try {
      // only once every snapshot is stored: a reader seeing offset C finds the docs at least as new
      await this.run(ADVANCE, [this.coveredKey], args);
    } catch (err) {
      throw this.fail('commit (covered offsets)', err);
    }
  }

  async covered(partition: number): Promise<bigint> {
    this.checkOpen('covered');
    let v: string | null;
    try {
      v = await this.redis.hget(this.coveredKey, String(partition));
    } catch (err) {
      throw this.fail(`covered ${partition}`, err);
    }
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
