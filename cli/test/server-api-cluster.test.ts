/**
 * The server API across a real cluster (3 Kafka brokers, redis-server, origin, one replica, two
 * gateways): commands ride the log to every gateway. A message to a sub with connections on both
 * gateways reaches each exactly once; a disconnect closes all of them with 4003 within 2 s; a
 * revocation refuses the old token on both gateways (WebSocket and HTTP document routes) and
 * expires the live holders; GET
 * /v1/connections lists connections of both gateways from the Redis directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from './harness.js';
import { startCluster, type Node } from './cluster-harness.js';
import { nowSec, sign } from './tokens.js';

const API_KEY = 'cluster-server-api-key-0123456789';
const SECRET = 'hs256-cluster-server-api-secret-0123456789';
const key = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
const token = (sub: string, iat = nowSec()) => sign({ sub, iat, read: ['*'], write: ['*'], exp: nowSec() + 600 }, SECRET);

async function client(gw: Node, sub: string, iat?: number): Promise<{ c: RawClient; id: string }> {
  const c = await RawClient.open(`${gw.wsUrl}?token=${await token(sub, iat)}`);
  const w = await c.next((f) => f.type === 'welcome');
  return { c, id: w.connection };
}

test('server API in a cluster: messages, disconnect and revocation reach connections on both gateways', { timeout: 240_000 }, async (t) => {
  const cluster = await startCluster({ fanouts: 1, gateways: 2, env: { AUTH_DISABLED: 'false', AUTH_JWT_SECRET: SECRET, API_KEYS: API_KEY } });
  t.after(() => cluster.stop());
  const [g1, g2] = cluster.gateways;
  const api = async (path: string, body: unknown) => {
    const r = await fetch(`${cluster.origin.url}${path}`, { method: 'POST', headers: key, body: JSON.stringify(body) });
    return { status: r.status, body: await r.json() };
  };
  const old = nowSec() - 100;
  // alice: 3 connections on 2 gateways; bob on the second
  const alice = [await client(g1, 'alice', old), await client(g1, 'alice', old), await client(g2, 'alice', old)];
  const bob = await client(g2, 'bob');
  assert.equal(new Set([...alice, bob].map((x) => x.id)).size, 4, 'connection ids are unique across gateways');
  assert.ok(alice[0].id.startsWith('gateway-1.') && alice[2].id.startsWith('gateway-2.'));

  const m = await api('/v1/messages', { to: { sub: 'alice' }, data: { text: 'hi' } });
  assert.equal(m.status, 200);
  // a later message to each connection orders after the first on that gateway's control stream
  const marks = [];
  for (const x of [...alice, bob]) marks.push({ x, r: await api('/v1/messages', { to: { connection: x.id }, data: { mark: true } }) });
  for (const { x, r } of marks) await x.c.next((f) => f.type === 'message' && f.id === r.body.id);
  for (const x of alice) assert.deepEqual(x.c.frames.filter((f) => f.type === 'message' && f.id === m.body.id).map((f) => f.data), [{ text: 'hi' }]);
  assert.equal(bob.c.frames.filter((f) => f.type === 'message' && f.id === m.body.id).length, 0);

  // GET /v1/connections: the gateways' summaries in Redis (rewritten every second when they change)
  const get = async (query: string) => (await fetch(`${cluster.origin.url}/v1/connections?${query}`, { headers: key })).json() as Promise<any>;
  let listed: any;
  for (let i = 0; i < 100; i++) {
    listed = await get('sub=alice');
    if (listed.connections.length === 3) break;
    await new Promise((r) => setTimeout(r, 100)); // polls an index published once a second: no event to await
  }
  assert.deepEqual(listed.connections.map((c: any) => c.id), alice.map((x) => x.id));
  assert.deepEqual(listed.connections.map((c: any) => c.gateway), ['gateway-1', 'gateway-1', 'gateway-2']);
  const p1 = await get('sub=alice&limit=2');
  assert.deepEqual([p1.connections.map((c: any) => c.id), p1.next], [[alice[0].id, alice[1].id], alice[1].id]);
  const p2 = await get(`sub=alice&limit=2&after=${encodeURIComponent(p1.next)}`);
  assert.deepEqual([p2.connections.map((c: any) => c.id), p2.next], [[alice[2].id], null]);

  // revocation: both gateways refuse the old token; live holders get token_expired
  const r = await api('/v1/revocations', { sub: 'alice', before: nowSec() - 10 });
  assert.equal(r.status, 200);
  for (const x of alice) assert.equal((await x.c.next((f) => f.type === 'error')).code, 'token_expired');
  for (const gw of [g1, g2]) {
    const refused = await RawClient.open(`${gw.wsUrl}?token=${await token('alice', old)}`);
    assert.equal((await refused.next((f) => f.type === 'error')).code, 'unauthorized');
    assert.equal(await refused.closed, 4001);
  }
  // the gateways' HTTP document routes refuse the revoked token too (origin trusts their signature)
  const oldAuth = { authorization: `Bearer ${await token('alice', old)}`, 'content-type': 'application/json' };
  const freshAuth = { authorization: `Bearer ${await token('alice')}`, 'content-type': 'application/json' };
  for (const gw of [g1, g2]) {
    const get = await fetch(`${gw.url}/v1/docs/revoked-doc`, { headers: oldAuth });
    assert.deepEqual([get.status, ((await get.json()) as any).error.code], [401, 'unauthorized']);
    const post = await fetch(`${gw.url}/v1/docs/revoked-doc`, { method: 'POST', headers: oldAuth, body: '{"a":1}' });
    assert.deepEqual([post.status, ((await post.json()) as any).error.code], [401, 'unauthorized']);
    const hist = await fetch(`${gw.url}/v1/docs/revoked-doc/history`, { headers: oldAuth });
    assert.equal(hist.status, 401);
  }
  const ok = await fetch(`${g1.url}/v1/docs/revoked-doc`, { method: 'POST', headers: freshAuth, body: '{"a":1}' });
  assert.equal(ok.status, 200, 'a token issued after the revocation still writes through the gateway');
  const fresh = [await client(g1, 'alice'), await client(g2, 'alice')];

  // disconnect: every connection of alice, on both gateways, 4003 within 2 s
  const t0 = Date.now();
  assert.equal((await api('/v1/users/alice/disconnect', { reconnect: false })).status, 200);
  assert.deepEqual(await Promise.all([...alice, ...fresh].map((x) => x.c.closed)), [4003, 4003, 4003, 4003, 4003]);
  assert.ok(Date.now() - t0 < 2000, `closed within 2 s (${Date.now() - t0} ms)`);
  assert.equal(bob.c.closeCode, undefined);
  bob.c.close();
});
