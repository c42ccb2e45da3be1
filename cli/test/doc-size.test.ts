/**
 * Acceptance (issue 17, "Size bounds"): 600 writes of ~1 MB each to one document, on `replicant dev`
 * and on the cluster (real Kafka + Redis). The default MAX_DOC_BYTES (16 MiB) takes the first 16;
 * the 17th and every later write get 413 `doc_too_large` (decided in the fold: they still go
 * through the log), the processes' RSS stays under 1 GiB, a new subscriber gets its snapshot in
 * under 5 s, GET answers 200, and a WebSocket publish past the bound gets `error` `doc_too_large`
 * with its id. Each write adds a new key of 999,000 characters (under Kafka's default 1 MB record
 * limit), so the document grows by ~1 MB per accepted write.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getDoc, post, RawClient, startDevProcess, tempDir } from './harness.js';
import { rssBytes, startCluster } from './cluster-harness.js';

const WRITES = 600;
const VALUE = 'x'.repeat(999_000);
const MAX_DOC_BYTES = 16 * 1024 * 1024;
const GiB = 1024 * 1024 * 1024;

async function sixHundredWrites(httpUrl: string, wsUrl: string, pids: number[]): Promise<{ rss: number; snapshotMs: number }> {
  const doc = 'big-doc';
  let maxRss = 0;
  let accepted = 0;
  for (let i = 0; i < WRITES; i++) {
    const r = await post(httpUrl, doc, `{"k${i}":"${VALUE}"}`);
    const fits = (i + 1) * (VALUE.length + 10) < MAX_DOC_BYTES;
    if (fits) {
      assert.equal(r.status, 200, `write ${i + 1}: ${JSON.stringify(r.body).slice(0, 200)}`);
      accepted++;
    } else {
      assert.equal(r.status, 413, `write ${i + 1} is past MAX_DOC_BYTES`);
      assert.equal(r.body.error.code, 'doc_too_large');
    }
    if (i % 20 === 0) for (const pid of pids) maxRss = Math.max(maxRss, rssBytes(pid));
  }
  for (const pid of pids) maxRss = Math.max(maxRss, rssBytes(pid));
  assert.equal(accepted, 16, 'the first 16 writes fit under 16 MiB');
  assert.ok(maxRss < GiB, `RSS stayed under 1 GiB (max ${Math.round(maxRss / 2 ** 20)} MiB)`);

  const got = await getDoc(httpUrl, doc);
  assert.equal(Object.keys(got.state).length, 16);
  assert.ok(Buffer.byteLength(JSON.stringify(got.state)) <= MAX_DOC_BYTES);

  const c = await RawClient.open(wsUrl);
  let snapshotMs = 0;
  try {
    const t0 = performance.now();
    c.send({ type: 'subscribe', doc });
    const snap = await c.next((f) => f.type === 'snapshot' || f.type === 'error');
    const ms = performance.now() - t0;
    assert.equal(snap.type, 'snapshot');
    assert.equal(snap.seq, got.seq);
    assert.equal(Object.keys(snap.state).length, 16);
    assert.ok(ms < 5000, `snapshot after ${Math.round(ms)} ms`);
    snapshotMs = ms;
    // a WebSocket publish past the bound: error doc_too_large with its id; the doc keeps its state
    c.send({ type: 'publish', doc, id: 'too-big-1', patch: { extra: 'y'.repeat(900_000) } });
    const err = await c.next((f) => (f.type === 'error' || f.type === 'ack') && f.id === 'too-big-1');
    assert.equal(err.type, 'error');
    assert.equal(err.code, 'doc_too_large');
    // a write that does not grow it still goes through and reaches the subscriber
    c.send({ type: 'publish', doc, id: 'shrink-1', patch: { k0: null } });
    const ack = await c.next((f) => (f.type === 'ack' || f.type === 'error') && f.id === 'shrink-1');
    assert.equal(ack.type, 'ack');
    const delta = await c.next((f) => f.type === 'delta' && f.seq === ack.seq);
    assert.deepEqual(delta.patch, { k0: null });
  } finally {
    c.close();
  }
  assert.equal((await post(httpUrl, doc, { small: 1 })).status, 200);
  return { rss: maxRss, snapshotMs };
}

test('replicant dev: 600 writes of 1 MB to one doc — 413 doc_too_large past MAX_DOC_BYTES, bounded RSS, servable doc', async (t) => {
  const tmp = tempDir();
  const dev = await startDevProcess({ dataDir: tmp.dir });
  t.after(async () => {
    await dev.stop();
    tmp.cleanup();
  });
  const r = await sixHundredWrites(dev.url, dev.wsUrl, [dev.proc.pid!]);
  t.diagnostic(`max RSS ${Math.round(r.rss / 2 ** 20)} MiB; new subscriber's snapshot after ${Math.round(r.snapshotMs)} ms`);
});

test('cluster: 600 writes of 1 MB to one doc — 413 doc_too_large past MAX_DOC_BYTES, bounded RSS, servable doc', async (t) => {
  const c = await startCluster({ partitions: 2, brokers: 1 });
  t.after(() => c.stop());
  const g = c.gateways[0];
  const r = await sixHundredWrites(c.origin.url, g.wsUrl, [c.origin.proc.pid!, c.fanouts[0].proc.pid!, g.proc.pid!]);
  t.diagnostic(`max RSS of origin, fanout, gateway ${Math.round(r.rss / 2 ** 20)} MiB; new subscriber's snapshot after ${Math.round(r.snapshotMs)} ms`);
});
