/**
 * A minimal SSE client on `node:net` for load generation, with the slice of WsClient's API the
 * receiver uses (onopen, onmessage, onerror, onclose, readyState, send, terminate), so a receiver
 * measures an SSE stream with the very code it measures a WebSocket with: `onmessage` gets each
 * event's `data:` payload — the replicant.v1.json frame — as a Buffer VIEW valid during the call.
 *
 * It de-chunks the HTTP/1.1 chunked body and splits events at blank lines; `event:` and `id:` are
 * not needed (the JSON names its type). `send` is a no-op: an SSE client sends nothing after its
 * request (the doc is in the URL).
 */
import * as net from 'node:net';

const CRLFCRLF = Buffer.from('\r\n\r\n');
const DATA = Buffer.from('data: ');

export interface SseClientOptions {
  host?: string;
  port: number;
  /** request target including the query string */
  path: string;
  localAddress?: string;
  handshakeTimeoutMs?: number;
}

export class SseClient {
  readyState = 0;
  onopen: (() => void) | null = null;
  onmessage: ((data: Buffer) => void) | null = null;
  onerror: ((err: Error) => void) | null = null;
  onclose: ((code: number) => void) | null = null;
  private readonly socket: net.Socket;
  private head: Buffer | null = Buffer.alloc(0);
  /** bytes of the current chunk still to read; -1 = reading a size line */
  private chunkLeft = -1;
  private sizeLine = '';
  /** de-chunked body bytes not yet split into events */
  private body: Buffer = Buffer.alloc(0);
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(opts: SseClientOptions) {
    this.socket = net.connect({ host: opts.host ?? '127.0.0.1', port: opts.port, localAddress: opts.localAddress });
    this.socket.setNoDelay(true);
    this.timer = setTimeout(() => this.fail(new Error('SSE handshake timeout')), opts.handshakeTimeoutMs ?? 15000);
    this.socket.on('connect', () => {
      this.socket.write(`GET ${opts.path} HTTP/1.1\r\nHost: ${opts.host ?? '127.0.0.1'}\r\nAccept: text/event-stream\r\n\r\n`);
    });
    this.socket.on('data', (b: Buffer) => this.onData(b));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.finish(1006));
  }

  send(_data: string): void {
    // nothing to send on an SSE stream
  }

  terminate(): void {
    this.socket.resetAndDestroy();
    this.finish(1006);
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.onerror?.(err);
    this.socket.destroy();
    this.finish(1006);
  }

  private finish(code: number): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.readyState = 3;
    this.onclose?.(code);
  }

  private onData(b: Buffer): void {
    if (this.head !== null) {
      const all = this.head.length === 0 ? b : Buffer.concat([this.head, b]);
      const end = all.indexOf(CRLFCRLF);
      if (end < 0) {
        this.head = Buffer.from(all);
        return;
      }
      const status = all.subarray(0, all.indexOf(13)).toString('latin1');
      if (!/^HTTP\/1\.1 200/.test(status)) return this.fail(new Error(`SSE refused: ${status}`));
      this.head = null;
      clearTimeout(this.timer);
      this.readyState = 1;
      this.onopen?.();
      b = all.subarray(end + 4);
    }
    // de-chunk
    let i = 0;
    const parts: Buffer[] = [];
    while (i < b.length) {
      if (this.chunkLeft < 0) {
        const nl = b.indexOf(10, i);
        if (nl < 0) {
          this.sizeLine += b.toString('latin1', i);
          break;
        }
        this.sizeLine += b.toString('latin1', i, nl);
        i = nl + 1;
        const line = this.sizeLine.trim();
        this.sizeLine = '';
        if (line === '') continue; // the CRLF after a chunk's data
        const n = parseInt(line, 16);
        if (n === 0) return this.finish(1000); // the stream ended
        this.chunkLeft = n;
      } else {
        const take = Math.min(this.chunkLeft, b.length - i);
        parts.push(b.subarray(i, i + take));
        i += take;
        this.chunkLeft -= take;
        if (this.chunkLeft === 0) this.chunkLeft = -1;
      }
    }
    if (parts.length === 0) return;
    let body = this.body.length === 0 && parts.length === 1 ? parts[0] : Buffer.concat([this.body, ...parts]);
    // events
    let from = 0;
    for (;;) {
      const end = body.indexOf('\n\n', from);
      if (end < 0) break;
      const d = body.indexOf(DATA, from);
      if (d >= 0 && d < end) {
        const nl = body.indexOf(10, d);
        this.onmessage?.(body.subarray(d + DATA.length, nl < 0 || nl > end ? end : nl));
      }
      from = end + 2;
    }
    body = body.subarray(from);
    this.body = body.length === 0 ? Buffer.alloc(0) : Buffer.from(body); // keep only the tail
  }
}
