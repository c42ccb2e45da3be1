/**
 * The HTTP answer and request-body rules every uWS route shares (origin's document routes, its
 * server API, the gateways' edge routes), so a status line, an error body and a body bound read the
 * same everywhere. No uWebSockets.js import: the types here are the structural parts of uWS's
 * HttpResponse the helpers use, so this module costs the browser SDK nothing.
 *
 * Body bounds (readBody):
 *  - at most `maxBytes` are kept; a request over it is refused `too_large`. Up to `maxDiscardBytes`
 *    (default maxBytes) of it are read and dropped so the answer can keep the connection; past
 *    that the answer must close it (`close: true`) and nothing more is read.
 *  - an optional BodyBudget bounds the bytes buffered by all requests of a server at once: a chunk
 *    it cannot take refuses the request `busy` (answer 503, close). A request's bytes go back to
 *    the budget when its body completes, is refused, or `release()` is called (on abort).
 *  - chunks are copied: uWS neuters a chunk's memory after the callback returns.
 */

/** Status lines for the statuses our routes answer with; others get a generic reason phrase. */
const STATUS_LINES: Record<number, string> = {
  200: '200 OK',
  204: '204 No Content',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  409: '409 Conflict',
  410: '410 Gone',
  412: '412 Precondition Failed',
  413: '413 Payload Too Large',
  415: '415 Unsupported Media Type',
  422: '422 Unprocessable Entity',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  502: '502 Bad Gateway',
  503: '503 Service Unavailable',
  504: '504 Gateway Timeout',
};

/** `"<status> <reason>"`: a status line always carries a reason phrase. */
export function statusLine(status: number): string {
  return STATUS_LINES[status] ?? `${status} ${status < 400 ? 'Status' : 'Error'}`;
}

/** The error body of every HTTP route: `{"error":{"code","message",…extra}}`. */
export function errorBody(code: string, message: string, extra?: Record<string, string>): string {
  return JSON.stringify({ error: extra === undefined ? { code, message } : { code, message, ...extra } });
}

/** The parts of uWS's HttpResponse used to answer. */
export interface HttpAnswerSink {
  cork(cb: () => void): unknown;
  writeStatus(status: string): unknown;
  writeHeader(key: string, value: string): unknown;
  end(body?: string, closeConnection?: boolean): unknown;
}

/** One request's answer state: `done` once answered or aborted (then nothing more is written). */
export interface HttpExchange {
  done: boolean;
}

export interface JsonAnswerHeaders {
  etag?: string | null;
  /** seconds; written as a whole number ≥ 1 */
  retryAfterSec?: number | null;
  allow?: string;
  /** close the connection after the answer (a body may still be coming) */
  close?: boolean;
  /** readable by a page of any origin (CORS): for routes whose credential is a bearer token, never a cookie */
  cors?: boolean;
}

/** headers a cross-origin client of our public routes sends (CORS preflight) */
const CORS_ALLOW_HEADERS = 'Authorization, Content-Type, Idempotency-Key, If-Match, Last-Event-ID';
/** headers such a client may read */
const CORS_EXPOSE_HEADERS = 'ETag, Retry-After';

/**
 * Answers a CORS preflight (OPTIONS) for routes that take a bearer token: any origin may send the
 * headers our clients send; no cookies are involved, so `*` grants nothing a token does not.
 */
export function answerPreflight(res: HttpAnswerSink, methods: string): void {
  res.cork(() => {
    res.writeStatus('204 No Content');
    res.writeHeader('Access-Control-Allow-Origin', '*');
    res.writeHeader('Access-Control-Allow-Methods', methods);
    res.writeHeader('Access-Control-Allow-Headers', CORS_ALLOW_HEADERS);
    res.writeHeader('Access-Control-Max-Age', '600');
    res.end();
  });
}

/**
 * Answers once with a JSON body, corked (it may run outside a uWS callback). 401 carries
 * `WWW-Authenticate: Bearer`. A second call, or one after an abort, writes nothing.
 */
export function answerJson(res: HttpAnswerSink, x: HttpExchange, status: number, body: string, h?: JsonAnswerHeaders): void {
  if (x.done) return;
  x.done = true;
  res.cork(() => {
    res.writeStatus(statusLine(status));
    res.writeHeader('Content-Type', 'application/json');
    if (h?.etag) res.writeHeader('ETag', h.etag);
    if (h?.retryAfterSec !== undefined && h.retryAfterSec !== null) res.writeHeader('Retry-After', String(Math.max(1, Math.ceil(h.retryAfterSec))));
    if (h?.allow !== undefined) res.writeHeader('Allow', h.allow);
    if (status === 401) res.writeHeader('WWW-Authenticate', 'Bearer');
    if (h?.cors) {
      res.writeHeader('Access-Control-Allow-Origin', '*');
      res.writeHeader('Access-Control-Expose-Headers', CORS_EXPOSE_HEADERS);
    }
    res.end(body, h?.close ?? false);
  });
}

/** The part of uWS's HttpResponse a body is read from. */
export interface HttpBodySource {
  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): unknown;
}

/** Bytes buffered by all requests of one server at once. */
export class BodyBudget {
  private used = 0;
  constructor(readonly maxBytes: number) {}
  /** takes n bytes; false (taking nothing) when they do not fit */
  take(n: number): boolean {
    if (this.used + n > this.maxBytes) return false;
    this.used += n;
    return true;
  }
  give(n: number): void {
    this.used -= n;
  }
  get bytes(): number {
    return this.used;
  }
}

export interface BodyLimits {
  maxBytes: number;
  /** read and drop up to this many bytes of an over-limit body so the answer can keep the connection */
  maxDiscardBytes?: number;
  budget?: BodyBudget;
}

/** Why a body was refused: `too_large` (413; `close` when the rest is not read) or `busy` (503, close). */
export type BodyRefusal = { reason: 'too_large'; close: boolean } | { reason: 'busy' };

export interface BodyRead {
  /** returns this request's bytes to the budget (call on abort) */
  release(): void;
}

/**
 * Reads a request body within `limits`: `onBody` gets the whole body once, or `onRefused` is called
 * once. `contentLength` ('' when absent) refuses early when it already says too much. Nothing is
 * called after `x.done` (the request was answered or aborted).
 */
export function readBody(
  res: HttpBodySource,
  x: HttpExchange,
  contentLength: string,
  limits: BodyLimits,
  onBody: (body: Buffer) => void,
  onRefused: (why: BodyRefusal) => void,
): BodyRead {
  const max = limits.maxBytes;
  const maxDiscard = Math.max(max, limits.maxDiscardBytes ?? max);
  const budget = limits.budget;
  let mine = 0;
  const release = () => {
    if (mine > 0) budget?.give(mine);
    mine = 0;
  };
  const read: BodyRead = { release };
  let discarding = false;
  if (contentLength !== '' && !(Number(contentLength) <= max)) {
    if (!(Number(contentLength) <= maxDiscard)) {
      onRefused({ reason: 'too_large', close: true });
      return read;
    }
    discarding = true;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  res.onData((chunk, isLast) => {
    if (settled || x.done) return;
    size += chunk.byteLength;
    if (discarding || size > max) {
      if (!discarding) {
        discarding = true;
        chunks.length = 0;
        release();
      }
      if (isLast || size > maxDiscard) {
        settled = true;
        onRefused({ reason: 'too_large', close: !isLast });
      }
      return;
    }
    if (chunk.byteLength > 0) {
      if (budget !== undefined) {
        if (!budget.take(chunk.byteLength)) {
          settled = true;
          chunks.length = 0;
          release();
          onRefused({ reason: 'busy' });
          return;
        }
        mine += chunk.byteLength;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
    }
    if (!isLast) return;
    settled = true;
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
    chunks.length = 0;
    release();
    onBody(body);
  });
  return read;
}
