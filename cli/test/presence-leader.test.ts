/**
 * The presence leader in a cluster of 2 origins (real Kafka, Redis, 1 replica, 2 gateways that
 * both report to origin 2): origin 1 aggregates (it took the Redis lease first) and origin 2
 * relays to it. SIGKILL origin 1: origin 2 takes the lease, the gateways see its new boot and
 * send full reports, and presence is rebuilt — the watcher's chain has no gap, the counts are
 * exact again and later joins are counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metric, scrape, startCluster } from './cluster-harness.js';
import { API_KEY, join, PresenceWatcher, SECRET, summary, usersOf } from './presence-check.js';

const INTERVAL = 200;
const TTL = 2000;

test('presence survives the loss of the aggregating origin: another takes the lease and rebuilds it', { timeout: 300_000 }, async (t) => {
  const cluster = await startCluster({
    fanouts: 1,
    gateways: 2,
    origins: 2,
    gatewayOrigins: [1, 1],
    env: { AUTH_DISABLED: 'false', AUTH_JWT_SECRET: SECRET, API_KEYS: API_KEY, PRESENCE_INTERVAL_MS: String(INTERVAL), PRESENCE_TTL_MS: String(TTL) },
  });
  t.after(() => cluster.stop());
  const [o1, o2] = cluster.origins;
  const [g1, g2] = cluster.gateways;
  assert.deepEqual([metric(await scrape(o1), 'replicant_origin_presence_leader'), metric(await scrape(o2), 'replicant_origin_presence_leader')], [1, 0]);
  const watcher = await PresenceWatcher.open(g1.wsUrl, 'room~presence');
  const members = [...(await join(g1.wsUrl, 'room', 'a', 20)), ...(await join(g2.wsUrl, 'room', 'b', 20))];
  await watcher.within(10_000, '40 joined (relayed by origin 2)', (s) => s.connections === 40 && usersOf(s) === 40);

  await o1.kill9();
  // origin 2 leads once the lease (TTL / 2 = 1 s) runs out; the gateways re-report in full
  const more = await join(g2.wsUrl, 'room', 'c', 5);
  await watcher.within(TTL * 3, 'rebuilt with 5 more', (s) => s.connections === 45 && usersOf(s) === 45);
  assert.equal(metric(await scrape(o2), 'replicant_origin_presence_leader'), 1);
  // and it keeps counting
  for (const c of members.slice(0, 10)) c.close();
  await watcher.within(INTERVAL + 1000, '10 left', (s) => s.connections === 35);
  t.diagnostic(summary(watcher.state));
  for (const c of [...members, ...more, watcher.c]) c.close();
});
