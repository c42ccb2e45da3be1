/**
 * Per-document publish order at the gateway (publish-order.ts), over real sockets: a publish
 * refused with a transient code blocks its doc on that connection until it is sent again (later
 * ones are refused `unavailable`, other docs carry on), and the blocked docs per connection are
 * bounded (MAX_BLOCKED_DOCS, then close 4013).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as uWS from 'uWebSockets.js';
import WebSocket from 'ws';
import { MemoryLog, MemorySnapshotStore } from '@replicant/stream';
import { Origin } from '@replicant/origin';
import { Replica } from '@replicant/fanout';
import { Gateway, type GatewayOptions, type Writer } from '../src/gateway.js';
import { MAX_BLOCKED_DOCS, PublishLanes } from '../src/publish-order.js';

async function setup(opts: Partial<GatewayOptions>, wrap?: (origin: Origin) => Writer) {
  const log = new MemoryLog({ partitions: 2 });
  const store = new MemorySnapshotStore();
  const origin = await Origin.start({ log, store });
  const replica = await Replica.start({ log, store });
  const gateway = new Gateway({ upstream: replica, writer: wrap ? wrap(origin) : origin, ...opts });
  const app = uWS.App();
  gateway.attach(app);
  const port = await new Promise<number>((resolve) =>
    app.listen('127.0.0.1', 0, (t) => resolve(uWS.us_socket_local_port(t as uWS.us_listen_socket))),
  );
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream`, ['replicant.v1.json']);
  await once(ws, 'open');
  const frames: any[] = [];
  const waiters: { pred: (f: any) => boolean; resolve: (f: any) => void }[] = [];
  ws.on('message', (d) => {
    const f = JSON.parse(d.toString());
    frames.push(f);
    for (const w of waiters.splice(0)) {
      if (w.pred(f)) w.resolve(f);
      else waiters.push(w);
    }
  });
  /** the answer (ack or error) to publish `id` */
  const answer = (id: string) =>
    new Promise<any>((resolve) => {
      const f = frames.find((x) => x.id === id);
      if (f) resolve(f);
      else waiters.push({ pred: (x) => x.id === id, resolve });
    });
  const publish = (doc: string, patch: unknown, id: string) => ws.send(JSON.stringify({ type: 'publish', doc, patch, id }));
  return {
    origin,
    ws,
    frames,
    answer,
    publish,
    async close() {
      ws.close();
      await gateway.drain({ graceMs: 0 });
      app.close();
      await replica.close();
      await origin.close();
    },
  };
}

test('a publish refused at the in-flight bound blocks its doc: a later one is refused until the refused one is re-sent; then both apply in order', async (t) => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const s = await setup({ maxInflightPublishes: 1 }, (origin) => ({
    async write(doc, patch, id, ifSeq) {
      if (id === 'X') await held;
      return origin.write(doc, patch, id, ifSeq);
    },
  }));
  t.after(() => s.close());
  s.publish('other', { x: 1 }, 'X'); // takes the one in-flight slot until released
  s.publish('d', { title: 'A' }, 'A');
  assert.equal((await s.answer('A')).code, 'unavailable', 'A refused at the in-flight bound');
  release();
  assert.equal((await s.answer('X')).type, 'ack');
  s.publish('d', { title: 'B' }, 'B'); // the slot is free: before the fix B was applied here, ahead of A
  const b = await s.answer('B');
  assert.equal(b.code, 'unavailable', 'B waits for A');
  assert.match(b.message, /id A/);
  s.publish('other', { x: 2 }, 'Y');
  assert.equal((await s.answer('Y')).type, 'ack', 'other docs carry on');
  s.frames.length = 0;
  s.publish('d', { title: 'A' }, 'A');
  assert.equal((await s.answer('A')).type, 'ack');
  s.publish('d', { title: 'B' }, 'B');
  assert.equal((await s.answer('B')).type, 'ack');
  const { seq, state } = await s.origin.read('d');
  assert.deepEqual(state, { title: 'B' });
  assert.equal(seq, 2n, 'each applied once');
});

test('publishes of one doc reach the writer one at a time in arrival order; a 503 refuses the ones queued behind it', async (t) => {
  const calls: string[] = [];
  let atWriter = 0;
  let maxAtWriter = 0;
  const s = await setup({}, (origin) => ({
    async write(doc, patch, id, ifSeq) {
      calls.push(id!);
      maxAtWriter = Math.max(maxAtWriter, ++atWriter);
      try {
        await new Promise((r) => setImmediate(r));
        if (id === 'p2' && calls.filter((c) => c === 'p2').length === 1) throw Object.assign(new Error('503'), { code: 'unavailable' });
        return await origin.write(doc, patch, id, ifSeq);
      } finally {
        atWriter--;
      }
    },
  }));
  t.after(() => s.close());
  for (let i = 1; i <= 5; i++) s.publish('d', { v: i }, `p${i}`);
  const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => s.answer(`p${i}`)));
  assert.deepEqual(answers.map((a) => a.type === 'ack' ? 'ack' : a.code), ['ack', 'unavailable', 'unavailable', 'unavailable', 'unavailable']);
  assert.deepEqual(calls, ['p1', 'p2'], 'p3..p5 never reached the writer');
  assert.equal(maxAtWriter, 1, 'one at a time');
  s.frames.length = 0;
  for (let i = 2; i <= 5; i++) s.publish('d', { v: i }, `p${i}`);
  for (let i = 2; i <= 5; i++) assert.equal((await s.answer(`p${i}`)).type, 'ack');
  assert.deepEqual((await s.origin.read('d')).state, { v: 5 });
});

test(`at most ${MAX_BLOCKED_DOCS} docs per connection may wait for a refused publish; past it the connection is closed 4013`, async (t) => {
  const s = await setup({ publishRate: 1 }); // burst 2, then every publish is rate limited
  t.after(() => s.close());
  const closed = once(s.ws, 'close');
  for (let i = 0; i < MAX_BLOCKED_DOCS + 3; i++) s.publish(`doc${i}`, { i }, `id${i}`);
  const [code] = await closed;
  assert.equal(code, 4013);
  const limited = s.frames.filter((f) => f.code === 'rate_limited').length;
  assert.equal(limited, MAX_BLOCKED_DOCS + 1, 'every refused doc was recorded up to the bound');
});

test('PublishLanes: a block holds back only later arrivals, keeps the earliest refused op, and lifts when it comes back', () => {
  const l = new PublishLanes();
  assert.ok(l.block('d', 'B', 5));
  assert.equal(l.admit('d', 'A', 3), undefined, 'A arrived before B was refused (it waited behind a token verification): not held back');
  assert.equal(l.admit('d', 'C', 6), 'B');
  assert.equal(l.admit('other', 'X', 7), undefined, 'other docs are not blocked');
  assert.ok(l.block('d', 'A', 3), 'an earlier-arrived op refused later (at the writer) becomes the one waited for');
  assert.equal(l.admit('d', 'B', 8), 'A');
  assert.equal(l.admit('d', 'A', 9), undefined, 'the refused op lifts the block');
  assert.equal(l.blocked, 0);
  assert.equal(l.admit('d', 'B', 10), undefined);
  assert.ok(l.block('d', undefined, 11), 'an op without id cannot be waited for');
  assert.equal(l.blocked, 0);
  assert.equal(l.size, 0, 'nothing kept for idle docs');
});
