/**
 * Per-connection state, stored as the uWS socket's user data. Kept small: an idle subscribed
 * connection costs this object plus one Set entry per subscription.
 */
import type { WebSocket } from 'uWebSockets.js';

export const PROTO_JSON = 0;
export const PROTO_BINARY = 1;

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
}

export type Socket = WebSocket<Session>;
