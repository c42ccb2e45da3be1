/**
 * The client hop's flow control, in process over real sockets (uWS gateway, `ws` clients, a real
 * Origin and Replica over the memory log): credits, inactive connections caught up with one frame
 * per doc, stalled readers bounded without being closed, healthy subscribers unaffected by stalled
 * ones, resumes that never go backwards, and bad hello/credit frames.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as uWS from 'uWebSockets.js';
import WebSocket from 'ws';
import { MemoryLog, MemorySnapshotStore } from '@replicant/stream';
import { encodeServerJson } from '@replicant/protocol';
import { Origin } from '@replicant/origin';
import { Delta, Replica, type Upstream, type UpstreamListener } from '@replicant/fanout';
import { Gateway, type GatewayOptions } from '../src/gateway.js';
import { foldFrames, waitFor } from './support.js';

async function listen(gateway: Gateway): Promise<{ app: uWS.TemplatedApp; port: number }> {
  const app = uWS.App();
  gateway.attach(app);
  const port = await new Promise<number>((resolve) =>
    app.listen('127.0.0.1', 0, (t) => resolve(uWS.us_socket_local_port(t as uWS.us_listen_socket))),
  );
  return { app, port };
}


class Client {
  readonly frames: any[] = [];
  private waiters: { pred: (f: any) => boolean; resolve: (f: any) => void }[] = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const f = JSON.parse(d.toString());
      this.frames.push(f);
      this.waiters = this.waiters.filter((w) => (w.pred(f) ? (w.resolve(f), false) : true));
    });
  }
  static async open(port: number): Promise<Client> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream`, ['replicant.v1.json']);
    const c = new Client(ws);
    await once(ws, 'open');
    return c;
  }
  send(f: unknown): void {
    this.ws.send(JSON.stringify(f));
  }
  next(pred: (f: any) => boolean, from = 0): Promise<any> {
    for (let i = from; i < this.frames.length; i++) if (pred(this.frames[i])) return Promise.resolve(this.frames[i]);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }
  /** a ping's pong: everything the gateway sent before it has arrived */
  async sync(): Promise<void> {
    const from = this.frames.length;
    this.send({ type: 'ping' });
    await this.next((f) => f.type === 'pong', from);
  }
  data(): any[] {
    return this.frames.filter((f) => f.type === 'snapshot' || f.type === 'delta');
  }
  /** folds the data frames, asserting that every delta chains on the seq held */
  fold(): { seq: string; state: any } {
    return foldFrames(this.data());
  }
  pause(): void {
    (this.ws as any)._socket.pause();
  }
  resume(): void {
    (this.ws as any)._socket.resume();
  }
}

async function setup(opts: Partial<GatewayOptions> = {}) {
  const log = new MemoryLog({ partitions: 2 });
  const store = new MemorySnapshotStore();
  const origin = await Origin.start({ log, store });
  const replica = await Replica.start({ log, store });
  const gateway = new Gateway({ upstream: replica, writer: origin, ...opts });
  const { app, port } = await listen(gateway);
  return {
    origin,
    gateway,
    port,
    open: () => Client.open(port),
    async close() {
      await gateway.drain({ graceMs: 0 });
      app.close();
      await replica.close();
      await origin.close();
    },
  };
}


test('window 4 without credit: at most 4 data frames in 500 writes; credit 1 brings one frame to the latest seq; then as credit allows', async (t) => {
  const s = await setup();
  t.after(() => s.close());
  const c = await s.open();
  c.send({ type: 'hello', window: 4 });
  c.send({ type: 'subscribe', doc: 'cr' });
  await c.next((f) => f.type === 'snapshot');
  let last = 0n;
  for (let i = 0; i < 500; i++) last = await s.origin.write('cr', JSON.stringify({ i, [`k${i % 7}`]: i }));
  await waitFor(() => s.gateway.fanout.inactiveCount === 1, 'the connection to run out of credit');
  await c.sync(); // control frames pass without credit
  assert.ok(c.data().length <= 4, `${c.data().length} data frames without credit`);
  assert.equal(c.data().length, 4, 'the window was used');
  const before = c.data().length;
  const heldSeq = c.data().at(-1).seq;

  c.send({ type: 'credit', n: 1 });
  await c.sync();
  const catchUp = c.data().slice(before);
  assert.equal(catchUp.length, 1, 'exactly one frame for the catch-up');
  assert.equal(catchUp[0].type, 'delta');
  assert.equal(catchUp[0].prevSeq, heldSeq, 'no gap');
  assert.equal(catchUp[0].seq, String(last), 'to the latest seq');
  const read = await s.origin.read('cr');
  assert.deepEqual(c.fold(), { seq: String(read.seq), state: read.state });

  // out of credit again: a write is not sent until credit comes; then 2 credits = 2 frames
  const w1 = await s.origin.write('cr', '{"after":1}');
  await c.sync();
  assert.equal(c.data().length, before + 1);
  c.send({ type: 'credit', n: 2 });
  await c.next((f) => f.type === 'delta' && f.seq === String(w1));
  const w2 = await s.origin.write('cr', '{"after":2}');
  await c.next((f) => f.type === 'delta' && f.seq === String(w2));
  const w3 = await s.origin.write('cr', '{"after":3}');
  await c.sync();
  assert.equal(c.data().length, before + 3, 'two credits, two frames');
  c.send({ type: 'credit', n: 10 });
  await c.next((f) => f.type === 'delta' && f.seq === String(w3));
  const fin = await s.origin.read('cr');
  assert.deepEqual(c.fold(), { seq: String(fin.seq), state: fin.state });
  c.ws.close();
});

test('a reader that stops during 2,000 writes of 2 KiB (to each of its 3 docs) stays open and bounded; reading again it converges with one catch-up frame per doc', async (t) => {
  // 3 docs x 2,000 x 2 KiB = 12 MiB: well past what the kernel buffers on both ends of a loopback
  // connection absorb (about 4 MiB here) before the gateway's own bound is reached
  const MAX = 256 * 1024;
  const DOCS = ['stall-0', 'stall-1', 'stall-2'];
  // every op its own frame (no hot-doc flush, which would send a tenth of the bytes): the
  // subject is the send-buffer bound, so the bytes must reach it
  const s = await setup({ maxSendBuffer: MAX, hotFlushMs: 0 });
  t.after(() => s.close());
  const c = await s.open();
  for (const doc of DOCS) c.send({ type: 'subscribe', doc });
  await waitFor(() => c.data().length === DOCS.length, 'the snapshots');
  const pausedAt = Date.now();
  c.pause();
  const pad = 'x'.repeat(2048);
  let maxBuffered = 0;
  let maxTracked = 0;
  let catchUps0 = -1;
  for (let i = 0; i < 2000; i++) {
    await Promise.all(DOCS.map((doc) => s.origin.write(doc, JSON.stringify({ i, pad }))));
    if (i % 20 === 0) {
      const f = s.gateway.flowStats();
      maxBuffered = Math.max(maxBuffered, f.maxBuffered);
      maxTracked = Math.max(maxTracked, f.maxTrackedDocs);
      if (catchUps0 < 0 && f.inactive === 1) catchUps0 = f.catchUpDeltas + f.catchUpSnapshots;
    }
  }
  await waitFor(() => s.gateway.fanout.inactiveCount === 1, 'the stalled reader to be inactive');
  const f = s.gateway.flowStats();
  if (catchUps0 < 0) catchUps0 = f.catchUpDeltas + f.catchUpSnapshots;
  // bounded: user-space buffer at most the bound plus one flush; state = one seq per subscribed doc
  assert.ok(Math.max(maxBuffered, f.maxBuffered) <= MAX + 64 * 1024, `buffered ${maxBuffered}`);
  assert.ok(Math.max(maxTracked, f.maxTrackedDocs) <= DOCS.length);
  // not closed within 10 s (SLOW_CONSUMER_TIMEOUT_MS defaults to 30 s)
  await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - pausedAt))));
  assert.equal(s.gateway.connectionCount, 1, 'still connected after 10 s');
  assert.equal(c.ws.readyState, WebSocket.OPEN);

  c.resume();
  const fins = await Promise.all(DOCS.map((doc) => s.origin.read(doc)));
  await waitFor(() => DOCS.every((doc, k) => c.data().some((x) => x.doc === doc && x.seq === String(fins[k].seq))), 'every doc at its latest seq');
  await c.sync();
  const g = s.gateway.flowStats();
  assert.ok(g.catchUpDeltas + g.catchUpSnapshots - catchUps0 <= DOCS.length, 'at most one catch-up frame per doc');
  assert.equal(g.inactive, 0);
  DOCS.forEach((doc, k) => {
 const mine = c.data().filter((x) => x.doc === doc);
    assert.ok(mine.length < 2001, `${doc}: ${mine.length} frames for 2,000 writes: the backlog collapsed`);
    assert.deepEqual(foldFrames(mine), { seq: String(fins[k].seq), state: fins[k].state }, `${doc} converged to GET with no gap`);
  });
  c.ws.close();
});

test('10% of 1,000 subscribers stalled: every healthy one gets every state change; the stalled cost bounded state', async (t) => {
  const s = await setup();
  t.after(() => s.close());
  const N = 1000;
  const clients: Client[] = [];
  for (let i = 0; i < N; i += 100) clients.push(...(await Promise.all(Array.from({ length: 100 }, () => s.open()))));
  const stalled = clients.filter((_, i) => i % 10 === 0);
  const healthy = clients.filter((_, i) => i % 10 !== 0);
  for (const c of stalled) {
    c.send({ type: 'hello', window: 4 }); // an SDK client (credits on) whose application stopped
    c.pause();
  }
  for (const c of clients) c.send({ type: 'subscribe', doc: 'mixed' });
  await waitFor(() => healthy.every((c) => c.frames.length > 0), 'snapshots');
  const seqs: bigint[] = [];
  for (let i = 0; i < 200; i++) {
    seqs.push(await s.origin.write('mixed', JSON.stringify({ i })));
    if (i % 8 === 7) await new Promise((r) => setImmediate(r)); // let flushes interleave
  }
  const fin = await s.origin.read('mixed');
  await waitFor(() => healthy.every((c) => c.data().at(-1)?.seq === String(fin.seq)), 'every healthy subscriber to reach the latest seq');
  for (const c of healthy) assert.deepEqual(c.fold(), { seq: String(fin.seq), state: fin.state });
  // every op was delivered to every healthy subscriber (coalesced deltas cover several ops)
  const covered = (c: Client) => c.data().filter((f) => f.type === 'delta').length;
  assert.ok(healthy.every((c) => covered(c) >= 1));
  await waitFor(() => s.gateway.fanout.inactiveCount === stalled.length, 'the stalled ones to be inactive');
  const f = s.gateway.flowStats();
  assert.equal(f.maxTrackedDocs, 1, 'one seq per subscribed doc per stalled connection');
  assert.ok(f.maxBuffered < 64 * 1024, `buffered ${f.maxBuffered}`);
  // the stalled ones catch up when they read and grant again
  for (const c of stalled) {
    c.resume();
    c.send({ type: 'credit', n: 4 });
  }
  await waitFor(() => stalled.every((c) => c.data().at(-1)?.seq === String(fin.seq)), 'the stalled ones to catch up');
  for (const c of stalled) {
    assert.ok(c.data().length <= 5, `${c.data().length} frames`);
    assert.deepEqual(c.fold(), { seq: String(fin.seq), state: fin.state });
  }
  for (const c of clients) c.ws.close();
});

/** an upstream the test drives by hand (a replica copy that lags, then catches up) */
class ManualUpstream implements Upstream {
  listener: UpstreamListener | undefined;
  subscribe(doc: string, l: UpstreamListener): void {
    // the gateway also follows the server API's control doc (control.ts): only 'lag' is driven here
    if (doc === 'lag') this.listener = l;
  }
  unsubscribe(): void {
    this.listener = undefined;
  }
  delta(seq: bigint, prevSeq: bigint, patch: Record<string, unknown>): void {
    this.listener!.onDelta(new Delta('lag', seq, prevSeq, JSON.stringify(patch), patch, Date.now()));
  }
}

test('a resume ahead of this gateway gets nothing until it caught up past lastSeq, then the deltas after it', async (t) => {
  const up = new ManualUpstream();
  const gateway = new Gateway({ upstream: up, writer: { write: async () => 1n } });
  const { app, port } = await listen(gateway);
  t.after(async () => {
    await gateway.drain({ graceMs: 0 });
    app.close();
  });
  const c = await Client.open(port);
  // the client held seq 8 on a gateway that died; this gateway's copy is at 5
  c.send({ type: 'subscribe', doc: 'lag', lastSeq: '8' });
  await waitFor(() => up.listener !== undefined, 'the upstream subscription');
  up.listener!.onBase('lag', 5n, { v: 5 }, []);
  await c.sync();
  assert.deepEqual(c.data(), [], 'no snapshot at a lower seq');
  up.delta(7n, 5n, { v: 7 });
  await c.sync();
  assert.deepEqual(c.data(), [], 'still behind lastSeq');
  up.delta(8n, 7n, { v: 8 });
  up.delta(10n, 8n, { v: 10 });
  await c.next((f) => f.type === 'delta');
  await c.sync();
  assert.deepEqual(
    c.data().map((f) => [f.type, f.prevSeq, f.seq]),
    [['delta', '8', '10']],
  );
  c.ws.close();
});

test('invalid hello and credit frames get bad_frame and change nothing', async (t) => {
  const s = await setup();
  t.after(() => s.close());
  const c = await s.open();
  const errors = () => c.frames.filter((f) => f.type === 'error').map((f) => f.code);
  c.send({ type: 'credit', n: 5 }); // before hello
  c.send({ type: 'hello', window: 0 });
  c.send({ type: 'hello', window: 65537 });
  c.send({ type: 'hello', window: 2 });
  c.send({ type: 'hello', window: 2 }); // twice
  c.send({ type: 'credit', n: -1 });
  c.send({ type: 'credit', n: 1.5 });
  await c.sync();
  assert.deepEqual(errors(), ['bad_frame', 'bad_frame', 'bad_frame', 'bad_frame', 'bad_frame', 'bad_frame']);
  // the valid hello took effect: window 2
  c.send({ type: 'subscribe', doc: 'bf' });
  await c.next((f) => f.type === 'snapshot');
  for (let i = 0; i < 5; i++) await s.origin.write('bf', JSON.stringify({ i }));
  await waitFor(() => s.gateway.fanout.inactiveCount === 1, 'out of credit');
  await c.sync();
  assert.equal(c.data().length, 2);
  c.ws.close();
});

test('over ADMISSION_BURST an upgrade is refused with 503, Retry-After and an error body; admitted ones carry on', async (t) => {
  const s = await setup({ admissionRate: 1, admissionBurst: 2 });
  t.after(() => s.close());
  const a = await s.open();
  const b = await s.open();
  const refused = new WebSocket(`ws://127.0.0.1:${s.port}/v1/stream`, ['replicant.v1.json']);
  const [, res] = await once(refused, 'unexpected-response');
  assert.equal(res.statusCode, 503);
  assert.match(String(res.headers['retry-after']), /^[1-9]\d*$/);
  const body = await new Promise<string>((resolve) => {
    let text = '';
    res.on('data', (c: Buffer) => (text += c.toString()));
    res.on('end', () => resolve(text));
  });
  assert.equal(JSON.parse(body).error.code, 'unavailable');
  assert.equal(s.gateway.admissionRefusals, 1);
  for (const c of [a, b]) await c.sync();
  a.ws.close();
  b.ws.close();
});

test('a WebSocket carries its session behind one property (uWS copies user data onto its native object; many properties there turn it into a 1.6 KB dictionary per connection)', async (t) => {
  const s = await setup();
  t.after(() => s.close());
  const c = await s.open();
  c.send({ type: 'subscribe', doc: 'ud' });
  await c.next((f) => f.type === 'snapshot');
  const sockets = [...(s.gateway as unknown as { sockets: Set<object> }).sockets];
  assert.equal(sockets.length, 1);
  assert.deepEqual(Object.keys(sockets[0]), ['session'], 'only the session is copied onto the socket');
  assert.ok((sockets[0] as { session: { subs: Set<string> } }).session.subs?.has('ud'), 'the session is the live one');
});

test('several JSON subscribers get each delta as a text frame, byte for byte the encoded delta (the flush converts it to UTF-8 once for all of them)', async (t) => {
  const s = await setup();
  t.after(() => s.close());
  const raw: { text: string; binary: boolean }[][] = [];
  const clients: Client[] = [];
  for (let i = 0; i < 3; i++) {
    const c = await s.open();
    const mine: { text: string; binary: boolean }[] = [];
    c.ws.on('message', (d, isBinary) => mine.push({ text: d.toString(), binary: isBinary }));
    raw.push(mine);
    clients.push(c);
    c.send({ type: 'subscribe', doc: 'bytes' });
    await c.next((f) => f.type === 'snapshot');
  }
  const patches = ['{"a":1}', '{"b":"é ✓ 𝄞"}', '{"a":null,"c":[1,2]}'];
  const seqs: bigint[] = [];
  for (const p of patches) seqs.push(await s.origin.write('bytes', p));
  for (const c of clients) await c.next((f) => f.type === 'delta' && f.seq === String(seqs.at(-1)));
  for (const mine of raw) {
    const deltas = mine.filter((m) => JSON.parse(m.text).type === 'delta');
    assert.ok(deltas.length >= 1);
    for (const m of deltas) {
      assert.equal(m.binary, false, 'a replicant.v1.json frame is a text frame');
      const f = JSON.parse(m.text);
      assert.equal(m.text, encodeServerJson({ type: 'delta', doc: 'bytes', seq: BigInt(f.seq), prevSeq: BigInt(f.prevSeq), patch: JSON.stringify(f.patch) }));
    }
  }
  const read = await s.origin.read('bytes');
  for (const c of clients) assert.deepEqual(c.fold(), { seq: String(read.seq), state: read.state });
});
