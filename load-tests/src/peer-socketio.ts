/**
 * The Socket.IO peer: a `socket.io` 4 server as its docs say to write a room broadcast, WebSocket
 * transport only (the receivers speak Engine.IO v4 directly over WebSocket, no long-polling).
 *
 *  - client → server: event `subscribe` with a doc id: the socket joins room `<doc>` and gets event
 *    `snapshot` `{doc, seq, state}`;
 *  - per write: `io.to(doc).emit('delta', {doc, seq, prevSeq, patch})`: the same fields as
 *    Replicant's delta frame, encoded once per broadcast by Socket.IO's adapter;
 *  - defaults otherwise (Engine.IO heartbeat 25 s / 20 s, no permessage-deflate, Socket.IO's own
 *    unbounded per-socket write buffer).
 *
 * Writes arrive over Replicant's HTTP contract (peer-http.ts). Run: `node
 * load-tests/dist/src/peer-socketio.js` with env PORT and HOST; prints one line containing `ready`.
 */
import * as http from 'node:http';
import { Server } from 'socket.io';
import { DOC_ID, DocStore } from './bench-docs.js';
import { docRoutes, servePeer } from './peer-http.js';

const docs = new DocStore();
// socket.io takes over /socket.io/ on this server and passes every other request on to docRoutes
const server = http.createServer(
  docRoutes(docs, (doc, seq, prevSeq, patch) => {
    io.to(doc).emit('delta', { doc, seq: String(seq), prevSeq: String(prevSeq), patch });
  }),
);
const io = new Server(server, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  httpCompression: false,
  maxHttpBufferSize: 64 * 1024,
});

io.on('connection', (socket) => {
  socket.on('subscribe', (doc: unknown) => {
    if (typeof doc !== 'string' || !DOC_ID.test(doc)) {
      socket.emit('error_frame', { code: 'bad_doc_id', message: 'invalid doc id' });
      return;
    }
    void socket.join(doc);
    const d = docs.get(doc);
    socket.emit('snapshot', { doc, seq: String(d.seq), state: d.state });
  });
});

servePeer('peer-socketio', server, () => {
  io.close();
});
