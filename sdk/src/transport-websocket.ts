/**
 * The WebSocket transport (transport.ts seam): the sdk speaks the standard browser WebSocket API,
 * which browsers provide natively and the `ws` package implements for Node. `ws` is imported
 * lazily and only when there is no global WebSocket, so nothing Node-only is touched in a browser.
 * Unbounded nothing: frames go straight to the socket (its buffer is the gateway's concern, and
 * credit flow control bounds what comes back).
 */
import {
  decodeServerBinary,
  decodeServerJson,
  encodeClientBinary,
  encodeClientJson,
  ErrorCode,
  ProtocolError,
  SUBPROTOCOL_BINARY,
  SUBPROTOCOL_JSON,
  type ClientFrame,
  type ReceivedFrame,
} from '@replicant/protocol';
import type { Transport, TransportEvents } from './transport.js';

/** The subset of the WHATWG WebSocket interface the client uses. */
export interface WebSocketLike {
  binaryType: string;
  readonly protocol: string;
  readonly readyState: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** WebSocket.OPEN, spelled out because the constructor's static may be absent on custom classes. */
export const WS_OPEN = 1;

/** The gateway's stream endpoint (DESIGN.md contracts). */
export const STREAM_PATH = '/v1/stream';

export type WireProtocol = 'binary' | 'json';

export async function resolveWebSocket(given?: WebSocketConstructor): Promise<WebSocketConstructor> {
  if (given) return given;
  const native = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (typeof native === 'function') return native as WebSocketConstructor;
  const mod = await import('ws');
  return mod.default as unknown as WebSocketConstructor;
}

/**
 * The socket URL: http(s) is mapped to ws(s), a bare origin gets the stream path, and the token
 * (if any) goes in the `token` query parameter, the routing hint (if any) in `affinity`.
 */
export function streamUrl(base: string, token?: string, affinity?: string): string {
  const u = new URL(base);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new TypeError(`unsupported URL scheme ${u.protocol}`);
  if (u.pathname === '' || u.pathname === '/') u.pathname = STREAM_PATH;
  if (token !== undefined && token !== '') u.searchParams.set('token', token);
  if (affinity !== undefined) u.searchParams.set('affinity', affinity);
  return u.toString();
}

export function subprotocolOf(p: WireProtocol): string {
  return p === 'json' ? SUBPROTOCOL_JSON : SUBPROTOCOL_BINARY;
}

export function encodeFrame(p: WireProtocol, f: ClientFrame): string | Uint8Array {
  return p === 'json' ? encodeClientJson(f) : encodeClientBinary(f);
}

/** Decodes by message kind rather than by negotiated protocol: text is JSON, bytes are protobuf. */
export function decodeFrame(data: unknown): ReceivedFrame | ProtocolError {
  if (typeof data === 'string') return decodeServerJson(data);
  if (data instanceof ArrayBuffer) return decodeServerBinary(new Uint8Array(data));
  if (ArrayBuffer.isView(data)) return decodeServerBinary(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return new ProtocolError(ErrorCode.BadFrame, 'unsupported WebSocket message type');
}

/**
 * Calls `onRetryAfter(ms)` when the server refused the upgrade with a `Retry-After` (HTTP 503 from
 * admission control). Browsers do not expose the refused response, so there the client falls back
 * to its backoff; the Node `ws` implementation reports it as `unexpected-response`, after which the
 * handshake is aborted as `ws` would (error + close events follow).
 */
export function watchRefusal(sock: WebSocketLike, onRetryAfter: (ms: number) => void): void {
  const s = sock as WebSocketLike & {
    on?: (ev: string, fn: (req: unknown, res: { statusCode?: number; headers: Record<string, string | string[] | undefined>; resume?: () => void }) => void) => void;
    terminate?: () => void;
  };
  if (typeof s.on !== 'function' || typeof s.terminate !== 'function') return;
  s.on('unexpected-response', (_req, res) => {
    const h = res.headers['retry-after'];
    const sec = Number(Array.isArray(h) ? h[0] : h);
    if (res.statusCode === 503 && Number.isFinite(sec) && sec >= 0) onRetryAfter(Math.min(sec, 3600) * 1000);
    res.resume?.();
    s.terminate!();
  });
}

export interface WebSocketTransportOptions {
  Ctor: WebSocketConstructor;
  /** the socket URL (streamUrl) */
  url: string;
  protocol: WireProtocol;
  events: TransportEvents;
}

/** The WebSocket implementation of the transport seam: frames both ways on one socket. */
export class WebSocketTransport implements Transport {
  readonly kind = 'websocket';
  readonly pings = true;
  private readonly sock: WebSocketLike;
  private readonly protocol: WireProtocol;
  /** false once the manager closed or terminated it: nothing is reported after that */
  private live = true;

  constructor(o: WebSocketTransportOptions) {
    this.protocol = o.protocol;
    const ev = o.events;
    const sock = new o.Ctor(o.url, [subprotocolOf(o.protocol)]);
    this.sock = sock;
    sock.binaryType = 'arraybuffer';
    watchRefusal(sock, (ms) => {
      if (this.live) ev.retryAfter(ms);
    });
    sock.onopen = () => {
      if (this.live) ev.open();
    };
    sock.onmessage = (m) => {
      if (this.live) ev.frame(decodeFrame(m.data));
    };
    sock.onclose = (c) => {
      if (!this.live) return;
      this.live = false;
      ev.close(c.code, c.reason);
    };
    sock.onerror = () => {
      // Always followed by a close event, which drives reconnection.
    };
  }

  get isOpen(): boolean {
    return this.live && this.sock.readyState === WS_OPEN;
  }

  send(f: ClientFrame): boolean {
    if (!this.isOpen) return false;
    try {
      this.sock.send(encodeFrame(this.protocol, f));
      return true;
    } catch {
      return false; // the socket is going away; its close event will follow
    }
  }

  close(code: number, reason: string): Promise<void> {
    this.live = false;
    const sock = this.sock;
    if (sock.readyState > WS_OPEN) return Promise.resolve();
    return new Promise<void>((resolve) => {
      sock.onclose = () => resolve();
      sock.close(code, reason);
    });
  }

  terminate(): void {
    this.live = false;
    const s = this.sock as WebSocketLike & { terminate?: () => void };
    if (typeof s.terminate === 'function') s.terminate();
    else s.close(1000, 'ping timeout');
  }
}
