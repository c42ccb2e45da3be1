/**
 * The ceiling: a bare uWebSockets.js fan-out server speaking just enough of Replicant's contract
 * (`replicant.v1.json`) for the same load clients and the same writer to drive it.
 *
 *  - WebSocket `/v1/stream`: `{"type":"subscribe","doc":"d"}` subscribes the socket to topic `d`
 *    and answers a snapshot; `{"type":"ping"}` answers a pong.
 *  - `POST /v1/docs/{doc}` with a JSON merge patch: assigns the next seq (one counter for the
 *    process, like one log partition), folds the patch into the in-memory state, builds ONE delta
 *    frame byte-identical in shape to Replicant's (`encodeServerJson` in protocol/src/json-codec.ts)
 *    and `app.publish`es it, answering `200 {"seq":"…"}`. No log, no fsync, no tiers, no limits:
 *    that is the point of a ceiling.
 *  - `GET /v1/docs/{doc}` → `{"seq","state"}`.
 *  - Optional internal writer: `--rate <writes/s> [--doc d]` (or env BARE_RATE / BARE_DOC) publishes
 *    `{"t":<ms>,"n":<i>}` patches on a timer instead of waiting for HTTP writes.
 *
 * Run: `node load-tests/dist/src/bare-uws.js` with env PORT (default 9001) and HOST (127.0.0.1);
 * prints one line containing `ready` when listening.
 */
import * as uWS from 'uWebSockets.js';
import { fileURLToPath } from 'node:url';
import { realpathSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DOC_ID, DocStore, deltaFrame, snapshotFrame, type Json } from './bench-docs.js';

export { deltaFrame, snapshotFrame } from './bench-docs.js';

const JSON_SUBPROTOCOL = 'replicant.v1.json';
const MAX_BODY = 1024 * 1024;

export interface BareServerOptions {
  host?: string;
  /** 0 picks a free port */
  port?: number;
  /** per-socket send buffer bound (uWS maxBackpressure); default 1 MiB */
  maxBackpressure?: number;
}

export interface BareServer {
  port: number;
  /** writes applied so far */
  readonly writes: number;
  /** publishes a write without HTTP (the internal timer uses this) */
  write(doc: string, patch: Json): bigint;
  numSubscribers(doc: string): number;
  close(): void;
}

export function startBareServer(opts: BareServerOptions = {}): Promise<BareServer> {
  const host = opts.host ?? '127.0.0.1';
  const app = uWS.App();
  const docs = new DocStore();

  const write = (doc: string, patch: Json): bigint => {
    const { prevSeq, seq } = docs.write(doc, patch);
    app.publish(doc, deltaFrame(doc, seq, prevSeq, JSON.stringify(patch)), false, false);
    return seq;
  };

  const sendJson = (res: uWS.HttpResponse, status: string, body: string): void => {
    res.cork(() => {
      res.writeStatus(status).writeHeader('content-type', 'application/json').end(body);
    });
  };
  const httpError = (res: uWS.HttpResponse, status: string, code: string, message: string): void =>
    sendJson(res, status, JSON.stringify({ error: { code, message } }));

  app.ws<Record<string, never>>('/v1/stream', {
    maxPayloadLength: 64 * 1024,
    maxBackpressure: opts.maxBackpressure ?? 1024 * 1024,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    upgrade: (res, req, context) => {
      const offered = req
        .getHeader('sec-websocket-protocol')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      if (offered.length > 0 && !offered.includes(JSON_SUBPROTOCOL)) {
        res.writeStatus('400 Bad Request').end('only replicant.v1.json is supported');
        return;
      }
      res.upgrade(
        {},
        req.getHeader('sec-websocket-key'),
        offered.length > 0 ? JSON_SUBPROTOCOL : '',
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    message: (ws, message) => {
      let f: any;
      try {
        f = JSON.parse(Buffer.from(message).toString('utf8'));
      } catch {
        ws.send('{"type":"error","code":"bad_frame","message":"frame is not valid JSON"}');
        return;
      }
      if (f?.type === 'subscribe' && typeof f.doc === 'string' && DOC_ID.test(f.doc)) {
        const d = docs.get(f.doc);
        ws.subscribe(f.doc);
        ws.send(snapshotFrame(f.doc, d.seq, JSON.stringify(d.state)));
      } else if (f?.type === 'unsubscribe' && typeof f.doc === 'string') {
        ws.unsubscribe(f.doc);
      } else if (f?.type === 'ping') {
        ws.send('{"type":"pong"}');
      } else {
        ws.send('{"type":"error","code":"bad_frame","message":"unsupported frame"}');
      }
    },
  });

  app.post('/v1/docs/:doc', (res, req) => {
    const doc = req.getParameter(0) ?? '';
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    if (!DOC_ID.test(doc)) {
      httpError(res, '400 Bad Request', 'bad_doc_id', 'invalid doc id');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((ab, isLast) => {
      if (aborted) return;
      size += ab.byteLength;
      if (size > MAX_BODY) {
        if (isLast) httpError(res, '413 Payload Too Large', 'too_large', 'body too large');
        return;
      }
      chunks.push(Buffer.from(ab.slice(0)));
      if (!isLast) return;
      let patch: unknown;
      try {
        patch = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        httpError(res, '400 Bad Request', 'bad_patch', 'body is not valid JSON');
        return;
      }
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
        httpError(res, '400 Bad Request', 'bad_patch', 'patch must be a JSON object');
        return;
      }
      const seq = write(doc, patch as Json);
      sendJson(res, '200 OK', `{"seq":"${seq}"}`);
    });
  });

  app.get('/v1/docs/:doc', (res, req) => {
    const doc = req.getParameter(0) ?? '';
    if (!DOC_ID.test(doc)) {
      httpError(res, '400 Bad Request', 'bad_doc_id', 'invalid doc id');
      return;
    }
    const d = docs.peek(doc);
    sendJson(res, '200 OK', `{"seq":"${d?.seq ?? 0n}","state":${JSON.stringify(d?.state ?? {})}}`);
  });

  app.any('/*', (res) => {
    httpError(res, '404 Not Found', 'not_found', 'no such route');
  });

  return new Promise((resolve, reject) => {
    app.listen(host, opts.port ?? 0, (ls) => {
      if (ls === false) {
        reject(new Error(`bare-uws: cannot listen on ${host}:${opts.port ?? 0}`));
        return;
      }
      const port = uWS.us_socket_local_port(ls as unknown as uWS.us_socket);
      resolve({
        port,
        get writes() {
          return docs.writes;
        },
        write,
        numSubscribers: (doc) => app.numSubscribers(doc),
        close: () => {
          uWS.us_listen_socket_close(ls);
          app.close(); // closes every socket: the server keeps no per-socket JS state of its own
        },
      });
    });
  });
}

async function main(): Promise<void> {
  const host = process.env.HOST ?? '127.0.0.1';
  const port = Number(process.env.PORT ?? 9001);
  const server = await startBareServer({ host, port });
  const { values } = parseArgs({ options: { rate: { type: 'string' }, doc: { type: 'string' } } });
  const rate = Number(values.rate ?? process.env.BARE_RATE ?? 0);
  const doc = values.doc ?? process.env.BARE_DOC ?? 'bench';
  if (rate > 0) {
    const start = performance.now();
    let n = 0;
    const tick = (): void => {
      const due = Math.floor(((performance.now() - start) * rate) / 1000);
      while (n < due) server.write(doc, { t: performance.timeOrigin + performance.now(), n: n++ });
      setTimeout(tick, Math.max(1, 1000 / rate / 2));
    };
    tick();
  }
  process.stdout.write(`bare-uws ready on http://${host}:${server.port}${rate > 0 ? ` (timer ${rate}/s on ${doc})` : ''}\n`);
  const stop = (): void => {
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
