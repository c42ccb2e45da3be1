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
 * The origin accepts a signature within CLUSTER_REQUEST_WINDOW_MS of its clock and each nonce once
 * (ReplayCache below), so a recorded request cannot be replayed at all, keyed or keyless.
 *
 * ReplayCache bounds: DEFAULT_REPLAY_CACHE_ENTRIES nonces and DEFAULT_REPLAY_CACHE_BYTES; a nonce
 * is kept until its signature's window ends (then the timestamp check refuses it anyway). At the
 * bound a new signed request is refused (the origin answers 503 `unavailable` with Retry-After)
 * rather than accepted unchecked.
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

// 2^20 nonces kept for the 30 s window: ~35,000 signed requests/s per origin sustained (a
// 262,144-entry cache capped an origin at ~4,300 writes/s, below what one origin core folds)
export const DEFAULT_REPLAY_CACHE_ENTRIES = 1_048_576;
export const DEFAULT_REPLAY_CACHE_BYTES = 128 * 1024 * 1024;
/** estimated heap bytes of one cache entry besides its 16 key characters (Map slot, string header, number); measured ~61 */
const REPLAY_ENTRY_OVERHEAD = 80;

export type ReplayVerdict = 'fresh' | 'replay' | 'full';

/**
 * The nonces of the signed requests accepted in the last window: a nonce seen again is a replay.
 * Bounded in count and bytes; an entry leaves once its signature is outside the window (signedAt +
 * windowMs), after which the timestamp check alone refuses it. At the bound `admit` answers `full`
 * and remembers nothing: the caller refuses the request (503) rather than accept it unchecked.
 * Entries are swept from the front (insertion order ~ expiry order); entries signed with a skewed
 * clock can sit behind later-expiring ones, so at the bound one full sweep runs, at most once per
 * earliest expiry.
 */
export class ReplayCache {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly windowMs: number;
  /** nonce (its bytes as a latin1 string) -> ms at which its signature leaves the window */
  private readonly entries = new Map<string, number>();
  private bytesUsed = 0;
  /** no entry expires before this (exact after a full sweep, lowered by inserts) */
  private earliestExpiry = 0;

  constructor(opts: { maxEntries?: number; maxBytes?: number; windowMs?: number } = {}) {
    this.maxEntries = opts.maxEntries ?? DEFAULT_REPLAY_CACHE_ENTRIES;
    this.maxBytes = opts.maxBytes ?? DEFAULT_REPLAY_CACHE_BYTES;
    this.windowMs = opts.windowMs ?? CLUSTER_REQUEST_WINDOW_MS;
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.bytesUsed;
  }

  /** records `nonce` unless it was seen in the window ('replay') or the cache is at its bound ('full') */
  admit(nonce: string, signedAtMs: number, nowMs = Date.now()): ReplayVerdict {
    this.sweepFront(nowMs);
    // a compact key of its own: the nonce as parsed is a slice that would keep the whole
    // Authorization header alive (measured: ~200 bytes per entry instead of ~60)
    const key = Buffer.from(nonce, 'base64url').toString('latin1');
    const expires = this.entries.get(key);
    if (expires !== undefined && expires >= nowMs) return 'replay';
    const cost = REPLAY_ENTRY_OVERHEAD + key.length;
    if (this.entries.size >= this.maxEntries || this.bytesUsed + cost > this.maxBytes) {
      if (nowMs >= this.earliestExpiry) this.sweepAll(nowMs);
      if (this.entries.size >= this.maxEntries || this.bytesUsed + cost > this.maxBytes) return 'full';
    }
    if (expires !== undefined) this.delete(key); // expired, not swept yet: re-inserted at the back
    const exp = signedAtMs + this.windowMs;
    this.entries.set(key, exp);
    this.bytesUsed += cost;
    if (exp < this.earliestExpiry) this.earliestExpiry = exp;
    return 'fresh';
  }

  /** ms until an entry expires at the earliest (a request refused as `full` may succeed then) */
  retryAfterMs(nowMs = Date.now()): number {
    return this.earliestExpiry === Infinity ? 0 : Math.max(0, this.earliestExpiry - nowMs);
  }

  private sweepFront(nowMs: number): void {
    for (const [nonce, exp] of this.entries) {
      if (exp >= nowMs) return;
      this.delete(nonce);
    }
  }

  private sweepAll(nowMs: number): void {
    let min = Infinity;
    for (const [nonce, exp] of this.entries) {
      if (exp < nowMs) this.delete(nonce);
      else if (exp < min) min = exp;
    }
    this.earliestExpiry = min;
  }

  private delete(key: string): void {
    if (this.entries.delete(key)) this.bytesUsed -= REPLAY_ENTRY_OVERHEAD + key.length;
  }
}
