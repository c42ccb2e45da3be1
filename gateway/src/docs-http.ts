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
import { AuthError, isClusterAuth, signClusterRequest, viewerOf, type HttpAuthenticator, type Principal } from '@replicant/auth';
import { answerJson, answerPreflight, errorBody, ErrorCode, isValidDocId, readBody, VIEWER_PARAM, type DocViews, type JsonObject, type View, type Viewer, type ViewRules } from '@replicant/protocol';

export interface DocsHttpOptions {
  /** origin's base URL, e.g. http://origin:8081 (never shown to clients) */
  originUrl: string;
  /** CLUSTER_SECRET: sign every forwarded request with it */
  clusterSecret?: string;
  /** client credentials (JWT / API_KEYS); absent or not `required` = open */
  auth?: HttpAuthenticator;
  /**
   * the server API's revocations as this gateway holds them (gateway.connections): a revoked JWT
   * gets 401 here, because origin trusts the cluster signature and does not check it again;
   * undefined while the list is not held yet (the gateway has no control base): 503, fail closed
   */
  revoked?: (p: Principal) => boolean | undefined;
  /** largest request body (default 1 MiB, origin's MAX_BODY_BYTES default) */
  maxBodyBytes?: number;
  /** requests forwarded at once (default 256) */
  maxInflight?: number;
  /** per forwarded request (default 10 s) */
  timeoutMs?: number;
  /**
   * VIEWS_FILE: a JWT caller whose view of the doc is not the whole doc gets its projection of a
   * GET (origin answers the signed request with the whole state, projected here) and of history
   * (origin projects it: the signed request names the caller in VIEWER_PARAM, since the view's
   * history needs the fold); a POST touching a member outside its view and restore are 403 `forbidden`
   */
  views?: ViewRules;
}

type Access = 'read' | 'write';

/** a caller whose view of the doc is not the whole doc: the view, and what names it to origin (DocViews.viewerJson) */
interface Restricted {
  view: View;
  rules: DocViews;
  viewer: Viewer;
}

/** answered or aborted: nothing more is written */
interface Req {
  done: boolean;
}




/** why a caller reading through `view` may not make this request, or undefined (origin's rules, views part) */
function viewRefusal(view: View, suffix: string, body: Buffer | undefined): string | undefined {
  if (suffix === '/restore') return 'restore of a doc with per-user views takes an API key';
  if (body === undefined) return undefined;
  let patch: unknown;
  try {
    patch = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined; // origin answers bad_patch
  }
  const obj = typeof patch === 'object' && patch !== null && !Array.isArray(patch);
  return obj && !view.allowsPatch(patch as JsonObject) ? 'the patch touches a member outside your view' : undefined;
}

/** a query value fetch sends as it is (encodeURIComponent leaves ' which the URL parser would encode, breaking the signature) */
function queryEncode(v: string): string {
  return encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function registerDocsHttp(app: TemplatedApp, opts: DocsHttpOptions): void {
  const base = opts.originUrl.replace(/\/+$/, '');
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;
  const maxInflight = opts.maxInflight ?? 256;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const authRequired = opts.auth?.required ?? false;
  let inflight = 0;

  /** undefined when allowed (or the caller's restricted view: allowed through it), else the error response [status, body] */
  const check = async (authorization: string, docId: string, access: Access): Promise<[number, string] | Restricted | undefined> => {
    if (isClusterAuth(authorization)) return [401, errorBody(ErrorCode.Unauthorized, 'cluster signatures are not accepted from clients')];
    if (!authRequired) return undefined;
    try {
      const p = await opts.auth!.authenticate(authorization);
      const revoked = opts.revoked?.(p);
      if (revoked) return [401, errorBody(ErrorCode.Unauthorized, 'token revoked: issued before the revocation of its sub')];
      // the revocation list is not held yet (a gateway just started): fail closed, retry shortly
      if (revoked === undefined && opts.revoked) return [503, errorBody(ErrorCode.Unavailable, 'gateway is starting; retry later')];
      if (!p[access].allows(docId)) return [403, errorBody(ErrorCode.Forbidden, `doc is outside this credential's ${access} scope`)];
      const rules = opts.views?.forDoc(docId);
      if (!rules) return undefined;
      const viewer = viewerOf(p);
      const view = rules.viewFor(viewer);
      return view.all ? undefined : { view, rules, viewer };
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
    view?: View,
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
    let retryAfterSec: number | null;
    try {
      const out = await fetch(base + target, { method, headers, body: body === undefined ? undefined : new Uint8Array(body), signal: AbortSignal.timeout(timeoutMs) });
      text = await out.text();
      status = out.status;
      etag = out.headers.get('etag');
      const ra = out.headers.get('retry-after');
      retryAfterSec = ra === null ? null : Number(ra) || 1;
    } catch {
      return answerJson(res, r, 503, errorBody(ErrorCode.Unavailable, 'origin unreachable; retry later'), { retryAfterSec: 1, cors: true });
    }
    // origin refused the cluster's own signature (a secret being rolled): not the client's fault
    if (status === 401 && opts.clusterSecret) return answerJson(res, r, 503, errorBody(ErrorCode.Unavailable, 'origin refused the cluster signature; retry later'), { retryAfterSec: 1, cors: true });
    if (view && status === 200) {
      const doc = JSON.parse(text) as { seq: string; state: JsonObject };
      text = JSON.stringify({ seq: doc.seq, state: view.projectState(doc.state) });
    }
    answerJson(res, r, status, text, { etag, retryAfterSec, cors: true });
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
    const r: Req = { done: false };
    let held = false; // counted in `inflight`
    const release = () => {
      if (held) inflight--;
      held = false;
    };
    res.onAborted(() => {
      r.done = true;
      release();
    });
    let docId: string | undefined;
    try {
      docId = decodeURIComponent(raw);
    } catch {
      docId = undefined;
    }
    if (docId === undefined || !isValidDocId(docId)) return answerJson(res, r, 400, errorBody(ErrorCode.BadDocId, 'invalid document id'), { close: hasBody, cors: true });
    if (authRequired && authorization === '') {
      return answerJson(res, r, 401, errorBody(ErrorCode.Unauthorized, 'missing Authorization: Bearer <token or API key>'), { close: hasBody, cors: true });
    }
    if (isPost && contentLength !== '' && !(Number(contentLength) <= maxBody)) {
      return answerJson(res, r, 413, errorBody(ErrorCode.PayloadTooLarge, `body larger than ${maxBody} bytes`), { close: true, cors: true });
    }
    if (inflight >= maxInflight) {
      return answerJson(res, r, 503, errorBody(ErrorCode.Unavailable, 'too many requests in flight at this gateway'), { retryAfterSec: 1, close: hasBody, cors: true });
    }
    inflight++;
    held = true;
    // VIEWER_PARAM is the gateway's word to origin, never the client's
    if (suffix === '/history' && new URLSearchParams(query).has(VIEWER_PARAM)) {
      release();
      return answerJson(res, r, 400, errorBody(ErrorCode.BadRequest, `${VIEWER_PARAM} is set by the cluster's gateways only`), { cors: true });
    }
    const target = `/v1/docs/${docId}${suffix}${query === '' ? '' : `?${query}`}`;
    const allowed = check(authorization, docId, access);
    const run = (body: Buffer | undefined) =>
      void allowed
        .then((verdict) => {
          if (Array.isArray(verdict)) return answerJson(res, r, verdict[0], verdict[1], { retryAfterSec: verdict[0] === 503 ? 1 : undefined, cors: true });
          const refused = verdict ? viewRefusal(verdict.view, suffix, body) : undefined;
          if (refused) return answerJson(res, r, 403, errorBody(ErrorCode.Forbidden, refused), { cors: true });
          if (verdict && suffix === '/history') {
            // origin folds the view's history: it gets the caller's viewer, signed with the target
            const withViewer = `${target}${query === '' ? '?' : '&'}${VIEWER_PARAM}=${queryEncode(verdict.rules.viewerJson(verdict.viewer))}`;
            return forward(res, r, 'GET', withViewer, h, undefined);
          }
          return forward(res, r, isPost ? 'POST' : 'GET', target, h, body, isPost ? undefined : verdict?.view);
        })
        .catch(() => answerJson(res, r, 503, errorBody(ErrorCode.Unavailable, 'retry later'), { retryAfterSec: 1, cors: true }))
        .finally(release);
    if (!isPost) return run(undefined);
    readBody(res, r, contentLength, { maxBytes: maxBody }, run, () => {
      release();
      answerJson(res, r, 413, errorBody(ErrorCode.PayloadTooLarge, `body larger than ${maxBody} bytes`), { close: true, cors: true });
    });
  };

  // CORS: a page of another origin (the SDK's SSE + HTTP transport) may call these with its token
  app.options('/v1/docs/:docId', (res) => answerPreflight(res, 'GET, POST'));
  app.options('/v1/docs/:docId/history', (res) => answerPreflight(res, 'GET'));
  app.options('/v1/docs/:docId/restore', (res) => answerPreflight(res, 'POST'));
  app.post('/v1/docs/:docId', route('write', ''));
  app.post('/v1/docs/:docId/restore', route('write', '/restore'));
  app.get('/v1/docs/:docId', route('read', ''));
  app.get('/v1/docs/:docId/history', route('read', '/history'));
  const notAllowed = (allow: string) => (res: HttpResponse) =>
    answerJson(res, { done: false }, 405, errorBody(ErrorCode.MethodNotAllowed, `use ${allow}`), { allow, close: true, cors: true });
  app.any('/v1/docs/:docId', notAllowed('GET, POST'));
  app.any('/v1/docs/:docId/history', notAllowed('GET'));
  app.any('/v1/docs/:docId/restore', notAllowed('POST'));
}
