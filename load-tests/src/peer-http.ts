/**
 * The write side of the Node peers (ws, Socket.IO): Replicant's HTTP contract on `node:http`, so the
 * bench's one writer drives them unchanged. `POST /v1/docs/{doc}` (a JSON object, at most 1 MiB)
 * folds the patch into the process's DocStore, hands it to `broadcast`, and answers
 * `200 {"seq":"…"}`; `GET /v1/docs/{doc}` → `{"seq","state"}`; bad input is a 4xx with
 * `{"error":{"code","message"}}`. Also the peers' process entry: env PORT/HOST, one `ready` line,
 * exit on SIGTERM/SIGINT.
 */
import * as http from 'node:http';
import { DOC_ID, DocStore, type Json } from './bench-docs.js';

const MAX_BODY = 1024 * 1024;

export type Broadcast = (doc: string, seq: bigint, prevSeq: bigint, patch: Json, patchJson: string) => void;

function send(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
const fail = (res: http.ServerResponse, status: number, code: string, message: string): void =>
  send(res, status, JSON.stringify({ error: { code, message } }));

/** the request handler for the doc routes */
export function docRoutes(docs: DocStore, broadcast: Broadcast): http.RequestListener {
  return (req, res) => {
    const m = /^\/v1\/docs\/([^/?]+)$/.exec(req.url ?? '');
    if (m === null) return fail(res, 404, 'not_found', 'no such route');
    const doc = decodeURIComponent(m[1]);
    if (!DOC_ID.test(doc)) return fail(res, 400, 'bad_doc_id', 'invalid doc id');
    if (req.method === 'GET') {
      const d = docs.peek(doc);
      return send(res, 200, `{"seq":"${d?.seq ?? 0n}","state":${JSON.stringify(d?.state ?? {})}}`);
    }
    if (req.method !== 'POST') return fail(res, 405, 'method_not_allowed', 'GET or POST');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return fail(res, 413, 'too_large', 'body too large');
      const text = Buffer.concat(chunks).toString('utf8');
      let patch: unknown;
      try {
        patch = JSON.parse(text);
      } catch {
        return fail(res, 400, 'bad_patch', 'body is not valid JSON');
      }
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return fail(res, 400, 'bad_patch', 'patch must be a JSON object');
      const { seq, prevSeq } = docs.write(doc, patch as Json);
      broadcast(doc, seq, prevSeq, patch as Json, JSON.stringify(patch));
      send(res, 200, `{"seq":"${seq}"}`);
    });
  };
}

/** listens on env HOST/PORT, prints `<name> ready on …`, closes on SIGTERM/SIGINT */
export function servePeer(name: string, server: http.Server, close: () => void): void {
  const host = process.env.HOST ?? '127.0.0.1';
  const port = Number(process.env.PORT ?? 0);
  // Node closes a keep-alive connection idle for 5 s by default; the writer's agent may pick such a
  // socket at the moment it closes (ECONNRESET on a write). The bench's idle gaps stay under 60 s.
  server.keepAliveTimeout = 60_000;
  server.listen(port, host, () => {
    const a = server.address() as { port: number };
    process.stdout.write(`${name} ready on http://${host}:${a.port}\n`);
  });
  const stop = (): void => {
    close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
