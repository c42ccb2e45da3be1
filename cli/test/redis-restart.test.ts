/**
 * Redis restarted mid-run, in cluster mode (real processes): `replicant origin`, one `replicant
 * fanout` and one `replicant gateway` over a real 3-broker Kafka cluster and a redis-server, twice:
 *
 * - with an append-only file fsynced on every write (the supported way to run the snapshot store):
 *   the restart keeps the snapshots, the covered offsets and the replica registry, so checkpoints
 *   simply resume, and origin never rebuilds;
 * - without persistence: the restart empties Redis. Origin notices the loss (the lineage key is
 *   gone), rebuilds its view from the log (writes answer 503 meanwhile; the writers retry with the
 *   same key) and checkpoints everything again; the replica re-registers.
 *
 * Asserted in both: SDK clients subscribed through the gateway get no error event and converge on
 * origin's state with chained deltas and no resync; checkpoints go on after the restart
 * (`replicant_checkpoint_docs_total` grows, the snapshots in Redis end up equal to origin's
 * documents and the covered offsets reach past every doc's seq); origin is ready again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { partitionForKey, RedisSnapshotStore } from '@replicant/stream';
import { startCluster, scrape, metric, type Cluster } from './cluster-harness.js';
import { runConvergence } from './convergence.js';
import { getDoc } from './harness.js';

const PARTITIONS = 8;

for (const persistence of [true, false]) {
  describe(`Redis restarted during a run (origin + fanout + gateway processes, Redis ${persistence ? 'with AOF' : 'without persistence'})`, () => {
    let c: Cluster;
    before(async () => {
      c = await startCluster({
        fanouts: 1,
        gateways: 1,
        partitions: PARTITIONS,
        redisPersistence: persistence,
        originEnv: { CHECKPOINT_INTERVAL_MS: '100' },
      });
    });
    after(async () => {
      await c?.stop();
    });

    const title = persistence
      ? 'checkpointing resumes, subscribed SDK clients see no error and converge'
      : 'origin rebuilds from the log and checkpoints again, subscribed SDK clients see no error and converge';
    test(title, async (t) => {
      let atRestart = { docs: 0, errors: 0 };
      let restartMs = 0;
      const docs = 20;
      const prefix = 'rr';
      await runConvergence({
        wsUrls: [c.gateways[0].wsUrl],
        originUrl: c.origin.url,
        clients: 100,
        docs,
        writers: 8,
        writes: 2000,
        prefix,
        noErrors: true,
        midway: async () => {
          const m = await scrape(c.origin);
          assert.ok(metric(m, 'replicant_checkpoint_docs_total') > 0, 'checkpoints ran before the restart');
          const t0 = Date.now();
          await c.redis.restart();
          restartMs = Date.now() - t0;
          const m2 = await scrape(c.origin);
          atRestart = {
            docs: metric(m2, 'replicant_checkpoint_docs_total'),
            errors: metric(m2, 'replicant_checkpoint_errors_total'),
          };
        },
      });

      // every doc's snapshot in Redis catches up with origin's state (nothing to await across
      // processes: bounded poll, a checkpoint runs every 100 ms)
      const finals = new Map<string, { seq: string; state: unknown }>();
      for (let i = 0; i < docs; i++) finals.set(`${prefix}-${i}`, await getDoc(c.origin.url, `${prefix}-${i}`));
      const store = await RedisSnapshotStore.open({ url: c.redis.url, topic: c.topic, log: () => {} });
      try {
        const deadline = Date.now() + 10_000;
        for (const [doc, fin] of finals) {
          for (;;) {
            const snap = await store.get(doc);
            if (snap && snap.seq === BigInt(fin.seq)) {
              assert.deepEqual(snap.state, fin.state, `snapshot of ${doc}`);
              break;
            }
            assert.ok(Date.now() < deadline, `snapshot of ${doc} at ${snap?.seq} never reached ${fin.seq}`);
            await new Promise((r) => setTimeout(r, 50));
          }
          const covered = await store.covered(partitionForKey(doc, PARTITIONS));
          assert.ok(covered >= BigInt(fin.seq), `covered offset ${covered} of ${doc}'s partition reaches its seq ${fin.seq}`);
        }
      } finally {
        await store.close();
      }

      const m = await scrape(c.origin);
      const docsAfter = metric(m, 'replicant_checkpoint_docs_total');
      t.diagnostic(
        `redis restart took ${restartMs} ms; checkpointed docs: ${atRestart.docs} at the restart, ${docsAfter} at the end; ` +
          `failed checkpoint commits: ${metric(m, 'replicant_checkpoint_errors_total')}`,
      );
      assert.ok(docsAfter > atRestart.docs, 'checkpoints wrote snapshots after the restart');
      const ready = await fetch(`${c.origin.adminUrl}/readyz`);
      assert.equal(ready.status, 200);
      if (persistence) {
        assert.equal(metric(m, 'replicant_origin_rebuilds_total'), 0, 'a persistent Redis needs no rebuild');
        assert.doesNotMatch(c.origin.output(), /rebuilding the materialized view/);
      } else {
        assert.equal(metric(m, 'replicant_origin_rebuilds_total'), 1, 'one rebuild');
        assert.match(
          c.origin.output(),
          /snapshots and covered offsets of topic replicant\.docs are gone[^\n]*rebuilding the materialized view from the log/,
        );
        assert.match(c.origin.output(), /materialized view rebuilt from the log in \d+ ms/);
      }
    });
  });
}
