/**
 * Per-connection state, stored as the uWS socket's user data. Kept small: an idle subscribed
 * connection costs this object (a dozen fields, no per-connection closures or buffers) plus one
 * Set entry per subscription; an inactive one adds one Map entry (doc -> seq) per subscription.
 *
 * One session, two sinks: a connection is a `Socket` — a uWS WebSocket (either subprotocol) or an
 * SSE stream (sse.ts, `GET /v1/sse`). Auth, expiry, the server API, the local fan-out and the client
 * hop's flow control (credit, inactive/collapse, the slow-consumer timeout) see only this interface,
 * so both transports run the very same code; they differ in how a frame is encoded (`proto`).
 */
import type { RecognizedString } from 'uWebSockets.js';
import type { Principal } from '@replicant/auth';
import { encodeServerBinary, encodeServerJson, sseControlEvent, type ClientFrame, type JsonObject, type ServerFrame, type SseDataEvent } from '@replicant/protocol';
import type { Bucket } from './publish-rate.js';
import type { PublishLanes } from './publish-order.js';

export const PROTO_JSON = 0;
export const PROTO_BINARY = 1;
/** an SSE stream: frames are `replicant.v1.json` text as events (no client frames, no credit) */
export const PROTO_SSE = 2;
export type Proto = typeof PROTO_JSON | typeof PROTO_BINARY | typeof PROTO_SSE;

/** a frame as handed to a sink: JSON text, protobuf bytes, an SSE control event, or an SSE data event */
export type Frame = RecognizedString | SseDataEvent;

/**
 * What the client hop sends through. uWS's WebSocket satisfies it as it is; SseSocket (sse.ts)
 * implements it over an HttpResponse. `send` answers like uWS: 1 sent, 0 sent but backpressure
 * built up, 2 dropped (over the hard cap).
 */
/**
 * What a socket carries: its Session behind ONE property. uWS copies the user data object's
 * properties onto its native WebSocket object, and V8 turns an API object that is given more
 * than a dozen properties that way into a dictionary (about 1.6 KB per connection, measured in
 * a heap snapshot of 5,000 idle subscribers); one property keeps it small, and the Session, an
 * object literal, keeps its fields in-object.
 */
export interface SocketData {
  readonly session: Session;
}

export interface Socket {
  getUserData(): SocketData;
  send(frame: Frame, isBinary?: boolean, compress?: boolean): number;
  cork(cb: () => void): unknown;
  getBufferedAmount(): number;
  end(code?: number, reason?: RecognizedString): void;
}

/** a control frame encoded for a connection's subprotocol (data frames are cached on their Delta/doc) */
export function encodeFor(proto: Proto, f: ServerFrame): string | Uint8Array {
  if (proto === PROTO_BINARY) return encodeServerBinary(f);
  const json = encodeServerJson(f);
  return proto === PROTO_SSE ? sseControlEvent(f.type, json) : json;
}

/** Session.inactive bits: why nothing is sent to a connection right now */
export const INACTIVE_CREDIT = 1;
export const INACTIVE_BUFFER = 2;

export interface Session {
  id: number;
  proto: Proto;
  /** false until a valid token was presented (always true when auth is disabled) */
  authed: boolean;
  /** set by the close handler: the socket must not be touched afterwards */
  closed: boolean;
  /** docs this connection subscribed to */
  subs: Set<string> | undefined;
  /** publishes awaiting their ack */
  inflight: number;
  authTimer: NodeJS.Timeout | undefined;
  /** who this connection acts for (FULL_ACCESS when auth is off); undefined until authed */
  principal: Principal | undefined;
  /** `auth` frames being verified; frames arriving meanwhile wait in `queued` (bounded) */
  authPending: number;
  queued: ClientFrame[] | undefined;
  /** wire bytes of the frames in `queued` (bounded by maxQueuedBytesBehindAuth), and each one's */
  queuedBytes: number;
  queuedSizes: number[] | undefined;
  /** frames received so far, and that count for each frame in `queued` (publish order, publish-order.ts) */
  rx: number;
  queuedRx: number[] | undefined;
  /** per-doc publish lanes (publish-order.ts), created on the first publish */
  lanes: PublishLanes | undefined;
  /** fires at the token's exp (token_expired), then after AUTH_REFRESH_GRACE_MS (close 4001) */
  expTimer: NodeJS.Timeout | undefined;
  /** token_expired was sent: in the refresh grace, no new subscribe/publish */
  expired: boolean;
  /** the upgrade's `?token=`, verified (like an auth frame) once the socket is open */
  urlToken?: string;
  /** CLIENT_PUBLISH_RATE token bucket */
  bucket: Bucket;
  // ---- client-hop flow control (local-fanout.ts) ----
  /** data frames it may still be sent; Infinity until `hello` (no credit flow control) */
  credit: number;
  /** 0 = active, else INACTIVE_* bits */
  inactive: number;
  /** while inactive only: per subscribed doc the seq it last received (-1 = needs a snapshot) */
  lastSeqs: Map<string, bigint> | undefined;
  /** per-user views: the view doc (local-fanout.ts LocalDoc) each doc of this connection is read through, when restricted */
  viewDocs?: Map<string, object>;
  /** ms since when its send buffer has been over the bound (0 = not over) */
  fullSince: number;
  // ---- server API (connections.ts) ----
  /** cluster-unique connection id (sent in `welcome`) */
  connId: string;
  /** when the connection opened, ms since the epoch */
  since: number;
  /** routing metadata from `hello.meta` */
  meta: Record<string, string> | undefined;
  /** the sub it is indexed under; undefined until authenticated */
  indexedSub: string | undefined;
  // ---- presence (presence.ts) ----
  /** docs whose presence it is a member of -> the user it counts as (its sub, or its id without auth) and its info */
  presence: Map<string, { user: string; info: JsonObject | undefined }> | undefined;
}

