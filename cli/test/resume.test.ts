/**
 * Acceptance: a client that disconnects, misses 50 writes and reconnects with lastSeq gets the
 * missed ops as deltas (no snapshot) while the history ring covers it — one delta composing all 50
 * by default, exactly the 50 with FANOUT_COALESCE=false — and a snapshot when not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getDoc, post, RawClient, startDevProcess, tempDir } from './harness.js';

async function missThenResume(dev: { url: string; wsUrl: string }, doc: string, protocol: string) {
  const a = await RawClient.open(dev.wsUrl, protocol);
  a.send({ type: 'subscribe', doc });
  const snap = await a.next((f) => f.type === 'snapshot');
  for (let i = 0; i < 3; i++) assert.equal((await post(dev.url, doc, { pre: i })).status, 200);
  const last = await a.next((f) => f.type === 'delta' && f.patch.pre === 2);
  a.close();
  await a.closed;
  for (let i = 0; i < 50; i++) assert.equal((await post(dev.url, doc, { missed: i })).status, 200);
  const fin = await getDoc(dev.url, doc);

  const b = await RawClient.open(dev.wsUrl, protocol);
  b.send({ type: 'subscribe', doc, lastSeq: last.seq });
  await b.next((f) => (f.type === 'delta' && f.seq === fin.seq) || f.type === 'snapshot');
  // a ping after the catch-up: its pong shows nothing else (duplicates, a snapshot) follows
  b.send({ type: 'ping' });
  await b.next((f) => f.type === 'pong');
  b.close();
  // every connection opens with `welcome` (its id): not part of what a resume delivers
  return { snap, last, fin, frames: b.frames.filter((f) => f.type !== 'pong' && f.type !== 'welcome') };
}

test('resume inside the history ring gets one delta covering the missed ops (coalesced)', async (t) => {
  const tmp = tempDir();
  const dev = await startDevProcess({ dataDir: tmp.dir, env: { HISTORY_SIZE: '100' } });
  t.after(async () => {
    await dev.stop();
    tmp.cleanup();
  });
  const { last, fin, frames } = await missThenResume(dev, 'resume-in', 'replicant.v1.json');
  assert.equal(frames.length, 1, 'one frame');
  assert.equal(frames[0].type, 'delta', 'no snapshot');
  assert.equal(frames[0].prevSeq, last.seq);
  assert.equal(frames[0].seq, fin.seq);
  assert.deepEqual(frames[0].patch, { missed: 49 }, 'the exact composition of the 50 ops');
});

test('resume inside the history ring with FANOUT_COALESCE=false gets exactly the missed deltas', async (t) => {
  const tmp = tempDir();
  const dev = await startDevProcess({ dataDir: tmp.dir, env: { HISTORY_SIZE: '100', FANOUT_COALESCE: 'false' } });
  t.after(async () => {
    await dev.stop();
    tmp.cleanup();
  });
  const { last, fin, frames } = await missThenResume(dev, 'resume-in', 'replicant.v1.json');
  assert.equal(frames.length, 50, 'exactly the 50 missed deltas');
  assert.ok(frames.every((f) => f.type === 'delta'), 'no snapshot');
  let prev = last.seq;
  for (let i = 0; i < 50; i++) {
    assert.equal(frames[i].prevSeq, prev);
    assert.deepEqual(frames[i].patch, { missed: i });
    prev = frames[i].seq;
  }
  assert.equal(prev, fin.seq);
});

test('resume outside the history ring gets a snapshot', async (t) => {
  const tmp = tempDir();
  const dev = await startDevProcess({ dataDir: tmp.dir, env: { HISTORY_SIZE: '20' } });
  t.after(async () => {
    await dev.stop();
    tmp.cleanup();
  });
  const { fin, frames } = await missThenResume(dev, 'resume-out', 'replicant.v1.json');
  assert.equal(frames.length, 1);
  assert.equal(frames[0].type, 'snapshot');
  assert.equal(frames[0].seq, fin.seq);
  assert.deepEqual(frames[0].state, fin.state);
});

test('resume with the current seq gets nothing, and a later write arrives as a delta', async (t) => {
  const tmp = tempDir();
  const dev = await startDevProcess({ dataDir: tmp.dir });
  t.after(async () => {
    await dev.stop();
    tmp.cleanup();
  });
  const doc = 'resume-current';
  const r = await post(dev.url, doc, { a: 1 });
  const c = await RawClient.open(dev.wsUrl);
  c.send({ type: 'subscribe', doc, lastSeq: r.body.seq });
  c.send({ type: 'ping' });
  await c.next((f) => f.type === 'pong');
  assert.deepEqual(c.frames.map((f) => f.type), ['welcome', 'pong']);
  const w = await post(dev.url, doc, { b: 2 });
  const d = await c.next((f) => f.type === 'delta');
  assert.equal(d.prevSeq, r.body.seq);
  assert.equal(d.seq, w.body.seq);
  assert.deepEqual(c.frames.map((f) => f.type), ['welcome', 'pong', 'delta'], 'no snapshot, no duplicate');
  c.close();
});
