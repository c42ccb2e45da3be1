/**
 * Acceptance, cluster mode with auth on (docs/security.md): a raw TCP client on a replica's link
 * port without CLUSTER_SECRET — silent, speaking the protocol without the handshake, or with a
 * wrong proof — gets no document data and is disconnected; gateway->origin writes are signed and
 * accepted while unsigned, forged or credential-less HTTP is refused; a scoped client works end
 * to end through the gateway; cluster roles refuse to start without auth configuration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { linkProof, newNonce, signClusterRequest } from '@replicant/auth';
import { encodeLinkFrame, LinkFrameReader, type LinkFrame } from '@replicant/fanout';
import { SignJWT } from 'jose';
import { getDoc, post, RawClient, spawnProcess } from './harness.js';
import { startCluster } from './cluster-harness.js';

const SECRET = 'cluster-jwt-secret-0123456789';
const API_KEY = 'cluster-api-key-0123456789';

/** connects to a link port, runs `script` on the first frame, collects frames until the close */
async function rawLink(
  port: number,
  script: (first: LinkFrame, send: (f: object) => void) => void,
  /** called with every later frame */
  onFrame?: (f: LinkFrame, send: (f: object) => void) => void,
): Promise<LinkFrame[]> {
  const s = netConnect({ host: '127.0.0.1', port });
  const reader = new LinkFrameReader();
  const frames: LinkFrame[] = [];
  const send = (f: object) => s.write(encodeLinkFrame(f));
  s.on('data', (b: Buffer) => {
    for (const f of reader.push(b)) {
      frames.push(f);
      if (frames.length === 1) script(f, send);
      else onFrame?.(f, send);
    }
  });
  s.on('error', () => {}); // the replica may reset the connection while we still write
  await new Promise((resolve) => s.on('close', resolve)); // not events.once: that rejects on 'error'
  return frames;
}

test('cluster with auth on: links need CLUSTER_SECRET, writes are signed, scoped clients work', async (t) => {
  const c = await startCluster({ fanouts: 1, gateways: 1, env: { AUTH_DISABLED: 'false', AUTH_JWT_SECRET: SECRET, API_KEYS: API_KEY } });
  t.after(() => c.stop());
  const auth = { authorization: `Bearer ${API_KEY}` };
  assert.equal((await post(c.origin.url, 'sec:1', { secret: 'data' }, auth)).status, 200);

  // origin: no credential, a forged cluster signature, a JWT outside scope -> refused; an API key works
  assert.equal((await post(c.origin.url, 'sec:1', { x: 1 })).status, 401);
  const signed = { method: 'POST', target: '/v1/docs/sec:1', idempotencyKey: '', ifMatch: '', contentType: 'application/merge-patch+json', body: '{"x":1}' };
  const forged = signClusterRequest('not-the-cluster-secret-000', signed);
  assert.equal((await post(c.origin.url, 'sec:1', '{"x":1}', { authorization: forged })).status, 401);
  const real = signClusterRequest(c.env.CLUSTER_SECRET, signed);
  assert.equal((await post(c.origin.url, 'sec:1', '{"x":2}', { authorization: real })).status, 401, 'the signature covers the body');
  // a signed request is accepted once: a replay of it (keyless: no dedupe could catch it) is refused
  assert.equal((await post(c.origin.url, 'sec:1', '{"x":1}', { authorization: real })).status, 200);
  const replayed = await post(c.origin.url, 'sec:1', '{"x":1}', { authorization: real });
  assert.deepEqual([replayed.status, replayed.body.error.code], [401, 'unauthorized']);
  // a conditional write answered 412, replayed without its If-Match: refused, not applied
  const cond = { ...signed, ifMatch: '"1"', body: '{"cond":true}' };
  const condSig = signClusterRequest(c.env.CLUSTER_SECRET, cond);
  assert.equal((await post(c.origin.url, 'sec:1', cond.body, { authorization: condSig, 'if-match': '"1"' })).status, 412);
  assert.equal((await post(c.origin.url, 'sec:1', cond.body, { authorization: condSig })).status, 401);
  assert.equal((await getDoc(c.origin.url, 'sec:1', auth)).state.cond, undefined);

  const linkPort = c.fanouts[0].port;
  const leaks = (frames: LinkFrame[]) => frames.filter((f) => f.frame === 'snapshot' || f.frame === 'delta' || f.frame === 'hot');
  // 1. the protocol without the handshake
  const plain = await rawLink(linkPort, (_f, send) => {
    send({ hello: { nodeId: 'intruder', window: 100 } });
    send({ subscribe: { doc: 'sec:1' } });
  });
  assert.deepEqual(plain.map((f) => f.frame), ['challenge', 'error']);
  assert.equal(plain[1].error!.code, 'unauthorized');
  // 2. a wrong proof
  const wrong = await rawLink(linkPort, (f, send) => {
    const gw = newNonce();
    send({ auth: { nonce: gw, proof: linkProof('guessed-secret-0123456789', 'gateway', f.challenge!.nonce!, gw) } });
    send({ hello: { nodeId: 'intruder', window: 100 } });
    send({ subscribe: { doc: 'sec:1' } });
  });
  assert.deepEqual(wrong.map((f) => f.frame), ['challenge', 'error']);
  // 3. silence: disconnected after the handshake timeout
  const silent = await rawLink(linkPort, () => {});
  assert.deepEqual(silent.map((f) => f.frame), ['challenge', 'error']);
  assert.match(silent[1].error!.message!, /in time/);
  assert.equal(leaks([...plain, ...wrong, ...silent]).length, 0);
  // 4. the right proof is served (the handshake is the only gate)
  const right = await rawLink(linkPort, (f, send) => {
    const gw = newNonce();
    send({ auth: { nonce: gw, proof: linkProof(c.env.CLUSTER_SECRET, 'gateway', f.challenge!.nonce!, gw) } });
    send({ hello: { nodeId: 'insider', window: 100 } });
    send({ subscribe: { doc: 'sec:1' } });
  }, (f, send) => {
    // an empty frame (a protocol error) ends the link, only once the handshake was answered: sent
    // with the frames above it could share one read with them, and a read that holds a protocol
    // error is dropped whole
    if (f.frame === 'authOk') send({ bogus: true });
  });
  assert.ok(right.some((f) => f.frame === 'authOk'));

  // a scoped client through the gateway: reads what it may, its publish reaches origin signed
  const token = await new SignJWT({ sub: 'u', read: ['sec:*'], write: ['sec:*'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
  const cl = await RawClient.open(c.gateways[0].wsUrl);
  cl.send({ type: 'auth', token });
  cl.send({ type: 'subscribe', doc: 'sec:1' });
  assert.equal((await cl.next((f) => f.type === 'snapshot')).state.secret, 'data');
  cl.send({ type: 'subscribe', doc: 'other' });
  assert.equal((await cl.next((f) => f.type === 'error' && f.doc === 'other')).code, 'forbidden');
  cl.send({ type: 'publish', doc: 'sec:1', patch: { via: 'gateway' }, id: 'g1' });
  assert.match((await cl.next((f) => f.type === 'ack' && f.id === 'g1')).seq, /^\d+$/);
  await cl.next((f) => f.type === 'delta' && f.patch.via === 'gateway');
  cl.close();

  // with ADMIN_PORT set, metrics, stats and the console are on the admin port only, never on the public ports
  for (const n of [c.origin, c.gateways[0]]) {
    for (const path of ['/metrics', '/stats', '/console/', '/console/api/nodes']) {
      assert.equal((await fetch(`${n.url}${path}`)).status, 404, `${n.id} ${path} on its public port`);
    }
    assert.equal((await fetch(`${n.url}/healthz`)).status, 200);
    const m = await fetch(`${n.adminUrl}/metrics`);
    assert.equal(m.status, 200);
    assert.match(await m.text(), /^replicant_process_/m);
  }
  assert.equal((await fetch(`${c.gateways[0].adminUrl}/stats`)).status, 200);
});

test('cluster roles refuse to start without auth configuration (one line, exit 2) unless AUTH_DISABLED=true', async () => {
  const base = { KAFKA_BROKERS: '127.0.0.1:1', REDIS_URL: 'redis://127.0.0.1:1' };
  for (const [mode, env, needs] of [
    ['origin', base, /API_KEYS, and CLUSTER_SECRET/],
    ['fanout', base, /set CLUSTER_SECRET/],
    ['gateway', { ...base, CLUSTER_SECRET: 'cluster-secret-0123456789' }, /AUTH_JWKS_URL, and CLUSTER_SECRET/],
  ] as const) {
    const p = spawnProcess(mode, env);
    const [code] = await p.exited;
    assert.equal(code, 2, `${mode}: ${p.output()}`);
    const lines = p.output().trim().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0], new RegExp(`replicant ${mode} refuses to start without auth`));
    assert.match(lines[0], needs);
    assert.match(lines[0], /AUTH_DISABLED=true/);
  }
});
