/**
 * Error codes shared by every tier. They appear verbatim in WebSocket `error` frames and in HTTP
 * error bodies (`{"error":{"code","message"}}`), so clients can switch on them.
 */
export const ErrorCode = {
  BadFrame: 'bad_frame', // undecodable frame (invalid JSON / protobuf, unknown type, wrong field types)
  FrameTooLarge: 'frame_too_large',
  BadDocId: 'bad_doc_id',
  BadPatch: 'bad_patch', // a patch that is not a JSON object, or nested / sized over its bound
  BadSeq: 'bad_seq',
  BadRequest: 'bad_request',
  Unauthorized: 'unauthorized',
  Forbidden: 'forbidden', // outside the token's read/write scopes
  TokenExpired: 'token_expired', // the connection's token passed exp: send a fresh auth frame
  RateLimited: 'rate_limited', // over CLIENT_PUBLISH_RATE
  TooManySubscriptions: 'too_many_subscriptions',
  NotSubscribed: 'not_subscribed',
  PayloadTooLarge: 'payload_too_large',
  Unavailable: 'unavailable', // overloaded or a dependency is down: retry later
  Internal: 'internal',
  NotFound: 'not_found',
  MethodNotAllowed: 'method_not_allowed',
  UnsupportedMediaType: 'unsupported_media_type',
  Conflict: 'conflict', // `ifSeq` / If-Match did not match the document's seq (HTTP 412)
  // a re-sent sequenced op whose dedupe record is past the horizon: it may have been applied
  // before, so it is not applied now (docs/protocol.md, "Exactly once")
  IdempotencyExpired: 'idempotency_expired',
  // the op would make the document's state larger than MAX_DOC_BYTES (HTTP 413): not applied, decided
  // in the fold; the document keeps its state. Final for that op; the same patch sent again is a new
  // op, decided again (it applies once the doc has shrunk). With a doc and no id: a subscription whose
  // state does not fit the link frame (fanout link-server.ts).
  DocTooLarge: 'doc_too_large',
  // history / ?at= / restore older than what the log retains (HTTP 410, names the oldest seq available)
  HistoryExpired: 'history_expired',
  // a history read would scan more of the log than one request may (HTTP 422; docs/architecture.md)
  HistoryScanLimit: 'history_scan_limit',
  // server API: the revocation list is at its bound (MAX_REVOCATIONS subs); HTTP 429
  TooManyRevocations: 'too_many_revocations',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A typed failure to decode or validate input. Decoders return these; they never throw them out. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly doc?: string,
    readonly id?: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/**
 * Error codes that mean "the same frame/request may succeed later, unchanged": the server refused
 * it for load (`unavailable`, `rate_limited`), for the connection's credential state
 * (`token_expired`: succeeds once a fresh `auth` is sent) or for a fault it may recover from
 * (`internal`, worth a few retries only). Every other code is permanent for that frame: retrying it
 * unchanged gets the same answer (`forbidden`, `bad_patch`, `conflict`, `idempotency_expired`, ...).
 * docs/protocol.md, "Error classification".
 */
export const TRANSIENT_ERROR_CODES: ReadonlySet<string> = new Set<string>([
  ErrorCode.Unavailable,
  ErrorCode.RateLimited,
  ErrorCode.TokenExpired,
  ErrorCode.Internal,
]);

/** true when `code` is transient (TRANSIENT_ERROR_CODES): retry, with backoff, after a refresh for token_expired */
export function isTransientError(code: string): boolean {
  return TRANSIENT_ERROR_CODES.has(code);
}
