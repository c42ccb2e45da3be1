/**
 * CLUSTER_SECRET: how processes of one cluster recognise each other without ever sending the
 * secret.
 *
 * Links (gateway -> replica, TCP): challenge-response. The replica sends a random 32-byte nonce;
 * the gateway answers with its own nonce and HMAC-SHA256(secret, "replicant-link-v1 gateway" |
 * replica nonce | gateway nonce); the replica checks it and answers with the same MAC for role
 * "replica", which the gateway checks. Fresh nonces on both sides make a recorded exchange
 * useless on another connection.
 *
 * Requests (gateway -> origin, HTTP): `Authorization: ReplicantCluster <ms>.<nonce>.<mac>`, with a
 * fresh random 128-bit nonce per request and mac = HMAC-SHA256(secret, "replicant-http-v2" | ms |
 * nonce | method | target (path and query) | Idempotency-Key | If-Match | Content-Type |
 * SHA-256(body)): every part of the request that changes what the origin does with it, so no
 * header can be dropped or changed (a 412'd If-Match write replayed without it does not verify).
 * An origin accepts a signature within CLUSTER_REQUEST_WINDOW_MS of its clock and each nonce once
 * (ReplayCache below), so a recorded request cannot be replayed to the same origin, keyed or
 * keyless. Each origin keeps its own cache: within the window a recorded request CAN be replayed
 * once to each other origin of the cluster (a keyed write is still applied once: its idempotency
 * key is decided in the doc's state; a keyless one applies again; docs/security.md).
 *
 * ReplayCache bounds: DEFAULT_REPLAY_CACHE_ENTRIES nonces and DEFAULT_REPLAY_CACHE_BYTES; a nonce
 * is kept until its signature's window ends plus REPLAY_KEEP_MARGIN_MS (the timestamp check, on the
 * same non-decreasing clock reading, refuses it from the window's end). At the bound a new signed
 * request is refused (the origin answers 503 `unavailable` with Retry-After) rather than accepted
 * unchecked.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const NONCE_BYTES = 32;
export const CLUSTER_AUTH_SCHEME = 'ReplicantCluster';
/** accepted age (either direction) of a signed gateway -> origin request */
export const CLUSTER_REQUEST_WINDOW_MS = 30_000;

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

/** the MAC one side of a link sends for the two nonces */
export function linkProof(secret: string, role: 'gateway' | 'replica', replicaNonce: Uint8Array, gatewayNonce: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`replicant-link-v1 ${role}\0`).update(replicaNonce).update(gatewayNonce).digest();
}

/** constant-time comparison of a received MAC with the expected one */
export function proofMatches(expected: Buffer, got: Uint8Array | null | undefined): boolean {
  return !!got && got.length === expected.length && timingSafeEqual(expected, got);
}

/** the parts of a gateway -> origin request a cluster signature covers (absent headers: '') */
export interface ClusterRequest {
  method: string;
  /** path and query as the origin routes them: `/v1/docs/{docId}` (decoded id) plus `?<query>` if any */
  target: string;
  idempotencyKey: string;
  ifMatch: string;
  contentType: string;
  body: Uint8Array | string;
}

/** random bytes per request nonce (base64url: 22 characters) */
const REQUEST_NONCE_BYTES = 16;

function requestMac(secret: string, ms: string, nonce: string, r: ClusterRequest): string {
  const bodyHash = createHash('sha256').update(r.body).digest('hex');
  // header values cannot contain '\n' (HTTP forbids it), so the fields cannot run into each other
  const text = `replicant-http-v2\n${ms}\n${nonce}\n${r.method.toUpperCase()}\n${r.target}\n${r.idempotencyKey}\n${r.ifMatch}\n${r.contentType}\n${bodyHash}`;
  return createHmac('sha256', secret).update(text).digest('base64url');
}

/** the Authorization header value for a gateway -> origin request (a new nonce every call) */
export function signClusterRequest(secret: string, req: ClusterRequest, nowMs = Date.now()): string {
  const ms = String(Math.floor(nowMs));
  const nonce = randomBytes(REQUEST_NONCE_BYTES).toString('base64url');
  return `${CLUSTER_AUTH_SCHEME} ${ms}.${nonce}.${requestMac(secret, ms, nonce, req)}`;
}

/** is `authorization` a cluster signature at all (then it must verify; no other credential applies) */
export function isClusterAuth(authorization: string): boolean {
  return authorization.startsWith(`${CLUSTER_AUTH_SCHEME} `);
}

/** a verified signature: its nonce (to check against the ReplayCache) and when it was made */
export interface VerifiedClusterRequest {
  nonce: string;
  signedAtMs: number;
}

/** checks a cluster signature over the request; undefined when it is malformed, wrong or outside the window */
export function verifyClusterRequest(secret: string, authorization: string, req: ClusterRequest, nowMs = Date.now()): VerifiedClusterRequest | undefined {
  const m = /^ReplicantCluster (\d{1,16})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(authorization);
  if (!m) return undefined;
  const signedAtMs = Number(m[1]);
  if (Math.abs(nowMs - signedAtMs) > CLUSTER_REQUEST_WINDOW_MS) return undefined;
  const expected = Buffer.from(requestMac(secret, m[1], m[2], req));
  const got = Buffer.from(m[3]);
  if (got.length !== expected.length || !timingSafeEqual(expected, got)) return undefined;
  return { nonce: m[2], signedAtMs };
}

// 2^20 nonces kept ~31.5 s (window + margin): ~33,000 signed requests/s per origin sustained (a
// 262,144-entry cache capped an origin at ~4,300 writes/s, below what one origin core folds)
export const DEFAULT_REPLAY_CACHE_ENTRIES = 1_048_576;
export const DEFAULT_REPLAY_CACHE_BYTES = 128 * 1024 * 1024;
/** estimated heap bytes of one cache entry besides its 16 key characters (Map slot, string header, number); measured ~61 */
const REPLAY_ENTRY_OVERHEAD = 80;

export type ReplayVerdict = 'fresh' | 'replay' | 'full';

/**
 * ms an entry is kept past its signature's window: with one `now` for the timestamp check and the
 * cache (ReplayCache.now) the check refuses a signature before its entry can leave; the margin
 * covers rounding to expiry seconds.
 */
export const REPLAY_KEEP_MARGIN_MS = 1000;

/**
 * The nonces of the signed requests accepted in the last window: a nonce seen again is a replay.
 * Bounded in count and bytes; an entry is kept until its signature is outside the window (signedAt +
 * windowMs) plus REPLAY_KEEP_MARGIN_MS, to the next whole second; from then the timestamp check
 * alone refuses it. At the bound `admit` answers `full` and remembers nothing: the caller
 * refuses the request (503) rather than accept it unchecked.
 *
 * Expiry: entries sit in buckets by expiry second, a ring covering every second an accepted
 * signature can expire in (now + margin .. now + 2 x window + margin); each call drops the buckets
 * of the seconds that have passed. Expiry work is proportional to what expires (plus at most one
 * step per ring slot after a long idle); nothing walks the whole cache.
 *
 * Clock: `now()` never goes back (a backward step of the wall clock holds it until the clock has
 * caught up), so an entry dropped as expired can never become valid again. Use it for both the
 * timestamp check and `admit`.
 */
export class ReplayCache {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly windowMs: number;
  /** nonce (its bytes as a latin1 string) -> its expiry second */
  private readonly entries = new Map<string, number>();
  /** ring of buckets: slot s % ring.length holds the nonces expiring in second s */
  private readonly ring: (Set<string> | undefined)[];
  /** every bucket of a second before this one has been dropped */
  private sweptSec = -1;
  private bytesUsed = 0;
  private lastNow = 0;
  /** bucket entries visited by expiry (tests: expiry cost) */
  expiryVisits = 0;

  constructor(opts: { maxEntries?: number; maxBytes?: number; windowMs?: number } = {}) {
    this.maxEntries = opts.maxEntries ?? DEFAULT_REPLAY_CACHE_ENTRIES;
    this.maxBytes = opts.maxBytes ?? DEFAULT_REPLAY_CACHE_BYTES;
    this.windowMs = opts.windowMs ?? CLUSTER_REQUEST_WINDOW_MS;
    this.ring = new Array<Set<string> | undefined>(Math.ceil((2 * this.windowMs + REPLAY_KEEP_MARGIN_MS) / 1000) + 2);
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.bytesUsed;
  }

  /** the wall clock, never going back: pass it to verifyClusterRequest and admit */
  now(): number {
    const t = Date.now();
    if (t > this.lastNow) this.lastNow = t;
    return this.lastNow;
  }

  /**
   * records `nonce` unless it was seen in the window ('replay') or the cache is at its bound
   * ('full'). `signedAtMs` must have passed the timestamp check at `nowMs` (|now - signedAt| <= window).
   */
  admit(nonce: string, signedAtMs: number, nowMs: number = this.now()): ReplayVerdict {
    this.expire(nowMs);
    // a compact key of its own: the nonce as parsed is a slice that would keep the whole
    // Authorization header alive (measured: ~200 bytes per entry instead of ~60)
    const key = Buffer.from(nonce, 'base64url').toString('latin1');
    if (this.entries.has(key)) return 'replay';
    const cost = REPLAY_ENTRY_OVERHEAD + key.length;
    if (this.entries.size >= this.maxEntries || this.bytesUsed + cost > this.maxBytes) return 'full';
    // never before the current second (a signature at the window's far edge) nor past the ring
    const last = Math.floor(nowMs / 1000) + this.ring.length - 1;
    const sec = Math.min(last, Math.max(this.sweptSec, Math.floor((signedAtMs + this.windowMs + REPLAY_KEEP_MARGIN_MS) / 1000)));
    const slot = sec % this.ring.length;
    (this.ring[slot] ??= new Set()).add(key);
    this.entries.set(key, sec);
    this.bytesUsed += cost;
    return 'fresh';
  }

  /** ms until an entry expires at the earliest (a request refused as `full` may succeed then) */
  retryAfterMs(nowMs: number = this.now()): number {
    this.expire(nowMs);
    for (let sec = this.sweptSec; sec < this.sweptSec + this.ring.length; sec++) {
      if ((this.ring[sec % this.ring.length]?.size ?? 0) > 0) return Math.max(0, (sec + 1) * 1000 - nowMs);
    }
    return 0;
  }

  /** drops the buckets of every second before now's: an entry of second s leaves at (s + 1) x 1000 */
  private expire(nowMs: number): void {
    const nowSec = Math.floor(nowMs / 1000);
    if (this.sweptSec < 0 || nowSec - this.sweptSec > this.ring.length) this.sweptSec = Math.max(0, nowSec - this.ring.length);
    for (; this.sweptSec < nowSec; this.sweptSec++) {
      const slot = this.sweptSec % this.ring.length;
      const bucket = this.ring[slot];
      if (bucket === undefined) continue;
      for (const key of bucket) {
        this.expiryVisits++;
        this.entries.delete(key);
        this.bytesUsed -= REPLAY_ENTRY_OVERHEAD + key.length;
      }
      this.ring[slot] = undefined;
    }
  }
}

