/**
 * The `ws` peer: a minimal broadcast server on the `ws` library (the most used Node WebSocket
 * server), speaking the same subset of `replicant.v1.json` as the bare uWS ceiling, so the same
 * receivers and writer drive it: `/v1/stream`, `{"type":"subscribe","doc":"d"}` → a snapshot, then
 * one delta frame per write, byte-identical to Replicant's and the ceiling's.
 *
 * The delta is encoded once into a Buffer and the same Buffer is sent to every subscriber (ws's
 * broadcast idiom). Bound: a subscriber whose send buffer holds more than 1 MiB misses the frame
 * (counted), as uWS drops over its maxBackpressure. Run: `node load-tests/dist/src/peer-ws.js`
 * with env PORT and HOST; prints one line containing `ready`.
 */
import * as http from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { DOC_ID, DocStore, deltaFrame, snapshotFrame } from './bench-docs.js';
import { docRoutes, servePeer } from './peer-http.js';

const SUBPROTOCOL = 'replicant.v1.json';
const MAX_BUFFERED = 1024 * 1024;

const docs = new DocStore();
const subscribers = new Map<string, Set<WebSocket>>();
let dropped = 0;

const server = http.createServer(
  docRoutes(docs, (doc, seq, prevSeq, _patch, patchJson) => {
    const set = subscribers.get(doc);
    if (set === undefined) return;
    const frame = Buffer.from(deltaFrame(doc, seq, prevSeq, patchJson));
    for (const ws of set) {
      if (ws.bufferedAmount > MAX_BUFFERED) dropped++;
      else ws.send(frame, { binary: false });
    }
  }),
);

const wss = new WebSocketServer({
  server,
  path: '/v1/stream',
  maxPayload: 64 * 1024,
  perMessageDeflate: false,
  handleProtocols: (offered) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
});

wss.on('connection', (ws) => {
  const mine: string[] = [];
  ws.on('message', (data, isBinary) => {
    let f: any;
    try {
      f = JSON.parse((data as Buffer).toString('utf8'));
    } catch {
      ws.send('{"type":"error","code":"bad_frame","message":"frame is not valid JSON"}');
      return;
    }
    if (isBinary || typeof f?.type !== 'string') {
      ws.send('{"type":"error","code":"bad_frame","message":"unsupported frame"}');
    } else if (f.type === 'subscribe' && typeof f.doc === 'string' && DOC_ID.test(f.doc)) {
      let set = subscribers.get(f.doc);
      if (set === undefined) subscribers.set(f.doc, (set = new Set()));
      if (!set.has(ws)) mine.push(f.doc);
      set.add(ws);
      const d = docs.get(f.doc);
      ws.send(snapshotFrame(f.doc, d.seq, JSON.stringify(d.state)));
    } else if (f.type === 'unsubscribe' && typeof f.doc === 'string') {
      subscribers.get(f.doc)?.delete(ws);
    } else if (f.type === 'ping') {
      ws.send('{"type":"pong"}');
    } else {
      ws.send('{"type":"error","code":"bad_frame","message":"unsupported frame"}');
    }
  });
  ws.on('close', () => {
    for (const doc of mine) subscribers.get(doc)?.delete(ws);
  });
  ws.on('error', () => ws.terminate());
});

servePeer('peer-ws', server, () => {
  if (dropped > 0) process.stderr.write(`peer-ws: ${dropped} frames dropped over the ${MAX_BUFFERED}-byte send buffer bound\n`);
  for (const ws of wss.clients) ws.terminate();
  server.close();
});
