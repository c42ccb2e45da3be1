/**
 * Unit tests of @replicant/auth: algorithm pinning per key type, claim checks, scope compilation
 * ({sub}, prefixes, covering, bounds), constant-time API keys, the link proofs and request
 * signatures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import {
  ApiKeys,
  AuthError,
  HttpAuthenticator,
  linkProof,
  newNonce,
  proofMatches,
  Scope,
  ScopeError,
  ReplayCache,
  signClusterRequest,
  CLUSTER_REQUEST_WINDOW_MS,
  TokenVerifier,
  verifyClusterRequest,
} from '../src/index.js';

const enc = (s: string) => new TextEncoder().encode(s);
const exp = () => Math.floor(Date.now() / 1000) + 600;

test('algorithms are pinned to the key type', async () => {
  const ed = generateKeyPairSync('ed25519');
  const ps = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const edPem = ed.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const v = new TokenVerifier({ jwtPublicKey: edPem });
  const p = await v.verify(await new SignJWT({ sub: 'e', read: ['a'], exp: exp() }).setProtectedHeader({ alg: 'EdDSA' }).sign(ed.privateKey));
  assert.equal(p.sub, 'e');
  assert.ok(p.read.allows('a') && !p.read.allows('b') && !p.write.allows('a'));
  // HS256 "signed" with the public key text, and a token of another key type, are refused
  await assert.rejects(v.verify(await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256' }).sign(enc(edPem))), AuthError);
  await assert.rejects(v.verify(await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'PS256' }).sign(ps.privateKey)), /algorithm/);
  // RSA keys verify RS* and PS*
  const rv = new TokenVerifier({ jwtPublicKey: ps.publicKey.export({ type: 'spki', format: 'pem' }).toString() });
  assert.equal((await rv.verify(await new SignJWT({ sub: 'p' }).setProtectedHeader({ alg: 'PS384' }).sign(ps.privateKey))).sub, 'p');
  // a secret verifies only HS*
  const hv = new TokenVerifier({ jwtSecret: 'secret-0123456789abcdef' });
  assert.equal(hv.required, true);
  assert.equal(new TokenVerifier({}).required, false);
  await assert.rejects(hv.verify(await new SignJWT({}).setProtectedHeader({ alg: 'PS256' }).sign(ps.privateKey)), /algorithm/);
  const e = await hv.verify(await new SignJWT({ exp: 1 }).setProtectedHeader({ alg: 'HS512' }).sign(enc('secret-0123456789abcdef'))).catch((x) => x);
  assert.equal((e as AuthError).code, 'token_expired');
});

test('scopes: exact ids, prefixes, {sub}, covering and bounds', () => {
  const s = Scope.compile(['room:*', 'room:a:*', 'doc1', 'room:x', 'user:{sub}:*', 'u:{sub}'], 'alice');
  assert.equal(s.prefixCount, 2, 'room:a:* is covered by room:*');
  for (const d of ['room:1', 'room:a:b', 'doc1', 'user:alice:n', 'u:alice']) assert.ok(s.allows(d), d);
  for (const d of ['doc2', 'roo', 'user:bob:n', 'u:alic', 'user:alice']) assert.ok(!s.allows(d), d);
  // a sub that could reach a sibling's namespace drops {sub} patterns
  assert.ok(!Scope.compile(['room:{sub}:*'], 'alice:x').allows('room:alice:x:1'));
  assert.ok(!Scope.compile(['room:{sub}:*'], '').allows('room::1'));
  assert.ok(Scope.compile(['*'], '').allows('anything'));
  assert.ok(!Scope.compile(undefined, 'a').allows('a'), 'no claim, no access');
  assert.throws(() => Scope.compile('room:*', 'a'), ScopeError);
  assert.throws(() => Scope.compile(Array.from({ length: 257 }, (_, i) => `d${i}`), 'a'), ScopeError);
  assert.throws(() => Scope.compile([7], 'a'), ScopeError);
});

test('API keys compare in constant time and grant full access; bad bearer forms are 401', async () => {
  const keys = new ApiKeys(['key-one-0123456789', 'key-two-0123456789']);
  assert.ok(keys.matches('key-two-0123456789'));
  assert.ok(!keys.matches('key-two-012345678'));
  const h = new HttpAuthenticator(new TokenVerifier({}), keys);
  assert.ok((await h.authenticate('Bearer key-one-0123456789')).write.allows('x'));
  for (const bad of ['', 'Basic abc', 'Bearer', 'Bearer nope']) {
    await assert.rejects(h.authenticate(bad), (e: AuthError) => e.code === 'unauthorized' && !e.message.includes('key-one'));
  }
});

test('link proofs and request signatures', () => {
  const a = newNonce();
  const b = newNonce();
  const p = linkProof('s'.repeat(20), 'gateway', a, b);
  assert.ok(proofMatches(p, linkProof('s'.repeat(20), 'gateway', a, b)));
  assert.ok(!proofMatches(p, linkProof('s'.repeat(20), 'replica', a, b)), 'the roles differ');
  assert.ok(!proofMatches(p, linkProof('t'.repeat(20), 'gateway', a, b)));
  assert.ok(!proofMatches(p, p.subarray(0, 16)));
  const now = Date.now();
  const req = { method: 'POST', target: '/v1/docs/d', idempotencyKey: 'k', ifMatch: '"7"', contentType: 'application/json', body: '{"a":1}' };
  const sig = signClusterRequest('secret-0123456789', req, now);
  const v = verifyClusterRequest('secret-0123456789', sig, { ...req, body: Buffer.from('{"a":1}') }, now);
  assert.ok(v);
  assert.equal(v.signedAtMs, now);
  assert.match(v.nonce, /^[A-Za-z0-9_-]{22}$/);
  // every covered part changes the MAC: path, query, body, key, If-Match (dropped or changed), Content-Type, method
  for (const changed of [
    { target: '/v1/docs/e' },
    { target: '/v1/docs/d?read=local' },
    { body: '{"a":2}' },
    { idempotencyKey: '' },
    { ifMatch: '' },
    { ifMatch: '"8"' },
    { contentType: 'application/merge-patch+json' },
    { method: 'GET' },
  ]) {
    assert.equal(verifyClusterRequest('secret-0123456789', sig, { ...req, ...changed }, now), undefined, JSON.stringify(changed));
  }
  assert.equal(verifyClusterRequest('secret-0123456789', sig, req, now + 120_000), undefined, 'too old');
  assert.equal(verifyClusterRequest('another-secret-0123', sig, req, now), undefined);
  // v1 signatures (no nonce) are not accepted: a cluster upgrades together (docs/security.md)
  assert.equal(verifyClusterRequest('secret-0123456789', sig.replace(/\.[^.]+\./, '.'), req, now), undefined);
  assert.notEqual(signClusterRequest('secret-0123456789', req, now), sig, 'a fresh nonce per request');
  assert.ok(!sig.includes('secret'));
});

test('ReplayCache: a nonce is accepted once per window; at the count or byte bound new ones are refused, never remembered', () => {
  const t0 = 1_000_000;
  const c = new ReplayCache({ maxEntries: 3, windowMs: 60_000 });
  assert.equal(c.admit('a'.repeat(22), t0, t0), 'fresh');
  assert.equal(c.admit('a'.repeat(22), t0, t0 + 59_000), 'replay');
  assert.equal(c.admit('b'.repeat(22), t0 + 1000, t0 + 1000), 'fresh');
  assert.equal(c.admit('c'.repeat(22), t0 + 2000, t0 + 2000), 'fresh');
  // at the bound: refused, and not remembered (the same nonce is still fresh once there is room)
  assert.equal(c.admit('d'.repeat(22), t0 + 3000, t0 + 3000), 'full');
  assert.equal(c.size, 3);
  // a is kept until the next whole second after its window ends + 1 s: t0 + 62 s
  assert.equal(c.retryAfterMs(t0 + 3000), 59_000, 'until the earliest-expiring entry leaves');
  assert.equal(c.admit('d'.repeat(22), t0 + 3000, t0 + 61_999), 'full');
  assert.equal(c.admit('d'.repeat(22), t0 + 3000, t0 + 62_000), 'fresh');
  assert.equal(c.admit('b'.repeat(22), t0 + 1000, t0 + 62_000), 'replay');
  // entries signed with a skewed clock: each leaves by its own expiry second
  const s = new ReplayCache({ maxEntries: 2, windowMs: 60_000 });
  assert.equal(s.admit('late'.padEnd(22, 'x'), t0 + 50_000, t0), 'fresh'); // signed 50 s ahead: kept until t0 + 112 s
  assert.equal(s.admit('early'.padEnd(22, 'x'), t0 - 50_000, t0), 'fresh'); // kept until t0 + 12 s
  assert.equal(s.admit('next'.padEnd(22, 'x'), t0 + 20_000, t0 + 20_000), 'fresh', 'the expired entry behind the front left');
  // the byte bound alone
  const b = new ReplayCache({ maxEntries: 1000, maxBytes: 200 }); // an entry is estimated at 96 bytes
  assert.equal(b.admit('e'.repeat(22), t0, t0), 'fresh');
  assert.equal(b.admit('f'.repeat(22), t0, t0), 'fresh');
  assert.equal(b.admit('g'.repeat(22), t0, t0), 'full');
  assert.equal(b.bytes, 192);
  assert.equal(b.size, 2);
});

/** counts the steps of every Map and Set iteration while `fn` runs (the work a cache does on its entries) */
function countIterations(fn: () => void): number {
  const protos = [Object.getPrototypeOf(new Map().entries()), Object.getPrototypeOf(new Set().values())] as { next: () => unknown }[];
  const saved = protos.map((p) => p.next);
  let steps = 0;
  protos.forEach((p, i) => {
    p.next = function (this: unknown) {
      steps++;
      return saved[i].call(this);
    };
  });
  try {
    fn();
  } finally {
    protos.forEach((p, i) => (p.next = saved[i]));
  }
  return steps;
}

test('ReplayCache: expiry work is proportional to what expires, never a scan of the cache (also when full)', () => {
  const t0 = 1_000_000_000;
  const n = 20_000;
  const c = new ReplayCache({ maxEntries: n, windowMs: 30_000 });
  // a full cache: one entry signed at t0 - 30.5 s (window end + 1 s: t0 + 0.5 s; kept until the
  // next whole second, t0 + 1 s), the rest at t0 + 29 s
  assert.equal(c.admit('A'.repeat(22), t0 - 30_500, t0), 'fresh');
  for (let i = 1; i < n; i++) assert.equal(c.admit(String(i).padEnd(22, 'n'), t0 + 29_000, t0), 'fresh');
  // at the very ms the earliest entry could leave, under sustained load: each refusal is O(1)
  const verdicts: string[] = [];
  const atEdge = countIterations(() => {
    for (let i = 0; i < 1000; i++) verdicts.push(c.admit(`x${i}`.padEnd(22, 'y'), t0, t0 + 999));
  });
  assert.ok(atEdge <= 10, `requests at the bound iterated ${atEdge} entries`);
  assert.deepEqual(new Set(verdicts), new Set(['full']));
  // a second later the one expired entry leaves, touching only itself
  const visits = c.expiryVisits;
  const later = countIterations(() => assert.equal(c.admit('z'.repeat(22), t0 + 1000, t0 + 1000), 'fresh'));
  assert.equal(c.expiryVisits - visits, 1);
  assert.ok(later <= 10, `one expiry iterated ${later} entries`);
  assert.equal(c.size, n);
});

test('ReplayCache with the timestamp check at the window edge: a replay is refused at every ms, and a backward clock step revives nothing', () => {
  const secret = 'secret-0123456789';
  const req = { method: 'POST', target: '/v1/docs/d', idempotencyKey: '', ifMatch: '', contentType: 'application/json', body: '{}' };
  const c = new ReplayCache();
  const signedAt = 5_000_000;
  const sig = signClusterRequest(secret, req, signedAt);
  // first seen at the window's far edge (+30 000 ms), then replayed on every ms after it
  const edge = signedAt + CLUSTER_REQUEST_WINDOW_MS;
  const v = verifyClusterRequest(secret, sig, req, edge);
  assert.ok(v);
  assert.equal(c.admit(v.nonce, v.signedAtMs, edge), 'fresh');
  for (let now = edge; now < edge + 5000; now++) {
    const again = verifyClusterRequest(secret, sig, req, now);
    assert.ok(again === undefined || c.admit(again.nonce, again.signedAtMs, now) === 'replay', `accepted again at +${now - signedAt} ms`);
  }
  // the clock the origin passes to both never goes back
  const mc = new ReplayCache();
  const realNow = Date.now;
  try {
    Date.now = () => 2_000_000;
    assert.equal(mc.now(), 2_000_000);
    Date.now = () => 1_900_000; // NTP steps the clock back 100 s
    assert.equal(mc.now(), 2_000_000);
    Date.now = () => 2_000_500;
    assert.equal(mc.now(), 2_000_500);
  } finally {
    Date.now = realNow;
  }
});

test('d~presence is covered exactly when d is (read scope of the doc)', () => {
  const s = Scope.compile(['room', 'lobby:*', 'x~presence'], 'alice');
  assert.ok(s.allows('room~presence'));
  assert.ok(s.allows('lobby:1~presence'));
  assert.ok(!s.allows('other~presence'));
  // a pattern naming only the presence doc grants nothing: the doc's read scope decides
  assert.ok(!s.allows('x~presence'));
  assert.ok(!Scope.NONE.allows('room~presence'));
});
