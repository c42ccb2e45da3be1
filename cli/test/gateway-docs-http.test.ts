/**
 * The gateway's document routes (gateway/src/docs-http.ts) at their bounds, in front of a real
 * origin HTTP API (in-memory log): requests forwarded at once (503 + Retry-After past the bound),
 * the body bound (413), an unreachable origin (503, its address never shown), and the cluster
 * signature (an origin with CLUSTER_SECRET accepts the forwarded request, a wrong secret is 503);
 * per-user views projected and checked at the edge.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as uWS from 'uWebSockets.js';
import { MemoryLog, MemorySnapshotStore } from '@replicant/stream';
import { Origin, registerOriginHttp } from '@replicant/origin';
import { registerDocsHttp, type DocsHttpOptions } from '@replicant/gateway';
import { freePort } from '@replicant/testkit';
import { post } from './harness.js';
import { ApiKeys, HttpAuthenticator, TokenVerifier } from '@replicant/auth';
import { ViewRules } from '@replicant/protocol';
import { nowSec, sign } from './tokens.js';

const CLUSTER_SECRET = 'gateway-docs-secret-0123456789';

async function listen(app: uWS.TemplatedApp): Promise<{ url: string; close: () => void }> {
  const token = await new Promise<uWS.us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (t) => (t ? resolve(t) : reject(new Error('listen failed')))),
  );
  return { url: `http://127.0.0.1:${uWS.us_socket_local_port(token)}`, close: () => uWS.us_listen_socket_close(token) };
}

async function setup(t: { after: (fn: () => Promise<void> | void) => void }, gw: Omit<DocsHttpOptions, 'originUrl'>, originSecret = CLUSTER_SECRET) {
  const log = new MemoryLog({ partitions: 1 });
  const origin = await Origin.start({ log, store: new MemorySnapshotStore() });
  const oApp = uWS.App();
  registerOriginHttp(oApp, origin, { clusterSecret: originSecret });
  const o = await listen(oApp);
  const gApp = uWS.App();
  registerDocsHttp(gApp, { originUrl: o.url, ...gw });
  const g = await listen(gApp);
  t.after(async () => {
    g.close();
    o.close();
    await origin.close();
  });
  return { log, origin, gateway: g.url, originUrl: o.url };
}

test('gateway docs routes: at most maxInflight forwarded at once, then 503 with Retry-After', async (t) => {
  const { log, gateway } = await setup(t, { clusterSecret: CLUSTER_SECRET, maxInflight: 2 });
  log.pauseDurability(); // writes wait at origin: the forwarded requests stay in flight
  const held = [post(gateway, 'd', { a: 1 }), post(gateway, 'd', { a: 2 })];
  // the two held requests reach origin's log before the third is sent
  while (log.stats().pendingAppends < 2) await new Promise((r) => setImmediate(r));
  const r = await fetch(`${gateway}/v1/docs/d`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":3}' });
  assert.equal(r.status, 503);
  assert.equal(r.headers.get('retry-after'), '1');
  assert.equal(((await r.json()) as any).error.code, 'unavailable');
  log.resumeDurability();
  for (const w of await Promise.all(held)) assert.equal(w.status, 200);
  assert.equal((await post(gateway, 'd', { a: 4 })).status, 200, 'served again below the bound');
});

test('gateway docs routes: a body over maxBodyBytes is 413; signed forwards are accepted, a wrong secret is 503', async (t) => {
  const { gateway } = await setup(t, { clusterSecret: CLUSTER_SECRET, maxBodyBytes: 100 });
  const big = await post(gateway, 'd', { x: 'y'.repeat(200) });
  assert.deepEqual([big.status, big.body.error.code], [413, 'payload_too_large']);
  const ok = await post(gateway, 'd', { x: 1 }, { 'idempotency-key': 'k' });
  assert.equal(ok.status, 200);
  const hist = (await (await fetch(`${gateway}/v1/docs/d/history?after=0&limit=5`)).json()) as any;
  assert.deepEqual(hist, { ops: [{ seq: ok.body.seq, prevSeq: '0', patch: { x: 1 }, ts: hist.ops[0].ts }], next: null });

  const wrong = await setup(t, { clusterSecret: 'another-secret-0123456789' });
  const refused = await post(wrong.gateway, 'd', { x: 1 });
  assert.deepEqual([refused.status, refused.body.error.code], [503, 'unavailable']);
});

test('gateway docs routes: an unreachable origin is 503 without its address', async (t) => {
  const port = await freePort();
  const gApp = uWS.App();
  registerDocsHttp(gApp, { originUrl: `http://127.0.0.1:${port}`, clusterSecret: CLUSTER_SECRET });
  const g = await listen(gApp);
  t.after(() => g.close());
  const r = await fetch(`${g.url}/v1/docs/d?at=1`);
  const text = await r.text();
  assert.equal(r.status, 503);
  assert.ok(!text.includes(String(port)) && !text.includes('127.0.0.1'), text);
});

test('gateway docs routes with VIEWS_FILE rules: GET projected per JWT caller (origin answers the signed request whole), writes outside the view 403, API keys see all', async (t) => {
  const SECRET = 'gateway-docs-views-jwt-secret-0123456789';
  const KEY = 'gateway-docs-views-api-key-0123456789';
  const views = ViewRules.parse({ views: [{ docs: 'game:*', private: { '/hands/{sub}': 'owner', '/admin': 'claim:role=admin', '/seed': 'nobody' } }] });
  const auth = new HttpAuthenticator(new TokenVerifier({ jwtSecret: SECRET }), new ApiKeys([KEY]));
  const { gateway } = await setup(t, { clusterSecret: CLUSTER_SECRET, auth, views });
  const key = { authorization: `Bearer ${KEY}` };
  const claims = (sub: string, role?: string) => ({ sub, role, read: ['game:*'], write: ['game:*'], exp: nowSec() + 600 });
  const alice = { authorization: `Bearer ${await sign(claims('alice'), SECRET)}` };
  const boss = { authorization: `Bearer ${await sign(claims('boss', 'admin'), SECRET)}` };
  const whole = { hands: { alice: ['a1'], bob: ['b1'] }, admin: { note: 'n' }, seed: 7, board: 1 };
  assert.equal((await post(gateway, 'game:1', whole, key)).status, 200);
  const get = async (h: Record<string, string>, suffix = '') => {
    const r = await fetch(`${gateway}/v1/docs/game:1${suffix}`, { headers: h });
    return { status: r.status, body: (await r.json()) as any };
  };
  assert.deepEqual((await get(key)).body.state, whole);
  assert.deepEqual((await get(alice)).body.state, { hands: { alice: ['a1'] }, board: 1 });
  assert.deepEqual((await get(boss)).body.state, { hands: {}, admin: { note: 'n' }, board: 1 });
  for (const patch of [{ hands: { bob: ['x'] } }, { seed: 1 }, { hands: null }]) {
    const r = await post(gateway, 'game:1', patch, alice);
    assert.deepEqual([r.status, r.body.error?.code], [403, 'forbidden'], JSON.stringify(patch));
  }
  assert.equal((await post(gateway, 'game:1', { hands: { alice: ['a2'] } }, alice)).status, 200);
  // this origin has no VIEWS_FILE: a restricted caller's history is 503, never the raw ops
  // (views-history.test.ts reads the projected pages)
  assert.equal((await get(alice, '/history')).status, 503);
  assert.equal((await get(key, '/history')).status, 200);
  assert.deepEqual((await get(key)).body.state.hands, { alice: ['a2'], bob: ['b1'] });
});
