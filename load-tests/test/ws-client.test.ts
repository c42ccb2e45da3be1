import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { createHash } from 'node:crypto';
import * as uWS from 'uWebSockets.js';
import { connectWs, FrameParser, WsClient, encodeClientFrame } from '../src/ws-client.js';
import { startBareServer } from '../src/bare-uws.js';

// ---- an in-process uWS echo server ----
let echoPort = 0;
let echoListen: uWS.us_listen_socket | null = null;
const serverCloses: { code: number; reason: string }[] = [];

before(async () => {
  const app = uWS.App();
  app.ws<{ remote: string }>('/echo', {
    maxPayloadLength: 4 * 1024 * 1024,
    maxBackpressure: 8 * 1024 * 1024,
    upgrade: (res, req, ctx) => {
      const offered = req.getHeader('sec-websocket-protocol').split(',').map((s) => s.trim());
      res.upgrade(
        { remote: '' },
        req.getHeader('sec-websocket-key'),
        offered.includes('p2') ? 'p2' : '',
        req.getHeader('sec-websocket-extensions'),
        ctx,
      );
    },
    open: (ws) => {
      ws.getUserData().remote = Buffer.from(ws.getRemoteAddressAsText()).toString();
    },
    message: (ws, msg, isBinary) => {
      const text = isBinary ? '' : Buffer.from(msg).toString();
      if (text === 'whoami') ws.send(ws.getUserData().remote);
      else if (text.startsWith('close:')) {
        const [, code, reason] = text.split(':');
        ws.end(Number(code), reason);
      } else ws.send(msg, isBinary);
    },
    close: (_ws, code, msg) => {
      serverCloses.push({ code, reason: Buffer.from(msg).toString() });
    },
  });
  await new Promise<void>((resolve) =>
    app.listen('127.0.0.1', 0, (ls) => {
      echoListen = ls || null;
      echoPort = uWS.us_socket_local_port(ls as unknown as uWS.us_socket);
      resolve();
    }),
  );
});

after(() => {
  if (echoListen !== null) uWS.us_listen_socket_close(echoListen);
});

function nextMessage(c: WsClient): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve) => {
    c.onmessage = (data, binary) => {
      c.onmessage = null;
      resolve({ data: Buffer.from(data), binary });
    };
  });
}
function closed(c: WsClient): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    c.onclose = (code, reason) => resolve({ code, reason });
  });
}

test('handshake negotiates the subprotocol; text and binary round-trip at every length encoding', async () => {
  const c = await connectWs({ port: echoPort, path: '/echo', protocols: ['p1', 'p2'] });
  assert.equal(c.protocol, 'p2');
  for (const len of [0, 1, 125, 126, 127, 65535, 65536, 1024 * 1024 + 3]) {
    const text = 'x'.repeat(len);
    const p = nextMessage(c);
    c.send(text);
    const m = await p;
    assert.equal(m.binary, false);
    assert.equal(m.data.length, len, `text length ${len}`);
    assert.equal(m.data.toString(), text);
    const bin = Buffer.alloc(len);
    for (let i = 0; i < len; i++) bin[i] = (i * 7) & 0xff;
    const q = nextMessage(c);
    c.send(bin);
    const b = await q;
    assert.equal(b.binary, true);
    assert.ok(b.data.equals(bin), `binary length ${len}`);
  }
  const pong = new Promise<Buffer>((resolve) => (c.onpong = (p) => resolve(Buffer.from(p))));
  c.ping('hi');
  assert.equal((await pong).toString(), 'hi');
  const cl = closed(c);
  c.close(1000, 'done');
  assert.deepEqual(await cl, { code: 1000, reason: 'done' });
  assert.deepEqual(serverCloses.at(-1), { code: 1000, reason: 'done' });
});

test('server-initiated close delivers code and reason', async () => {
  const c = await connectWs({ port: echoPort, path: '/echo' });
  assert.equal(c.protocol, '');
  const cl = closed(c);
  c.send('close:4001:bye');
  assert.deepEqual(await cl, { code: 4001, reason: 'bye' });
});

test('localAddress binds the source address', async () => {
  const c = await connectWs({ port: echoPort, path: '/echo', localAddress: '127.0.0.7' });
  const p = nextMessage(c);
  c.send('whoami');
  assert.match((await p).data.toString(), /127\.0\.0\.7$/);
  c.terminate();
});

test('failed handshakes reject: HTTP error status, refused connection, unrequested subprotocol', async () => {
  const bare = await startBareServer({ port: 0 });
  try {
    await assert.rejects(connectWs({ port: bare.port, path: '/nope' }), /handshake failed: HTTP\/1\.1 404/);
    await assert.rejects(
      connectWs({ port: bare.port, path: '/v1/stream', protocols: ['replicant.v1'] }),
      /handshake failed: HTTP\/1\.1 400/,
    );
  } finally {
    bare.close();
  }
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  await assert.rejects(connectWs({ port }), /ECONNREFUSED/);
});

test('bare uWS: snapshot on subscribe, then the published delta reaches every subscriber', async () => {
  const bare = await startBareServer({ port: 0 });
  try {
    const n = 200;
    const clients: WsClient[] = [];
    const got: string[][] = [];
    let snapshots = 0;
    let resolveAll!: () => void;
    const allSnap = new Promise<void>((r) => (resolveAll = r));
    for (let i = 0; i < n; i++) {
      const c = new WsClient({ port: bare.port, path: '/v1/stream', protocols: ['replicant.v1.json'], localAddress: `127.0.0.${2 + (i % 4)}` });
      got.push([]);
      c.onopen = () => c.send('{"type":"subscribe","doc":"d1"}');
      c.onmessage = (data) => {
        const s = data.toString();
        got[i].push(s);
        if (s.startsWith('{"type":"snapshot"') && ++snapshots === n) resolveAll();
      };
      clients.push(c);
    }
    await allSnap;
    assert.equal(clients[0].protocol, 'replicant.v1.json');
    assert.equal(bare.numSubscribers('d1'), n);
    const seq = bare.write('d1', { t: 1, n: 0 });
    await new Promise<void>((resolve) => {
      const check = (): void => (got.every((g) => g.length === 2) ? resolve() : void setTimeout(check, 5));
      check();
    });
    for (const g of got) {
      assert.equal(g[0], '{"type":"snapshot","doc":"d1","seq":"0","state":{}}');
      assert.equal(g[1], `{"type":"delta","doc":"d1","seq":"${seq}","prevSeq":"0","patch":{"t":1,"n":0}}`);
    }
    for (const c of clients) c.terminate();
  } finally {
    bare.close();
  }
});

// ---- a raw server that sends hand-made frames ----
test('raw frames: fragmentation with an interleaved ping, auto-pong, server close echo', async () => {
  const received: Buffer[] = [];
  const clientFrames: Buffer[] = [];
  const srv = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    let upgraded = false;
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const i = buf.indexOf('\r\n\r\n');
        if (i < 0) return;
        const key = /Sec-WebSocket-Key: (.+)\r\n/i.exec(buf.toString('latin1', 0, i))![1];
        buf = buf.subarray(i + 4);
        upgraded = true;
        const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
        // handshake response and the first frames in ONE write: the parser must pick them up
        const frames = Buffer.concat([
          Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`),
          Buffer.from([0x01, 3]), Buffer.from('abc'), // text, not FIN
          Buffer.from([0x89, 2]), Buffer.from('pi'), // ping in the middle of the message
          Buffer.from([0x00, 3]), Buffer.from('def'), // continuation
        ]);
        sock.write(frames);
        // the final fragment byte by byte
        const last = Buffer.concat([Buffer.from([0x80, 3]), Buffer.from('ghi')]);
        let k = 0;
        const drip = (): void => {
          if (k < last.length) {
            sock.write(last.subarray(k, ++k));
            setTimeout(drip, 2);
          } else sock.write(Buffer.from([0x88, 4, 0x03, 0xe9, 0x6f, 0x6b])); // close 1001 "ok"
        };
        setTimeout(drip, 5);
      }
      // decode masked client frames
      while (buf.length >= 6) {
        const len = buf[1] & 0x7f;
        if (buf.length < 6 + len) break;
        const mask = buf.subarray(2, 6);
        const p = Buffer.from(buf.subarray(6, 6 + len));
        for (let j = 0; j < p.length; j++) p[j] ^= mask[j & 3];
        clientFrames.push(Buffer.concat([Buffer.from([buf[0]]), p]));
        buf = buf.subarray(6 + len);
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  const c = new WsClient({ port });
  c.onmessage = (d) => received.push(Buffer.from(d));
  const cl = closed(c);
  assert.deepEqual(await cl, { code: 1001, reason: 'ok' });
  assert.deepEqual(received.map((b) => b.toString()), ['abcdefghi']);
  // pong echoing the ping payload, then the close echo
  assert.equal(clientFrames[0][0], 0x8a);
  assert.equal(clientFrames[0].subarray(1).toString(), 'pi');
  assert.equal(clientFrames[1][0], 0x88);
  assert.equal(clientFrames[1].readUInt16BE(1), 1001);
  srv.close();
});

test('FrameParser: arbitrary chunking of a shared, reused buffer; protocol errors', () => {
  const out: string[] = [];
  const errors: string[] = [];
  const sink = {
    message: (d: Buffer) => out.push(d.toString()),
    control: (op: number, p: Buffer) => out.push(`ctl${op}:${p.toString()}`),
    protocolError: (r: string) => errors.push(r),
  };
  const frame = (op: number, payload: Buffer): Buffer => {
    const len = payload.length;
    const hdr = len < 126 ? Buffer.from([op, len]) : len < 65536 ? Buffer.from([op, 126, len >> 8, len & 0xff]) : (() => {
      const h = Buffer.alloc(10);
      h[0] = op;
      h[1] = 127;
      h.writeUInt32BE(len, 6);
      return h;
    })();
    return Buffer.concat([hdr, payload]);
  };
  const big = Buffer.alloc(70000, 0x61);
  const stream = Buffer.concat([
    frame(0x81, Buffer.from('one')),
    frame(0x82, Buffer.alloc(300, 0x62)),
    frame(0x81, big),
    frame(0x8a, Buffer.from('pong')),
    frame(0x01, Buffer.from('fr')),
    frame(0x80, Buffer.from('ag')),
  ]);
  for (const chunkSize of [1, 7, 100, 4096, stream.length]) {
    out.length = 0;
    const p = new FrameParser(sink);
    const shared = Buffer.alloc(chunkSize);
    for (let i = 0; i < stream.length; i += chunkSize) {
      const n = Math.min(chunkSize, stream.length - i);
      stream.copy(shared, 0, i, i + n);
      p.push(shared.subarray(0, n));
      shared.fill(0xee); // the parser must not rely on the chunk after push returns
    }
    assert.deepEqual(out, ['one', 'b'.repeat(300), big.toString(), 'ctl10:pong', 'frag'], `chunk ${chunkSize}`);
    assert.equal(p.pendingBytes, 0);
  }
  const masked = encodeClientFrame(1, 'm');
  new FrameParser(sink).push(masked);
  assert.deepEqual(errors, ['server frame is masked']);
  out.length = 0;
  new FrameParser(sink, 1 << 20, true).push(masked);
  assert.deepEqual(out, ['m']);
  new FrameParser(sink, 10).push(frame(0x81, Buffer.alloc(11)));
  assert.match(errors.at(-1)!, /exceeds maxPayload/);
  new FrameParser(sink).push(frame(0x00, Buffer.from('x')));
  assert.match(errors.at(-1)!, /continuation frame/);
});
