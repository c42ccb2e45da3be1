/**
 * Acceptance (cluster mode): real processes — a real Kafka cluster (3 KRaft brokers),
 * redis-server, `replicant origin`, three `replicant fanout` replicas and two `replicant gateway`s,
 * configured only through env.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type ReplicantClient } from '@replicant/sdk';
import { startCluster, type Cluster, type Node } from './cluster-harness.js';
import { runConvergence } from './convergence.js';
import { post } from './harness.js';

/** how long gateways may take to re-route every doc of a killed replica */
const REROUTE_BOUND_MS = 3000;

describe('cluster: origin + 3 fanout replicas + 2 gateways over Kafka and Redis', () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster({ fanouts: 3, gateways: 2, partitions: 8 });
  });
  after(async () => {
    await c?.stop();
  });

  const totalReplicaSubs = async () => {
    let n = 0;
    for (const f of c.fanouts) if (f.proc.exitCode === null && f.proc.signalCode === null) n += (await c.stats(f)).replica.subscriptions;
    return n;
  };

  test('upstream dedup: 1,000 clients on one doc at one gateway make one replica subscription', async () => {
    const clients: ReplicantClient[] = [];
    try {
      const synced: Promise<void>[] = [];
      for (let i = 0; i < 1000; i++) {
        const cl = connect(c.gateways[0].wsUrl, { protocol: 'json' });
        clients.push(cl);
        synced.push(new Promise((resolve) => cl.subscribe('dedup-doc', () => resolve())));
      }
      await Promise.all(synced);
      // plus each gateway's one subscription to the server API's control doc (~control)
      assert.equal(await totalReplicaSubs(), 1 + c.gateways.length);
      const gw = await c.stats(c.gateways[0]);
      assert.equal(gw.connections, 1000);
      assert.equal(gw.upstream.docs, 2);
    } finally {
      await Promise.all(clients.map((x) => x.close()));
    }
  });

  test('500 clients over both gateways on 50 docs converge after 5,000 writes', async () => {
    await runConvergence({
      wsUrls: c.gateways.map((g) => g.wsUrl),
      originUrl: c.origin.url,
      clients: 500,
      docs: 50,
      writers: 8,
      writes: 5000,
      prefix: 'cl',
    });
  });

  test('kill -9 of a replica mid-stream: no gap, no duplicate, re-routed within the bound', async (t) => {
    let rerouteMs = -1;
    let victimDocs = 0;
    const victim: Node = c.fanouts[0];
    await runConvergence({
      wsUrls: c.gateways.map((g) => g.wsUrl),
      originUrl: c.origin.url,
      clients: 300,
      docs: 30,
      writers: 6,
      writes: 3000,
      prefix: 'fo',
      midway: async () => {
        victimDocs = (await c.stats(victim)).replica.subscriptions;
        const t0 = Date.now();
        await victim.kill9();
        // re-routed = no gateway has a doc on a link to the victim, none unrouted
        for (;;) {
          const stats = await Promise.all(c.gateways.map((g) => c.stats(g)));
          const stuck = stats.some((s) => s.upstream.unrouted > 0 || s.upstream.links.some((l: any) => l.replica === victim.id && l.docs > 0));
          if (!stuck) break;
          assert.ok(Date.now() - t0 < REROUTE_BOUND_MS * 2, 're-routing stalled');
          await new Promise((r) => setTimeout(r, 20));
        }
        rerouteMs = Date.now() - t0;
      },
    });
    t.diagnostic(`victim served ${victimDocs} doc subscriptions; re-routed in ${rerouteMs} ms`);
    assert.ok(victimDocs > 0, 'the killed replica was serving docs');
    assert.ok(rerouteMs >= 0 && rerouteMs <= REROUTE_BOUND_MS, `re-routed in ${rerouteMs} ms (bound ${REROUTE_BOUND_MS} ms)`);
  });

  test('a restarted replica re-registers and takes load again', async () => {
    const restarted = await c.startFanout('fanout-1');
    c.fanouts[0] = restarted;
    // new subscriptions spread by rendezvous hashing; some must land on the restarted replica
    const clients: ReplicantClient[] = [];
    try {
      const synced: Promise<void>[] = [];
      for (let i = 0; i < 60; i++) {
        const cl = connect(c.gateways[i % 2].wsUrl, { protocol: 'binary' });
        clients.push(cl);
        synced.push(new Promise((resolve) => cl.subscribe(`back-${i}`, () => resolve())));
      }
      await Promise.all(synced);
      const st = await c.stats(restarted);
      assert.ok(st.replica.subscriptions > 0, `restarted replica serves ${st.replica.subscriptions} docs`);
      // and it delivers: a write to one of its docs reaches the client
      const r = await post(c.origin.url, 'back-0', { ok: true });
      assert.equal(r.status, 200);
      await new Promise<void>((resolve) => {
        const sub = clients[0].subscribe('back-0', (d) => {
          if (d.seq >= BigInt(r.body.seq)) {
            sub.unsubscribe();
            resolve();
          }
        });
      });
    } finally {
      await Promise.all(clients.map((x) => x.close()));
    }
  });
});
