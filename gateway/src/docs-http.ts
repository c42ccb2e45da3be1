/**
 * HTTP at the edge: a gateway serves origin's document routes so a client needs one host —
 *   POST /v1/docs/{id}            a write (Idempotency-Key, If-Match pass through)
 *   GET  /v1/docs/{id}            the state (?read=local, ?at=<seq> pass through)
 *   GET  /v1/docs/{id}/history    history pages (?after, ?limit)
 *   POST /v1/docs/{id}/restore    restore to a seq (answered like a write)
 * with origin's contract (docs/protocol.md). The caller's credential is checked here, with
 * origin's rules: `Authorization: Bearer <JWT or API key>`, 401 `unauthorized` without or with a
 * bad one or a revoked JWT (the gateway's revocation list, from the ~control stream: origin trusts
 * the cluster signature and does not check it again), 403 `forbidden` outside the read scope
 * (GETs) / write scope (POSTs). A cluster
 * signature from a client is refused (401): it is not a client credential. The request is then
 * forwarded to origin signed with CLUSTER_SECRET (method, path + query, Idempotency-Key, If-Match,
 * Content-Type, body, a fresh nonce; @replicant/auth cluster-secret.ts), and origin's status, body,
 * ETag and Retry-After come back as they are. Origin's own address never reaches the client: an
 * unreachable origin is 503 `unavailable` "origin unreachable".
 *
 * Bounds: a body over `maxBodyBytes` is 413 (the connection closes: the rest is not read); at most
 * `maxInflight` requests are forwarded at once (over it 503 with Retry-After), so buffered bodies
 * are at most maxInflight × maxBodyBytes; each forward times out after `timeoutMs` (503).
 * uWS rules: headers are read synchronously, onAborted is attached before any async work, and
 * asynchronous responses are corked.
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { AuthError, isClusterAuth, signClusterRequest, type HttpAuthenticator, type Principal } from '@replicant/auth';
import { ErrorCode, isValidDocId } from '@replicant/protocol';

export interface DocsHttpOptions {
  /** origin's base URL, e.g. http://origin:8081 (never shown to clients) */
  originUrl: string;
  /** CLUSTER_SECRET: sign every forwarded request with it */
  clusterSecret?: string;
  /** client credentials (JWT / API_KEYS); absent or not `required` = open */
  auth?: HttpAuthenticator;
  /**
   * the server API's revocations as this gateway holds them (gateway.connections): a revoked JWT
   * gets 401 here, because origin trusts the cluster signature and does not check it again
   */
  revoked?: (p: Principal) => boolean;
  /** largest request body (default 1 MiB, origin's MAX_BODY_BYTES default) */
  maxBodyBytes?: number;
  /** requests forwarded at once (default 256) */
  maxInflight?: number;
  /** per forwarded request (default 10 s) */
  timeoutMs?: number;
}

type Access = 'read' | 'write';

interface Req {
  aborted: boolean;
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function reply(
  res: HttpResponse,
  r: Req,
  status: number,
  body: string,
  headers: { etag?: string | null; retryAfter?: string | null; allow?: string; close?: boolean } = {},
): void {
  if (r.aborted) return;
  r.aborted = true; // one response per request
  res.cork(() => {
    res.writeStatus(`${status} ${STATUS_TEXT[status] ?? 'Status'}`); // a status line always has a reason phrase
    res.writeHeader('Content-Type', 'application/json');
    if (headers.etag) res.writeHeader('ETag', headers.etag);
    if (headers.retryAfter) res.writeHeader('Retry-After', headers.retryAfter);
    if (headers.allow) res.writeHeader('Allow', headers.allow);
    if (status === 401) res.writeHeader('WWW-Authenticate', 'Bearer');
    res.end(body, headers.close ?? false);
  });
}

function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

export function registerDocsHttp(app: TemplatedApp, opts: DocsHttpOptions): void {
  const base = opts.originUrl.replace(/\/+$/, '');
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;
  const maxInflight = opts.maxInflight ?? 256;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const authRequired = opts.auth?.required ?? false;
  let inflight = 0;

  /** undefined when allowed, else the error response [status, body] */
  const check = async (authorization: string, docId: string, access: Access): Promise<[number, string] | undefined> => {
    if (isClusterAuth(authorization)) return [401, errorBody(ErrorCode.Unauthorized, 'cluster signatures are not accepted from clients')];
    if (!authRequired) return undefined;
    try {
      const p = await opts.auth!.authenticate(authorization);
      if (opts.revoked?.(p)) return [401, errorBody(ErrorCode.Unauthorized, 'token revoked: issued before the revocation of its sub')];
      return p[access].allows(docId) ? undefined : [403, errorBody(ErrorCode.Forbidden, `doc is outside this credential's ${access} scope`)];
    } catch (err) {
      return [401, errorBody(ErrorCode.Unauthorized, err instanceof AuthError ? err.message : 'credential not accepted')];
    }
  };

  const forward = async (
    res: HttpResponse,
    r: Req,
    method: 'GET' | 'POST',
    target: string,
    h: { idempotencyKey: string; ifMatch: string; contentType: string },
    body: Buffer | undefined,
  ): Promise<void> => {
    const headers: Record<string, string> = {};
    if (h.idempotencyKey !== '') headers['idempotency-key'] = h.idempotencyKey;
    if (h.ifMatch !== '') headers['if-match'] = h.ifMatch;
    if (h.contentType !== '') headers['content-type'] = h.contentType;
    if (opts.clusterSecret) {
      headers.authorization = signClusterRequest(opts.clusterSecret, {
        method,
        target,
        idempotencyKey: h.idempotencyKey,
        ifMatch: h.ifMatch,
        contentType: h.contentType,
        body: body ?? '',
      });
    }
    let status: number;
    let text: string;
    let etag: string | null;
    let retryAfter: string | null;
    try {
      const out = await fetch(base + target, { method, headers, body: body === undefined ? undefined : new Uint8Array(body), signal: AbortSignal.timeout(timeoutMs) });
      text = await out.text();
      status = out.status;
      etag = out.headers.get('etag');
      retryAfter = out.headers.get('retry-after');
    } catch {
      return reply(res, r, 503, errorBody(ErrorCode.Unavailable, 'origin unreachable; retry later'), { retryAfter: '1' });
    }
    // origin refused the cluster's own signature (a secret being rolled): not the client's fault
    if (status === 401 && opts.clusterSecret) return reply(res, r, 503, errorBody(ErrorCode.Unavailable, 'origin refused the cluster signature; retry later'), { retryAfter: '1' });
    reply(res, r, status, text, { etag, retryAfter });
  };

  /** the shared front half: doc id, auth, inflight bound; then `go` with the request's parts */
  const route = (access: Access, suffix: string) => (res: HttpResponse, req: HttpRequest) => {
    const raw = req.getParameter(0) ?? '';
    const query = req.getQuery() ?? '';
    const authorization = req.getHeader('authorization');
    const h = { idempotencyKey: req.getHeader('idempotency-key'), ifMatch: req.getHeader('if-match'), contentType: req.getHeader('content-type') };
    const contentLength = req.getHeader('content-length');
    const hasBody = (contentLength !== '' && contentLength !== '0') || req.getHeader('transfer-encoding') !== '';
    const isPost = access === 'write';
    const r: Req = { aborted: false };
    let held = false; // counted in `inflight`
    const release = () => {
      if (held) inflight--;
      held = false;
    };
    res.onAborted(() => {
      r.aborted = true;
      release();
    });
    let docId: string | undefined;
    try {
      docId = decodeURIComponent(raw);
    } catch {
      docId = undefined;
    }
    if (docId === undefined || !isValidDocId(docId)) return reply(res, r, 400, errorBody(ErrorCode.BadDocId, 'invalid document id'), { close: hasBody });
    if (authRequired && authorization === '') {
      return reply(res, r, 401, errorBody(ErrorCode.Unauthorized, 'missing Authorization: Bearer <token or API key>'), { close: hasBody });
    }
    if (isPost && contentLength !== '' && !(Number(contentLength) <= maxBody)) {
      return reply(res, r, 413, errorBody(ErrorCode.PayloadTooLarge, `body larger than ${maxBody} bytes`), { close: true });
    }
    if (inflight >= maxInflight) {
      return reply(res, r, 503, errorBody(ErrorCode.Unavailable, 'too many requests in flight at this gateway'), { retryAfter: '1', close: hasBody });
    }
    inflight++;
    held = true;
    const target = `/v1/docs/${docId}${suffix}${query === '' ? '' : `?${query}`}`;
    const allowed = check(authorization, docId, access);
    const run = (body: Buffer | undefined) =>
      void allowed
        .then((denied) => (denied ? reply(res, r, denied[0], denied[1]) : forward(res, r, isPost ? 'POST' : 'GET', target, h, body)))
        .catch(() => reply(res, r, 503, errorBody(ErrorCode.Unavailable, 'retry later'), { retryAfter: '1' }))
        .finally(release);
    if (!isPost) return run(undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    res.onData((chunk, isLast) => {
      if (over) return;
      size += chunk.byteLength;
      if (size > maxBody) {
        over = true;
        chunks.length = 0;
        release();
        return reply(res, r, 413, errorBody(ErrorCode.PayloadTooLarge, `body larger than ${maxBody} bytes`), { close: true });
      }
      chunks.push(Buffer.from(chunk.slice(0))); // copy: uWS reuses the chunk's memory
      if (isLast) run(Buffer.concat(chunks, size));
    });
  };

  app.post('/v1/docs/:docId', route('write', ''));
  app.post('/v1/docs/:docId/restore', route('write', '/restore'));
  app.get('/v1/docs/:docId', route('read', ''));
  app.get('/v1/docs/:docId/history', route('read', '/history'));
  const notAllowed = (allow: string) => (res: HttpResponse) =>
    reply(res, { aborted: false }, 405, errorBody(ErrorCode.MethodNotAllowed, `use ${allow}`), { allow, close: true });
  app.any('/v1/docs/:docId', notAllowed('GET, POST'));
  app.any('/v1/docs/:docId/history', notAllowed('GET'));
  app.any('/v1/docs/:docId/restore', notAllowed('POST'));
}
