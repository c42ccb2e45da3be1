/**
 * The origin's HTTP API on uWebSockets.js:
 *   POST /v1/docs/{docId}  body = JSON merge patch, optional Idempotency-Key -> 200 {"seq":"<decimal>"}
 *                          optional If-Match: "<seq>" -> applied only at that seq, else 412 conflict
 *   GET  /v1/docs/{docId}  -> 200 {"seq":"<decimal>","state":{...}} with ETag: "<seq>"; linearizable
 *                          (read barrier, origin/src/read-barrier.ts; 503 past READ_BARRIER_TIMEOUT_MS)
 *   GET  /v1/docs/{docId}?read=local  -> the same from this origin's view as it is (no barrier)
 *   GET  /v1/docs/{docId}?at=<seq>, GET .../history, POST .../restore  -> the doc's past (history.ts)
 * Errors are {"error":{"code","message"}}; 503 carries Retry-After.
 *
 * uWS rules followed here: request headers/params are read synchronously (HttpRequest is stack
 * allocated), onAborted is attached before any async work and `res` is never touched after an
 * abort, asynchronous responses are corked, and body chunks are copied (uWS reuses their memory).
 * Body memory is bounded per request (maxBodyBytes) and over all requests (maxBufferedBytes).
 * An over-limit body is read and dropped (no memory) up to maxDiscardBytes and then answered 413,
 * so a client still sending sees the status instead of a connection reset; past that bound the
 * 413 is sent at once and the connection closes.
 *
 * Auth (docs/security.md), when configured: every request needs `Authorization: Bearer <JWT or
 * API key>` (401 `unauthorized` without or with a bad one, 403 `forbidden` outside the token's
 * read scope for GET / write scope for POST), or — from the cluster's gateways — a
 * `ReplicantCluster` signature made with CLUSTER_SECRET over the request's method, target, body
 * and every header that changes its meaning (Idempotency-Key, If-Match, Content-Type), with a
 * nonce each origin accepts once (ReplayCache: a replay is 401 `unauthorized`; at the cache's
 * bound, 503 `unavailable` with Retry-After, never an unchecked request). A request without any
 * Authorization header is answered 401 before its body is read. Patches are bounded in depth
 * and size by the protocol's one patch check (400 `bad_patch`).
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import {
  AuthError,
  isClusterAuth,
  ReplayCache,
  verifyClusterRequest,
  type ClusterRequest,
  type HttpAuthenticator,
  viewerOf,
  type Principal,
} from '@replicant/auth';
import {
  answerJson,
  BodyBudget,
  errorBody,
  ErrorCode,
  isValidDocId,
  parseSeq,
  parseViewer,
  VIEWER_PARAM,
  readBody,
  type BodyRefusal,
  type JsonObject,
  type View,
  type ViewRules,
} from '@replicant/protocol';
import { OriginError } from './origin.js';
import { HistoryExpiredError, HISTORY_MAX_LIMIT, type HistoryPage } from './history.js';
import { originMetrics } from './metrics.js';
import type { Origin } from './origin.js';

export interface OriginHttpOptions {
  /** largest accepted request body (default 1 MiB); larger ones get 413 */
  maxBodyBytes?: number;
  /** body bytes of an over-limit request read and dropped before its 413 (default 16 MiB); past them the connection closes */
  maxDiscardBytes?: number;
  /** request body bytes buffered at once over all requests (default 64 MiB); over it 503 */
  maxBufferedBytes?: number;
  /** client credentials (JWT / API_KEYS); absent or not `required` = open */
  auth?: HttpAuthenticator;
  /** CLUSTER_SECRET: accept gateway writes signed with it */
  clusterSecret?: string;
  /** bounds of the signed-request replay cache (default DEFAULT_REPLAY_CACHE_ENTRIES / _BYTES of @replicant/auth) */
  replayCacheEntries?: number;
  replayCacheBytes?: number;
  /** the server API's revocations (server-api.ts RevocationView): a revoked JWT gets 401 */
  revoked?: (p: Principal) => Promise<boolean>;
  /**
   * VIEWS_FILE: per-user views; a JWT caller's GET and history are projected and its POST checked,
   * restore is 403 for it (cluster signatures and API keys see all; a gateway's signed history
   * request naming its caller in VIEWER_PARAM gets that caller's view)
   */
  views?: ViewRules;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_DISCARD_BYTES = 16 * 1024 * 1024;


const ACCEPTED_TYPES = new Set(['application/merge-patch+json', 'application/json', '']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Per-request state shared by the uWS callbacks. */
interface Req {
  aborted: boolean;
  /** a response was sent (or the request was aborted): ignore further body chunks */
  done: boolean;
}



function sendError(res: HttpResponse, r: Req, err: unknown, close = false): void {
  const e =
    err instanceof OriginError ? err : new OriginError(ErrorCode.Internal, 500, 'internal error');
  if (!(err instanceof OriginError)) console.error('origin http: internal error:', err);
  // 410 history_expired names the oldest seq still available
  const body = errorBody(e.code, e.message, err instanceof HistoryExpiredError ? { oldest: String(err.oldest) } : undefined);
  answerJson(res, r, e.status, body, { retryAfterSec: e.status === 503 ? (e.retryAfterSec ?? 1) : undefined, close });
}

/** a history page as JSON: patches are stored JSON text, inserted as they are */
function pageJson(page: HistoryPage): string {
  let out = '{"ops":[';
  for (let i = 0; i < page.ops.length; i++) {
    const op = page.ops[i];
    if (i > 0) out += ',';
    out += `{"seq":"${op.seq}","prevSeq":"${op.prevSeq}","patch":${op.patchText},"ts":${op.tsMs}}`;
  }
  return `${out}],"next":${page.next === null ? 'null' : `"${page.next}"`}}`;
}

/** a decimal seq query value; undefined when absent, null when malformed */
function seqQuery(v: string | undefined): bigint | undefined | null {
  if (v === undefined) return undefined;
  return /^[0-9]{1,20}$/.test(v) ? (parseSeq(v) ?? null) : null;
}

/** The docId path segment, percent-decoded (clients may encode ':'); undefined when invalid. */
function docIdParam(req: HttpRequest): string | undefined {
  const raw = req.getParameter(0) ?? '';
  try {
    const id = decodeURIComponent(raw);
    return isValidDocId(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The seq an `If-Match` header names: one strong entity tag holding a decimal seq (`"123"`, the
 * ETag GET answers with); '' when there is no header, undefined when it is not of that form.
 */
export function parseIfMatch(h: string): bigint | '' | undefined {
  const v = h.trim();
  if (v === '') return '';
  const m = /^"([0-9]{1,20})"$/.exec(v);
  return m ? parseSeq(m[1]) : undefined;
}

/** the path a cluster signature covers (the gateway signs exactly this) */
export function docPath(docId: string): string {
  return `/v1/docs/${docId}`;
}

/**
 * what a cluster signature names as the request target: the doc path (plus `/history` or
 * `/restore` for those routes), plus the query string when there is one
 */
export function signedTarget(docId: string, query: string, suffix = ''): string {
  const path = docPath(docId) + suffix;
  return query === '' ? path : `${path}?${query}`;
}

type Access = 'read' | 'write';

interface Denied {
  status: number;
  code: string;
  message: string;
  retryAfterSec?: number;
}

const LOCAL = { local: true } as const;

/**
 * Resolves to undefined when the request may go ahead, else to the error response to send.
 * `signed` (the request's parts a cluster signature covers, the body included) only matters for
 * cluster signatures; a verified one is then checked against the replay cache.
 */
function checkAccess(
  opts: OriginHttpOptions,
  replay: ReplayCache,
  authorization: string,
  docId: string,
  access: Access,
  signed: ClusterRequest,
  principal: Promise<Principal> | undefined,
): Promise<Denied | undefined> {
  if (isClusterAuth(authorization)) {
    // one clock reading, never going back, for the timestamp check and the replay cache: the
    // check then refuses a signature before the cache can forget its nonce
    const now = replay.now();
    const v = opts.clusterSecret !== undefined && opts.clusterSecret !== '' ? verifyClusterRequest(opts.clusterSecret, authorization, signed, now) : undefined;
    if (!v) {
      originMetrics().clusterRefused.inc({ reason: 'bad_signature' });
      return Promise.resolve({ status: 401, code: ErrorCode.Unauthorized, message: 'cluster signature is invalid or too old' });
    }
    const verdict = replay.admit(v.nonce, v.signedAtMs, now);
    if (verdict !== 'fresh') originMetrics().clusterRefused.inc({ reason: verdict === 'replay' ? 'replay' : 'replay_cache_full' });
    if (verdict === 'replay') return Promise.resolve({ status: 401, code: ErrorCode.Unauthorized, message: 'cluster signature was already used (replay)' });
    if (verdict === 'full') {
      return Promise.resolve({
        status: 503,
        code: ErrorCode.Unavailable,
        message: 'too many signed requests in the replay window; retry later',
        retryAfterSec: replay.retryAfterMs(now) / 1000,
      });
    }
    return Promise.resolve(undefined);
  }
  if (!principal) return Promise.resolve(undefined);
  return principal.then(
    async (p) => {
      if (opts.revoked && (await opts.revoked(p))) return { status: 401, code: ErrorCode.Unauthorized, message: 'token revoked: issued before the revocation of its sub' };
      return p[access].allows(docId) ? undefined : { status: 403, code: ErrorCode.Forbidden, message: `doc is outside this credential's ${access} scope` };
    },
    (err: unknown) => ({ status: 401, code: ErrorCode.Unauthorized, message: err instanceof AuthError ? err.message : 'credential not accepted' }),
  );
}

/** may `view` write this patch text? (unparseable text is let through: origin.write answers bad_patch) */
function patchAllowed(view: View, text: string): boolean {
  let patch: unknown;
  try {
    patch = JSON.parse(text);
  } catch {
    return true;
  }
  return typeof patch !== 'object' || patch === null || Array.isArray(patch) || view.allowsPatch(patch as JsonObject);
}

export function registerOriginHttp(app: TemplatedApp, origin: Origin, opts: OriginHttpOptions = {}): void {
  // client credentials are required when configured; a cluster signature, when presented, must
  // verify either way (with client auth off, e.g. AUTH_DISABLED=true, unsigned requests are open)
  const authRequired = opts.auth?.required ?? false;
  /** starts verifying a client credential now (it runs while the body streams in) */
  const startAuth = (authorization: string): Promise<Principal> | undefined => {
    if (!authRequired || isClusterAuth(authorization)) return undefined;
    const p = opts.auth!.authenticate(authorization);
    p.catch(() => {}); // observed in checkAccess
    return p;
  };
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const bodyLimits = {
    maxBytes: maxBody,
    maxDiscardBytes: opts.maxDiscardBytes ?? DEFAULT_MAX_DISCARD_BYTES,
    budget: new BodyBudget(opts.maxBufferedBytes ?? 64 * 1024 * 1024),
  };
  const replay = new ReplayCache({ maxEntries: opts.replayCacheEntries, maxBytes: opts.replayCacheBytes });
  /**
   * The view a JWT caller reads `docId` through, or undefined when it sees everything (no rules for
   * the doc, an API key, a cluster signature: the gateway projects for its own clients, or auth off).
   * Called after checkAccess, so `principal` has resolved to a principal.
   */
  const viewOf = async (docId: string, principal: Promise<Principal> | undefined): Promise<View | undefined> => {
    const rules = opts.views?.forDoc(docId);
    if (!rules || !principal) return undefined;
    const v = rules.viewFor(viewerOf(await principal));
    return v.all ? undefined : v;
  };
  const deny = (res: HttpResponse, r: Req, d: Denied) => answerJson(res, r, d.status, errorBody(d.code, d.message), { retryAfterSec: d.retryAfterSec });

  /** POST /v1/docs/{id} (a write) and POST /v1/docs/{id}/restore (`{"seq":"<s>"}`, answered like a write) */
  const post = (restore: boolean) => (res: HttpResponse, req: HttpRequest) => {
    // everything from req is read now: it is invalid after this callback returns
    const docId = docIdParam(req);
    const contentType = req.getHeader('content-type');
    const idempotencyKey = req.getHeader('idempotency-key');
    const ifMatchHeader = req.getHeader('if-match');
    const ifMatch = parseIfMatch(ifMatchHeader);
    const query = req.getQuery() ?? '';
    const authorization = req.getHeader('authorization');
    const contentLength = req.getHeader('content-length');
    const hasBody = (contentLength !== '' && contentLength !== '0') || req.getHeader('transfer-encoding') !== '';

    const r: Req = { aborted: false, done: false };

    // early answers close the connection when a body is still coming, so it is never misparsed
    if (docId === undefined) {
      return answerJson(res, r, 400, errorBody(ErrorCode.BadDocId, 'invalid document id'), { close: hasBody });
    }
    if (ifMatch === undefined) {
      return answerJson(res, r, 400, errorBody(ErrorCode.BadRequest, 'If-Match must be one quoted decimal seq, e.g. "123"'), { close: hasBody });
    }
    if (authRequired && authorization === '') {
      return answerJson(res, r, 401, errorBody(ErrorCode.Unauthorized, 'missing Authorization: Bearer <token or API key>'), { close: hasBody });
    }
    const principal = startAuth(authorization);
    const mediaType = contentType.split(';')[0].trim().toLowerCase();
    if (!ACCEPTED_TYPES.has(mediaType)) {
      return answerJson(
        res,
        r,
        415,
        errorBody(ErrorCode.UnsupportedMediaType, 'Content-Type must be application/merge-patch+json or application/json'),
        { close: hasBody },
      );
    }
    // over the limit: the body is dropped (up to maxDiscardBytes) and answered 413 once read
    const refused = (why: BodyRefusal) =>
      why.reason === 'busy'
        ? answerJson(res, r, 503, errorBody(ErrorCode.Unavailable, 'server is buffering too many request bodies'), { retryAfterSec: 1, close: true })
        : answerJson(res, r, 413, errorBody(ErrorCode.PayloadTooLarge, `body larger than ${maxBody} bytes`), { close: why.close });
    // answers above are synchronous; from here on the answer is asynchronous, so abort is observed
    const reading = readBody(res, r, contentLength, bodyLimits, (body) => {
      let text: string;
      try {
        text = utf8.decode(body);
      } catch {
        return answerJson(res, r, 400, errorBody(ErrorCode.BadPatch, 'body is not valid UTF-8'));
      }
      let restoreSeq = 0n;
      if (restore) {
        let seqText: unknown;
        try {
          seqText = (JSON.parse(text) as { seq?: unknown } | null)?.seq;
        } catch {
          seqText = undefined;
        }
        const s = typeof seqText === 'string' ? seqQuery(seqText) : null;
        if (s === undefined || s === null) return answerJson(res, r, 400, errorBody(ErrorCode.BadSeq, 'restore body must be {"seq":"<decimal seq>"}'));
        restoreSeq = s;
      }
      const key = idempotencyKey === '' ? undefined : idempotencyKey;
      const ifSeq = ifMatch === '' ? undefined : ifMatch;
      const write = () =>
        (restore ? origin.restore(docId, restoreSeq, key, ifSeq) : origin.write(docId, text, key, ifSeq)).then(
          (seq) => answerJson(res, r, 200, `{"seq":"${seq}"}`),
          (err) => sendError(res, r, err),
        );
      if (!authRequired && !isClusterAuth(authorization)) return void write();
      const signed: ClusterRequest = {
        method: 'POST',
        target: signedTarget(docId, query, restore ? '/restore' : ''),
        idempotencyKey,
        ifMatch: ifMatchHeader,
        contentType,
        body,
      };
      checkAccess(opts, replay, authorization, docId, 'write', signed, principal).then(async (denied) => {
        if (denied) return deny(res, r, denied);
        const view = await viewOf(docId, principal);
        if (view && (restore || !patchAllowed(view, text))) {
          return deny(res, r, { status: 403, code: ErrorCode.Forbidden, message: restore ? 'restore of a doc with per-user views takes an API key' : 'the patch touches a member outside your view' });
        }
        void write();
      });
    }, refused);
    // (unless it was refused at once: a finished response must not be touched)
    if (!r.done) res.onAborted(() => {
      r.aborted = true;
      r.done = true;
      reading.release();
    });
  };
  app.post('/v1/docs/:docId', post(false));
  app.post('/v1/docs/:docId/restore', post(true));

  app.get('/v1/docs/:docId', (res, req) => {
    const docId = docIdParam(req);
    const r: Req = { aborted: false, done: false };
    // a history read (?at=) stops scanning when the client goes away: its slot frees at once
    let gone: AbortController | undefined;
    res.onAborted(() => {
      r.aborted = true;
      r.done = true;
      gone?.abort();
    });
    const authorization = req.getHeader('authorization');
    const query = req.getQuery() ?? '';
    const ifMatchHeader = req.getHeader('if-match');
    const idempotencyKey = req.getHeader('idempotency-key');
    const contentType = req.getHeader('content-type');
    // ?read=local skips the read barrier (this origin's view, maybe behind other origins)
    const readMode = req.getQuery('read');
    // ?at=<seq>: the state as of that seq (history.ts), not the latest
    const at = seqQuery(req.getQuery('at'));
    if (at !== undefined && at !== null) gone = new AbortController();
    if (docId === undefined) return answerJson(res, r, 400, errorBody(ErrorCode.BadDocId, 'invalid document id'));
    if (readMode !== undefined && readMode !== 'local') {
      return answerJson(res, r, 400, errorBody(ErrorCode.BadRequest, 'read must be "local" or absent (linearizable)'));
    }
    if (at === null) return answerJson(res, r, 400, errorBody(ErrorCode.BadSeq, 'at must be a decimal seq'));
    const readOpts = readMode === 'local' ? LOCAL : undefined;
    const read = (view?: View) =>
      (at !== undefined
        ? origin.stateAt(docId, at, gone?.signal).then(({ seq, state }) => ({ seq, stateJson: JSON.stringify(view ? view.projectState(state as JsonObject) : state) }))
        : origin.readJson(docId, readOpts).then((x) => (view ? { seq: x.seq, stateJson: JSON.stringify(view.projectState(JSON.parse(x.stateJson) as JsonObject)) } : x))
      ).then(
        ({ seq, stateJson }) => answerJson(res, r, 200, `{"seq":"${seq}","state":${stateJson}}`, { etag: `"${seq}"` }),
        (err) => sendError(res, r, err),
      );
    if (!authRequired && !isClusterAuth(authorization)) return void read();
    if (authorization === '') return answerJson(res, r, 401, errorBody(ErrorCode.Unauthorized, 'missing Authorization: Bearer <token or API key>'));
    const signed: ClusterRequest = { method: 'GET', target: signedTarget(docId, query), idempotencyKey, ifMatch: ifMatchHeader, contentType, body: '' };
    const principal = startAuth(authorization);
    checkAccess(opts, replay, authorization, docId, 'read', signed, principal).then(async (denied) => {
      if (denied) deny(res, r, denied);
      else void read(await viewOf(docId, principal));
    });
  });

  app.get('/v1/docs/:docId/history', (res, req) => {
    const docId = docIdParam(req);
    const r: Req = { aborted: false, done: false };
    const gone = new AbortController(); // the scan stops when the client goes away
    res.onAborted(() => {
      r.aborted = true;
      r.done = true;
      gone.abort();
    });
    const authorization = req.getHeader('authorization');
    const query = req.getQuery() ?? '';
    const ifMatchHeader = req.getHeader('if-match');
    const idempotencyKey = req.getHeader('idempotency-key');
    const contentType = req.getHeader('content-type');
    const after = seqQuery(req.getQuery('after'));
    const limitText = req.getQuery('limit');
    if (docId === undefined) return answerJson(res, r, 400, errorBody(ErrorCode.BadDocId, 'invalid document id'));
    if (after === null) return answerJson(res, r, 400, errorBody(ErrorCode.BadSeq, 'after must be a decimal seq'));
    const limit = limitText === undefined ? HISTORY_MAX_LIMIT : /^[0-9]{1,4}$/.test(limitText) ? Number(limitText) : 0;
    if (limit < 1 || limit > HISTORY_MAX_LIMIT) return answerJson(res, r, 400, errorBody(ErrorCode.BadRequest, `limit must be 1..${HISTORY_MAX_LIMIT}`));
    // a gateway names its JWT caller (VIEWER_PARAM, covered by its cluster signature): the page is that caller's view
    const viewerText = req.getQuery(VIEWER_PARAM);
    const read = (view?: View) =>
      origin.history(docId, after ?? 0n, limit, gone.signal, view).then(
        (page) => answerJson(res, r, 200, pageJson(page)),
        (err) => sendError(res, r, err),
      );
    if (viewerText !== undefined && !isClusterAuth(authorization)) {
      return answerJson(res, r, 400, errorBody(ErrorCode.BadRequest, `${VIEWER_PARAM} is set by the cluster's gateways only`));
    }
    if (!authRequired && !isClusterAuth(authorization)) return void read();
    if (authorization === '') return answerJson(res, r, 401, errorBody(ErrorCode.Unauthorized, 'missing Authorization: Bearer <token or API key>'));
    const signed: ClusterRequest = { method: 'GET', target: signedTarget(docId, query, '/history'), idempotencyKey, ifMatch: ifMatchHeader, contentType, body: '' };
    const principal = startAuth(authorization);
    checkAccess(opts, replay, authorization, docId, 'read', signed, principal).then(async (denied) => {
      if (denied) return deny(res, r, denied);
      if (viewerText === undefined) return void read(await viewOf(docId, principal));
      // signed by a gateway for a caller with a restricted view: never the raw history, even when
      // this origin's VIEWS_FILE has no rules for the doc (the tiers' files differ): fail closed
      const viewer = parseViewer(viewerText);
      if (!viewer) return answerJson(res, r, 400, errorBody(ErrorCode.BadRequest, `${VIEWER_PARAM} must be {"sub":"…","claims":{…}}`));
      const rules = opts.views?.forDoc(docId);
      if (!rules) return answerJson(res, r, 503, errorBody(ErrorCode.Unavailable, 'this origin has no view rules for the doc (VIEWS_FILE differs between tiers)'), { retryAfterSec: 1 });
      void read(rules.viewFor(viewer));
    });
  });

  app.any('/v1/docs/:docId/history', (res) => {
    const r: Req = { aborted: false, done: false };
    answerJson(res, r, 405, errorBody(ErrorCode.MethodNotAllowed, 'use GET'), { allow: 'GET', close: true });
  });

  app.any('/v1/docs/:docId/restore', (res) => {
    const r: Req = { aborted: false, done: false };
    answerJson(res, r, 405, errorBody(ErrorCode.MethodNotAllowed, 'use POST'), { allow: 'POST', close: true });
  });

  app.any('/v1/docs/:docId', (res) => {
    const r: Req = { aborted: false, done: false };
    answerJson(res, r, 405, errorBody(ErrorCode.MethodNotAllowed, 'use GET or POST'), { allow: 'GET, POST', close: true });
  });
}
