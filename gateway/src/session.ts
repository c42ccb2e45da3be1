/**
 * Per-connection state, stored as the uWS socket's user data. Kept small: an idle subscribed
 * connection costs this object (a dozen fields, no per-connection closures or buffers) plus one
 * Set entry per subscription; an inactive one adds one Map entry (doc -> seq) per subscription.
 */
import type { WebSocket } from 'uWebSockets.js';

export const PROTO_JSON = 0;
export const PROTO_BINARY = 1;

/** Session.inactive bits: why nothing is sent to a connection right now */
export const INACTIVE_CREDIT = 1;
export const INACTIVE_BUFFER = 2;

export interface Session {
  id: number;
  proto: typeof PROTO_JSON | typeof PROTO_BINARY;
  /** false until a valid token was presented (always true when auth is disabled) */
  authed: boolean;
  /** set by the close handler: the socket must not be touched afterwards */
  closed: boolean;
  /** docs this connection subscribed to */
  subs: Set<string> | undefined;
  /** publishes awaiting their ack */
  inflight: number;
  authTimer: NodeJS.Timeout | undefined;
  sub: string;
  // ---- client-hop flow control (local-fanout.ts) ----
  /** data frames it may still be sent; Infinity until `hello` (no credit flow control) */
  credit: number;
  /** 0 = active, else INACTIVE_* bits */
  inactive: number;
  /** while inactive only: per subscribed doc the seq it last received (-1 = needs a snapshot) */
  lastSeqs: Map<string, bigint> | undefined;
  /** ms since when its send buffer has been over the bound (0 = not over) */
  fullSince: number;
}

export type Socket = WebSocket<Session>;
