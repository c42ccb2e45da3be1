/**
 * The transport seam: how the client's frames reach a gateway and its frames come back. The
 * connection manager (client.ts) owns the lifecycle (reconnect, backoff, goaway, ping, token
 * refresh, fallback) and speaks frames; a transport only carries them. Two implementations:
 *  - transport-websocket.ts: one WebSocket (`/v1/stream`), frames both ways;
 *  - transport-sse.ts: Server-Sent Events (`GET /v1/sse`) down, HTTP `POST /v1/docs/{id}` up, with
 *    HTTP answers mapped to the `ack` / `error` frames the WebSocket path produces.
 * Invariants every implementation keeps: `open` is reported at most once and before any frame;
 * `close` is reported at most once and nothing after it; after the manager calls `close()` or
 * `terminate()` no event is reported at all.
 */
import type { ClientFrame, ProtocolError, ReceivedFrame } from '@replicant/protocol';

export type TransportKind = 'websocket' | 'sse';

/** `connect(url, { transport })`: 'auto' (default) = WebSocket, falling back to SSE + HTTP */
export type TransportMode = 'auto' | TransportKind;

export interface TransportEvents {
  /** frames can be sent from now on */
  open(): void;
  /** a frame from the server, or one that could not be decoded */
  frame(f: ReceivedFrame | ProtocolError): void;
  /** the transport ended (WebSocket close code and reason; 1006 when it just died) */
  close(code: number, reason: string): void;
  /** the server refused with HTTP 503 + Retry-After (admission control): not before `ms` */
  retryAfter(ms: number): void;
}

export interface Transport {
  readonly kind: TransportKind;
  /** whether `ping` frames are answered with `pong` (the manager's dead-path detection needs it) */
  readonly pings: boolean;
  /** frames can be sent now */
  readonly isOpen: boolean;
  /** sends (or, for frames a transport has no use for, accepts) a frame; false when not open */
  send(f: ClientFrame): boolean;
  /** closes gracefully; resolves once closed. No event is reported afterwards. */
  close(code: number, reason: string): Promise<void>;
  /** drops the path at once (half-open TCP): no close handshake. No event is reported afterwards. */
  terminate(): void;
}
