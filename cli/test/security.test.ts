/**
 * Acceptance (docs/security.md) against real `replicant dev` processes: every bad credential is
 * refused on the WebSocket (error + 4001, as `?token=` on the upgrade and in an auth frame) and over HTTP
 * (401), for HS256, RS256, ES256 and a JWKS served by the test; read/write scopes with `{sub}`
 * on both transports; expiry with token_expired and 4001, and an in-band refresh that keeps the
 * connection and its subscription without a gap; the per-connection publish rate; TLS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:https';
import WebSocket from 'ws';
import { connect } from '@replicant/sdk';
import { post, RawClient, tempDir, type DevProcess, startDevFor } from './harness.js';
import { algNone, keyPair, nowSec, serveJwks, sign, tamper, type Claims, type KeyPair } from './tokens.js';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'replicant';
const API_KEY = 'backend-api-key-0123456789';
const SECRET = 'hs256-test-secret-0123456789';


const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function httpGet(dev: DevProcess, doc: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const r = await fetch(`${dev.url}/v1/docs/${doc}`, { headers });
  return { status: r.status, body: await r.json() };
}

/**
 * a bad token, in an auth frame or as `?token=` on the upgrade (verified like a first auth frame):
 * an error frame, then close 4001, and no data
 */
async function authFrameRefused(dev: DevProcess, token: string, inUrl = false): Promise<{ code: string; close: number }> {
  const c = await RawClient.open(inUrl ? `${dev.wsUrl}?token=${encodeURIComponent(token)}` : dev.wsUrl);
  if (!inUrl) c.send({ type: 'auth', token });
  c.send({ type: 'subscribe', doc: 'room:1' });
  const e = await c.next((f) => f.type === 'error');
  const close = await c.closed;
  assert.equal(c.frames.filter((f) => f.type === 'snapshot').length, 0, 'no data before the token is accepted');
  return { code: e.code, close };
}

const good = (): Claims => ({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, read: ['*'], write: ['*'], exp: nowSec() + 600 });

for (const scheme of ['HS256', 'RS256', 'ES256', 'JWKS'] as const) {
  test(`${scheme}: every bad token is refused on the WebSocket and over HTTP; a good one works`, async (t) => {
    const rsa = keyPair('RS256', 'k1');
    let key: string | KeyPair;
    let otherKey: string | KeyPair;
    const env: Record<string, string> = { AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, AUTH_CLOCK_SKEW_S: '5' };
    if (scheme === 'HS256') {
      key = SECRET;
      otherKey = 'another-secret-0123456789';
      env.AUTH_JWT_SECRET = SECRET;
    } else if (scheme === 'JWKS') {
      key = rsa;
      otherKey = keyPair('RS256', 'k-unknown');
      const jwks = await serveJwks([rsa, keyPair('ES256', 'k2')]);
      t.after(() => jwks.close());
      env.AUTH_JWKS_URL = jwks.url;
    } else {
      key = scheme === 'RS256' ? rsa : keyPair('ES256');
      otherKey = keyPair(scheme);
      env.AUTH_JWT_PUBLIC_KEY = key.publicPem;
    }
    const dev = await startDevFor(t, env);

    const ok = await sign(good(), key);
    const bad: Record<string, string> = {
      'forged signature': tamper(ok),
      'alg none': algNone(good()),
      // the classic confusion: HS256 with the server's RSA public key (PEM text) as the HMAC secret
      'HS256 signed with the RSA public key': await sign(good(), rsa.publicPem),
      expired: await sign({ ...good(), exp: nowSec() - 3600 }, key),
      'not yet valid': await sign({ ...good(), nbf: nowSec() + 3600 }, key),
      'wrong issuer': await sign({ ...good(), iss: 'https://evil.test' }, key),
      'wrong audience': await sign({ ...good(), aud: 'someone-else' }, key),
      'another key': await sign(good(), otherKey),
      garbage: 'not.a.jwt',
    };
    for (const [what, token] of Object.entries(bad)) {
      const u = await authFrameRefused(dev, token, true);
      assert.equal(u.close, 4001, `${what}: ?token= close code`);
      const r = await authFrameRefused(dev, token);
      assert.equal(r.close, 4001, `${what}: auth frame close code`);
      assert.ok(r.code === 'unauthorized' || (what === 'expired' && r.code === 'token_expired'), `${what}: ${r.code}`);
      const h = await httpGet(dev, 'room:1', bearer(token));
      assert.equal(h.status, 401, `${what}: HTTP`);
      assert.equal(h.body.error.code, 'unauthorized');
      assert.ok(!JSON.stringify(h.body).includes(token), 'the token is never echoed');
    }
    // no token at all
    const anon = await RawClient.open(dev.wsUrl);
    anon.send({ type: 'subscribe', doc: 'room:1' });
    assert.equal((await anon.next((f) => f.type === 'error')).code, 'unauthorized');
    assert.equal(await anon.closed, 4001);
    assert.equal((await httpGet(dev, 'room:1')).status, 401);
    assert.equal((await post(dev.url, 'room:1', { x: 1 })).status, 401);

    // the good token: query, auth frame, HTTP
    const viaQuery = await RawClient.open(`${dev.wsUrl}?token=${ok}`);
    viaQuery.send({ type: 'subscribe', doc: 'room:1' });
    await viaQuery.next((f) => f.type === 'snapshot');
    const viaFrame = await RawClient.open(dev.wsUrl);
    viaFrame.send({ type: 'auth', token: ok });
    viaFrame.send({ type: 'publish', doc: 'room:1', patch: { by: scheme }, id: 'p1' });
    assert.match((await viaFrame.next((f) => f.type === 'ack')).seq, /^\d+$/);
    await viaQuery.next((f) => f.type === 'delta' && f.patch.by === scheme);
    assert.equal((await post(dev.url, 'room:1', { http: true }, bearer(ok))).status, 200);
    assert.deepEqual((await httpGet(dev, 'room:1', bearer(ok))).body.state, { by: scheme, http: true });
    viaQuery.close();
    viaFrame.close();
  });
}

test('JWKS rotation: a token with a new kid is accepted once the key set serves it', async (t) => {
  const k1 = keyPair('ES256', 'old');
  const k2 = keyPair('ES256', 'new');
  const jwks = await serveJwks([k1]);
  t.after(() => jwks.close());
  const dev = await startDevFor(t, { AUTH_JWKS_URL: jwks.url });
  const claims = { sub: 'a', read: ['*'], exp: nowSec() + 600 };
  const first = await httpGet(dev, 'd', bearer(await sign(claims, k1)));
  assert.equal(first.status, 200, JSON.stringify(first.body));
  await jwks.set([k1, k2]);
  // an unknown kid makes the verifier refetch the set, at most once per cooldown (5 s): poll for
  // that moment (nothing outside the process signals it), refused until then
  const t2 = await sign(claims, k2);
  const deadline = Date.now() + 15_000;
  let second = await httpGet(dev, 'd', bearer(t2));
  while (second.status === 401 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    second = await httpGet(dev, 'd', bearer(t2));
  }
  assert.equal(second.status, 200, JSON.stringify(second.body));
  assert.equal(jwks.fetches, 2, 'one refetch, not one per request');
  // the old key keeps working until it is removed from the set
  assert.equal((await httpGet(dev, 'd', bearer(await sign(claims, k1)))).status, 200);
});

test('frames behind a pending verification wait in order, at most 256; over it `unavailable`', async (t) => {
  const k = keyPair('ES256', 'slow');
  const jwks = await serveJwks([k]);
  t.after(() => jwks.close());
  const dev = await startDevFor(t, { AUTH_JWKS_URL: jwks.url });
  jwks.hold(); // the first verification fetches the key set: it stays pending until release()
  const c = await RawClient.open(dev.wsUrl);
  c.send({ type: 'auth', token: await sign({ sub: 'q', read: ['queued'], exp: nowSec() + 600 }, k) });
  c.send({ type: 'subscribe', doc: 'queued' });
  for (let i = 0; i < 255 + 44; i++) c.send({ type: 'ping' });
  // frames 257..300 are refused at once; nothing else has been answered yet
  for (let i = 0; i < 44; i++) await c.next((f) => f.type === 'error' && f.code === 'unavailable' && c.frames.filter((g) => g.type === 'error').length > i);
  assert.equal(c.frames.length, 44);
  assert.ok(c.frames.every((f) => f.code === 'unavailable'));
  jwks.release();
  await c.next((f) => f.type === 'snapshot' && f.doc === 'queued');
  await c.next(() => c.frames.filter((f) => f.type === 'pong').length === 255);
  // run in order under the verified token: before it, the subscribe would have been unauthorized + 4001
  assert.equal(c.frames.filter((f) => f.type === 'error').length, 44);
  assert.equal(c.closeCode, undefined);
  c.close();
});

test('frames behind a pending verification are bounded in bytes too (1 MiB): over it `unavailable` for that frame, the rest run in order', async (t) => {
  const k = keyPair('ES256', 'slow-bytes');
  const jwks = await serveJwks([k]);
  t.after(() => jwks.close());
  const dev = await startDevFor(t, { AUTH_JWKS_URL: jwks.url });
  jwks.hold(); // the verification waits for the key set until release()
  const c = await RawClient.open(dev.wsUrl);
  c.send({ type: 'auth', token: await sign({ sub: 'q', read: ['big'], write: ['big'], exp: nowSec() + 600 }, k) });
  // three publishes of ~400 KiB (each under MAX_FRAME_BYTES): the third would hold 1.2 MiB
  const pad = 'x'.repeat(400 * 1024);
  for (const id of ['p1', 'p2', 'p3']) c.send({ type: 'publish', doc: 'big', patch: { [id]: pad }, id });
  const refused = await c.next((f) => f.id === 'p3');
  assert.equal(refused.type, 'error');
  assert.equal(refused.code, 'unavailable');
  assert.match(refused.message, /1048576 bytes may wait for a token to be verified/);
  assert.equal(c.frames.length, 1, 'nothing else was answered while the token was being verified');
  jwks.release();
  await c.next((f) => f.type === 'ack' && f.id === 'p1');
  await c.next((f) => f.type === 'ack' && f.id === 'p2');
  // p1 and p2 arrived before p3 was refused, so they ran; a later publish of the doc waits for p3
  // (per-document order, protocol.md "Ordering")
  c.send({ type: 'publish', doc: 'big', patch: { p4: 1 }, id: 'p4' });
  const waiting = await c.next((f) => f.id === 'p4');
  assert.deepEqual([waiting.code, /id p3/.test(waiting.message)], ['unavailable', true]);
  // the budget is free again once the queue ran: p3 re-sent goes first, then p4
  c.send({ type: 'publish', doc: 'big', patch: { p3: pad }, id: 'p3' });
  c.send({ type: 'publish', doc: 'big', patch: { p4: 1 }, id: 'p4' });
  await c.next((f) => f.type === 'ack' && f.id === 'p4');
  assert.deepEqual(
    c.frames.filter((f) => f.type === 'ack').map((f) => f.id),
    ['p1', 'p2', 'p3', 'p4'],
  );
  assert.equal(c.closeCode, undefined);
  c.close();
});

test('scopes: read room:*, write room:{sub}:* on the WebSocket and HTTP; others carry on; refresh narrows', async (t) => {
  const dev = await startDevFor(t, { AUTH_JWT_SECRET: SECRET, API_KEYS: API_KEY, CLIENT_PUBLISH_RATE: '10' });
  const alice = await sign({ sub: 'alice', read: ['room:*'], write: ['room:{sub}:*'], exp: nowSec() + 600 }, SECRET);
  const c = await RawClient.open(dev.wsUrl, 'replicant.v1.json');
  c.send({ type: 'auth', token: alice });
  c.send({ type: 'subscribe', doc: 'room:1' });
  await c.next((f) => f.type === 'snapshot' && f.doc === 'room:1');
  c.send({ type: 'subscribe', doc: 'other:1' });
  const e1 = await c.next((f) => f.type === 'error' && f.doc === 'other:1');
  assert.equal(e1.code, 'forbidden');
  c.send({ type: 'publish', doc: 'room:alice:x', patch: { a: 1 }, id: 'mine' });
  assert.match((await c.next((f) => f.type === 'ack' && f.id === 'mine')).seq, /^\d+$/);
  c.send({ type: 'publish', doc: 'room:bob:x', patch: { a: 1 }, id: 'theirs' });
  const e2 = await c.next((f) => f.type === 'error' && f.id === 'theirs');
  assert.equal(e2.code, 'forbidden');
  assert.equal(e2.doc, 'room:bob:x');
  // the connection and its permitted subscription carry on
  assert.equal((await post(dev.url, 'room:1', { after: true }, bearer(API_KEY))).status, 200);
  await c.next((f) => f.type === 'delta' && f.doc === 'room:1' && f.patch.after === true);

  // HTTP: the same token, 403 outside scope; an API key has full access; a wrong key is 401
  assert.equal((await httpGet(dev, 'room:1', bearer(alice))).status, 200);
  const f1 = await httpGet(dev, 'other:1', bearer(alice));
  assert.equal(f1.status, 403);
  assert.equal(f1.body.error.code, 'forbidden');
  assert.equal((await post(dev.url, 'room:alice:y', { ok: 1 }, bearer(alice))).status, 200);
  assert.equal((await post(dev.url, 'room:bob:y', { ok: 1 }, bearer(alice))).status, 403);
  assert.equal((await post(dev.url, 'room:1', { ok: 1 }, bearer(alice))).status, 403);
  assert.equal((await post(dev.url, 'other:1', { ok: 1 }, bearer(API_KEY))).status, 200);
  assert.equal((await post(dev.url, 'other:1', { ok: 1 }, bearer(`${API_KEY}x`))).status, 401);

  // an in-band auth with narrower read scope ends the subscriptions it no longer permits
  c.send({ type: 'subscribe', doc: 'room:2' });
  await c.next((f) => f.type === 'snapshot' && f.doc === 'room:2');
  const narrow = await sign({ sub: 'alice', read: ['room:1'], exp: nowSec() + 600 }, SECRET);
  const from = c.frames.length;
  c.send({ type: 'auth', token: narrow });
  const ended = await c.next((f) => f.type === 'error' && f.doc === 'room:2', from);
  assert.equal(ended.code, 'forbidden');
  await post(dev.url, 'room:2', { gone: true }, bearer(API_KEY));
  await post(dev.url, 'room:1', { still: true }, bearer(API_KEY));
  await c.next((f) => f.type === 'delta' && f.doc === 'room:1' && f.patch.still === true, from);
  assert.equal(c.frames.slice(from).filter((f) => f.type === 'delta' && f.doc === 'room:2').length, 0);

  // rate limit: a flood over CLIENT_PUBLISH_RATE (10/s, burst 20) gets rate_limited; another client is unaffected
  const all = await sign({ sub: 'flood', read: ['*'], write: ['*'], exp: nowSec() + 600 }, SECRET);
  const flooder = await RawClient.open(dev.wsUrl);
  flooder.send({ type: 'auth', token: all });
  const other = await RawClient.open(dev.wsUrl);
  other.send({ type: 'auth', token: all });
  for (let i = 0; i < 100; i++) flooder.send({ type: 'publish', doc: 'flood', patch: { i }, id: `f${i}` });
  for (let i = 0; i < 5; i++) other.send({ type: 'publish', doc: 'calm', patch: { i }, id: `o${i}` });
  const answered = (cl: RawClient, prefix: string, n: number) =>
    Promise.all(Array.from({ length: n }, (_, i) => cl.next((f) => (f.type === 'ack' || f.type === 'error') && f.id === `${prefix}${i}`)));
  const fr = await answered(flooder, 'f', 100);
  const acked = fr.filter((f) => f.type === 'ack').length;
  const first = fr.findIndex((f) => f.type === 'error');
  assert.ok(100 - acked >= 70 && acked >= 20, `flood: ${acked} acked, ${100 - acked} refused`);
  assert.equal(fr[first].code, 'rate_limited');
  // per-document order (protocol.md "Ordering"): every later publish of the doc waits for the refused one
  assert.ok(
    fr.slice(first + 1).every((f) => f.type === 'error' && f.code === 'unavailable' && f.message.includes(`id f${first}`)),
    'after the first rate_limited publish the later ones of that doc are refused until it is re-sent',
  );
  const or = await answered(other, 'o', 5);
  assert.deepEqual(or.map((f) => f.type), ['ack', 'ack', 'ack', 'ack', 'ack']);
  c.close();
  flooder.close();
  other.close();
});

test('expiry: token_expired then 4001 after the grace; token() refreshes in-band with no gap', async (t) => {
  const dev = await startDevFor(t, { AUTH_JWT_SECRET: SECRET, API_KEYS: API_KEY, AUTH_REFRESH_GRACE_MS: '1000', AUTH_CLOCK_SKEW_S: '0' });
  const short = () => sign({ sub: 's', read: ['*'], write: ['*'], exp: nowSec() + 2 }, SECRET);

  // a connection that does not refresh
  const c = await RawClient.open(dev.wsUrl);
  c.send({ type: 'auth', token: await short() });
  c.send({ type: 'subscribe', doc: 'exp' });
  await c.next((f) => f.type === 'snapshot');
  const expired = await c.next((f) => f.type === 'error' && f.code === 'token_expired');
  const t0 = Date.now();
  c.send({ type: 'publish', doc: 'exp', patch: { late: true }, id: 'late' });
  assert.equal((await c.next((f) => f.id === 'late')).code, 'token_expired', 'no publish on an expired token');
  assert.equal(await c.closed, 4001);
  assert.ok(Date.now() - t0 >= 800, 'closed only after the grace');
  assert.ok(expired.message.length > 0);

  // the SDK refreshes before exp: same connection, contiguous deltas, no token_expired
  let tokens = 0;
  const client = connect(dev.url, {
    protocol: 'json',
    token: async () => {
      tokens++;
      return short();
    },
  });
  t.after(() => client.close());
  const statuses: string[] = [];
  const errors: string[] = [];
  client.on('status', (e) => statuses.push(e.status));
  client.on('error', (e) => errors.push(e.error.code));
  const seqs: { seq: bigint; prevSeq: bigint }[] = [];
  client.on('delta', (d) => seqs.push({ seq: d.seq, prevSeq: d.prevSeq }));
  let last = 0;
  const sub = client.subscribe('refresh', (d) => {
    last = Number((d.state as { n?: number }).n ?? 0);
  });
  await new Promise<void>((resolve) => client.on('snapshot', () => resolve()));
  const t1 = Date.now();
  let n = 0;
  // writes keep flowing across at least two expiries (tokens live 1-2 s)
  while (Date.now() - t1 < 4500) assert.equal((await post(dev.url, 'refresh', { n: ++n }, bearer(API_KEY))).status, 200);
  await new Promise<void>((resolve) => {
    if (last === n) resolve();
    else client.on('delta', () => last === n && resolve());
  });
  assert.ok(tokens >= 3, `refreshed ${tokens - 1} times`);
  assert.deepEqual(statuses, ['open'], 'one connection, never reconnected');
  assert.deepEqual(errors, []);
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i].prevSeq, seqs[i - 1].seq, 'no gap');
  assert.equal(sub.doc.state.n, n);
});

test('TLS: TLS_CERT_FILE + TLS_KEY_FILE serve https and wss', async (t) => {
  const tmp = tempDir('replicant-tls-');
  t.after(() => tmp.cleanup());
  const cert = join(tmp.dir, 'cert.pem');
  const key = join(tmp.dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const ca = readFileSync(cert);
  const dev = await startDevFor(t, { TLS_CERT_FILE: cert, TLS_KEY_FILE: key });
  assert.match(dev.output(), /ready on https:\/\//);
  assert.match(dev.output(), /WARNING: auth is off/);
  const body = await new Promise<string>((resolve, reject) => {
    request(`https://127.0.0.1:${dev.port}/v1/docs/tls`, { ca }, (res) => {
      let s = '';
      res.on('data', (b) => (s += b));
      res.on('end', () => resolve(s));
    })
      .on('error', reject)
      .end();
  });
  assert.deepEqual(JSON.parse(body), { seq: '0', state: {} });
  const ws = new WebSocket(`wss://127.0.0.1:${dev.port}/v1/stream`, ['replicant.v1.json'], { ca });
  await once(ws, 'open');
  ws.send(JSON.stringify({ type: 'subscribe', doc: 'tls' }));
  const [msg] = await once(ws, 'message');
  assert.equal(JSON.parse(String(msg)).type, 'snapshot');
  ws.close();
  // plain HTTP to the TLS port gets no answer
  await assert.rejects(fetch(`http://127.0.0.1:${dev.port}/v1/docs/tls`));
});
