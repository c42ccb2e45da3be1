/**
 * Acceptance: every write acknowledged before a `kill -9` of a real `replicant dev` process is
 * present after restart; a torn tail in the last segment is truncated on recovery and the log
 * stays usable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { getDoc, post, startDevProcess, tempDir } from './harness.js';

test('acknowledged writes survive kill -9, and a torn tail is truncated on recovery', async (t) => {
  const tmp = tempDir();
  let dev = await startDevProcess({ dataDir: tmp.dir });
  // after hooks run in registration order: the process must be gone before its data dir is removed
  t.after(async () => {
    await dev.kill9();
    tmp.cleanup();
  });

  const docs = ['dur-a', 'dur-b', 'dur-c', 'dur-d'];
  const acked = new Map<string, Set<number>>(docs.map((d) => [d, new Set()]));
  // Writers run flat out; the process is killed while writes are in flight.
  let stop = false;
  let n = 0;
  const writer = async () => {
    while (!stop) {
      const i = n++;
      const doc = docs[i % docs.length];
      try {
        const r = await post(dev.url, doc, { [`w${i}`]: i });
        if (r.status === 200) acked.get(doc)!.add(i);
      } catch {
        return; // connection reset by the kill: not acknowledged
      }
    }
  };
  const writers = Array.from({ length: 8 }, () => writer());
  // Kill once a good number of writes were acknowledged (awaited, not timed).
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      let total = 0;
      for (const s of acked.values()) total += s.size;
      if (total >= 400) {
        clearInterval(check);
        resolve();
      }
    }, 5);
  });
  await dev.kill9();
  stop = true;
  await Promise.all(writers);
  const ackedTotal = [...acked.values()].reduce((a, s) => a + s.size, 0);
  assert.ok(ackedTotal >= 400);

  // Tear the tail of the newest segment of every partition that has one.
  const logDir = join(tmp.dir, 'log');
  let torn = 0;
  for (const p of readdirSync(logDir)) {
    const pdir = join(logDir, p);
    if (!statSync(pdir).isDirectory()) continue;
    const segs = readdirSync(pdir).filter((f) => f.endsWith('.log')).sort();
    if (segs.length === 0) continue;
    appendFileSync(join(pdir, segs[segs.length - 1]), Buffer.from([0x00, 0x00, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x42]));
    torn++;
  }
  assert.ok(torn > 0, 'found segments to tear');

  dev = await startDevProcess({ dataDir: tmp.dir });
  for (const doc of docs) {
    const { state, seq } = await getDoc(dev.url, doc);
    for (const i of acked.get(doc)!) assert.equal(state[`w${i}`], i, `acknowledged write ${i} on ${doc} survived`);
    assert.ok(BigInt(seq) > 0n);
  }
  // The log stays usable after truncation: new writes are acknowledged with higher seqs and read back.
  for (const doc of docs) {
    const before = BigInt((await getDoc(dev.url, doc)).seq);
    const r = await post(dev.url, doc, { after: 'restart' });
    assert.equal(r.status, 200);
    assert.ok(BigInt(r.body.seq) > before);
    assert.equal((await getDoc(dev.url, doc)).state.after, 'restart');
  }
  // And a graceful stop then restart keeps everything too.
  assert.equal(await dev.stop(), 0);
  dev = await startDevProcess({ dataDir: tmp.dir });
  for (const doc of docs) {
    const { state } = await getDoc(dev.url, doc);
    assert.equal(state.after, 'restart');
    for (const i of acked.get(doc)!) assert.equal(state[`w${i}`], i);
  }
  await dev.stop();
});
