/**
 * The gateway's write path in cluster mode: publishes go to origin's HTTP API
 * (`POST /v1/docs/{id}` with `Idempotency-Key`, and `If-Match: "<seq>"` for a publish with
 * `ifSeq`), which answers only once the op is durable.
 * In-flight requests are bounded; past the bound a publish fails fast with `unavailable`.
 * With CLUSTER_SECRET each request carries a `ReplicantCluster` signature over its method, doc,
 * Idempotency-Key, If-Match, Content-Type and body, with a fresh nonce the origin accepts once
 * (@replicant/auth cluster-secret.ts); the secret itself is never sent. Nothing here re-sends a
 * signed request: a retry (the SDK's) is a new request with a new nonce, deduplicated by its key.
 * The gateway has already checked the client's write scope, so origin trusts signed writes.
 * Errors reaching clients never name ORIGIN_URL: an unreachable origin is "origin unavailable";
 * the cause is logged (once per outage, and when origin answers again).
 */
import { signClusterRequest } from '@replicant/auth';
import { ErrorCode, type PresenceAck, type PresenceReport } from '@replicant/protocol';
import type { Writer } from './gateway.js';
import type { PresenceSink } from './presence.js';

export interface OriginClientOptions {
  /** e.g. http://127.0.0.1:8081 */
  baseUrl: string;
  /** concurrent requests (default 1024) */
  maxInflight?: number;
  /** per-request timeout (default 10 s) */
  timeoutMs?: number;
  /** CLUSTER_SECRET: sign every write with it */
  clusterSecret?: string;
}

/** what a client is told when origin cannot be reached */
export const ORIGIN_UNAVAILABLE = 'origin unavailable; retry';

export class WriteError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class OriginClient implements Writer, PresenceSink {
  private inflight = 0;
  /** origin could not be reached at the last attempt (logged once per outage) */
  private unreachable = false;
  private readonly base: string;
  private readonly maxInflight: number;
  private readonly timeoutMs: number;

  constructor(private readonly opts: OriginClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.maxInflight = opts.maxInflight ?? 1024;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  async write(docId: string, patchText: string, idempotencyKey?: string, ifSeq?: bigint): Promise<bigint> {
    if (this.inflight >= this.maxInflight) {
      throw new WriteError(ErrorCode.Unavailable, `more than ${this.maxInflight} writes in flight to origin; retry`);
    }
    this.inflight++;
    try {
      const headers: Record<string, string> = { 'content-type': 'application/merge-patch+json' };
      if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
      if (ifSeq !== undefined) headers['if-match'] = `"${ifSeq}"`;
      const secret = this.opts.clusterSecret;
      if (secret) {
        headers.authorization = signClusterRequest(secret, {
          method: 'POST',
          target: `/v1/docs/${docId}`,
          idempotencyKey: idempotencyKey ?? '',
          ifMatch: headers['if-match'] ?? '',
          contentType: headers['content-type'],
          body: patchText,
        });
      }
      let res: Response;
      let text: string;
      try {
        res = await fetch(`${this.base}/v1/docs/${docId}`, {
          method: 'POST',
          headers,
          body: patchText,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        text = await res.text();
      } catch (err) {
        if (!this.unreachable) {
          this.unreachable = true;
          const cause = (err as { cause?: { message?: string } }).cause?.message;
          console.error(`replicant gateway: origin ${this.base} unreachable: ${(err as Error).message}${cause ? ` (${cause})` : ''}`);
        }
        throw new WriteError(ErrorCode.Unavailable, ORIGIN_UNAVAILABLE);
      }
      if (this.unreachable) {
        this.unreachable = false;
        console.error(`replicant gateway: origin ${this.base} answers again`);
      }
      let body: any;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (res.status === 200 && typeof body?.seq === 'string') return BigInt(body.seq);
      // the origin refused the cluster's own signature (CLUSTER_SECRET being rolled, or gateway and
      // origin of versions with different signatures mid-upgrade): not the client's fault, and over
      // once the cluster agrees again, so the client retries rather than drops the publish
      if (res.status === 401 && this.opts.clusterSecret) throw new WriteError(ErrorCode.Unavailable, 'origin refused the cluster signature; retry');
      const code = typeof body?.error?.code === 'string' ? body.error.code : res.status >= 500 ? ErrorCode.Unavailable : ErrorCode.BadRequest;
      const message = typeof body?.error?.message === 'string' ? body.error.message : `origin answered ${res.status}`;
      throw new WriteError(code, message);
    } finally {
      this.inflight--;
    }
  }

  /**
   * A presence report (presence.ts) to origin's POST /v1/presence, signed like a write; resolves
   * with origin's answer, rejects on any failure (the tracker then sends a full report next).
   * Not counted in the write bound: one report is in flight at a time.
   */
  async report(r: PresenceReport): Promise<PresenceAck> {
    const body = JSON.stringify(r);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const secret = this.opts.clusterSecret;
    if (secret) {
      headers.authorization = signClusterRequest(secret, { method: 'POST', target: '/v1/presence', idempotencyKey: '', ifMatch: '', contentType: headers['content-type'], body });
    }
    const res = await fetch(`${this.base}/v1/presence`, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`origin answered ${res.status} to a presence report`);
    const ack = JSON.parse(text) as PresenceAck;
    if (typeof ack?.boot !== 'string') throw new Error('origin answered a presence report without boot');
    return ack;
  }
}
