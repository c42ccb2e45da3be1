/**
 * The gateway's per-connection bounds, in process over real sockets: a connection whose send
 * buffer stays over its bound is inactive, then closed with 4008 (slow consumer) after the
 * timeout, while others carry on; subscriptions per
 * connection and unacknowledged publishes are bounded with their specified errors.
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
import { waitFor as waitForState } from './support.js';

/** these tests bound each wait at 10 s and poll every turn */
const waitFor = (pred: () => boolean, what: string, ms = 10_000) => waitForState(pred, what, ms, 0);

async function setup(opts: Partial<GatewayOptions>, writer?: Writer) {
  const log = new MemoryLog({ partitions: 2 });
  const store = new MemorySnapshotStore();
  const origin = await Origin.start({ log, store });
  const replica = await Replica.start({ log, store });
  const gateway = new Gateway({ upstream: replica, writer: writer ?? origin, ...opts });
  const app = uWS.App();
  gateway.attach(app);
  const port = await new Promise<number>((resolve) =>
    app.listen('127.0.0.1', 0, (t) => resolve(uWS.us_socket_local_port(t as uWS.us_listen_socket))),
  );
  const open = async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream`, ['replicant.v1.json']);
    await once(ws, 'open');
    const frames: any[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    return { ws, frames };
  };
  return {
    origin,
    gateway,
    open,
    async close() {
      await gateway.drain({ graceMs: 0 });
      app.close();
      await replica.close();
      await origin.close();
    },
  };
}


test('a reader whose send buffer stays over the bound becomes inactive, then is closed 4008 after SLOW_CONSUMER_TIMEOUT_MS; others carry on', async (t) => {
  const s = await setup({ maxSendBuffer: 64 * 1024, slowConsumerTimeoutMs: 1500 });
  t.after(() => s.close());
  const slow = await s.open();
  const fast = await s.open();
  for (const c of [slow, fast]) c.ws.send(JSON.stringify({ type: 'subscribe', doc: 'big' }));
  await waitFor(() => slow.frames.length > 0 && fast.frames.length > 0, 'snapshots');
  // stop reading on the slow client: the kernel buffers fill, then uWS buffers, then our bound
  (slow.ws as any)._socket.pause();
  const closed = once(slow.ws, 'close');
  const pad = 'x'.repeat(16 * 1024);
  let last = 0n;
  for (let i = 0; i < 2000 && s.gateway.fanout.inactiveCount === 0; i++) last = await s.origin.write('big', JSON.stringify({ i, pad }));
  assert.equal(s.gateway.fanout.inactiveCount, 1, 'the stalled reader is inactive: nothing more is queued for it');
  const inactiveAt = Date.now();
  const buffered = s.gateway.flowStats().maxBuffered;
  for (let i = 0; i < 50; i++) last = await s.origin.write('big', JSON.stringify({ after: i, pad }));
  assert.ok(s.gateway.flowStats().maxBuffered <= buffered, 'its buffer did not grow while inactive');
  assert.equal(s.gateway.connectionCount, 2, 'not closed before the timeout');
  await waitFor(() => s.gateway.connectionCount === 1, 'the slow consumer to be closed', 10_000);
  assert.ok(Date.now() - inactiveAt >= 1000, 'closed only after the timeout');
  (slow.ws as any)._socket.resume();
  const [code] = await closed;
  assert.equal(code, 4008);
  await waitFor(() => fast.frames.some((f) => f.seq === String(last)), 'the fast client to get every state');
  const deltas = fast.frames.filter((f) => f.type === 'delta');
  for (let i = 1; i < deltas.length; i++) assert.equal(deltas[i].prevSeq, deltas[i - 1].seq);
  fast.ws.close();
});

test('subscriptions per connection are bounded', async (t) => {
  const s = await setup({ maxSubscriptions: 3 });
  t.after(() => s.close());
  const c = await s.open();
  for (const d of ['a', 'b', 'c', 'd']) c.ws.send(JSON.stringify({ type: 'subscribe', doc: d }));
  await waitFor(() => c.frames.some((f) => f.type === 'error'), 'the error');
  const err = c.frames.find((f) => f.type === 'error');
  assert.equal(err.code, 'too_many_subscriptions');
  assert.equal(err.doc, 'd');
  await waitFor(() => c.frames.filter((f) => f.type === 'snapshot').length === 3, 'three snapshots');
  // unsubscribing frees a slot
  c.ws.send(JSON.stringify({ type: 'unsubscribe', doc: 'a' }));
  c.ws.send(JSON.stringify({ type: 'subscribe', doc: 'd' }));
  await waitFor(() => c.frames.some((f) => f.type === 'snapshot' && f.doc === 'd'), 'd after a slot freed');
  c.ws.close();
});

test('unacknowledged publishes per connection are bounded', async (t) => {
  // a writer that never answers until released: publishes pile up at the bound
  const pending: (() => void)[] = [];
  const writer: Writer = { write: () => new Promise((resolve) => pending.push(() => resolve(1n))) };
  const s = await setup({ maxInflightPublishes: 4 }, writer);
  t.after(() => s.close());
  const c = await s.open();
  // distinct docs: one doc's publishes reach the writer one at a time (publish-order.ts), queued ones count too
  for (let i = 0; i < 6; i++) c.ws.send(JSON.stringify({ type: 'publish', doc: `p${i}`, patch: { i }, id: `id-${i}` }));
  await waitFor(() => c.frames.filter((f) => f.type === 'error').length === 2, 'two refusals');
  assert.deepEqual(
    c.frames.filter((f) => f.type === 'error').map((f) => [f.code, f.id]),
    [
      ['unavailable', 'id-4'],
      ['unavailable', 'id-5'],
    ],
  );
  assert.equal(pending.length, 4);
  for (const r of pending) r();
  await waitFor(() => c.frames.filter((f) => f.type === 'ack').length === 4, 'four acks');
  c.ws.close();
});
