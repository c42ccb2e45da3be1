/**
 * Acceptance (embedded): 200 SDK clients on 20 docs over real sockets against a real
 * `replicant dev` process, 2,000 writes over HTTP from 4 concurrent writers. Every client ends with
 * exactly the origin's state, saw strictly increasing seqs, and every delta's prevSeq equalled the
 * seq it had before (a coalesced delta covers several ops, so there are at most as many as ops).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevProcess, tempDir } from './harness.js';
import { runConvergence } from './convergence.js';

test('200 clients on 20 docs converge to the origin state after 2,000 concurrent writes', async (t) => {
  const tmp = tempDir();
  const dev = await startDevProcess({ dataDir: tmp.dir });
  t.after(async () => {
    await dev.stop();
    tmp.cleanup();
  });
  const r = await runConvergence({ wsUrls: [dev.wsUrl], originUrl: dev.url, clients: 200, docs: 20, writers: 4, writes: 2000, prefix: 'conv' });
  // one snapshot each, then deltas: one per op, or fewer where a flush coalesced several ops of a
  // doc into one exactly composed delta (the chain and the final state are checked per client)
  assert.ok(r.deliveries <= 200 + 2000 * 10, `${r.deliveries} deliveries`);
  assert.ok(r.deliveries > 200, 'deltas arrived');
});
