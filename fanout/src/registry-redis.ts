/**
 * Registry on Redis (ioredis).
 *
 * Announcing (replicas): `<prefix>{replicas}:replica:<id>` = ReplicaInfo JSON with a `PX ttl` expiry,
 * refreshed by a heartbeat every `heartbeatMs` (default ttl/3); the id is also kept in the sorted set
 * `<prefix>{replicas}` (the hash tag puts the index and every entry in one Redis Cluster slot, as
 * the scripts and MGET below need) scored with the key's expiry in Redis server time (an index, so watchers never
 * SCAN the keyspace). register/deregister publish `{"op":"up",...}` / `{"op":"down",...}` on channel
 * `<prefix>replicas`. After a reconnect (e.g. a Redis restart that lost everything) every replica
 * registered through this instance is written and announced again at once.
 *
 * Watching (gateways, and replicas themselves): a separate subscriber connection applies the
 * messages; a resync every `resyncMs` (default ttl/3) reads the index and the keys, so a missed
 * message is repaired within resyncMs. Redis' TTL is the authority on liveness: when an entry's TTL
 * (as last seen) runs out, the watcher resyncs at once, so a replica whose heartbeats stopped
 * (`kill -9`) leaves the view within a round trip of its key expiring (~ttl after its last
 * heartbeat), while a live replica is never dropped because of the watcher's own timing.
 *
 * While Redis is unreachable the view is frozen (nothing can be confirmed dead or alive; an empty
 * view would take down all routing), calls fail fast (no offline queue) and the connections retry
 * with capped, jittered backoff. For one ttl after a reconnect, entries missing from Redis are kept
 * (until their TTL, counted from the reconnect) so that replicas have time to re-register after a
 * Redis restart that lost the keys.
 */
import { createRedisClient, describeRedis, isRedisAuthError, RedisAuthError, type RedisClient, type RedisTarget } from '@replicant/stream';
import type { Registry, ReplicaInfo, ReplicaRegistration } from './registry.js';
import { ChangeListeners, normalizeReplica, routingChanged, validateRegistration } from './registry.js';

export interface RedisRegistryOptions {
  url: string;
  /** TLS CA, Sentinel, Cluster (stream's redis.ts); default: the URL alone */
  target?: Omit<RedisTarget, 'url'>;
  /** prefix of every key and of the channel (default `replicant:`) */
  keyPrefix?: string;
  /** a replica whose heartbeats stop disappears this long after its last one (default 3000 ms) */
  ttlMs?: number;
  /** heartbeat period (default ttlMs / 3) */
  heartbeatMs?: number;
  /** full resync period of the watched view (default ttlMs / 3) */
  resyncMs?: number;
  /** start() fails if Redis is not ready within this time (default 10 000 ms) */
  connectTimeoutMs?: number;
  /** a command with no answer within this time fails (default min(ttlMs, 5000) ms) */
  commandTimeoutMs?: number;
  /** cap of the reconnect backoff (default 1000 ms) */
  maxReconnectDelayMs?: number;
  /** connection-state and failure messages (default console.error) */
  log?: (msg: string) => void;
}

/** KEYS[1] replica key, KEYS[2] index; ARGV: json, ttl, id, channel, message ('' = no publish) */
const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[3])
if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[4], ARGV[5]) end
return 1`;

/** KEYS[1] replica key, KEYS[2] index; ARGV: id, channel, message */
const REMOVE = `
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`;

/** KEYS[1] index: prunes expired members; returns {serverNowMs, id1, expiry1, id2, expiry2, ...} */
const SCAN_INDEX = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now))
local r = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
table.insert(r, 1, string.format('%.0f', now))
return r`;

type Message = { op: 'up'; ttl: number; replica: ReplicaInfo } | { op: 'down'; id: string };

interface Entry {
  info: ReplicaInfo;
  /** local time at which its TTL runs out, as last seen */
  expiresAt: number;
  /** local time this entry was last confirmed (message or resync) */
  seenAt: number;
}

function parseInfo(v: unknown): ReplicaInfo | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  try {
    validateRegistration(o as unknown as ReplicaRegistration);
  } catch {
    return undefined;
  }
  return normalizeReplica(o as unknown as ReplicaRegistration, typeof o.updatedAt === 'number' ? o.updatedAt : 0);
}

export class RedisRegistry implements Registry {
  readonly url: string;
  private readonly ttlMs: number;
  private readonly heartbeatMs: number;
  private readonly resyncMs: number;
  private readonly connectTimeoutMs: number;
  private readonly log: (msg: string) => void;
  private readonly indexKey: string;
  private readonly channel: string;
  private readonly keyPrefix: string;
  private readonly cmd: RedisClient;
  private readonly sub: RedisClient;

  private readonly own = new Map<string, ReplicaRegistration>();
  private readonly entries = new Map<string, Entry>();
  /** ids removed by a 'down' message or deregister, with the local time: older resyncs must not revive them */
  private readonly tombstones = new Map<string, number>();
  private readonly listeners = new ChangeListeners();
  private view: ReplicaInfo[] | undefined;
  private graceUntil = 0;

  private starting: Promise<void> | undefined;
  private started = false;
  private closed = false;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private expiryAt = Infinity;
  private heartbeating = false;
  private heartbeatFailing = false;
  private resyncing: Promise<void> | undefined;
  private resyncAgain = false;
  private resyncFailing = false;
  private lastError: Error | undefined;

  constructor(opts: RedisRegistryOptions) {
    this.url = describeRedis({ ...opts.target, url: opts.url });
    this.ttlMs = Math.max(30, opts.ttlMs ?? 3_000);
    this.heartbeatMs = Math.max(10, opts.heartbeatMs ?? Math.floor(this.ttlMs / 3));
    this.resyncMs = Math.max(10, opts.resyncMs ?? Math.floor(this.ttlMs / 3));
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.log = opts.log ?? ((msg: string) => console.error(msg));
    this.keyPrefix = `${opts.keyPrefix ?? 'replicant:'}{replicas}:replica:`;
    this.indexKey = `${opts.keyPrefix ?? 'replicant:'}{replicas}`;
    this.channel = `${opts.keyPrefix ?? 'replicant:'}replicas`;
    const options = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: opts.commandTimeoutMs ?? Math.min(this.ttlMs, 5_000),
      connectTimeout: this.connectTimeoutMs,
      maxReconnectDelayMs: opts.maxReconnectDelayMs ?? 1_000,
    };
    const target = { ...opts.target, url: opts.url };
    this.cmd = createRedisClient(target, options);
    this.sub = createRedisClient(target, options);
    for (const c of [this.cmd, this.sub]) {
      c.on('error', (err: Error) => {
        this.lastError = err;
      });
    }
    let cmdWasReady = false;
    let cmdDown = false;
    this.cmd.on('close', () => {
      if (cmdWasReady && !cmdDown && !this.closed) {
        cmdDown = true;
        this.log(`redis registry ${this.url}: connection lost${this.lastError ? ` (${this.lastError.message})` : ''}; view frozen, reconnecting`);
      }
    });
    this.cmd.on('ready', () => {
      const reconnect = cmdWasReady;
      cmdWasReady = true;
      if (!reconnect || this.closed) return;
      if (cmdDown) this.log(`redis registry ${this.url}: reconnected`);
      cmdDown = false;
      this.onReconnect();
    });
    let subWasReady = false;
    this.sub.on('ready', () => {
      // messages published while the subscriber was away are lost: resync (ioredis resubscribes itself)
      if (subWasReady && !this.closed) this.requestResync();
      subWasReady = true;
    });
    this.sub.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.onMessage(message);
    });
  }

  /** Connected to Redis (for /readyz). */
  get ready(): boolean {
    return !this.closed && this.cmd.status === 'ready' && this.sub.status === 'ready';
  }

  /** Resolves once both connections are ready (at once if they are); rejects after `timeoutMs` or if closed. */
  async whenReady(timeoutMs = 10_000): Promise<void> {
    if (this.closed) throw this.fail('whenReady', new Error('closed'));
    const deadline = Date.now() + timeoutMs;
    for (const c of [this.cmd, this.sub]) {
      if (c.status === 'ready') continue;
      await new Promise<void>((resolve, reject) => {
        const onReady = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          c.off('ready', onReady);
          reject(this.fail('whenReady', new Error(`not connected after ${timeoutMs} ms`)));
        }, Math.max(0, deadline - Date.now()));
        c.once('ready', onReady);
      });
    }
  }

  private fail(op: string, err: unknown): Error {
    const cause = err instanceof Error ? err : new Error(String(err));
    const state = this.closed
      ? 'registry is closed'
      : this.cmd.status === 'ready'
        ? cause.message
        : `not connected, reconnecting in the background (${cause.message})`;
    return new Error(`redis registry ${this.url}: ${op} failed: ${state}`, { cause });
  }

  start(): Promise<void> {
    if (this.closed) return Promise.reject(this.fail('start', new Error('closed')));
    this.starting ??= this.startNow().catch((err) => {
      this.starting = undefined;
      this.cmd.disconnect();
      this.sub.disconnect();
      throw err;
    });
    return this.starting;
  }

  private async startNow(): Promise<void> {
    await Promise.all([this.cmd, this.sub].map((c) => this.waitReady(c)));
    await this.sub.subscribe(this.channel);
    await this.resyncNow();
    this.started = true;
    this.heartbeatTimer = setInterval(() => this.heartbeat(false), this.heartbeatMs);
    this.heartbeatTimer.unref();
    this.resyncTimer = setInterval(() => this.requestResync(), this.resyncMs);
    this.resyncTimer.unref();
  }

  private waitReady(c: RedisClient): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        // a refused login is final: say so now instead of after the timeout
        if (!isRedisAuthError(err)) return;
        clearTimeout(timer);
        c.off('ready', onReady);
        reject(new RedisAuthError(`redis registry ${this.url}: login refused (${err.message})`));
      };
      c.on('error', onError);
      const timer = setTimeout(() => {
        c.off('ready', onReady);
        c.off('error', onError);
        reject(
          new Error(
            `redis registry ${this.url}: not reachable within ${this.connectTimeoutMs} ms` +
              (this.lastError ? ` (${this.lastError.message})` : ''),
          ),
        );
      }, this.connectTimeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        c.off('error', onError);
        resolve();
      };
      c.once('ready', onReady);
      c.connect().catch(() => {}); // a refused attempt is retried by retryStrategy
    });
  }

  private key(id: string): string {
    return this.keyPrefix + id;
  }

  private upMessage(info: ReplicaInfo): string {
    return JSON.stringify({ op: 'up', ttl: this.ttlMs, replica: info } satisfies Message);
  }

  private async write(reg: ReplicaRegistration, announce: boolean): Promise<ReplicaInfo> {
    const info = normalizeReplica(reg, Date.now());
    await this.cmd.eval(
      HEARTBEAT,
      2,
      this.key(info.id),
      this.indexKey,
      JSON.stringify(info),
      String(this.ttlMs),
      info.id,
      this.channel,
      announce ? this.upMessage(info) : '',
    );
    return info;
  }

  async register(reg: ReplicaRegistration): Promise<void> {
    validateRegistration(reg);
    await this.start();
    if (this.closed) throw this.fail(`register ${reg.id}`, new Error('closed'));
    const prev = this.own.get(reg.id);
    const mine = { ...reg, partitions: [...reg.partitions] };
    this.own.set(reg.id, mine);
    let info: ReplicaInfo;
    try {
      info = await this.write(mine, true);
    } catch (err) {
      // not announced: heartbeats must not announce it behind the caller's back
      if (this.own.get(reg.id) === mine) {
        if (prev) this.own.set(reg.id, prev);
        else this.own.delete(reg.id);
      }
      throw this.fail(`register ${reg.id}`, err);
    }
    if (this.own.get(reg.id) !== mine) return; // deregistered or re-registered meanwhile
    this.tombstones.delete(info.id);
    this.upsert(info, Date.now() + this.ttlMs, true);
  }

  async deregister(id: string): Promise<void> {
    this.own.delete(id);
    this.tombstones.set(id, Date.now());
    if (this.entries.delete(id)) this.changed(true);
    if (!this.started) return;
    try {
      await this.cmd.eval(REMOVE, 2, this.key(id), this.indexKey, id, this.channel, JSON.stringify({ op: 'down', id } satisfies Message));
    } catch (err) {
      // its heartbeats have stopped: the key still expires within ttl
      throw this.fail(`deregister ${id}`, err);
    }
  }

  list(): ReplicaInfo[] {
    this.view ??= [...this.entries.values()].map((e) => e.info).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return this.view;
  }

  onChange(cb: () => void): () => void {
    return this.listeners.add(cb);
  }

  private changed(notify: boolean): void {
    this.view = undefined;
    this.scheduleExpiry();
    if (notify) this.listeners.emit();
  }

  /** Sets an entry; returns whether routing changed (new, or address/partitions differ). */
  private set(info: ReplicaInfo, expiresAt: number): boolean {
    const prev = this.entries.get(info.id);
    this.entries.set(info.id, { info, expiresAt, seenAt: Date.now() });
    return prev === undefined || routingChanged(prev.info, info);
  }

  private upsert(info: ReplicaInfo, expiresAt: number, notifyIfRouting: boolean): void {
    const routing = this.set(info, expiresAt);
    this.changed(notifyIfRouting && routing);
  }

  private onMessage(text: string): void {
    if (this.closed) return;
    let m: Message;
    try {
      m = JSON.parse(text) as Message;
    } catch {
      this.log(`redis registry ${this.url}: ignoring a malformed message on ${this.channel}`);
      return;
    }
    if (m?.op === 'up') {
      const info = parseInfo(m.replica);
      if (!info || typeof m.ttl !== 'number') return;
      this.tombstones.delete(info.id);
      this.upsert(info, Date.now() + m.ttl, true);
    } else if (m?.op === 'down' && typeof m.id === 'string') {
      this.tombstones.set(m.id, Date.now());
      if (this.entries.delete(m.id)) this.changed(true);
    }
  }

  /** Heartbeat of every replica registered here; `announce` also publishes them (after a reconnect). */
  private heartbeat(announce: boolean): void {
    if (this.heartbeating || this.closed || this.own.size === 0) return;
    this.heartbeating = true;
    const regs = [...this.own.values()];
    Promise.all(regs.map((r) => this.write(r, announce)))
      .then((infos) => {
        if (this.heartbeatFailing) this.log(`redis registry ${this.url}: heartbeats recovered`);
        this.heartbeatFailing = false;
        let routing = false;
        for (const info of infos) if (this.own.has(info.id)) routing = this.set(info, Date.now() + this.ttlMs) || routing;
        this.changed(routing);
      })
      .catch((err) => {
        if (!this.heartbeatFailing && !this.closed) this.log(this.fail('heartbeat', err).message + '; retrying');
        this.heartbeatFailing = true;
      })
      .finally(() => {
        this.heartbeating = false;
      });
  }

  private onReconnect(): void {
    // give every known replica one ttl to show up again (a restarted Redis may have lost the keys)
    const now = Date.now();
    this.graceUntil = now + this.ttlMs;
    for (const e of this.entries.values()) e.expiresAt = Math.max(e.expiresAt, now + this.ttlMs);
    this.heartbeating = false;
    this.heartbeat(true);
    this.changed(false);
    if (this.started) this.requestResync();
  }

  private requestResync(): void {
    if (this.closed || !this.started) return;
    if (this.resyncing) {
      this.resyncAgain = true;
      return;
    }
    this.resyncing = this.resyncNow()
      .catch((err) => {
        if (!this.resyncFailing && !this.closed) this.log(this.fail('resync', err).message + '; view frozen');
        this.resyncFailing = true;
      })
      .finally(() => {
        this.resyncing = undefined;
        if (this.resyncAgain) {
          this.resyncAgain = false;
          this.requestResync();
        }
      });
  }

  /** Reads the index and the keys; Redis' answer replaces the view (see the class comment). */
  private async resyncNow(): Promise<void> {
    const startedAt = Date.now();
    const r = (await this.cmd.eval(SCAN_INDEX, 1, this.indexKey)) as string[];
    const serverNow = Number(r[0]);
    const ids: string[] = [];
    const expiry: number[] = [];
    for (let i = 1; i + 1 < r.length; i += 2) {
      ids.push(r[i]);
      expiry.push(Number(r[i + 1]));
    }
    const values = ids.length > 0 ? await this.cmd.mget(ids.map((id) => this.key(id))) : [];
    if (this.closed) return;
    if (this.resyncFailing) this.log(`redis registry ${this.url}: resync recovered`);
    this.resyncFailing = false;
    const now = Date.now();
    let routing = false;
    const present = new Set<string>();
    for (let i = 0; i < ids.length; i++) {
      const v = values[i];
      if (v === null) continue;
      let info: ReplicaInfo | undefined;
      try {
        info = parseInfo(JSON.parse(v));
      } catch {
        info = undefined;
      }
      if (!info || info.id !== ids[i]) continue;
      // removed after this resync began: the removal is newer than what Redis told us
      const tomb = this.tombstones.get(info.id);
      if (tomb !== undefined && tomb >= startedAt) continue;
      this.tombstones.delete(info.id);
      present.add(info.id);
      routing = this.set(info, now + Math.max(0, expiry[i] - serverNow)) || routing;
    }
    for (const [id, e] of this.entries) {
      if (present.has(id)) continue;
      // seen after this resync began (a message raced it), or within the grace after a reconnect
      if (e.seenAt >= startedAt) continue;
      if (now < this.graceUntil && e.expiresAt > now) continue;
      this.entries.delete(id);
      routing = true;
    }
    for (const [id, t] of this.tombstones) if (t < now - 10 * this.ttlMs) this.tombstones.delete(id);
    this.changed(routing);
  }

  /** When the earliest TTL runs out, ask Redis (a live replica has refreshed its key meanwhile). */
  private scheduleExpiry(): void {
    if (this.closed || !this.started) return;
    let next = Infinity;
    for (const e of this.entries.values()) if (e.expiresAt < next) next = e.expiresAt;
    if (next === this.expiryAt) return;
    clearTimeout(this.expiryTimer);
    this.expiryAt = next;
    if (next === Infinity) return;
    this.expiryTimer = setTimeout(
      () => {
        this.expiryAt = Infinity;
        this.requestResync();
      },
      Math.max(0, next - Date.now()) + 5,
    );
    this.expiryTimer.unref();
  }

  /** Deregisters the replicas registered here (best effort), stops watching, closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const id of [...this.own.keys()]) {
      try {
        await this.deregister(id);
      } catch (err) {
        this.log((err as Error).message);
      }
    }
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.resyncTimer);
    clearTimeout(this.expiryTimer);
    this.listeners.clear();
    await this.resyncing;
    await Promise.all(
      [this.cmd, this.sub].map(async (c) => {
        if (c.status === 'ready') {
          try {
            await c.quit();
            return;
          } catch {
            // fall through
          }
        }
        c.disconnect();
      }),
    );
  }
}
