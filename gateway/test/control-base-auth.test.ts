/**
 * A gateway that does not hold the control stream's base yet does not know the revocation list, so
 * a token verified meanwhile waits for the base before it is accepted: a revoked token is refused
 * at connect (`unauthorized`, 4001) instead of being accepted and cut later. If the base does not
 * come within authTimeoutMs the connection gets `unavailable` (close 4013) and can retry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createHmac } from 'node:crypto';
import * as uWS from 'uWebSockets.js';
import WebSocket from 'ws';
import { MemoryLog, MemorySnapshotStore } from '@replicant/stream';
import { Origin } from '@replicant/origin';
import { Replica, type Upstream, type UpstreamListener } from '@replicant/fanout';
import { CONTROL_DOC } from '@replicant/protocol';
import { Gateway } from '../src/gateway.js';

const SECRET = 'control-base-auth-secret-0123456789';
const nowSec = () => Math.floor(Date.now() / 1000);

function token(sub: string, iat: number): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, iat, read: ['*'], write: ['*'], exp: nowSec() + 600 })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

/** the replica, with the control doc's subscription held back until `release()` */
class HeldControl implements Upstream {
  private held: UpstreamListener[] = [];
  constructor(private readonly inner: Upstream) {}
  subscribe(doc: string, l: UpstreamListener): void {
    if (doc === CONTROL_DOC) this.held.push(l);
    else this.inner.subscribe(doc, l);
  }
  unsubscribe(doc: string, l: UpstreamListener): void {
    this.held = this.held.filter((h) => h !== l);
    this.inner.unsubscribe(doc, l);
  }
  release(): void {
    for (const l of this.held.splice(0)) this.inner.subscribe(CONTROL_DOC, l);
  }
}

async function setup(t: { after(fn: () => Promise<void>): void }, authTimeoutMs = 10_000) {
  const log = new MemoryLog({ partitions: 1 });
  const store = new MemorySnapshotStore();
  const origin = await Origin.start({ log, store });
  const replica = await Replica.start({ log, store });
  // alice's tokens issued before now - 10 s are revoked (a revocation made before this gateway started)
  await origin.writeReserved(CONTROL_DOC, JSON.stringify({ revocations: { alice: nowSec() - 10 } }));
  const upstream = new HeldControl(replica);
  const gateway = new Gateway({ upstream, writer: origin, auth: { jwtSecret: SECRET }, authTimeoutMs });
  const app = uWS.App();
  gateway.attach(app);
  const port = await new Promise<number>((resolve) => app.listen('127.0.0.1', 0, (l) => resolve(uWS.us_socket_local_port(l as uWS.us_listen_socket))));
  t.after(async () => {
    await gateway.drain({ graceMs: 0 });
    app.close();
    await replica.close();
    await origin.close();
  });
  const open = (tok: string) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream?token=${tok}`, ['replicant.v1.json']);
    const frames: { type: string; code?: string }[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    return { ws, frames, closed: once(ws, 'close') as Promise<[number, Buffer]> };
  };
  return { upstream, gateway, open, port };
}

test('before the control base a verified token waits: a revoked one is refused at connect, a fresh one welcomed', { timeout: 15_000 }, async (t) => {
  const { upstream, gateway, open } = await setup(t);
  assert.equal(gateway.control.ready, false);
  const revoked = open(token('alice', nowSec() - 100));
  const fresh = open(token('alice', nowSec()));
  await Promise.all([once(revoked.ws, 'open'), once(fresh.ws, 'open')]);
  upstream.release();
  const [code] = await revoked.closed;
  assert.equal(code, 4001);
  assert.deepEqual(
    revoked.frames.map((f) => f.code ?? f.type),
    ['unauthorized'],
    'refused at connect, never welcomed and later cut with token_expired',
  );
  if (!fresh.frames.some((f) => f.type === 'welcome')) {
    await new Promise<void>((resolve) => fresh.ws.on('message', () => fresh.frames.some((f) => f.type === 'welcome') && resolve()));
  }
  assert.deepEqual(fresh.frames.map((f) => f.code).filter(Boolean), [], 'a token issued after the revocation is accepted');
  fresh.ws.close();
});

test('no control base within authTimeoutMs: unavailable and close 4013 (the client retries)', { timeout: 15_000 }, async (t) => {
  const { open } = await setup(t, 300);
  const c = open(token('bob', nowSec()));
  const [code] = await c.closed;
  assert.equal(code, 4013);
  assert.deepEqual(
    c.frames.map((f) => f.code),
    ['unavailable'],
  );
});

test('SSE too: a revoked token waiting for the control base is refused 401 before the stream', { timeout: 15_000 }, async (t) => {
  const { upstream, port } = await setup(t);
  const answer = fetch(`http://127.0.0.1:${port}/v1/sse?doc=d&token=${token('alice', nowSec() - 100)}`, { headers: { accept: 'text/event-stream' } });
  // nothing is answered while the list is unknown (without the wait: 200 and a stream, at once)
  const early = await Promise.race([answer.then((r) => r.status), new Promise((r) => setTimeout(r, 500, 'none'))]);
  assert.equal(early, 'none', 'no answer before the control base');
  upstream.release();
  const res = await answer;
  assert.equal(res.status, 401);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'unauthorized');
});
