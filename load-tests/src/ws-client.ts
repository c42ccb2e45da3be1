/**
 * A minimal, fast WebSocket client (RFC 6455) on `node:net`, for load generation.
 *
 * Why not `ws`: driving thousands of sockets from a 2-core box, the per-message cost of the client
 * decides how much CPU is left for the server under test. This client:
 *  - reads every socket into ONE process-wide buffer (`net` `onread`), so a read allocates nothing;
 *    only a frame that straddles two reads is copied into a per-connection pending buffer;
 *  - hands each complete message to `onmessage` as a Buffer VIEW that is valid only during the call
 *    (copy it, or decode it, before returning);
 *  - does no UTF-8 validation of text frames and supports no extensions (no permessage-deflate);
 *  - masks client frames with keys drawn from a pooled CSPRNG buffer.
 *
 * API in the style of the browser WebSocket: `new WsClient(opts)` starts connecting; assign
 * handlers synchronously after construction (no event can fire before that); `waitOpen()` returns a
 * promise for the handshake. `onclose` fires exactly once per client, after `onerror` if any.
 */
import * as net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const CRLFCRLF = Buffer.from('\r\n\r\n');
const MAX_HANDSHAKE_BYTES = 16 * 1024;

export const enum ReadyState {
  Connecting = 0,
  Open = 1,
  Closing = 2,
  Closed = 3,
}

export interface WsClientOptions {
  /** default 127.0.0.1 */
  host?: string;
  port: number;
  /** request target including the query string; default `/` */
  path?: string;
  /** offered subprotocols (Sec-WebSocket-Protocol) */
  protocols?: string[];
  /** local address to bind (e.g. 127.0.0.7) to spread ephemeral ports over several source IPs */
  localAddress?: string;
  /** extra request headers */
  headers?: Record<string, string>;
  /** default 10 000 ms */
  handshakeTimeoutMs?: number;
  /** largest accepted message (after reassembly); default 64 MiB */
  maxPayload?: number;
  /** after we send a close frame, how long to wait for the server's before destroying; default 3000 ms */
  closeTimeoutMs?: number;
}

export type MessageHandler = (data: Buffer, isBinary: boolean) => void;

// ---- process-wide read buffer and mask-key pool ----
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
let maskPool = randomBytes(8192);
let maskOff = 0;
function nextMask(): number {
  if (maskOff + 4 > maskPool.length) {
    maskPool = randomBytes(8192);
    maskOff = 0;
  }
  const m = maskPool.readUInt32BE(maskOff);
  maskOff += 4;
  return m;
}

/** Builds one masked client frame (FIN set) around `payload`. Exported for tests. */
export function encodeClientFrame(opcode: number, payload: Buffer | string): Buffer {
  const isString = typeof payload === 'string';
  const len = isString ? Buffer.byteLength(payload) : payload.length;
  const hdr = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(hdr + 4 + len);
  frame[0] = 0x80 | opcode;
  if (hdr === 2) frame[1] = 0x80 | len;
  else if (hdr === 4) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    frame.writeUInt32BE(len >>> 0, 6);
  }
  const mask = nextMask();
  frame.writeUInt32BE(mask, hdr);
  const start = hdr + 4;
  if (isString) frame.write(payload, start, 'utf8');
  else payload.copy(frame, start);
  const m0 = mask >>> 24;
  const m1 = (mask >>> 16) & 0xff;
  const m2 = (mask >>> 8) & 0xff;
  const m3 = mask & 0xff;
  const end = start + len;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    frame[i] ^= m0;
    frame[i + 1] ^= m1;
    frame[i + 2] ^= m2;
    frame[i + 3] ^= m3;
  }
  const keys = [m0, m1, m2, m3];
  for (let k = 0; i < end; i++, k++) frame[i] ^= keys[k];
  return frame;
}

/** Unmasks `payload` in place with the 4 key bytes at key[keyOff..]. */
function unmask(buf: Buffer, start: number, end: number, key: Buffer, keyOff: number): void {
  for (let i = start, k = 0; i < end; i++, k = (k + 1) & 3) buf[i] ^= key[keyOff + k];
}

export interface FrameSink {
  /** a complete data message; `data` is valid only during the call */
  message(data: Buffer, isBinary: boolean): void;
  /** a control frame (0x8 close, 0x9 ping, 0xA pong); `payload` is valid only during the call */
  control(opcode: number, payload: Buffer): void;
  /** a protocol violation; parsing stops */
  protocolError(reason: string, closeCode: number): void;
}

/**
 * Streaming parser for server frames: feed it arbitrary chunks. Reassembles fragmented messages.
 * Server frames must be unmasked (RFC 6455 5.1); a masked one is accepted and unmasked when
 * `allowMasked` is set (tests), a protocol error otherwise.
 */
export class FrameParser {
  private pend: Buffer | null = null;
  private pendLen = 0;
  private need = 0;
  private fragments: Buffer[] | null = null;
  private fragLen = 0;
  private fragBinary = false;
  private stopped = false;

  constructor(
    private readonly sink: FrameSink,
    private readonly maxPayload = 64 * 1024 * 1024,
    private readonly allowMasked = false,
  ) {}

  /** bytes held back waiting for the rest of a frame */
  get pendingBytes(): number {
    return this.pendLen;
  }

  stop(): void {
    this.stopped = true;
    this.pend = null;
    this.pendLen = 0;
    this.fragments = null;
  }

  /** `chunk` may be a view into a shared buffer: anything kept past this call is copied. */
  push(chunk: Buffer): void {
    if (this.stopped) return;
    let buf = chunk;
    let end = chunk.length;
    if (this.pendLen > 0) {
      const total = this.pendLen + chunk.length;
      this.reserve(Math.max(total, this.need), true);
      chunk.copy(this.pend!, this.pendLen);
      this.pendLen = total;
      if (total < this.need) return; // still incomplete: nothing to parse
      buf = this.pend!;
      end = total;
    }
    let off = 0;
    while (!this.stopped) {
      const avail = end - off;
      if (avail < 2) break;
      const b0 = buf[off];
      const b1 = buf[off + 1];
      let len = b1 & 0x7f;
      let hdr = 2;
      if (len === 126) {
        if (avail < 4) break;
        len = buf.readUInt16BE(off + 2);
        hdr = 4;
      } else if (len === 127) {
        if (avail < 10) break;
        const hi = buf.readUInt32BE(off + 2);
        if (hi > 0x1fffff) return this.fail('frame length exceeds 2^53', 1009);
        len = hi * 2 ** 32 + buf.readUInt32BE(off + 6);
        hdr = 10;
      }
      const masked = (b1 & 0x80) !== 0;
      if (masked) {
        if (!this.allowMasked) return this.fail('server frame is masked', 1002);
        hdr += 4;
      }
      if (len > this.maxPayload) return this.fail(`frame of ${len} bytes exceeds maxPayload`, 1009);
      if (avail < hdr + len) {
        this.need = hdr + len;
        break;
      }
      const pStart = off + hdr;
      const pEnd = pStart + len;
      if (masked) unmask(buf, pStart, pEnd, buf, pStart - 4);
      off = pEnd;
      this.need = 0;
      this.frame(b0, buf.subarray(pStart, pEnd));
    }
    if (this.stopped) return;
    const rem = end - off;
    if (rem === 0) {
      this.pendLen = 0;
      // do not keep a big buffer around for an idle connection
      if (this.pend !== null && this.pend.length > 64 * 1024) this.pend = null;
      return;
    }
    if (buf === this.pend) {
      if (off > 0) this.pend.copyWithin(0, off, end);
      this.pendLen = rem;
    } else {
      this.reserve(Math.max(rem, this.need), false);
      buf.copy(this.pend!, 0, off, end);
      this.pendLen = rem;
    }
  }

  private reserve(size: number, keep: boolean): void {
    if (this.pend !== null && this.pend.length >= size) return;
    const cap = Math.max(size, this.pend === null ? 256 : this.pend.length * 2);
    const next = Buffer.allocUnsafe(cap);
    if (keep && this.pend !== null && this.pendLen > 0) this.pend.copy(next, 0, 0, this.pendLen);
    this.pend = next;
  }

  private fail(reason: string, code: number): void {
    this.stop();
    this.sink.protocolError(reason, code);
  }

  private frame(b0: number, payload: Buffer): void {
    if ((b0 & 0x70) !== 0) return this.fail('RSV bits set without a negotiated extension', 1002);
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    if (opcode >= 8) {
      if (!fin || payload.length > 125) return this.fail('invalid control frame', 1002);
      if (opcode > 10) return this.fail(`unknown opcode ${opcode}`, 1002);
      this.sink.control(opcode, payload);
      return;
    }
    if (opcode === 0) {
      if (this.fragments === null) return this.fail('continuation frame without a started message', 1002);
      this.fragLen += payload.length;
      if (this.fragLen > this.maxPayload) return this.fail('message exceeds maxPayload', 1009);
      this.fragments.push(Buffer.from(payload));
      if (fin) {
        const msg = Buffer.concat(this.fragments, this.fragLen);
        const binary = this.fragBinary;
        this.fragments = null;
        this.fragLen = 0;
        this.sink.message(msg, binary);
      }
      return;
    }
    if (opcode !== 1 && opcode !== 2) return this.fail(`unknown opcode ${opcode}`, 1002);
    if (this.fragments !== null) return this.fail('new message before the previous one finished', 1002);
    if (fin) {
      this.sink.message(payload, opcode === 2);
      return;
    }
    this.fragments = [Buffer.from(payload)];
    this.fragLen = payload.length;
    this.fragBinary = opcode === 2;
  }
}

export class WsClient implements FrameSink {
  readyState: ReadyState = ReadyState.Connecting;
  /** the subprotocol the server selected ('' when none) */
  protocol = '';
  /** handshake response headers (lower-cased names) */
  responseHeaders: Record<string, string> = {};
  /** close code received from the server (1005 when it sent none, 1006 when there was no close frame) */
  closeCode = 1006;
  closeReason = '';

  onopen: (() => void) | null = null;
  onmessage: MessageHandler | null = null;
  onclose: ((code: number, reason: string) => void) | null = null;
  onerror: ((err: Error) => void) | null = null;
  onping: ((payload: Buffer) => void) | null = null;
  onpong: ((payload: Buffer) => void) | null = null;

  private readonly socket: net.Socket;
  private readonly parser: FrameParser;
  private readonly key: string;
  private hsBuf: Buffer | null = null;
  private hsLen = 0;
  private sentClose = false;
  private closeTimer: NodeJS.Timeout | null = null;
  private hsTimer: NodeJS.Timeout | null = null;
  private error: Error | null = null;
  private closedFired = false;
  private openWaiters: { resolve: () => void; reject: (e: Error) => void }[] | null = null;
  private readonly closeTimeoutMs: number;

  constructor(private readonly opts: WsClientOptions) {
    this.parser = new FrameParser(this, opts.maxPayload ?? 64 * 1024 * 1024);
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 3000;
    this.key = randomBytes(16).toString('base64');
    const host = opts.host ?? '127.0.0.1';
    this.socket = net.connect({
      host,
      port: opts.port,
      localAddress: opts.localAddress,
      noDelay: true,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number, buf: Uint8Array) => {
          this.onData((buf as Buffer).subarray(0, n));
          return true;
        },
      },
    });
    this.socket.on('connect', () => this.sendHandshake(host));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.finish());
    this.hsTimer = setTimeout(
      () => this.fail(new Error(`WebSocket handshake timed out after ${opts.handshakeTimeoutMs ?? 10000} ms`)),
      opts.handshakeTimeoutMs ?? 10000,
    );
  }

  /** Resolves when the handshake completes; rejects if the connection fails or closes before. */
  waitOpen(): Promise<void> {
    if (this.readyState === ReadyState.Open) return Promise.resolve();
    if (this.readyState !== ReadyState.Connecting) {
      return Promise.reject(this.error ?? new Error('WebSocket closed before opening'));
    }
    return new Promise((resolve, reject) => {
      (this.openWaiters ??= []).push({ resolve, reject });
    });
  }

  /** bytes queued in the socket's write buffer */
  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  get localPort(): number | undefined {
    return this.socket.localPort;
  }

  /** Sends a text (string) or binary (Buffer) message. Returns false when the socket buffers. */
  send(data: string | Buffer, binary = typeof data !== 'string'): boolean {
    if (this.readyState !== ReadyState.Open) return false;
    return this.socket.write(encodeClientFrame(binary ? 2 : 1, data));
  }

  ping(payload: Buffer | string = ''): void {
    if (this.readyState !== ReadyState.Open) return;
    this.socket.write(encodeClientFrame(9, payload));
  }

  /** Starts the closing handshake. */
  close(code = 1000, reason = ''): void {
    if (this.readyState === ReadyState.Connecting) {
      this.fail(new Error('closed before the handshake completed'));
      return;
    }
    if (this.readyState !== ReadyState.Open) return;
    this.readyState = ReadyState.Closing;
    this.sendClose(code, reason);
    this.closeTimer = setTimeout(() => this.socket.destroy(), this.closeTimeoutMs);
  }

  /** Drops the TCP connection with a RST: no close handshake, no TIME_WAIT left on this side. */
  terminate(): void {
    if (this.readyState === ReadyState.Closed) return;
    this.readyState = ReadyState.Closing;
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
  }

  // ---- FrameSink ----
  message(data: Buffer, isBinary: boolean): void {
    if (this.readyState !== ReadyState.Open) return; // data after our close frame is ignored
    this.onmessage?.(data, isBinary);
  }

  control(opcode: number, payload: Buffer): void {
    if (opcode === 8) {
      if (payload.length === 1) return this.protocolError('close frame with a 1-byte payload', 1002);
      this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      this.closeReason = payload.length > 2 ? payload.toString('utf8', 2) : '';
      if (!this.sentClose) {
        const echo = this.closeCode === 1005 ? 1000 : this.closeCode;
        this.sendClose(echo, '');
      }
      this.readyState = ReadyState.Closing;
      this.parser.stop();
      this.socket.end();
      if (this.closeTimer === null) this.closeTimer = setTimeout(() => this.socket.destroy(), this.closeTimeoutMs);
    } else if (opcode === 9) {
      if (this.readyState === ReadyState.Open) this.socket.write(encodeClientFrame(10, payload));
      this.onping?.(payload);
    } else if (opcode === 10) {
      this.onpong?.(payload);
    }
  }

  protocolError(reason: string, closeCode: number): void {
    this.error = new Error(`WebSocket protocol error: ${reason}`);
    if (this.readyState === ReadyState.Open) {
      this.sendClose(closeCode, '');
      this.readyState = ReadyState.Closing;
    }
    this.onerror?.(this.error);
    this.socket.destroy();
  }

  // ---- internals ----
  private sendClose(code: number, reason: string): void {
    if (this.sentClose || this.socket.destroyed) return;
    this.sentClose = true;
    const r = Buffer.from(reason, 'utf8').subarray(0, 123);
    const p = Buffer.allocUnsafe(2 + r.length);
    p.writeUInt16BE(code, 0);
    r.copy(p, 2);
    this.socket.write(encodeClientFrame(8, p));
  }

  private sendHandshake(host: string): void {
    const o = this.opts;
    let req =
      `GET ${o.path ?? '/'} HTTP/1.1\r\n` +
      `Host: ${host}:${o.port}\r\n` +
      'Upgrade: websocket\r\n' +
      'Connection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${this.key}\r\n` +
      'Sec-WebSocket-Version: 13\r\n';
    if (o.protocols !== undefined && o.protocols.length > 0) {
      req += `Sec-WebSocket-Protocol: ${o.protocols.join(', ')}\r\n`;
    }
    if (o.headers !== undefined) for (const [k, v] of Object.entries(o.headers)) req += `${k}: ${v}\r\n`;
    this.socket.write(req + '\r\n');
  }

  private onData(chunk: Buffer): void {
    if (this.readyState === ReadyState.Connecting) {
      this.handshakeData(chunk);
      return;
    }
    this.parser.push(chunk);
  }

  private handshakeData(chunk: Buffer): void {
    const need = this.hsLen + chunk.length;
    if (need > MAX_HANDSHAKE_BYTES) {
      this.fail(new Error('WebSocket handshake response too large'));
      return;
    }
    if (this.hsBuf === null || this.hsBuf.length < need) {
      const next = Buffer.allocUnsafe(Math.max(need, 1024));
      if (this.hsBuf !== null) this.hsBuf.copy(next, 0, 0, this.hsLen);
      this.hsBuf = next;
    }
    chunk.copy(this.hsBuf, this.hsLen);
    this.hsLen = need;
    const buf = this.hsBuf.subarray(0, this.hsLen);
    const headEnd = buf.indexOf(CRLFCRLF);
    if (headEnd < 0) return;
    const head = buf.toString('latin1', 0, headEnd);
    const rest = Buffer.from(buf.subarray(headEnd + 4));
    this.hsBuf = null;
    this.hsLen = 0;
    const lines = head.split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const c = lines[i].indexOf(':');
      if (c > 0) headers[lines[i].slice(0, c).trim().toLowerCase()] = lines[i].slice(c + 1).trim();
    }
    this.responseHeaders = headers;
    if (status === null || status[1] !== '101') {
      const body = rest.toString('utf8', 0, Math.min(rest.length, 512));
      const err = new Error(`WebSocket handshake failed: ${lines[0]}${body ? ` ${body}` : ''}`) as Error & {
        status?: number;
      };
      if (status !== null) err.status = Number(status[1]);
      this.fail(err);
      return;
    }
    const accept = createHash('sha1').update(this.key + GUID).digest('base64');
    if ((headers['upgrade'] ?? '').toLowerCase() !== 'websocket') return this.fail(new Error('handshake: bad Upgrade header'));
    if (headers['sec-websocket-accept'] !== accept) return this.fail(new Error('handshake: bad Sec-WebSocket-Accept'));
    const proto = headers['sec-websocket-protocol'] ?? '';
    if (proto !== '' && !(this.opts.protocols ?? []).includes(proto)) {
      return this.fail(new Error(`handshake: server selected unrequested subprotocol ${JSON.stringify(proto)}`));
    }
    if (headers['sec-websocket-extensions']) return this.fail(new Error('handshake: unrequested extension'));
    this.protocol = proto;
    if (this.hsTimer !== null) clearTimeout(this.hsTimer);
    this.hsTimer = null;
    this.readyState = ReadyState.Open;
    const waiters = this.openWaiters;
    this.openWaiters = null;
    if (waiters !== null) for (const w of waiters) w.resolve();
    this.onopen?.();
    if (rest.length > 0 && this.readyState === ReadyState.Open) this.parser.push(rest);
  }

  private fail(err: Error): void {
    if (this.readyState === ReadyState.Closed) return;
    if (this.error === null) this.error = err;
    this.readyState = ReadyState.Closing;
    this.onerror?.(err);
    this.socket.destroy();
  }

  private finish(): void {
    if (this.closedFired) return;
    this.closedFired = true;
    this.readyState = ReadyState.Closed;
    this.parser.stop();
    if (this.hsTimer !== null) clearTimeout(this.hsTimer);
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    this.hsTimer = this.closeTimer = null;
    const waiters = this.openWaiters;
    this.openWaiters = null;
    if (waiters !== null) {
      const err = this.error ?? new Error(`WebSocket closed before opening (code ${this.closeCode})`);
      for (const w of waiters) w.reject(err);
    }
    this.onclose?.(this.closeCode, this.closeReason);
  }
}

/** Connects and resolves once open (convenience for tests and small tools). */
export async function connectWs(opts: WsClientOptions): Promise<WsClient> {
  const c = new WsClient(opts);
  await c.waitOpen();
  return c;
}
