/**
 * Acceptance, cluster mode on 3 real Kafka brokers with auth on: the gateway serves origin's
 * document routes (writes, reads, history, ?at=, restore) with origin's scopes (401 / 403), passes
 * Idempotency-Key and If-Match through, and forwards with the cluster signature; history, ?at= and
 * restore hold on the Kafka log (history-check.ts, through the gateway); a seq below the log start
 * (moved by DeleteRecords, as retention does) is 410 `history_expired` naming the oldest seq.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { partitionForKey } from '@replicant/stream';
import { post } from './harness.js';
import { startCluster } from './cluster-harness.js';
import { getJson, runHistoryChecks } from './history-check.js';

const SECRET = 'history-jwt-secret-0123456789';
const API_KEY = 'history-api-key-0123456789';
const PARTITIONS = 2;

function jwt(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
}

async function restore(url: string, doc: string, seq: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const r = await fetch(`${url}/v1/docs/${doc}/restore`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ seq }),
  });
  return { status: r.status, body: await r.json() };
}

test('cluster: the gateway serves docs, history, ?at= and restore with origin scopes; history on Kafka; 410 below the log start', async (t) => {
  const c = await startCluster({
    fanouts: 1,
    gateways: 1,
    partitions: PARTITIONS,
    env: { AUTH_DISABLED: 'false', AUTH_JWT_SECRET: SECRET, API_KEYS: API_KEY, FANOUT_COALESCE: 'false' },
  });
  t.after(() => c.stop());
  const gw = c.gateways[0];
  const all = { authorization: `Bearer ${await jwt({ sub: 'all', read: ['*'], write: ['*'] })}` };
  const reader = { authorization: `Bearer ${await jwt({ sub: 'r', read: ['g:*'], write: [] })}` };
  const apiKey = { authorization: `Bearer ${API_KEY}` };

  // --- HTTP at the edge: origin's scopes, checked at the gateway ---
  const w1 = await post(gw.url, 'g:1', { a: 1 }, { ...apiKey, 'idempotency-key': 'k1' });
  assert.equal(w1.status, 200, JSON.stringify(w1.body));
  const seq1 = w1.body.seq as string;
  const routes: [string, string, (h: Record<string, string>) => Promise<{ status: number; body: any }>][] = [
    ['read', 'GET doc', (h) => getJson(`${gw.url}/v1/docs/g:1`, h)],
    ['read', 'GET ?at=', (h) => getJson(`${gw.url}/v1/docs/g:1?at=${seq1}`, h)],
    ['read', 'GET history', (h) => getJson(`${gw.url}/v1/docs/g:1/history?after=0`, h)],
    ['write', 'POST doc', (h) => post(gw.url, 'g:1', { b: 2 }, h)],
    ['write', 'POST restore', (h) => restore(gw.url, 'g:1', seq1, h)],
  ];
  for (const [access, name, call] of routes) {
    const none = await call({});
    assert.deepEqual([none.status, none.body.error?.code], [401, 'unauthorized'], `${name} without a credential`);
    const bad = await call({ authorization: 'Bearer not-a-token' });
    assert.equal(bad.status, 401, `${name} with a bad credential`);
    const outside = await call({ authorization: `Bearer ${await jwt({ sub: 'x', read: ['other:*'], write: ['other:*'] })}` });
    assert.deepEqual([outside.status, outside.body.error?.code], [403, 'forbidden'], `${name} outside scope`);
    const scoped = await call(reader);
    assert.equal(scoped.status, access === 'read' ? 200 : 403, `${name} with a read-only token`);
    assert.equal((await call(all)).status, 200, `${name} in scope`);
  }
  // a client cannot present a cluster signature to the gateway
  assert.equal((await getJson(`${gw.url}/v1/docs/g:1`, { authorization: 'ReplicantCluster 1.x.y' })).status, 401);

  // Idempotency-Key passes through: a re-send is the first write's seq; If-Match too: 412 / 200
  const again = await post(gw.url, 'g:1', { a: 1 }, { ...apiKey, 'idempotency-key': 'k1' });
  assert.equal(again.body.seq, seq1);
  const now = await fetch(`${gw.url}/v1/docs/g:1`, { headers: all });
  const etag = now.headers.get('etag')!;
  assert.match(etag, /^"\d+"$/);
  const stale = await post(gw.url, 'g:1', { c: 3 }, { ...all, 'if-match': `"${seq1}"` });
  assert.deepEqual([stale.status, stale.body.error.code], [412, 'conflict']);
  const cond = await post(gw.url, 'g:1', { c: 3 }, { ...all, 'if-match': etag });
  assert.equal(cond.status, 200, JSON.stringify(cond.body));
  // restore with If-Match passes it on too
  const staleRestore = await fetch(`${gw.url}/v1/docs/g:1/restore`, {
    method: 'POST',
    headers: { ...all, 'content-type': 'application/json', 'if-match': etag },
    body: JSON.stringify({ seq: seq1 }),
  });
  assert.equal(staleRestore.status, 412);
  // errors never name origin's address
  const body = JSON.stringify((await getJson(`${gw.url}/v1/docs/g:1?at=x`, all)).body);
  assert.ok(!body.includes(new URL(c.origin.url).port), body);

  // --- history on Kafka, through the gateway ---
  await runHistoryChecks({ url: gw.url, wsUrl: gw.wsUrl, headers: all }, { doc: 'g:hist', other: 'g:other', writes: 5000, samples: 100 });

  // --- 410 below the log start (DeleteRecords moves it, as retention does) ---
  const doc = 'g:expire';
  const first = await post(gw.url, doc, { v: 0 }, all);
  let last = first;
  for (let i = 1; i <= 20; i++) last = await post(gw.url, doc, { v: i }, all);
  const lastSeq = BigInt(last.body.seq);
  // delete every record of the doc's partition up to its last op (the log start moves to lastSeq)
  await c.kafka.deleteRecords(c.topic, partitionForKey(doc, PARTITIONS), lastSeq);
  // until origin's checkpoint covers the new log start, it answers 503 with Retry-After
  let at = await getJson(`${gw.url}/v1/docs/${doc}?at=${first.body.seq}`, all);
  for (let i = 0; at.status === 503 && i < 50; i++) {
    await new Promise((r) => setTimeout(r, 200)); // the Retry-After a client honours
    at = await getJson(`${gw.url}/v1/docs/${doc}?at=${first.body.seq}`, all);
  }
  assert.equal(at.status, 410, JSON.stringify(at.body));
  assert.deepEqual([at.body.error.code, at.body.error.oldest], ['history_expired', String(lastSeq)]);
  const oldest = await getJson(`${gw.url}/v1/docs/${doc}?at=${lastSeq}`, all);
  assert.deepEqual(oldest.body, { seq: String(lastSeq), state: { v: 20 } });
  assert.equal((await getJson(`${gw.url}/v1/docs/${doc}/history?after=0`, all)).status, 410);
  const tail = await getJson(`${gw.url}/v1/docs/${doc}/history?after=${lastSeq}`, all);
  assert.deepEqual(tail.body, { ops: [], next: null });
});
