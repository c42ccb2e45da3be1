/**
 * Acceptance, embedded log (`replicant dev`): history pages, `?at=`, `restore` (history-check.ts),
 * and a seq below the log's retention answered 410 `history_expired` naming the oldest seq.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { connect, type HistoryError } from '@replicant/sdk';
import { post, startDevProcess, tempDir } from './harness.js';
import { getJson, runHistoryChecks } from './history-check.js';

test('history on the file log: 5,000 writes page back in order, ?at= equals what a subscriber held, restore', async (t) => {
  const tmp = tempDir();
  // one partition: the doc's records are interleaved with another doc's
  const dev = await startDevProcess({ dataDir: tmp.dir, env: { PARTITIONS: '1', FANOUT_COALESCE: 'false' } });
  t.after(async () => {
    await dev.stop();
    tmp.cleanup();
  });
  await runHistoryChecks({ url: dev.url, wsUrl: dev.wsUrl }, { doc: 'hist', other: 'hist-other', writes: 5000, samples: 100 });

  // bad input: clear 400s
  assert.equal((await getJson(`${dev.url}/v1/docs/hist/history?after=x`)).body.error.code, 'bad_seq');
  assert.equal((await getJson(`${dev.url}/v1/docs/hist/history?limit=1001`)).status, 400);
  assert.equal((await getJson(`${dev.url}/v1/docs/hist?at=-1`)).body.error.code, 'bad_seq');
  const bad = await fetch(`${dev.url}/v1/docs/hist/restore`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"seq":5}' });
  assert.equal(bad.status, 400);
  // never written: empty history, empty state
  assert.deepEqual((await getJson(`${dev.url}/v1/docs/nobody/history`)).body, { ops: [], next: null });
  assert.deepEqual((await getJson(`${dev.url}/v1/docs/nobody?at=10`)).body, { seq: '0', state: {} });
});

/** the first offset still stored in the one partition */
function logStart(dataDir: string): bigint {
  const names = readdirSync(join(dataDir, 'log', 'p0'))
    .filter((n) => n.endsWith('.log'))
    .sort();
  return BigInt(names[0].slice(0, 20));
}

test('history below the file log retention: 410 history_expired naming the oldest seq; from there on it reads', async (t) => {
  const tmp = tempDir();
  const env = { PARTITIONS: '1', LOG_SEGMENT_BYTES: String(8 * 1024), LOG_RETENTION_BYTES: String(16 * 1024), CHECKPOINT_INTERVAL_MS: '50' };
  let dev = await startDevProcess({ dataDir: tmp.dir, env });
  t.after(async () => {
    await dev.stop();
    tmp.cleanup();
  });
  const first = await post(dev.url, 'ret', { a: 1 });
  assert.equal(first.status, 200);
  // write until retention has deleted the segment holding the first write (each write is a step, no sleeping)
  let last = first;
  let n = 0;
  for (; logStart(tmp.dir) === 0n; n++) {
    assert.ok(n < 5000, 'retention never deleted a segment');
    last = await post(dev.url, 'ret', { n, pad: 'x'.repeat(100) });
    assert.equal(last.status, 200);
  }
  // a clean stop writes a final checkpoint: the doc's snapshot is then at its latest seq, and stays
  // there while nothing is written (each checkpoint replaces it: architecture.md, "History")
  await dev.stop();
  dev = await startDevProcess({ dataDir: tmp.dir, env });
  const lastSeq = last.body.seq as string;

  const at = await getJson(`${dev.url}/v1/docs/ret?at=${first.body.seq}`);
  assert.equal(at.status, 410, JSON.stringify(at.body));
  assert.deepEqual([at.body.error.code, at.body.error.oldest], ['history_expired', lastSeq]);
  const hist = await getJson(`${dev.url}/v1/docs/ret/history?after=0`);
  assert.deepEqual([hist.status, hist.body.error.oldest], [410, lastSeq]);
  const restore = await fetch(`${dev.url}/v1/docs/ret/restore`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seq: first.body.seq }) });
  assert.equal(restore.status, 410);

  // the oldest seq named is readable, and history from it runs to the end
  const ok = await getJson(`${dev.url}/v1/docs/ret?at=${lastSeq}`);
  assert.deepEqual(ok.body, { seq: lastSeq, state: { a: 1, n: n - 1, pad: 'x'.repeat(100) } });
  assert.deepEqual((await getJson(`${dev.url}/v1/docs/ret/history?after=${lastSeq}`)).body, { ops: [], next: null });
  // a new write: history after lastSeq holds it, unless a checkpoint has already replaced the
  // snapshot with the new one (then the oldest available is the new write's seq)
  const latest = await post(dev.url, 'ret', { done: true });
  const after = await getJson(`${dev.url}/v1/docs/ret/history?after=${lastSeq}`);
  if (after.status === 200) assert.deepEqual(after.body.ops.map((o: any) => [o.seq, o.patch]), [[latest.body.seq, { done: true }]]);
  else assert.deepEqual([after.status, after.body.error.oldest], [410, latest.body.seq]);
});

test('sdk: client.history / stateAt / restore over HTTP on the stream host, with the token as Bearer', async (t) => {
  const tmp = tempDir();
  const secret = 'history-sdk-secret-0123456789';
  const dev = await startDevProcess({ dataDir: tmp.dir, env: { AUTH_JWT_SECRET: secret } });
  const token = await new SignJWT({ sub: 'u', read: ['s:*'], write: ['s:*'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(secret));
  const client = connect(dev.wsUrl, { token: () => token });
  const anonymous = connect(dev.wsUrl);
  t.after(async () => {
    await client.close();
    await anonymous.close();
    await dev.stop();
    tmp.cleanup();
  });
  const auth = { authorization: `Bearer ${token}` };
  const seqs: string[] = [];
  for (let i = 0; i < 5; i++) seqs.push((await post(dev.url, 's:1', { n: i, [`k${i}`]: true }, auth)).body.seq);

  const page = await client.history('s:1', { limit: 3 });
  assert.deepEqual(page.ops.map((o) => o.seq), seqs.slice(0, 3));
  assert.equal(page.next, seqs[2]);
  const rest = await client.history('s:1', { after: page.next! });
  assert.deepEqual(rest.ops.map((o) => [o.seq, o.prevSeq, o.patch]), [
    [seqs[3], seqs[2], { n: 3, k3: true }],
    [seqs[4], seqs[3], { n: 4, k4: true }],
  ]);
  assert.equal(rest.next, null);
  assert.deepEqual(await client.stateAt('s:1', seqs[1]), { seq: seqs[1], state: { n: 1, k0: true, k1: true } });
  const restored = await client.restore('s:1', seqs[1]);
  assert.ok(BigInt(restored) > BigInt(seqs[4]));
  assert.deepEqual((await getJson(`${dev.url}/v1/docs/s:1`, auth)).body, { seq: restored, state: { n: 1, k0: true, k1: true } });
  // the server's refusals are typed errors
  await assert.rejects(anonymous.history('s:1'), (e: HistoryError) => e.code === 'unauthorized' && e.status === 401);
  await assert.rejects(client.stateAt('other', '1'), (e: HistoryError) => e.code === 'forbidden' && e.status === 403);
});
