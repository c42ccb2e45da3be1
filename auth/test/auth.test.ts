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
  signClusterRequest,
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
  const sig = signClusterRequest('secret-0123456789', 'POST', '/v1/docs/d', 'k', '{"a":1}', now);
  assert.ok(verifyClusterRequest('secret-0123456789', sig, 'POST', '/v1/docs/d', 'k', Buffer.from('{"a":1}'), now));
  assert.ok(!verifyClusterRequest('secret-0123456789', sig, 'POST', '/v1/docs/e', 'k', '{"a":1}', now));
  assert.ok(!verifyClusterRequest('secret-0123456789', sig, 'POST', '/v1/docs/d', 'k', '{"a":2}', now));
  assert.ok(!verifyClusterRequest('secret-0123456789', sig, 'POST', '/v1/docs/d', 'k', '{"a":1}', now + 120_000), 'too old');
  assert.ok(!sig.includes('secret'));
});
