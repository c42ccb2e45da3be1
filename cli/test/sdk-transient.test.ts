/**
 * Acceptance (docs/sdk.md "Errors the SDK retries") against real `replicant dev` processes: the SDK
 * retries what the gateway refuses for a transient reason instead of dropping it.
 * - 1,000 subscribes sent at connect while the token is verified slowly (a JWKS endpoint answering
 *   after 200 ms): the gateway queues 256 frames behind the verification and refuses the rest with
 *   `unavailable`; every doc still gets its snapshot.
 * - A publish refused with `token_expired` (the refresh is late) stays in the outbox, is re-sent
 *   after the refresh with the same id, and is applied exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '@replicant/sdk';
import { deferred } from '@replicant/testkit';
import { post, RawClient, startDevFor } from './harness.js';
import { keyPair, nowSec, serveJwks, sign } from './tokens.js';

const SECRET = 'hs256-test-secret-0123456789';
const API_KEY = 'backend-api-key-0123456789';


test('1,000 subscribes at connect behind a 200 ms verification: every doc syncs despite `unavailable`', { timeout: 60_000 }, async (t) => {
  const k = keyPair('ES256', 'slow');
  const jwks = await serveJwks([k], { delayMs: 200 });
  t.after(() => jwks.close());
  const dev = await startDevFor(t, { AUTH_JWKS_URL: jwks.url });
  const token = await sign({ sub: 'many', read: ['m:*'], exp: nowSec() + 600 }, k);
  const client = connect(dev.url, { protocol: 'json', token: () => token });
  t.after(() => client.close());
  let unavailable = 0;
  client.on('error', (e) => {
    if (e.error.code === 'unavailable' && e.error.doc !== undefined) unavailable++;
  });
  const N = 1000;
  const synced = new Set<string>();
  const all = deferred();
  for (let i = 0; i < N; i++) {
    const doc = `m:${i}`;
    client.subscribe(doc, (d) => {
      if (!d.synced) return;
      synced.add(doc);
      if (synced.size === N) all.resolve();
    });
  }
  await all.promise;
  assert.equal(synced.size, N);
  // the bound was hit (frames past 256 behind the verification were refused) and retried
  assert.ok(unavailable >= N - 256, `${unavailable} subscribes refused with unavailable`);
});

test('a publish refused with token_expired is re-sent after the refresh and applied exactly once', { timeout: 60_000 }, async (t) => {
  const dev = await startDevFor(t, { AUTH_JWT_SECRET: SECRET, API_KEYS: API_KEY, AUTH_REFRESH_GRACE_MS: '10000', AUTH_CLOCK_SKEW_S: '0' });
  // a reader with a long-lived token counts what the doc's subscribers see
  const reader = await RawClient.open(dev.wsUrl);
  t.after(() => reader.close());
  reader.send({ type: 'auth', token: await sign({ sub: 'r', read: ['*'], exp: nowSec() + 600 }, SECRET) });
  reader.send({ type: 'subscribe', doc: 'once' });
  await reader.next((f) => f.type === 'snapshot' && f.doc === 'once');

  // the first token lives 1-2 s; the refresh (the second token() call) waits until the test lets it go
  const late = deferred<string>();
  let calls = 0;
  const client = connect(dev.url, {
    protocol: 'json',
    token: () => (++calls === 1 ? sign({ sub: 'w', read: ['*'], write: ['*'], exp: nowSec() + 2 }, SECRET) : late.promise),
  });
  t.after(() => client.close());
  const expired = deferred();
  const refused = deferred<string>();
  client.on('error', (e) => {
    if (e.error.code !== 'token_expired') return;
    if (e.error.id === undefined) expired.resolve();
    else refused.resolve(e.error.id);
  });
  await expired.promise; // the connection's token passed exp; the refresh is still pending
  const published = client.publish('once', { n: 1 });
  const id = await refused.promise; // the gateway refused it: token_expired with its id
  assert.equal(client.pendingPublishes, 1, 'kept in the outbox');
  late.resolve(await sign({ sub: 'w', read: ['*'], write: ['*'], exp: nowSec() + 600 }, SECRET));
  const seq = await published;
  assert.equal(calls, 2, 'one refresh for the expiry and the refused publish together');
  assert.deepEqual(client.pendingOps(), []);

  // applied once: the reader sees exactly one delta for it, then the next write's, chained
  assert.equal((await post(dev.url, 'once', { sentinel: true }, { authorization: `Bearer ${API_KEY}` })).status, 200);
  await reader.next((f) => f.type === 'delta' && f.doc === 'once' && f.patch.sentinel === true);
  const deltas = reader.frames.filter((f) => f.type === 'delta' && f.doc === 'once');
  assert.equal(deltas.length, 2, JSON.stringify(deltas));
  assert.deepEqual(deltas[0].patch, { n: 1 });
  assert.equal(deltas[0].seq, seq.toString());
  assert.equal(deltas[1].prevSeq, seq.toString(), 'nothing applied between the publish and the next write');
  assert.match(id, /^~/, 'the SDK\'s sequenced key: the re-send used the same id');
});
