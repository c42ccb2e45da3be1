/**
 * Acceptance: garbage binary frames, invalid JSON frames, frames over the limit, an invalid doc id,
 * an invalid patch — each gets its specified error frame, HTTP status or close code; the process
 * stays up and other clients are unaffected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { once } from 'node:events';
import { decodeServerBinary, encodeClientBinary } from '@replicant/protocol';
import { SignJWT } from 'jose';
import { getDoc, post, RawClient, startDevProcess, tempDir } from './harness.js';

test('bad input gets clear errors; the process and other clients carry on', async (t) => {
  const tmp = tempDir();
  const dev = await startDevProcess({ dataDir: tmp.dir, env: { MAX_FRAME_BYTES: '65536', MAX_BODY_BYTES: '65536' } });
  t.after(async () => {
    await dev.stop();
    tmp.cleanup();
  });

  // A healthy bystander watching a doc while everything else misbehaves.
  const good = await RawClient.open(dev.wsUrl);
  good.send({ type: 'subscribe', doc: 'good' });
  await good.next((f) => f.type === 'snapshot');
  let writes = 0;
  const write = async () => assert.equal((await post(dev.url, 'good', { n: ++writes })).status, 200);
  await write();

  // --- JSON subprotocol ---
  const j = await RawClient.open(dev.wsUrl, 'replicant.v1.json');
  let from = 0;
  const expectError = async (frame: string | Buffer, code: string, extra: Record<string, unknown> = {}) => {
    j.ws.send(frame);
    const e = await j.next((f) => f.type === 'error', from);
    from = j.frames.indexOf(e) + 1;
    assert.equal(e.code, code, JSON.stringify(e));
    assert.ok(typeof e.message === 'string' && e.message.length > 0);
    for (const [k, v] of Object.entries(extra)) assert.equal(e[k], v);
    await write();
  };
  await expectError(Buffer.from([0xff, 0x00, 0x13, 0x37]), 'bad_frame'); // binary on the JSON protocol
  await expectError('{"type":"subscribe",', 'bad_frame'); // invalid JSON
  await expectError('[1,2,3]', 'bad_frame');
  await expectError('{"type":"teleport"}', 'bad_frame');
  await expectError('{"type":"subscribe","doc":"no spaces allowed"}', 'bad_doc_id');
  await expectError('{"type":"subscribe","doc":"ok","lastSeq":"-1"}', 'bad_seq', { doc: 'ok' });
  await expectError('{"type":"publish","doc":"good","patch":[1,2],"id":"p1"}', 'bad_patch', { id: 'p1', doc: 'good' });
  await expectError('{"type":"publish","doc":"good","patch":"x","id":"p2"}', 'bad_patch', { id: 'p2' });
  await expectError('{"type":"publish","doc":"../etc","patch":{},"id":"p3"}', 'bad_doc_id', { id: 'p3' });
  // the connection is still usable after all of that
  j.send({ type: 'publish', doc: 'good', patch: { fromJ: true }, id: 'ok-1' });
  const ack = await j.next((f) => f.type === 'ack' && f.id === 'ok-1');
  assert.match(ack.seq, /^\d+$/);
  writes++;

  // --- binary subprotocol ---
  const b = new WebSocket(dev.wsUrl, ['replicant.v1']);
  await once(b, 'open');
  const bframes: any[] = [];
  const bNext = () => once(b, 'message').then(([data]) => decodeServerBinary(new Uint8Array(data as Buffer)));
  let p = bNext();
  b.send(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])); // truncated protobuf
  bframes.push(await p);
  p = bNext();
  b.send('{"type":"ping"}'); // text on the binary protocol
  bframes.push(await p);
  p = bNext();
  b.send(encodeClientBinary({ type: 'subscribe', doc: 'bad id' }));
  bframes.push(await p);
  assert.deepEqual(bframes.map((f: any) => f.code), ['bad_frame', 'bad_frame', 'bad_doc_id']);
  p = bNext();
  b.send(encodeClientBinary({ type: 'ping' }));
  assert.equal(((await p) as any).type, 'pong');
  b.close();

  // --- a frame over the limit closes that connection with 1009 ---
  const big = await RawClient.open(dev.wsUrl);
  big.send(JSON.stringify({ type: 'publish', doc: 'good', patch: { x: 'y'.repeat(100_000) } }));
  assert.equal(await big.closed, 1009);

  // --- unsupported subprotocol is refused at upgrade ---
  const refused = new WebSocket(dev.wsUrl, ['chat.v9']);
  const [, res] = await once(refused, 'unexpected-response');
  assert.equal(res.statusCode, 400);

  // --- HTTP ---
  assert.deepEqual(await post(dev.url, 'bad%20id', { a: 1 }).then((r) => [r.status, r.body.error.code]), [400, 'bad_doc_id']);
  assert.deepEqual(await post(dev.url, 'good', '{"a":').then((r) => [r.status, r.body.error.code]), [400, 'bad_patch']);
  assert.deepEqual(await post(dev.url, 'good', '[1]').then((r) => [r.status, r.body.error.code]), [400, 'bad_patch']);
  assert.deepEqual(await post(dev.url, 'good', '"str"').then((r) => [r.status, r.body.error.code]), [400, 'bad_patch']);
  const huge = await post(dev.url, 'good', JSON.stringify({ x: 'z'.repeat(70_000) }));
  assert.equal(huge.status, 413);
  assert.equal(huge.body.error.code, 'payload_too_large');
  const never = await getDoc(dev.url, 'never-written');
  assert.deepEqual(never, { seq: '0', state: {} });

  // --- the bystander saw every write, in order, and the process is up ---
  await write();
  const fin = await getDoc(dev.url, 'good');
  const last = await good.next((f) => f.type === 'delta' && f.seq === fin.seq);
  assert.equal(last.patch.n, writes);
  const deltas = good.frames.filter((f) => f.type === 'delta');
  // one delta per write, or fewer if the replica's tail picked up two writes for one flush (coalesced)
  assert.ok(deltas.length >= 1 && deltas.length <= writes, `${deltas.length} deltas for ${writes} writes`);
  for (let i = 1; i < deltas.length; i++) assert.equal(deltas[i].prevSeq, deltas[i - 1].seq);
  assert.equal(good.frames.filter((f) => f.type === 'error').length, 0);
  good.close();
  j.close();
});

test('auth: bad tokens are refused, unauthenticated frames close with 4001, good tokens work', async (t) => {
  const tmp = tempDir();
  const secret = 'test-secret-0123456789';
  const dev = await startDevProcess({ dataDir: tmp.dir, env: { AUTH_JWT_SECRET: secret } });
  t.after(async () => {
    await dev.stop();
    tmp.cleanup();
  });
  const sign = (claims: Record<string, unknown>, key: string) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(key));
  const good = await sign({ sub: 'alice', read: ['secret'], exp: Math.floor(Date.now() / 1000) + 600 }, secret);
  const forged = await sign({ sub: 'mallory', read: ['*'] }, 'not-the-secret-at-all');
  const expired = await sign({ sub: 'bob', read: ['*'], exp: Math.floor(Date.now() / 1000) - 3600 }, secret);

  // a bad ?token= is verified like a first auth frame: error, then 4001 (docs/protocol.md)
  for (const bad of [forged, expired, 'garbage']) {
    const c = await RawClient.open(`${dev.wsUrl}?token=${bad}`);
    c.send({ type: 'subscribe', doc: 'secret' });
    assert.match((await c.next((f) => f.type === 'error')).code, /^(unauthorized|token_expired)$/);
    assert.equal(await c.closed, 4001);
    assert.equal(c.frames.filter((f) => f.type === 'snapshot').length, 0);
  }
  // no token: a non-auth first frame is refused and the connection closed with 4001
  const anon = await RawClient.open(dev.wsUrl);
  anon.send({ type: 'subscribe', doc: 'secret' });
  const e = await anon.next((f) => f.type === 'error');
  assert.equal(e.code, 'unauthorized');
  assert.equal(await anon.closed, 4001);
  // token in the first frame
  const viaFrame = await RawClient.open(dev.wsUrl);
  viaFrame.send({ type: 'auth', token: good });
  viaFrame.send({ type: 'subscribe', doc: 'secret' });
  assert.equal((await viaFrame.next((f) => f.type === 'snapshot')).doc, 'secret');
  viaFrame.close();
  // token in the query
  const viaQuery = await RawClient.open(`${dev.wsUrl}?token=${good}`);
  viaQuery.send({ type: 'subscribe', doc: 'secret' });
  assert.equal((await viaQuery.next((f) => f.type === 'snapshot')).doc, 'secret');
  viaQuery.close();
});
