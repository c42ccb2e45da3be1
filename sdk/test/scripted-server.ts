/**
 * A scripted gateway for sdk tests: a real `ws` server speaking both subprotocols, whose tests
 * read the decoded client frames of each connection in order and send server frames by hand.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import {
  decodeClientBinary,
  decodeClientJson,
  encodeServerBinary,
  encodeServerJson,
  ProtocolError,
  SUBPROTOCOL_BINARY,
  SUBPROTOCOL_JSON,
  type ClientFrame,
  type ServerFrame,
} from '@replicant/protocol';

/** An async FIFO whose reads time out, so a missing frame fails a test instead of hanging it. */
export class AsyncQueue<T> {
  private readonly items: T[] = [];
  private readonly waiters: ((v: T) => void)[] = [];

  push(v: T): void {
    const w = this.waiters.shift();
    if (w) w(v);
    else this.items.push(v);
  }

  get length(): number {
    return this.items.length;
  }

  next(timeoutMs = 3000): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for the next item`));
      }, timeoutMs);
      const waiter = (v: T): void => {
        clearTimeout(timer);
        resolve(v);
      };
      this.waiters.push(waiter);
    });
  }
}

export interface Conn {
  readonly ws: WebSocket;
  readonly protocol: string;
  readonly query: URLSearchParams;
  readonly path: string;
  readonly frames: AsyncQueue<ClientFrame>;
  readonly closed: Promise<void>;
  send(f: ServerFrame): void;
}

export class ScriptedServer {
  readonly connections = new AsyncQueue<Conn>();
  private constructor(private readonly wss: WebSocketServer) {}

  static async start(): Promise<ScriptedServer> {
    const wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      handleProtocols: (protocols) =>
        protocols.has(SUBPROTOCOL_BINARY) ? SUBPROTOCOL_BINARY : protocols.has(SUBPROTOCOL_JSON) ? SUBPROTOCOL_JSON : false,
    });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const server = new ScriptedServer(wss);
    wss.on('connection', (ws, req) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const frames = new AsyncQueue<ClientFrame>();
      const binary = ws.protocol === SUBPROTOCOL_BINARY;
      ws.on('message', (data, isBinary) => {
        const buf = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
        const f = isBinary ? decodeClientBinary(buf) : decodeClientJson(buf.toString('utf8'));
        // An undecodable frame is queued as-is so the test comparing frames fails on it.
        frames.push(f instanceof ProtocolError ? ({ type: 'undecodable', error: f.message } as unknown as ClientFrame) : f);
      });
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      server.connections.push({
        ws,
        protocol: ws.protocol,
        query: u.searchParams,
        path: u.pathname,
        frames,
        closed,
        send: (f) => ws.send(binary ? encodeServerBinary(f) : encodeServerJson(f)),
      });
    });
    return server;
  }

  get port(): number {
    return (this.wss.address() as AddressInfo).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/v1/stream`;
  }

  async stop(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

export const snapshot = (doc: string, seq: bigint, state: object): ServerFrame => ({
  type: 'snapshot',
  doc,
  seq,
  state: JSON.stringify(state),
});

export const delta = (doc: string, seq: bigint, prevSeq: bigint, patch: object): ServerFrame => ({
  type: 'delta',
  doc,
  seq,
  prevSeq,
  patch: JSON.stringify(patch),
});
