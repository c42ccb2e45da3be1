/**
 * The server API on origin's HTTP (docs/presence-and-server-api.md), for backends only:
 *   POST /v1/messages                  {"to":{"sub"}|{"connection"}|{"meta"},"data":{…}} -> 200 {"id"}
 *   POST /v1/users/{sub}/disconnect    {"reconnect":false} (optional)                     -> 200 {}
 *   POST /v1/revocations               {"sub","before":<unix s>}                           -> 200 {"sub","before"}
 *   GET  /v1/connections?sub=&meta.<k>=<v>&limit=&after=                                   -> 200 {"connections","next"}
 *
 * Commands are appended to the control stream (protocol/control.ts) and answered once durable and
 * applied at this origin; every gateway follows that stream, so they are ordered and reach every
 * gateway without new connections between tiers. The listing asks a ConnectionDirectory (the
 * in-process gateway in dev, the Redis index in a cluster).
 * Messages and disconnects take an Idempotency-Key (POST /v1/docs rules): it becomes the op's key
 * (hashed with the route), so a retry is dropped by the control doc's fold and a message retry
 * answers the same id (derived from the key). Revocations are idempotent by value.
 *
 * Auth: API keys only. When client auth is configured a JWT gets 403 `forbidden` on every route,
 * a missing or bad credential 401; with auth off (like every other route) the API is open.
 * Bounds: a request body is at most MAX_API_BODY_BYTES (413 at once past it, the connection
 * closes); `data` at most MAX_MESSAGE_DATA_BYTES as JSON (413 `payload_too_large`), depth-bounded
 * like a patch; `meta` filters at most MAX_META_BYTES. Revocations are serialized per origin (read,
 * prune, bound, append) so the list stays within MAX_REVOCATIONS; two origins revoking new subs at
 * the same instant may each pass the check, so the list can exceed it by (origins − 1) entries.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { AuthError, FULL_ACCESS, type HttpAuthenticator, type Principal } from '@replicant/auth';
import {
  answerJson,
  checkPatch,
  errorBody,
  readBody,
  commandPatch,
  CONTROL_DOC,
  ErrorCode,
  isJsonObject,
  MAX_CONNECTIONS_PAGE,
  MAX_ID_LENGTH,
  MAX_MESSAGE_DATA_BYTES,
  MAX_REVOCATIONS,
  REVOCATION_TTL_S,
  revocationsOf,
  revokedBy,
  validateMeta,
  type ConnectionPage,
  type ConnectionQuery,
  type JsonObject,
  type MessageTarget,
} from '@replicant/protocol';
import { OriginError, type Origin } from './origin.js';

/** Where GET /v1/connections looks: every gateway's connection index. */
export interface ConnectionDirectory {
  list(q: ConnectionQuery): Promise<ConnectionPage>;
}

/**
 * Origin's view of the revocation list for its document routes (OriginHttpOptions.revoked): the
 * control doc's state as this origin materialized it, re-read when older than `maxAgeMs` (one
 * read in flight at a time) and right after this origin appends a revocation. So a revocation made
 * on another origin applies here within its materializer lag plus `maxAgeMs`. If the read fails
 * (e.g. the view is rebuilding, when requests answer 503 anyway) the last list is used.
 */
export class RevocationView {
  private list = new Map<string, number | null>();
  private at = 0;
  private loading: Promise<void> | undefined;
  /** bumped by invalidate(): a load started before it may hold the old list and is not stamped fresh */
  private gen = 0;

  constructor(
    private readonly origin: Origin,
    private readonly maxAgeMs = 1000,
  ) {}

  async isRevoked(p: Principal): Promise<boolean> {
    if (p === FULL_ACCESS || p.sub === '') return false;
    if (Date.now() - this.at > this.maxAgeMs) await (this.loading ??= this.load(this.gen));
    const b = this.list.get(p.sub);
    return revokedBy(b ?? undefined, p.iatMs);
  }

  /** the list changed here: the next check re-reads it (never reusing a read already in flight) */
  invalidate(): void {
    this.gen++;
    this.at = 0;
    this.loading = undefined;
  }

  private async load(gen: number): Promise<void> {
    try {
      const { state } = await this.origin.readReserved(CONTROL_DOC);
      if (gen !== this.gen) return; // read before the invalidation: a newer load decides
      this.list = revocationsOf(state) ?? new Map();
      this.at = Date.now();
    } catch {
      // keep the last list
    } finally {
      if (gen === this.gen) this.loading = undefined;
    }
  }
}

export interface ServerApiOptions {
  auth?: HttpAuthenticator;
  /** invalidated after each revocation this origin appends */
  revocations?: RevocationView;
  directory?: ConnectionDirectory;
  /** subs the revocation list may hold (default MAX_REVOCATIONS; tests use fewer) */
  maxRevocations?: number;
}

/** a server-API request body: `data` (64 KiB) plus the envelope */
export const MAX_API_BODY_BYTES = 128 * 1024;
/** longest `sub` accepted in a target, a path or a revocation */
const MAX_SUB_LENGTH = 256;


class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
const bad = (message: string) => new ApiError(400, ErrorCode.BadRequest, message);

interface Req {
  aborted: boolean;
  done: boolean;
}


function fail(res: HttpResponse, r: Req, err: unknown): void {
  let e: ApiError;
  if (err instanceof ApiError) e = err;
  else if (err instanceof OriginError) e = new ApiError(err.status, err.code, err.message);
  else {
    console.error('origin server api: internal error:', err);
    e = new ApiError(500, ErrorCode.Internal, 'internal error');
  }
  answerJson(res, r, e.status, errorBody(e.code, e.message), { retryAfterSec: e.status === 503 ? 1 : undefined });
}

function validSub(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_SUB_LENGTH;
}

/** {"to":…,"data":…} of POST /v1/messages */
export function parseMessage(body: unknown): { to: MessageTarget; data: JsonObject } {
  if (!isJsonObject(body)) throw bad('body must be a JSON object {"to":{…},"data":{…}}');
  const to = body.to;
  if (!isJsonObject(to)) throw bad('to must be {"sub":…}, {"connection":…} or {"meta":{…}}');
  const keys = Object.keys(to);
  if (keys.length !== 1) throw bad('to must name exactly one of sub, connection, meta');
  let target: MessageTarget;
  if (keys[0] === 'sub') {
    if (!validSub(to.sub)) throw bad(`to.sub must be a non-empty string of at most ${MAX_SUB_LENGTH} characters`);
    target = { sub: to.sub };
  } else if (keys[0] === 'connection') {
    if (!validSub(to.connection)) throw bad('to.connection must be a connection id');
    target = { connection: to.connection };
  } else if (keys[0] === 'meta') {
    const meta = validateMeta(to.meta);
    if (typeof meta === 'string') throw bad(`to.${meta}`);
    if (Object.keys(meta).length === 0) throw bad('to.meta must name at least one key');
    target = { meta };
  } else throw bad('to must name exactly one of sub, connection, meta');
  const data = body.data;
  if (!isJsonObject(data)) throw bad('data must be a JSON object');
  const deep = checkPatch(data);
  if (deep) throw bad(`data: ${deep.message}`);
  if (Buffer.byteLength(JSON.stringify(data), 'utf8') > MAX_MESSAGE_DATA_BYTES) {
    throw new ApiError(413, ErrorCode.PayloadTooLarge, `data is larger than ${MAX_MESSAGE_DATA_BYTES} bytes as JSON`);
  }
  return { to: target, data };
}

/** the query of GET /v1/connections */
export function parseConnectionQuery(query: string): ConnectionQuery {
  const params = new URLSearchParams(query);
  const q: ConnectionQuery = { meta: {}, limit: 100 };
  const meta: Record<string, string> = {};
  for (const [k, v] of params) {
    if (k === 'sub') q.sub = v;
    else if (k === 'limit') {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > MAX_CONNECTIONS_PAGE) throw bad(`limit must be an integer in [1, ${MAX_CONNECTIONS_PAGE}]`);
      q.limit = n;
    } else if (k === 'after') q.after = v;
    else if (k.startsWith('meta.') && k.length > 5) meta[k.slice(5)] = v;
    else throw bad(`unknown parameter ${JSON.stringify(k.slice(0, 64))}: use sub, meta.<key>, limit, after`);
  }
  const m = validateMeta(meta);
  if (typeof m === 'string') throw bad(m);
  q.meta = m;
  return q;
}

/**
 * The op key of a server API command from the caller's Idempotency-Key ('' without one): the same
 * rules as POST /v1/docs (at most MAX_ID_LENGTH characters, none starting with ~), hashed with the
 * route so keys of different routes never meet in the control doc's key window.
 */
function controlKey(route: string, idempotencyKey: string): string {
  if (idempotencyKey === '') return '';
  if (idempotencyKey.length > MAX_ID_LENGTH) throw bad(`idempotency key longer than ${MAX_ID_LENGTH} characters`);
  if (idempotencyKey.startsWith('~')) throw bad('idempotency keys starting with ~ are reserved');
  return `${route}:${createHash('sha256').update(idempotencyKey).digest('hex')}`;
}

/** a UUID-shaped id derived from an op key: a retried message answers the id of its first try */
function uuidOf(opKey: string): string {
  const h = createHash('sha256').update(opKey).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function registerServerApi(app: TemplatedApp, origin: Origin, opts: ServerApiOptions = {}): void {
  const authRequired = opts.auth?.required ?? false;
  const maxRevocations = opts.maxRevocations ?? MAX_REVOCATIONS;
  /** resolves when the credential is an API key (or auth is off); else rejects with the ApiError */
  const authorize = async (authorization: string): Promise<void> => {
    if (!authRequired) return;
    if (authorization === '') throw new ApiError(401, ErrorCode.Unauthorized, 'missing Authorization: Bearer <API key>');
    let p;
    try {
      p = await opts.auth!.authenticate(authorization);
    } catch (err) {
      throw new ApiError(401, ErrorCode.Unauthorized, err instanceof AuthError ? err.message : 'credential not accepted');
    }
    if (p !== FULL_ACCESS) throw new ApiError(403, ErrorCode.Forbidden, 'the server API takes API keys only');
  };

  /** a POST route: auth, a bounded JSON body, then `handle` answers with the 200 body */
  const post = (pattern: string, handle: (body: unknown, param: string, idempotencyKey: string) => Promise<string>, emptyOk = false) => {
    app.post(pattern, (res, req) => {
      const authorization = req.getHeader('authorization');
      const idempotencyKey = req.getHeader('idempotency-key');
      const param = req.getParameter(0) ?? '';
      const contentLength = req.getHeader('content-length');
      const r: Req = { aborted: false, done: false };
      res.onAborted(() => {
        r.aborted = true;
        r.done = true;
      });
      const authorized = authorize(authorization);
      authorized.catch(() => {}); // observed below
      const tooLarge = () => answerJson(res, r, 413, errorBody(ErrorCode.PayloadTooLarge, `body larger than ${MAX_API_BODY_BYTES} bytes`), { close: true });
      readBody(res, r, contentLength, { maxBytes: MAX_API_BODY_BYTES }, (raw) => {
        const text = raw.toString('utf8');
        authorized
          .then(() => {
            let body: unknown;
            if (text.trim() === '' && emptyOk) body = {};
            else {
              try {
                body = JSON.parse(text);
              } catch {
                throw bad('body is not valid JSON');
              }
            }
            return handle(body, param, idempotencyKey);
          })
          .then(
            (out) => answerJson(res, r, 200, out),
            (err) => fail(res, r, err),
          );
      }, tooLarge);
    });
  };

  post('/v1/messages', async (body, _param, idempotencyKey) => {
    const { to, data } = parseMessage(body);
    const opKey = controlKey('message', idempotencyKey);
    // a retry with the same key gets the same id, and the fold drops its op (delivered once)
    const id = opKey === '' ? randomUUID() : uuidOf(opKey);
    await origin.writeReserved(CONTROL_DOC, commandPatch({ t: 'message', id, to, data }), opKey);
    return JSON.stringify({ id });
  });

  post(
    '/v1/users/:sub/disconnect',
    async (body, param, idempotencyKey) => {
      const opKey = controlKey('disconnect', idempotencyKey);
      let sub: string;
      try {
        sub = decodeURIComponent(param);
      } catch {
        throw bad('the sub in the path is not valid percent-encoding');
      }
      if (!validSub(sub)) throw bad(`sub must be a non-empty string of at most ${MAX_SUB_LENGTH} characters`);
      if (!isJsonObject(body)) throw bad('body must be a JSON object, e.g. {"reconnect":false}');
      if (body.reconnect !== undefined && typeof body.reconnect !== 'boolean') throw bad('reconnect must be a boolean');
      await origin.writeReserved(CONTROL_DOC, commandPatch({ t: 'disconnect', sub, reconnect: body.reconnect !== false }), opKey);
      return '{}';
    },
    true,
  );

  // read, prune, bound, append: one at a time per origin
  let revoking: Promise<unknown> = Promise.resolve();
  post('/v1/revocations', (body) => {
    if (!isJsonObject(body)) throw bad('body must be {"sub":…,"before":<unix seconds>}');
    const { sub, before } = body;
    if (!validSub(sub)) throw bad(`sub must be a non-empty string of at most ${MAX_SUB_LENGTH} characters`);
    const now = Math.floor(Date.now() / 1000);
    if (!Number.isInteger(before) || (before as number) < 0 || (before as number) > now + REVOCATION_TTL_S) {
      throw bad(`before must be an integer unix time in seconds, at most ${REVOCATION_TTL_S} s ahead`);
    }
    const run = revoking.then(async () => {
      const { state } = await origin.readReserved(CONTROL_DOC);
      const current = revocationsOf(state) ?? new Map<string, number | null>();
      const patch: Record<string, number | null> = {};
      let live = 0;
      const horizon = Math.floor(Date.now() / 1000) - REVOCATION_TTL_S;
      for (const [s, b] of current) {
        if (b === null) continue;
        if (b < horizon && s !== sub) patch[s] = null; // expired: every token it refused has expired too
        else live++;
      }
      const prev = current.get(sub);
      if ((prev === undefined || prev === null) && live >= maxRevocations) {
        throw new ApiError(429, ErrorCode.TooManyRevocations, `the revocation list holds ${maxRevocations} subs; entries expire ${REVOCATION_TTL_S} s after their before`);
      }
      // the latest `before` per sub wins: a revocation never shortens an earlier one
      const b = typeof prev === 'number' ? Math.max(prev, before as number) : (before as number);
      patch[sub] = b;
      await origin.writeReserved(CONTROL_DOC, JSON.stringify({ revocations: patch }));
      opts.revocations?.invalidate();
      return JSON.stringify({ sub, before: b });
    });
    revoking = run.catch(() => {});
    return run;
  });

  app.get('/v1/connections', (res, req) => {
    const authorization = req.getHeader('authorization');
    const query = req.getQuery() ?? '';
    const r: Req = { aborted: false, done: false };
    res.onAborted(() => {
      r.aborted = true;
      r.done = true;
    });
    authorize(authorization)
      .then(() => {
        const q = parseConnectionQuery(query);
        if (!opts.directory) throw new ApiError(503, ErrorCode.Unavailable, 'no connection index is configured on this origin');
        return opts.directory.list(q);
      })
      .then(
        (page) => answerJson(res, r, 200, JSON.stringify(page)),
        (err) => fail(res, r, err),
      );
  });
}
