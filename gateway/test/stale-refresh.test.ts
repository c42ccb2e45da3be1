/**
 * The refresh grace (AUTH_REFRESH_GRACE_MS) cannot be extended by tokens already past their exp:
 * such a token verifies (within AUTH_CLOCK_SKEW_S) but does not reset the grace timer, so the
 * connection is closed 4001 when the grace ends; a token with a later exp does end the grace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createHmac } from 'node:crypto';
import * as uWS from 'uWebSockets.js';
import WebSocket from 'ws';
import { MemoryLog, MemorySnapshotStore } from '@replicant/stream';
import { Origin } from '@replicant/origin';
import { Replica } from '@replicant/fanout';
import { Gateway } from '../src/gateway.js';

const SECRET = 'stale-refresh-test-secret-0123456789';
const GRACE_MS = 400;

/** an HS256 JWT expiring `expInSec` from now (negative: already past) */
function token(expInSec: number): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'u', read: ['*'], write: ['*'], exp: Math.floor(Date.now() / 1000) + expInSec })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

async function setup(t: { after(fn: () => Promise<void>): void }) {
  const log = new MemoryLog({ partitions: 1 });
  const store = new MemorySnapshotStore();
  const origin = await Origin.start({ log, store });
  const replica = await Replica.start({ log, store });
  const gateway = new Gateway({ upstream: replica, writer: origin, auth: { jwtSecret: SECRET, clockSkewSec: 60 }, refreshGraceMs: GRACE_MS });
  const app = uWS.App();
  gateway.attach(app);
  const port = await new Promise<number>((resolve) =>
    app.listen('127.0.0.1', 0, (l) => resolve(uWS.us_socket_local_port(l as uWS.us_listen_socket))),
  );
  t.after(async () => {
    await gateway.drain({ graceMs: 0 });
    app.close();
    await replica.close();
    await origin.close();
  });
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream`, ['replicant.v1.json']);
  const frames: any[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  await once(ws, 'open');
  return { ws, frames };
}

test('auth frames with tokens already past exp do not reset the refresh grace: closed 4001 when it ends', { timeout: 10_000 }, async (t) => {
  const { ws, frames } = await setup(t);
  const closed = once(ws, 'close');
  ws.send(JSON.stringify({ type: 'auth', token: token(-5) })); // verifies (skew 60 s), already expired
  const t0 = Date.now();
  // a client stuck in a refresh loop: a stale token every 50 ms, for well over the grace
  const loop = setInterval(() => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'auth', token: token(-5) }));
  }, 50);
  t.after(() => clearInterval(loop));
  const [code] = await closed;
  clearInterval(loop);
  const elapsed = Date.now() - t0;
  assert.equal(code, 4001);
  assert.ok(elapsed < GRACE_MS + 1500, `closed at the end of the first grace (${elapsed} ms)`);
  assert.ok(frames.filter((f) => f.code === 'token_expired').length >= 2, 'each stale token is answered token_expired');
});

test('a token with a later exp in the grace ends it: the connection stays open', async (t) => {
  const { ws, frames } = await setup(t);
  ws.send(JSON.stringify({ type: 'auth', token: token(-5) }));
  while (!frames.some((f) => f.code === 'token_expired')) await once(ws, 'message');
  ws.send(JSON.stringify({ type: 'auth', token: token(600) }));
  ws.send(JSON.stringify({ type: 'publish', doc: 'd', patch: { a: 1 }, id: 'p1' }));
  while (!frames.some((f) => f.id === 'p1')) await once(ws, 'message');
  assert.equal(frames.find((f) => f.id === 'p1').type, 'ack', 'publishes run under the fresh token');
  // past the grace: still open (a ping is answered)
  const closed = once(ws, 'close');
  const pong = new Promise<string>((resolve) => {
    const timer = setTimeout(() => {
      ws.send(JSON.stringify({ type: 'ping' }));
      ws.once('message', () => resolve('pong'));
    }, GRACE_MS + 300);
    void closed.then(() => {
      clearTimeout(timer);
      resolve('closed');
    });
  });
  assert.equal(await pong, 'pong');
  ws.close();
});

test('a publish refused token_expired blocks its doc: one sent after the fresh auth waits for it, so the last published value wins', async (t) => {
  const { ws, frames } = await setup(t);
  const answer = async (id: string) => {
    while (!frames.some((f) => f.id === id)) await once(ws, 'message');
    return frames.find((f) => f.id === id);
  };
  ws.send(JSON.stringify({ type: 'auth', token: token(-5) })); // expires at once: token_expired
  while (!frames.some((f) => f.code === 'token_expired')) await once(ws, 'message');
  ws.send(JSON.stringify({ type: 'publish', doc: 'd', patch: { title: 'A' }, id: 'A' }));
  assert.equal((await answer('A')).code, 'token_expired');
  // the client refreshes and publishes B; before the fix B was applied here, and A (re-sent) after it
  ws.send(JSON.stringify({ type: 'auth', token: token(600) }));
  ws.send(JSON.stringify({ type: 'publish', doc: 'd', patch: { title: 'B' }, id: 'B' }));
  const b = await answer('B');
  assert.deepEqual([b.code, /id A/.test(b.message)], ['unavailable', true]);
  frames.length = 0;
  ws.send(JSON.stringify({ type: 'publish', doc: 'd', patch: { title: 'A' }, id: 'A' }));
  ws.send(JSON.stringify({ type: 'publish', doc: 'd', patch: { title: 'B' }, id: 'B' }));
  const [a2, b2] = [await answer('A'), await answer('B')];
  assert.deepEqual([a2.type, b2.type], ['ack', 'ack']);
  assert.ok(BigInt(b2.seq) > BigInt(a2.seq), 'B applied after A');
  ws.send(JSON.stringify({ type: 'subscribe', doc: 'd' }));
  while (!frames.some((f) => f.type === 'snapshot')) await once(ws, 'message');
  const snap = frames.find((f) => f.type === 'snapshot');
  assert.deepEqual([snap.seq, snap.state], ['2', { title: 'B' }], 'each applied once, the last published value wins');
  ws.close();
});
