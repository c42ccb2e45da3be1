/**
 * What a client is told when something fails behind the gateway, in process over real sockets:
 * a subscribe the upstream refuses synchronously gets an `error` with its doc and leaves nothing
 * behind; an unreachable origin and a failing log give generic `unavailable` messages that name
 * no internal address; frames over MAX_FRAME_BYTES are closed with 1009 up to uWS's hard cap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import * as uWS from 'uWebSockets.js';
import WebSocket from 'ws';
import { MemoryLog, MemorySnapshotStore } from '@replicant/stream';
import { Origin, registerOriginHttp } from '@replicant/origin';
import { Replica } from '@replicant/fanout';
import { Gateway, type GatewayOptions, type Writer } from '../src/gateway.js';
import { OriginClient } from '../src/origin-client.js';

async function listen(app: uWS.TemplatedApp): Promise<{ port: number; token: uWS.us_listen_socket }> {
  const token = await new Promise<uWS.us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (t) => (t ? resolve(t) : reject(new Error('listen failed')))),
  );
  return { port: uWS.us_socket_local_port(token), token };
}

class Client {
  readonly frames: any[] = [];
  private waiters: { pred: (f: any) => boolean; resolve: (f: any) => void }[] = [];
  readonly closed: Promise<number>;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const f = JSON.parse(d.toString());
      this.frames.push(f);
      this.waiters = this.waiters.filter((w) => (w.pred(f) ? (w.resolve(f), false) : true));
    });
    ws.on('error', () => {}); // an abrupt close (1006) also reports an error
    this.closed = new Promise((r) => ws.on('close', (code) => r(code)));
  }
  static async open(port: number): Promise<Client> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream`, ['replicant.v1.json'], { maxPayload: 256 * 1024 * 1024 });
    await once(ws, 'open');
    return new Client(ws);
  }
  send(f: object): void {
    this.ws.send(JSON.stringify(f));
  }
  next(pred: (f: any) => boolean): Promise<any> {
    const hit = this.frames.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }
}

async function setup(opts: { partitions?: number[]; writer?: (origin: Origin, log: MemoryLog) => Writer; gateway?: Partial<GatewayOptions> } = {}) {
  const log = new MemoryLog({ partitions: 2 });
  const store = new MemorySnapshotStore();
  const origin = await Origin.start({ log, store });
  const replica = await Replica.start({ log, store, partitions: opts.partitions });
  const gateway = new Gateway({ upstream: replica, writer: opts.writer?.(origin, log) ?? origin, ...opts.gateway });
  const app = uWS.App();
  gateway.attach(app);
  const { port } = await listen(app);
  return {
    log,
    origin,
    replica,
    gateway,
    open: () => Client.open(port),
    async close() {
      await gateway.drain({ graceMs: 0 });
      app.close();
      await replica.close();
      await origin.close();
    },
  };
}

test('a subscribe the upstream refuses at once (partition not served, replica shut down) gets an error with its doc and leaves no state', async () => {
  const s = await setup({ partitions: [0] });
  const served = ['a', 'b', 'c', 'd', 'e', 'f'].find((d) => s.log.partitionOf(d) === 0)!;
  const unserved = ['a', 'b', 'c', 'd', 'e', 'f'].find((d) => s.log.partitionOf(d) === 1)!;
  const c = await s.open();
  c.send({ type: 'subscribe', doc: served });
  await c.next((f) => f.type === 'snapshot' && f.doc === served);
  c.send({ type: 'subscribe', doc: unserved });
  const err = await c.next((f) => f.type === 'error' && f.doc === unserved);
  assert.equal(err.code, 'unavailable');
  assert.equal(s.gateway.fanout.docCount, 1, 'only the served doc is held');
  // the connection carries on: its other subscription still gets deltas, and it may subscribe again
  await s.origin.write(served, '{"x":1}');
  await c.next((f) => f.type === 'delta' && f.doc === served);
  c.send({ type: 'subscribe', doc: unserved });
  await c.next((f) => f.type === 'error' && f.doc === unserved && c.frames.filter((g) => g.type === 'error').length === 2);
  assert.equal(s.gateway.fanout.docCount, 1);

  // a replica shutting down refuses synchronously too
  await s.replica.close();
  c.send({ type: 'subscribe', doc: 'later' });
  const closing = await c.next((f) => f.type === 'error' && f.doc === 'later');
  assert.equal(closing.code, 'unavailable');
  assert.equal(s.gateway.fanout.docCount, 1);
  c.ws.close();
  await s.close();
});

test('an unreachable origin: the client gets `unavailable` naming neither ORIGIN_URL nor its host:port', async (t) => {
  // a port with nothing listening: bound, then closed
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const deadPort = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const url = `http://127.0.0.1:${deadPort}`;
  const logged: string[] = [];
  t.mock.method(console, 'error', (...a: unknown[]) => logged.push(a.join(' ')));
  const s = await setup({ writer: () => new OriginClient({ baseUrl: url }) });
  const c = await s.open();
  c.send({ type: 'publish', doc: 'w', patch: { a: 1 }, id: 'p1' });
  const err = await c.next((f) => f.type === 'error' && f.id === 'p1');
  assert.equal(err.code, 'unavailable');
  assert.equal(err.message, 'origin unavailable; retry');
  assert.doesNotMatch(JSON.stringify(err), new RegExp(`127\\.0\\.0\\.1|${deadPort}`));
  // the operator still learns where it failed, once per outage
  c.send({ type: 'publish', doc: 'w', patch: { a: 2 }, id: 'p2' });
  await c.next((f) => f.type === 'error' && f.id === 'p2');
  assert.equal(logged.filter((l) => l.includes(`origin ${url} unreachable`)).length, 1);
  c.ws.close();
  await s.close();
});

test('a failing log: clients (WebSocket, and HTTP through a gateway) get a generic `unavailable`, the cause goes to the log', async (t) => {
  const cause = 'connect ECONNREFUSED 10.9.8.7:9092 (broker kafka-0.kafka.internal:9092)';
  const logged: string[] = [];
  t.mock.method(console, 'error', (...a: unknown[]) => logged.push(a.join(' ')));
  // the gateway writes through origin's HTTP API (cluster mode) ...
  const log = new MemoryLog({ partitions: 2 });
  const origin = await Origin.start({ log, store: new MemorySnapshotStore() });
  const originApp = uWS.App();
  registerOriginHttp(originApp, origin);
  const o = await listen(originApp);
  const s = await setup({ writer: () => new OriginClient({ baseUrl: `http://127.0.0.1:${o.port}` }) });
  const c = await s.open();
  log.failNextSync(new Error(cause));
  c.send({ type: 'publish', doc: 'w', patch: { a: 1 }, id: 'p1' });
  const err = await c.next((f) => f.type === 'error' && f.id === 'p1');
  assert.equal(err.code, 'unavailable');
  assert.doesNotMatch(JSON.stringify(err), /10\.9\.8\.7|9092|kafka-0|internal/);
  // ... and in process (embedded mode)
  const c2 = await s.open();
  s.log.failNextSync(new Error(cause));
  c2.send({ type: 'publish', doc: 'w', patch: { a: 1 }, id: 'p2' });
  const err2 = await c2.next((f) => f.type === 'error' && f.id === 'p2');
  assert.equal(err2.code, 'unavailable');
  assert.doesNotMatch(JSON.stringify(err2), /10\.9\.8\.7|9092|kafka-0|internal/);
  assert.ok(logged.some((l) => l.includes('10.9.8.7:9092')), 'the cause is logged');
  c.ws.close();
  c2.ws.close();
  await s.close();
  uWS.us_listen_socket_close(o.token);
  originApp.close();
  await origin.close();
});

test('client frames: at MAX_FRAME_BYTES accepted; over it closed 1009 (up to twice the bound, past which uWS cuts without a close frame)', async () => {
  const max = 64 * 1024;
  const s = await setup({ gateway: { maxFrameBytes: max } });
  /** a ping frame of exactly n bytes (unknown members are ignored) */
  const frame = (n: number) => {
    const f = JSON.stringify({ type: 'ping', pad: '' });
    return JSON.stringify({ type: 'ping', pad: 'x'.repeat(n - f.length) });
  };
  assert.equal(Buffer.byteLength(frame(max)), max);
  const at = await s.open();
  at.ws.send(frame(max));
  await at.next((f) => f.type === 'pong');
  const over = await s.open();
  over.ws.send(frame(max + 1));
  assert.equal(await over.closed, 1009);
  const twice = await s.open();
  twice.ws.send(frame(2 * max));
  assert.equal(await twice.closed, 1009);
  // the hard cap: uWS never buffers more than 2 x MAX_FRAME_BYTES of one message
  const far = await s.open();
  far.ws.send(frame(2 * max + 1));
  assert.equal(await far.closed, 1006);
  // the connection at the bound carries on
  at.send({ type: 'ping' });
  await at.next((f) => f.type === 'pong' && at.frames.length === 2);
  at.ws.close();
  await s.close();
});
