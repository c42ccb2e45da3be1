/**
 * SSE streams (`GET /v1/sse`) in process over real TCP (uWS gateway, a node:http reader, a real
 * Origin and Replica over the memory log): the event format and cursor, Last-Event-ID resume,
 * the client hop's inactive/collapse rules for a reader that stops reading, keep-alives, the server
 * API and drain reaching SSE connections, and the request's refusals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as uWS from 'uWebSockets.js';
import { MemoryLog, MemorySnapshotStore } from '@replicant/stream';
import { Origin } from '@replicant/origin';
import { Replica } from '@replicant/fanout';
import { Gateway, type GatewayOptions } from '../src/gateway.js';
import { SseReader } from './sse-client.js';
import { foldFrames, waitFor } from './support.js';

async function setup(opts: Partial<GatewayOptions> = {}) {
  const log = new MemoryLog({ partitions: 2 });
  const store = new MemorySnapshotStore();
  const origin = await Origin.start({ log, store });
  const replica = await Replica.start({ log, store });
  const gateway = new Gateway({ upstream: replica, writer: origin, ...opts });
  const app = uWS.App();
  gateway.attach(app);
  const port = await new Promise<number>((resolve) => app.listen('127.0.0.1', 0, (t) => resolve(uWS.us_socket_local_port(t as uWS.us_listen_socket))));
  const base = `http://127.0.0.1:${port}`;
  return {
    origin,
    gateway,
    base,
    open: async (docs: string[], headers: Record<string, string> = {}) => {
      const r = await SseReader.open(`${base}/v1/sse?${docs.map((d) => `doc=${d}`).join('&')}`, headers);
      assert.equal(r.status, 200, r.body);
      return r.reader!;
    },
    async close() {
      await gateway.drain({ graceMs: 0 });
      app.close();
      await replica.close();
      await origin.close();
    },
  };
}



test('SSE: welcome first, a snapshot per doc, then deltas; each data event carries the cursor; Last-Event-ID resumes every doc without gap or duplicate', async (t) => {
  const s = await setup();
  t.after(() => s.close());
  const a0 = await s.origin.write('a', '{"x":1}');
  const r = await s.open(['a', 'b', 'a']); // a duplicate doc counts once
  await r.until(() => r.data().length === 2);
  assert.equal(r.events[0].event, 'welcome');
  assert.match(r.events[0].data.connection, /\./);
  const snaps = r.events.slice(1, 3);
  assert.deepEqual(snaps.map((e) => [e.event, e.data.type, e.data.doc]).sort(), [['snapshot', 'snapshot', 'a'], ['snapshot', 'snapshot', 'b']]);
  assert.deepEqual(snaps.find((e) => e.data.doc === 'a')!.data, { type: 'snapshot', doc: 'a', seq: String(a0), state: { x: 1 } });
  for (const e of snaps) assert.match(e.id!, /^r1:[0-9a-f]{8}:[0-9]*,[0-9]*$/);
  assert.equal(r.lastEventId.split(':')[2], `${a0},0`, 'the cursor holds both docs');

  const seqs: bigint[] = [];
  for (let i = 0; i < 20; i++) seqs.push(await s.origin.write(i % 2 ? 'a' : 'b', JSON.stringify({ i })));
  await r.until(() => r.data().length === 22);
  const d = r.events.filter((e) => e.event === 'delta');
  assert.deepEqual(d.at(-1)!.data.type, 'delta');
  assert.equal(r.events.at(-1)!.raw, JSON.stringify(r.events.at(-1)!.data), 'data is the replicant.v1.json frame');
  const cursor = r.lastEventId;
  r.close();

  // missed writes while away; the reconnect names the cursor: every doc continues where it was
  for (let i = 20; i < 30; i++) seqs.push(await s.origin.write(i % 2 ? 'a' : 'b', JSON.stringify({ i })));
  const r2 = await s.open(['a', 'b'], { 'last-event-id': cursor });
  t.after(() => r2.close());
  const finA = await s.origin.read('a');
  const finB = await s.origin.read('b');
  await r2.until(() => r2.lastEventId.endsWith(`:${finA.seq},${finB.seq}`));
  assert.equal(r2.events[0].event, 'welcome');
  assert.ok(r2.data().every((f) => f.type === 'delta'), 'resumed with deltas, no snapshot');
  for (const [doc, fin] of [['a', finA], ['b', finB]] as const) {
    const all = [...r.data(), ...r2.data()].filter((f) => f.doc === doc);
    assert.deepEqual(foldFrames(all, { noRepeat: true }), { seq: String(fin.seq), state: fin.state }, `${doc}: no gap, no duplicate`);
  }
});

test('SSE: refusals are plain HTTP before the stream: no doc, over 100 docs, a bad doc id, a bad cursor (400), other methods (405)', async (t) => {
  const s = await setup();
  t.after(() => s.close());
  const get = async (q: string, headers: Record<string, string> = {}) => {
    const r = await SseReader.open(`${s.base}/v1/sse${q}`, headers);
    return [r.status, r.body ? JSON.parse(r.body).error.code : undefined];
  };
  assert.deepEqual(await get(''), [400, 'bad_request']);
  const many = Array.from({ length: 101 }, (_, i) => `doc=d${i}`).join('&');
  assert.deepEqual(await get(`?${many}`), [400, 'too_many_subscriptions']);
  const hundred = Array.from({ length: 100 }, (_, i) => `doc=d${i}`).join('&');
  const ok = await SseReader.open(`${s.base}/v1/sse?${hundred}`);
  assert.equal(ok.status, 200, '100 docs are fine');
  await ok.reader!.until(() => ok.reader!.data().length === 100);
  ok.reader!.close();
  assert.deepEqual(await get('?doc=%2Fbad'), [400, 'bad_doc_id']);
  assert.deepEqual(await get('?doc=a', { 'last-event-id': 'not-a-cursor' }), [400, 'bad_request']);
  // any origin may read a stream (the credential is a token, not a cookie)
  const bad = await fetch(`${s.base}/v1/sse`);
  assert.equal(bad.headers.get('access-control-allow-origin'), '*');
  const okRes = await fetch(`${s.base}/v1/sse?doc=a`);
  assert.deepEqual([okRes.status, okRes.headers.get('access-control-allow-origin'), okRes.headers.get('content-type')], [200, '*', 'text/event-stream; charset=utf-8']);
  await okRes.body!.cancel();
  await waitFor(() => s.gateway.connectionCount === 0, 'the cancelled stream to close');
  const post = await fetch(`${s.base}/v1/sse?doc=a`, { method: 'POST' });
  assert.deepEqual([post.status, post.headers.get('allow')], [405, 'GET']);
  assert.equal(s.gateway.connectionCount, 0);
});

test('SSE: a reader that stops reading during 2,000 writes of 2 KiB to each of its 3 docs stays open 10 s and bounded; reading again it gets at most one frame per doc, and the stream lives on', async (t) => {
  // 12 MiB: well past what the kernel buffers of a loopback connection absorb (about 4 MiB)
  const MAX = 256 * 1024;
  const DOCS = ['st-0', 'st-1', 'st-2'];
  // every op its own frame (no hot-doc flush, which would send a tenth of the bytes): the
  // subject is the send-buffer bound, so the bytes must reach it
  const s = await setup({ maxSendBuffer: MAX, hotFlushMs: 0 });
  t.after(() => s.close());
  const r = await s.open(DOCS);
  await r.until(() => r.data().length === DOCS.length);
  const pausedAt = Date.now();
  r.pause();
  const pad = 'x'.repeat(2048);
  let maxBuffered = 0;
  let catchUps0 = -1;
  let inactiveAt = 0;
  for (let i = 0; i < 2000; i++) {
    await Promise.all(DOCS.map((doc) => s.origin.write(doc, JSON.stringify({ i, pad }))));
    if (i % 20 === 0) {
      const f = s.gateway.flowStats();
      maxBuffered = Math.max(maxBuffered, f.maxBuffered);
      if (catchUps0 < 0 && f.inactive === 1) {
        catchUps0 = f.catchUpDeltas + f.catchUpSnapshots;
        inactiveAt = Date.now();
      }
    }
  }
  await waitFor(() => s.gateway.fanout.inactiveCount === 1, 'the stalled reader to be inactive');
  inactiveAt ||= Date.now();
  const f = s.gateway.flowStats();
  if (catchUps0 < 0) catchUps0 = f.catchUpDeltas + f.catchUpSnapshots;
  assert.ok(Math.max(maxBuffered, f.maxBuffered) <= MAX + 64 * 1024, `buffered ${maxBuffered}`);
  assert.ok(f.maxTrackedDocs <= DOCS.length, 'one seq per doc while inactive');
  // open after 10 s stalled, and 13 s after its last data frame: uWS alone closes an HTTP response
  // 10 s (8-12 s: its timers tick every 4 s) after a write that left bytes unsent
  await new Promise((res) => setTimeout(res, Math.max(0, 10_000 - (Date.now() - pausedAt), 13_000 - (Date.now() - inactiveAt))));
  assert.equal(s.gateway.connectionCount, 1, 'still connected after 10 s');
  assert.equal(r.ended, false);

  r.resume();
  const fins = await Promise.all(DOCS.map((doc) => s.origin.read(doc)));
  await r.until(() => r.lastEventId.endsWith(`:${fins.map((x) => x.seq).join(',')}`));
  const g = s.gateway.flowStats();
  const caughtUp = g.catchUpDeltas + g.catchUpSnapshots - catchUps0;
  assert.ok(caughtUp >= 1 && caughtUp <= DOCS.length, `${caughtUp} catch-up frames: at most one per doc`);
  assert.equal(g.inactive, 0);
  DOCS.forEach((doc, k) => {
    const mine = r.data().filter((x) => x.doc === doc);
    assert.ok(mine.length < 2001, `${doc}: ${mine.length} frames for 2,000 writes: the backlog collapsed`);
    assert.deepEqual(foldFrames(mine, { noRepeat: true }), { seq: String(fins[k].seq), state: fins[k].state }, `${doc} converged with no gap`);
  });
  // quiet for 12 s after the drain, the stream is still served (uWS's 10 s timer was cleared)
  await new Promise((res) => setTimeout(res, 12_000));
  const w = await s.origin.write(DOCS[0], '{"after":1}');
  await r.next((e) => e.event === 'delta' && e.data.seq === String(w));
  r.close();
});

test('SSE: a stream that drained with nothing to catch up on is still served 13 s later', async (t) => {
  const MAX = 256 * 1024;
  const s = await setup({ maxSendBuffer: MAX });
  t.after(() => s.close());
  const r = await s.open(['big']);
  await r.until(() => r.data().length === 1);
  r.pause();
  // one 512 KiB op at a time, each handed to the stream before the next: when the stream turns
  // inactive it has been sent everything, so its drain sends no catch-up frame (no write)
  const pad = 'x'.repeat(512 * 1024);
  let last = 0n;
  for (let i = 0; s.gateway.fanout.inactiveCount === 0; i++) {
    assert.ok(i < 200, 'the stream never filled up');
    const d0 = s.gateway.fanout.deliveries;
    last = await s.origin.write('big', JSON.stringify({ i, pad }));
    await waitFor(() => s.gateway.fanout.deliveries > d0, 'the op handed to the stream');
  }
  const catchUps0 = s.gateway.flowStats().catchUpDeltas + s.gateway.flowStats().catchUpSnapshots;
  r.resume();
  await r.until(() => r.lastEventId.endsWith(`:${last}`));
  await waitFor(() => s.gateway.fanout.inactiveCount === 0, 'active again');
  const f = s.gateway.flowStats();
  assert.equal(f.catchUpDeltas + f.catchUpSnapshots, catchUps0, 'nothing to catch up on');
  await new Promise((res) => setTimeout(res, 13_000));
  const w = await s.origin.write('big', '{"after":1}');
  await r.next((e) => e.event === 'delta' && e.data.seq === String(w));
  assert.equal(r.ended, false);
  r.close();
});

test('SSE: `: ping` after the keep-alive interval of silence', async (t) => {
  const s = await setup({ ssePingMs: 100 });
  t.after(() => s.close());
  const r = await s.open(['p']);
  t.after(() => r.close());
  await r.until(() => r.comments >= 3);
  assert.equal(r.data().length, 1, 'pings are comments, not events');
});

test('SSE: the server API reaches SSE connections (message by connection id, disconnect ends the stream) and a drain sends goaway', async (t) => {
  const s = await setup();
  t.after(() => s.close());
  const r = await s.open(['m']);
  const welcome = await r.next((e) => e.event === 'welcome');
  s.gateway.connections.apply({ t: 'message', id: 'm1', to: { connection: welcome.data.connection }, data: { hi: 1 } });
  const m = await r.next((e) => e.event === 'message');
  assert.deepEqual(m.data, { type: 'message', id: 'm1', data: { hi: 1 } });
  assert.equal(m.id, undefined, 'control events carry no cursor');
  s.gateway.connections.apply({ t: 'disconnect', sub: '', reconnect: false });
  const d = await r.next((e) => e.event === 'disconnect');
  assert.deepEqual(d.data, { type: 'disconnect', reconnect: false });
  await r.until(() => r.ended);
  assert.equal(s.gateway.connectionCount, 0);

  const r2 = await s.open(['m']);
  await r2.next((e) => e.event === 'snapshot');
  const drained = s.gateway.drain({ spreadMs: 1, graceMs: 200 });
  const g = await r2.next((e) => e.event === 'goaway');
  assert.equal(typeof g.data.reconnectMs, 'number');
  await r2.until(() => r2.ended);
  await drained;
});
