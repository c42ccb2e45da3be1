/**
 * The server API in `replicant dev` (in-process: origin, control stream, gateway): welcome ids,
 * messages by sub / meta / connection id (each matching connection exactly once), the disconnect
 * command (4003 within 2 s), revocations (live token_expired and no messages in the refresh grace,
 * new connections refused, newer tokens accepted), GET /v1/connections, API keys only (JWT 403), bad bodies 400 with a code,
 * and a message for an inactive connection dropped and counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startDevProcess, tempDir, type DevProcess, startDevFor } from './harness.js';
import { nowSec, sign } from './tokens.js';
import { connect, type ClientStatus, type ReplicantClient } from '@replicant/sdk';

const API_KEY = 'server-api-key-0123456789';
const SECRET = 'hs256-server-api-secret-0123456789';
const key = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };

const startDev = (t: { after(fn: () => Promise<void>): void }) => startDevFor(t, { AUTH_JWT_SECRET: SECRET, API_KEYS: API_KEY });

const token = (sub: string, iat = nowSec()) => sign({ sub, iat, read: ['*'], write: ['*'], exp: nowSec() + 600 }, SECRET);

/** a JSON client of `sub`, authenticated, with its welcome; `hello` (with meta) when given */
async function client(dev: DevProcess, sub: string, hello?: { window: number; meta?: Record<string, string> }, iat?: number): Promise<{ c: RawClient; id: string }> {
  const c = await RawClient.open(`${dev.wsUrl}?token=${await token(sub, iat)}`);
  if (hello) c.send({ type: 'hello', ...hello });
  const w = await c.next((f) => f.type === 'welcome');
  return { c, id: w.connection };
}

async function api(dev: DevProcess, method: string, path: string, body?: unknown, headers: Record<string, string> = key): Promise<{ status: number; body: any }> {
  const r = await fetch(`${dev.url}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

const messages = (c: RawClient, id: string) => c.frames.filter((f) => f.type === 'message' && f.id === id);

/** a marker message to every connection given: once each has it, every earlier command was applied */
async function barrier(dev: DevProcess, clients: { c: RawClient; id: string }[]): Promise<void> {
  for (const x of clients) {
    const r = await api(dev, 'POST', '/v1/messages', { to: { connection: x.id }, data: { barrier: true } });
    assert.equal(r.status, 200);
    await x.c.next((f) => f.type === 'message' && f.id === r.body.id);
  }
}

test('welcome ids, and messages reach exactly the matching connections, once each', async (t) => {
  const dev = await startDev(t);
  const a1 = await client(dev, 'alice', { window: 256, meta: { region: 'eu' } });
  const a2 = await client(dev, 'alice', { window: 256, meta: { region: 'us' } });
  const b = await client(dev, 'bob', { window: 256, meta: { region: 'eu', tier: 'pro' } });
  const all = [a1, a2, b];
  assert.equal(new Set(all.map((x) => x.id)).size, 3, 'connection ids are distinct');
  for (const x of all) assert.match(x.id, /^dev-\d+\.[0-9a-f]{8}\.[0-9a-z]+$/);

  const toSub = await api(dev, 'POST', '/v1/messages', { to: { sub: 'alice' }, data: { text: 'hi alice' } });
  assert.equal(toSub.status, 200);
  assert.equal(typeof toSub.body.id, 'string');
  const toMeta = await api(dev, 'POST', '/v1/messages', { to: { meta: { region: 'eu' } }, data: { text: 'hi eu' } });
  const toConn = await api(dev, 'POST', '/v1/messages', { to: { connection: a2.id }, data: { n: 1, nested: { ok: [1, 'ü'] } } });
  await barrier(dev, all);

  assert.deepEqual(messages(a1.c, toSub.body.id).map((f) => f.data), [{ text: 'hi alice' }]);
  assert.equal(messages(a2.c, toSub.body.id).length, 1);
  assert.equal(messages(b.c, toSub.body.id).length, 0);
  assert.equal(messages(a1.c, toMeta.body.id).length, 1);
  assert.equal(messages(a2.c, toMeta.body.id).length, 0);
  assert.equal(messages(b.c, toMeta.body.id).length, 1);
  assert.deepEqual(messages(a2.c, toConn.body.id).map((f) => f.data), [{ n: 1, nested: { ok: [1, 'ü'] } }]);
  assert.equal(messages(a1.c, toConn.body.id).length + messages(b.c, toConn.body.id).length, 0);
  for (const x of all) x.c.close();
});

test('GET /v1/connections lists by sub and meta, in pages', async (t) => {
  const dev = await startDev(t);
  const a1 = await client(dev, 'alice', { window: 256, meta: { region: 'eu' } });
  const a2 = await client(dev, 'alice');
  const b = await client(dev, 'bob', { window: 256, meta: { region: 'eu' } });
  a1.c.send({ type: 'subscribe', doc: 'room:1' });
  await a1.c.next((f) => f.type === 'snapshot');

  const bySub = await api(dev, 'GET', '/v1/connections?sub=alice');
  assert.equal(bySub.status, 200);
  assert.deepEqual(bySub.body.connections.map((c: any) => c.id), [a1.id, a2.id]);
  const first = bySub.body.connections[0];
  assert.deepEqual({ sub: first.sub, meta: first.meta, docs: first.docs, gateway: first.gateway }, { sub: 'alice', meta: { region: 'eu' }, docs: 1, gateway: first.gateway });
  assert.ok(first.since <= Date.now() && first.since > Date.now() - 60_000);
  assert.equal(bySub.body.next, null);

  const eu = await api(dev, 'GET', '/v1/connections?meta.region=eu');
  assert.deepEqual(eu.body.connections.map((c: any) => c.id), [a1.id, b.id]);

  const p1 = await api(dev, 'GET', '/v1/connections?limit=2');
  assert.deepEqual(p1.body.connections.map((c: any) => c.id), [a1.id, a2.id]);
  assert.equal(p1.body.next, a2.id);
  const p2 = await api(dev, 'GET', `/v1/connections?limit=2&after=${encodeURIComponent(p1.body.next)}`);
  assert.deepEqual(p2.body.connections.map((c: any) => c.id), [b.id]);
  assert.equal(p2.body.next, null);

  a2.c.close();
  await a2.c.closed;
  // the server sees the close asynchronously: ask until the index no longer lists it
  const after = await waitFor(async () => {
    const r = await api(dev, 'GET', '/v1/connections?sub=alice');
    return r.body.connections.length === 1 ? r : undefined;
  });
  assert.deepEqual(after.body.connections.map((c: any) => c.id), [a1.id]);
  assert.equal((await api(dev, 'GET', '/v1/connections?limit=0')).body.error.code, 'bad_request');
  assert.equal((await api(dev, 'GET', '/v1/connections?bogus=1')).status, 400);
  a1.c.close();
  b.c.close();
});

/** the close of a client socket reaches the server asynchronously: retries a few times until `fn` has a value */
async function waitFor<T>(fn: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error('condition not reached');
}

test('disconnect closes every connection of the sub with 4003 within 2 s; others carry on', async (t) => {
  const dev = await startDev(t);
  const a1 = await client(dev, 'alice');
  const a2 = await client(dev, 'alice', { window: 16 });
  const b = await client(dev, 'bob');
  const t0 = Date.now();
  const r = await api(dev, 'POST', '/v1/users/alice/disconnect', { reconnect: false });
  assert.equal(r.status, 200);
  assert.deepEqual(await Promise.all([a1.c.closed, a2.c.closed]), [4003, 4003]);
  assert.ok(Date.now() - t0 < 2000, `closed within 2 s (${Date.now() - t0} ms)`);
  for (const x of [a1, a2]) assert.deepEqual(x.c.frames.find((f) => f.type === 'disconnect'), { type: 'disconnect', reconnect: false });
  await barrier(dev, [b]);
  assert.equal(b.c.closeCode, undefined);
  // no body: reconnect defaults to true
  const a3 = await client(dev, 'alice');
  assert.equal((await api(dev, 'POST', '/v1/users/alice/disconnect', '')).status, 200);
  assert.equal(await a3.c.closed, 4003);
  assert.deepEqual(a3.c.frames.find((f) => f.type === 'disconnect'), { type: 'disconnect', reconnect: true });
  b.c.close();
});

test('revocation: live older tokens get token_expired, new connections with one are refused, newer tokens work', async (t) => {
  const dev = await startDev(t);
  const old = nowSec() - 100;
  const live = await client(dev, 'alice', undefined, old);
  const bob = await client(dev, 'bob', undefined, old);
  const before = nowSec() - 10;
  const r = await api(dev, 'POST', '/v1/revocations', { sub: 'alice', before });
  assert.deepEqual(r, { status: 200, body: { sub: 'alice', before } });
  const e = await live.c.next((f) => f.type === 'error');
  assert.equal(e.code, 'token_expired');
  // a new connection with the old token is refused
  const refused = await RawClient.open(`${dev.wsUrl}?token=${await token('alice', old)}`);
  const re = await refused.next((f) => f.type === 'error');
  assert.equal(re.code, 'unauthorized');
  assert.equal(await refused.closed, 4001);
  assert.equal(refused.frames.filter((f) => f.type === 'welcome').length, 0);
  // origin's document routes refuse it too
  const oldAuth = { authorization: `Bearer ${await token('alice', old)}` };
  const getOld = await fetch(`${dev.url}/v1/docs/room:1`, { headers: oldAuth });
  assert.equal(getOld.status, 401);
  assert.equal(((await getOld.json()) as any).error.code, 'unauthorized');
  assert.equal((await fetch(`${dev.url}/v1/docs/room:1`, { method: 'POST', headers: { ...oldAuth, 'content-type': 'application/json' }, body: '{"a":1}' })).status, 401);
  assert.equal((await fetch(`${dev.url}/v1/docs/room:1`, { headers: { authorization: `Bearer ${await token('alice')}` } })).status, 200);
  assert.equal((await fetch(`${dev.url}/v1/docs/room:1`, { headers: { authorization: `Bearer ${await token('bob', old)}` } })).status, 200);
  // a token issued after `before` works, also as a refresh of the expired connection
  const fresh = await client(dev, 'alice', undefined, nowSec());
  fresh.c.send({ type: 'subscribe', doc: 'room:1' });
  await fresh.c.next((f) => f.type === 'snapshot');
  // in its refresh grace the revoked connection gets no message; the fresh one does
  const m = await api(dev, 'POST', '/v1/messages', { to: { sub: 'alice' }, data: { text: 'for valid tokens' } });
  await fresh.c.next((f) => f.type === 'message' && f.id === m.body.id);
  live.c.send({ type: 'auth', token: await token('alice', nowSec()) });
  live.c.send({ type: 'subscribe', doc: 'room:1' });
  await live.c.next((f) => f.type === 'snapshot');
  await barrier(dev, [live]); // ordered after m on the control stream
  assert.equal(messages(live.c, m.body.id).length, 0, 'not delivered while its token was revoked');
  // bob's old token is untouched
  await barrier(dev, [bob]);
  assert.equal(bob.c.frames.filter((f) => f.type === 'error').length, 0);
  // an earlier `before` never shortens the revocation
  assert.deepEqual((await api(dev, 'POST', '/v1/revocations', { sub: 'alice', before: before - 50 })).body, { sub: 'alice', before });
  for (const x of [live, bob, fresh]) x.c.close();
});

test('revocations survive a restart: a new gateway learns them from the control stream', async (t) => {
  const tmp = tempDir();
  const env = { AUTH_JWT_SECRET: SECRET, API_KEYS: API_KEY };
  let dev: DevProcess | undefined = await startDevProcess({ dataDir: tmp.dir, env });
  // one hook, in order: the running process stops before its data dir is removed
  t.after(async () => {
    await dev?.stop();
    tmp.cleanup();
  });
  const old = nowSec() - 100;
  assert.equal((await api(dev, 'POST', '/v1/revocations', { sub: 'alice', before: nowSec() - 10 })).status, 200);
  await dev.stop();
  dev = undefined;
  const dev2 = (dev = await startDevProcess({ dataDir: tmp.dir, env }));
  const refused = await RawClient.open(`${dev2.wsUrl}?token=${await token('alice', old)}`);
  assert.equal((await refused.next((f) => f.type === 'error')).code, 'unauthorized');
  assert.equal(await refused.closed, 4001);
});

test('API keys only: JWT 403, none 401, on every route; bad bodies 400 with a code', async (t) => {
  const dev = await startDev(t);
  const jwt = { authorization: `Bearer ${await token('alice')}`, 'content-type': 'application/json' };
  const routes: [string, string, unknown][] = [
    ['POST', '/v1/messages', { to: { sub: 'a' }, data: {} }],
    ['POST', '/v1/users/alice/disconnect', {}],
    ['POST', '/v1/revocations', { sub: 'alice', before: nowSec() }],
    ['GET', '/v1/connections', undefined],
  ];
  for (const [method, path, body] of routes) {
    const j = await api(dev, method, path, body, jwt);
    assert.equal(j.status, 403, `${method} ${path} with a JWT`);
    assert.equal(j.body.error.code, 'forbidden');
    const none = await api(dev, method, path, body, { 'content-type': 'application/json' });
    assert.equal(none.status, 401, `${method} ${path} without a credential`);
    assert.equal(none.body.error.code, 'unauthorized');
    assert.equal((await api(dev, method, path, body)).status, 200, `${method} ${path} with the API key`);
  }
  const badBodies: [string, unknown, number, string][] = [
    ['/v1/messages', 'not json', 400, 'bad_request'],
    ['/v1/messages', [], 400, 'bad_request'],
    ['/v1/messages', { to: { sub: 'a' } }, 400, 'bad_request'],
    ['/v1/messages', { to: { sub: 'a' }, data: 'text' }, 400, 'bad_request'],
    ['/v1/messages', { to: { sub: 'a', connection: 'x' }, data: {} }, 400, 'bad_request'],
    ['/v1/messages', { to: { sub: '' }, data: {} }, 400, 'bad_request'],
    ['/v1/messages', { to: { meta: { region: 1 } }, data: {} }, 400, 'bad_request'],
    ['/v1/messages', { to: { meta: {} }, data: {} }, 400, 'bad_request'],
    ['/v1/messages', { to: { team: 'x' }, data: {} }, 400, 'bad_request'],
    ['/v1/messages', { to: { sub: 'a' }, data: { s: 'x'.repeat(64 * 1024) } }, 413, 'payload_too_large'],
    ['/v1/messages', { to: { sub: 'a' }, data: { s: 'x'.repeat(200 * 1024) } }, 413, 'payload_too_large'],
    ['/v1/users/alice/disconnect', { reconnect: 'no' }, 400, 'bad_request'],
    ['/v1/revocations', { sub: 'alice' }, 400, 'bad_request'],
    ['/v1/revocations', { sub: 'alice', before: 1.5 }, 400, 'bad_request'],
    ['/v1/revocations', { sub: 'alice', before: nowSec() + 7 * 24 * 3600 }, 400, 'bad_request'],
    ['/v1/revocations', { sub: 7, before: nowSec() }, 400, 'bad_request'],
  ];
  for (const [path, body, status, code] of badBodies) {
    const r = await api(dev, 'POST', path, body);
    assert.equal(r.status, status, `${path} ${JSON.stringify(body).slice(0, 80)}`);
    assert.equal(r.body.error.code, code);
  }
  // data at exactly the bound is accepted
  const fits = { s: 'x'.repeat(64 * 1024 - 8) };
  assert.equal(JSON.stringify(fits).length, 64 * 1024);
  assert.equal((await api(dev, 'POST', '/v1/messages', { to: { sub: 'a' }, data: fits })).status, 200);
});

test('hello.meta over 1 KiB or not flat strings is a bad frame; the connection carries on', async (t) => {
  const dev = await startDev(t);
  const { c } = await client(dev, 'alice');
  c.send({ type: 'hello', window: 16, meta: { big: 'x'.repeat(1024) } });
  assert.equal((await c.next((f) => f.type === 'error')).code, 'bad_frame');
  c.send({ type: 'hello', window: 16, meta: { n: 1 } });
  assert.equal((await c.next((f) => f.type === 'error', c.frames.length)).code, 'bad_frame');
  c.send({ type: 'ping' });
  await c.next((f) => f.type === 'pong');
  c.close();
});

test('a message for an inactive connection (out of credit) is dropped and counted, never queued', async (t) => {
  const dev = await startDev(t);
  const stalled = await client(dev, 'alice', { window: 1 });
  const other = await client(dev, 'alice');
  stalled.c.send({ type: 'subscribe', doc: 'room:1' });
  await stalled.c.next((f) => f.type === 'snapshot'); // the one frame of its window: now out of credit
  const dropped = await api(dev, 'POST', '/v1/messages', { to: { sub: 'alice' }, data: { n: 1 } });
  await barrier(dev, [other]);
  assert.equal(messages(other.c, dropped.body.id).length, 1);
  const metrics = await (await fetch(`${dev.url}/metrics`)).text();
  assert.match(metrics, /replicant_gateway_server_api_total\{event="dropped"\} 1\b/);
  assert.match(metrics, /replicant_gateway_server_api_total\{event="delivered"\} [1-9]/);
  assert.match(metrics, /replicant_gateway_server_api_total\{event="commands"\} [1-9]/);
  // credit again: later messages arrive, the dropped one never does
  stalled.c.send({ type: 'credit', n: 8 });
  const later = await api(dev, 'POST', '/v1/messages', { to: { connection: stalled.id }, data: { n: 2 } });
  await stalled.c.next((f) => f.type === 'message' && f.id === later.body.id);
  assert.equal(messages(stalled.c, dropped.body.id).length, 0);
  stalled.c.close();
  other.c.close();
});

/** resolves with the client's connection id once it has one (now or later) */
function connectionIdOf(client: ReplicantClient): Promise<string> {
  if (client.connectionId !== undefined) return Promise.resolve(client.connectionId);
  return new Promise((resolve) => {
    const off = client.on('welcome', (ev) => {
      off();
      resolve(ev.connection);
    });
  });
}

/** resolves when the client's status becomes `want` (now or later) */
function statusBecomes(client: ReplicantClient, want: ClientStatus): Promise<void> {
  if (client.status === want) return Promise.resolve();
  return new Promise((resolve) => {
    const off = client.on('status', (ev) => {
      if (ev.status !== want) return;
      off();
      resolve();
    });
  });
}

for (const protocol of ['binary', 'json'] as const) {
  test(`SDK (${protocol}): connectionId, meta, on('message'), and a disconnect with reconnect:false stays disconnected`, async (t) => {
    const dev = await startDev(t);
    const tok = await token('alice');
    const client = connect(dev.url, { protocol, token: tok, meta: { region: 'eu' } });
    t.after(() => client.close());
    const got: { id: string; data: unknown }[] = [];
    const arrived: ((id: string) => void)[] = [];
    client.on('message', (m) => {
      got.push({ id: m.id, data: m.data });
      for (const f of arrived) f(m.id);
    });
    const id = await connectionIdOf(client);
    assert.equal(client.connectionId, id);
    const listed = await api(dev, 'GET', '/v1/connections?meta.region=eu');
    assert.deepEqual(listed.body.connections.map((c: any) => c.id), [id]);
    const m = await api(dev, 'POST', '/v1/messages', { to: { meta: { region: 'eu' } }, data: { text: 'hello', n: [1, 2] } });
    assert.equal(m.status, 200);
    // the message may arrive before the 200 does
    if (!got.some((g) => g.id === m.body.id)) await new Promise<void>((resolve) => arrived.push((id) => id === m.body.id && resolve()));
    assert.deepEqual(got, [{ id: m.body.id, data: { text: 'hello', n: [1, 2] } }]);
    const disconnected = statusBecomes(client, 'disconnected');
    const reconnects: unknown[] = [];
    client.on('reconnect', (ev) => reconnects.push(ev));
    assert.equal((await api(dev, 'POST', '/v1/users/alice/disconnect', { reconnect: false })).status, 200);
    await disconnected;
    assert.equal(client.status, 'disconnected');
    assert.equal(client.connectionId, undefined);
    assert.deepEqual(reconnects, [], 'no reconnect is scheduled');
    // the server has no connection of alice left, and the client does not come back
    const none = await api(dev, 'GET', '/v1/connections?sub=alice');
    assert.deepEqual(none.body.connections, []);
  });
}

test('SDK: a disconnect that allows reconnecting reconnects with a new connection id', async (t) => {
  const dev = await startDev(t);
  const client = connect(dev.url, { protocol: 'json', token: await token('alice'), backoff: { initialMs: 10, maxMs: 20 } });
  t.after(() => client.close());
  const first = await connectionIdOf(client);
  const back = new Promise<string>((resolve) => {
    client.on('welcome', (ev) => {
      if (ev.connection !== first) resolve(ev.connection);
    });
  });
  assert.equal((await api(dev, 'POST', '/v1/users/alice/disconnect', {})).status, 200);
  const second = await back;
  assert.notEqual(second, first);
});
