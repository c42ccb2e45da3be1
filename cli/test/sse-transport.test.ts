/**
 * The SDK's SSE + HTTP transport against a real `replicant dev` with JWT auth (Node: fetch, no
 * WebSocket at all): every doc resumes from its own seq when the stream is reopened (a subscription
 * change, an in-band token refresh), so a live doc gets one snapshot and then only deltas, with no
 * gap, across reopens while a writer keeps writing; publishes map to the WebSocket path's acks and
 * errors (`forbidden` outside the write scope, `conflict` for a stale ifSeq).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type DeltaEvent } from '@replicant/sdk';
import { getDoc, post, startDevProcess, tempDir } from './harness.js';
import { nowSec, sign } from './tokens.js';

const SECRET = 'sse-transport-test-secret-0123456789abcdef';
const API_KEY = 'sse-transport-api-key';

test('SDK over SSE with JWTs: resume per doc across reopens and token refreshes (one snapshot, no gap), publishes acked or refused as over WebSocket', async (t) => {
  const tmp = tempDir();
  const dev = await startDevProcess({ dataDir: tmp.dir, env: { AUTH_JWT_SECRET: SECRET, API_KEYS: API_KEY, AUTH_CLOCK_SKEW_S: '0' } });
  t.after(async () => {
    await dev.stop();
    tmp.cleanup();
  });
  let issued = 0;
  // 4 s tokens: the client refreshes each about 1 s before its exp, in-band (over SSE: the stream reopens under it)
  const token = () => {
    issued++;
    return sign({ sub: 'ann', read: ['sse:*'], write: ['sse:w*'], exp: nowSec() + 4 }, SECRET);
  };
  // with a routing hint (`?affinity=` on every stream request): the gateway serves it as any other
  const c = connect(dev.wsUrl, { transport: 'sse', token, affinity: 'team-ann', backoff: { initialMs: 50, maxMs: 500 } });
  t.after(() => c.close());
  const snapshots: string[] = [];
  const deltas: DeltaEvent[] = [];
  let gaps = 0;
  c.on('snapshot', (ev) => snapshots.push(ev.doc));
  c.on('delta', (ev) => {
    if (ev.outcome === 'gap') gaps++;
    if (ev.outcome === 'applied' && ev.doc === 'sse:live') deltas.push(ev);
  });
  const live = c.subscribe('sse:live', () => {}).doc;
  await new Promise<void>((resolve) => c.on('snapshot', (ev) => ev.doc === 'sse:live' && resolve()));
  assert.equal(c.transport, 'sse');

  // a writer (API key, straight to origin's HTTP) writes on while the stream is reopened: by a
  // second subscription, by its removal, and by in-band refreshes
  const auth = { authorization: `Bearer ${API_KEY}` };
  let writes = 0;
  const write = async (): Promise<void> => {
    assert.equal((await post(dev.url, 'sse:live', { n: ++writes }, auth)).status, 200);
  };
  for (let i = 0; i < 20; i++) await write();
  const other = c.subscribe('sse:other', () => {});
  for (let i = 0; i < 20; i++) await write();
  other.unsubscribe();
  const issuedBefore = issued;
  // until two refreshes happened (each reopens the stream), writing on
  while (issued < issuedBefore + 2) await write();
  for (let i = 0; i < 20; i++) await write();
  const fin = await getDoc(dev.url, 'sse:live', auth);
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (String(live.seq) === fin.seq) resolve();
    };
    c.on('delta', check);
    check();
  });
  assert.equal(gaps, 0, 'no gap');
  assert.deepEqual(
    snapshots.filter((d) => d === 'sse:live'),
    ['sse:live'],
    'one snapshot of the live doc: every reopen resumed it from its seq',
  );
  assert.deepEqual(live.state, fin.state);
  for (let i = 1; i < deltas.length; i++) assert.equal(deltas[i]!.prevSeq, deltas[i - 1]!.seq, 'each delta continues the last');

  // publishes over HTTP POST: an ack, then the WebSocket path's errors
  const seq = await c.publish('sse:w1', { a: 1 });
  assert.equal((await getDoc(dev.url, 'sse:w1', auth)).seq, String(seq));
  await assert.rejects(c.publish('sse:live', { nope: 1 }), { code: 'forbidden' });
  await assert.rejects(c.publish('sse:w1', { b: 1 }, { ifSeq: seq - 1n }), { code: 'conflict' });
  assert.equal(c.pendingPublishes, 0);
});
