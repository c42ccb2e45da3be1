/**
 * One frame must not take a process down. Against a real `replicant dev`: a patch nested 10,000
 * deep gets `bad_patch` on both subprotocols and 400 over HTTP; then a seeded run of
 * FUZZ_FRAMES (default 100,000) mutated frames over both subprotocols, while a bystander keeps
 * receiving every delta of a doc written throughout. `npm run fuzz` runs a longer campaign.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import WebSocket from 'ws';
import { decodeServerBinary, encodeClientBinary } from '@replicant/protocol';
import { getDoc, post, RawClient, startDevProcess, tempDir } from './harness.js';
import { runFuzz } from './fuzz.js';

const FRAMES = Number(process.env.FUZZ_FRAMES ?? 100_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);

test('a 10,000-deep patch is bad_patch on both subprotocols and 400 over HTTP; fuzzing leaves the process up', async (t) => {
  const tmp = tempDir();
  const dev = await startDevProcess({ dataDir: tmp.dir });
  t.after(async () => {
    await dev.stop();
    tmp.cleanup();
  });
  const deep = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);

  const j = await RawClient.open(dev.wsUrl, 'replicant.v1.json');
  j.send(`{"type":"publish","doc":"deep","patch":${deep},"id":"d1"}`);
  const je = await j.next((f) => f.type === 'error' && f.id === 'd1');
  assert.equal(je.code, 'bad_patch');
  j.send({ type: 'ping' });
  await j.next((f) => f.type === 'pong');

  const b = new WebSocket(dev.wsUrl, ['replicant.v1']);
  await once(b, 'open');
  b.send(encodeClientBinary({ type: 'publish', doc: 'deep', patch: deep, id: 'd2' }));
  const [msg] = await once(b, 'message');
  const be = decodeServerBinary(new Uint8Array(msg as Buffer)) as { type: string; code: string; id: string };
  assert.deepEqual([be.type, be.code, be.id], ['error', 'bad_patch', 'd2']);
  b.close();

  const h = await post(dev.url, 'deep', deep);
  assert.equal(h.status, 400);
  assert.equal(h.body.error.code, 'bad_patch');
  assert.deepEqual(await getDoc(dev.url, 'deep'), { seq: '0', state: {} });

  // the bystander: one doc written over HTTP for the whole run
  const by = await RawClient.open(dev.wsUrl);
  by.send({ type: 'subscribe', doc: 'bystander' });
  await by.next((f) => f.type === 'snapshot');
  let writes = 0;
  let fuzzing = true;
  const writer = (async () => {
    while (fuzzing) {
      assert.equal((await post(dev.url, 'bystander', { n: ++writes })).status, 200);
      await by.next((f) => f.type === 'delta' && f.patch.n === writes);
    }
  })();

  const t0 = Date.now();
  const [sj, sb] = await Promise.all([runFuzz(dev.wsUrl, 'json', FRAMES / 2, SEED), runFuzz(dev.wsUrl, 'binary', FRAMES / 2, SEED + 1)]);
  fuzzing = false;
  await writer;
  console.log(`fuzz: ${sj.sent + sb.sent} frames in ${Date.now() - t0} ms; json ${JSON.stringify(sj)}; binary ${JSON.stringify(sb)}; bystander saw ${writes} writes`);
  assert.equal(sj.sent + sb.sent, FRAMES);
  assert.equal(dev.proc.exitCode, null, 'the process is up');
  assert.ok(writes >= 3, `the bystander received deltas throughout (${writes})`);
  const deltas = by.frames.filter((f) => f.type === 'delta');
  assert.equal(deltas.length, writes);
  for (let i = 1; i < deltas.length; i++) assert.equal(deltas[i].prevSeq, deltas[i - 1].seq);
  assert.ok((sj.errorCodes.bad_patch ?? 0) > 0 && (sb.errorCodes.bad_patch ?? 0) > 0, 'deep patches were tried on both');
  assert.equal(by.closeCode, undefined);
  // and a new client is served normally
  const fresh = await RawClient.open(dev.wsUrl);
  fresh.send({ type: 'subscribe', doc: 'bystander' });
  assert.equal((await fresh.next((f) => f.type === 'snapshot')).state.n, writes);
  fresh.close();
  by.close();
  j.close();
});
