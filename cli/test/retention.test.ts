/**
 * Acceptance: the embedded log under a steady write load with LOG_RETENTION_BYTES set stays under
 * the bound plus one segment, every subscriber still converges, a restart recovers the same state
 * from the retained segments, and a resume older than retention gets a snapshot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { getDoc, RawClient, startDevProcess, tempDir } from './harness.js';
import { runConvergence } from './convergence.js';

const SEGMENT = 8 * 1024;
const RETAIN = 32 * 1024;

/** bytes of the segment files of the one partition, and how many there are */
function partitionOnDisk(dataDir: string): { bytes: number; segments: number; first: bigint } {
  const dir = join(dataDir, 'log', 'p0');
  const names = readdirSync(dir).filter((n) => n.endsWith('.log')).sort();
  let bytes = 0;
  for (const n of names) {
    try {
      bytes += statSync(join(dir, n)).size;
    } catch {
      // deleted between readdir and stat: it no longer counts
    }
  }
  return { bytes, segments: names.length, first: BigInt(names[0].slice(0, 20)) };
}

test('LOG_RETENTION_BYTES bounds the embedded log; subscribers converge; old resumes get a snapshot', async (t) => {
  const tmp = tempDir();
  const env = {
    PARTITIONS: '1',
    LOG_SEGMENT_BYTES: String(SEGMENT),
    LOG_RETENTION_BYTES: String(RETAIN),
    CHECKPOINT_INTERVAL_MS: '50',
    // one delta per write: the test counts that every write reached every subscriber once
    FANOUT_COALESCE: 'false',
  };
  let dev = await startDevProcess({ dataDir: tmp.dir, env });
  t.after(async () => {
    await dev.stop();
    tmp.cleanup();
  });

  // measure the partition on disk all along the load (a measurement, not a synchronisation)
  let max = 0;
  let samples = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      max = Math.max(max, partitionOnDisk(tmp.dir).bytes);
      samples++;
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const r = await runConvergence({ wsUrls: [dev.wsUrl], originUrl: dev.url, clients: 40, docs: 8, writers: 4, writes: 3000, prefix: 'ret' });
  sampling = false;
  await sampler;
  assert.equal(r.deliveries, 40 + 3000 * 5, 'every write reached each of its doc\'s subscribers once');

  const end = partitionOnDisk(tmp.dir);
  assert.ok(end.first > 0n, `retention deleted the oldest segments (first retained offset ${end.first})`);
  assert.ok(samples > 10, `sampled ${samples} times`);
  assert.ok(max <= RETAIN + SEGMENT, `partition peaked at ${max} bytes, bound ${RETAIN} + one segment ${SEGMENT}`);
  assert.ok(end.bytes <= RETAIN + SEGMENT, `partition holds ${end.bytes} bytes at the end`);

  // a restart replays from the covered offsets, which retention never passed: the same states
  const before = await Promise.all(Array.from({ length: 8 }, (_, i) => getDoc(dev.url, `ret-${i}`)));
  assert.equal(await dev.stop(), 0);
  dev = await startDevProcess({ dataDir: tmp.dir, env });
  const after = await Promise.all(Array.from({ length: 8 }, (_, i) => getDoc(dev.url, `ret-${i}`)));
  assert.deepEqual(after, before);

  // a client resuming from a seq whose records retention deleted gets a fresh snapshot
  const c = await RawClient.open(dev.wsUrl);
  t.after(() => c.close());
  c.send({ type: 'subscribe', doc: 'ret-0', lastSeq: '1' });
  const first = await c.next((f) => f.type === 'snapshot' || f.type === 'delta');
  assert.equal(first.type, 'snapshot');
  assert.equal(first.seq, before[0].seq);
  assert.deepEqual(first.state, before[0].state);
});
