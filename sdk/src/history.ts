/**
 * A document's past over HTTP, on the same host the client streams from (gateways serve origin's
 * document routes; `replicant dev` serves them on its one port): `history` pages, `stateAt` (the
 * state as of a seq) and `restore` (one write taking the doc back to a seq). The http(s) base is
 * derived from the ws(s) URL; the token goes in `Authorization: Bearer`. Errors are
 * ReplicantErrors with the server's code (`history_expired` carries `oldest`, the oldest seq
 * still available). Uses the global fetch (browsers, Node ≥ 18).
 */
import type { JsonObject } from '@replicant/protocol';
import { ReplicantError } from './errors.js';

export interface HistoryOp {
  seq: string;
  prevSeq: string;
  patch: JsonObject;
  /** the write's append time, ms since the epoch */
  ts: number;
}

export interface HistoryPage {
  ops: HistoryOp[];
  /** pass as `after` for the next page; null at the end of the log */
  next: string | null;
}

export interface HistoryOptions {
  /** ops with seq > after (default "0": from the start) */
  after?: string;
  /** at most this many ops (1..1000, default 1000) */
  limit?: number;
}

/** a failed history call: the server's error code, and for `history_expired` the oldest seq available */
export class HistoryError extends ReplicantError {
  constructor(
    code: string,
    message: string,
    doc: string,
    readonly status: number,
    readonly oldest?: string,
  ) {
    super(code, message, doc);
    this.name = 'HistoryError';
  }
}

/**
 * Where the document routes are served for a ws(s) (or http(s)) URL: http(s), the same host, and
 * the path before a trailing `/v1/stream`, so a proxy's path prefix (wss://h/rt/v1/stream →
 * https://h/rt) is kept. Any other path is not a stream path: the host's root. No query, no slash at the end.
 */
export function httpBase(url: string): string {
  const u = new URL(url);
  if (u.protocol === 'ws:') u.protocol = 'http:';
  else if (u.protocol === 'wss:') u.protocol = 'https:';
  const path = u.pathname.replace(/\/+$/, '');
  return path.endsWith('/v1/stream') ? u.origin + path.slice(0, -'/v1/stream'.length) : u.origin;
}

type TokenSource = undefined | string | (() => string | Promise<string>);

async function call(base: string, token: TokenSource, doc: string, path: string, init: { method: string; body?: string; headers?: Record<string, string> }): Promise<any> {
  const headers: Record<string, string> = { ...init.headers };
  const t = typeof token === 'function' ? await token() : token;
  if (t) headers.authorization = `Bearer ${t}`;
  const res = await fetch(`${base}/v1/docs/${encodeURIComponent(doc)}${path}`, { method: init.method, headers, body: init.body });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (res.status === 200 && body !== undefined) return body;
  const e = body?.error;
  throw new HistoryError(
    typeof e?.code === 'string' ? e.code : res.status >= 500 ? 'unavailable' : 'bad_request',
    typeof e?.message === 'string' ? e.message : `server answered ${res.status}`,
    doc,
    res.status,
    typeof e?.oldest === 'string' ? e.oldest : undefined,
  );
}

export function fetchHistory(base: string, token: TokenSource, doc: string, opts: HistoryOptions = {}): Promise<HistoryPage> {
  const q = new URLSearchParams({ after: opts.after ?? '0', limit: String(opts.limit ?? 1000) });
  return call(base, token, doc, `/history?${q}`, { method: 'GET' }) as Promise<HistoryPage>;
}

export function fetchStateAt(base: string, token: TokenSource, doc: string, seq: string): Promise<{ seq: string; state: JsonObject }> {
  return call(base, token, doc, `?at=${encodeURIComponent(seq)}`, { method: 'GET' }) as Promise<{ seq: string; state: JsonObject }>;
}

export async function postRestore(base: string, token: TokenSource, doc: string, seq: string): Promise<string> {
  const r = (await call(base, token, doc, '/restore', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ seq }),
  })) as { seq: string };
  return r.seq;
}
