/**
 * The presence leader lease and relay against a real redis-server: one of two origins leads; a
 * report to the other is relayed and answered with the leader's epoch; when the leader closes,
 * the other takes the lease with a new epoch (which makes gateways send full reports).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis } from '@replicant/testkit';
import type { PresenceReport } from '@replicant/protocol';
import { RedisPresenceRelay, type PresenceLeaderHandle } from '../src/presence-relay-redis.js';

test('one origin leads; the other relays to it; the lease moves when the leader goes', { timeout: 60_000 }, async (t) => {
  const redis = await startRedis();
  t.after(() => redis.close());
  const applied: { origin: string; gateway: string }[] = [];
  const led: string[] = [];
  const open = (originId: string) =>
    RedisPresenceRelay.open({
      url: redis.url,
      namespace: 'relay-test',
      originId,
      leaseMs: 600,
      lead: (epoch): PresenceLeaderHandle => {
        led.push(originId);
        return { report: (r) => (applied.push({ origin: originId, gateway: r.gateway }), { boot: epoch }), close: () => {} };
      },
    });
  const a = await open('a');
  const b = await open('b');
  t.after(async () => {
    await a.close();
    await b.close();
  });
  assert.deepEqual([a.leading, b.leading], [true, false]);
  const r = (gateway: string): PresenceReport => ({ gateway, boot: 'x', full: false, docs: {} });
  const direct = await a.report(r('g1'));
  const relayed = await b.report(r('g2'));
  assert.equal(relayed.boot, direct.boot, 'both answered with the leader epoch');
  assert.deepEqual(applied, [
    { origin: 'a', gateway: 'g1' },
    { origin: 'a', gateway: 'g2' },
  ]);
  // the leader goes: its lease is handed over, the other leads with a new epoch
  await a.close();
  let ack;
  for (let i = 0; ; i++) {
    try {
      ack = await b.report(r('g3'));
      break;
    } catch (err) {
      // not leading yet, no leader to relay to: the gateway would retry (a full report) next interval
      if (i > 50) throw err;
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  assert.notEqual(ack.boot, direct.boot);
  assert.deepEqual(led, ['a', 'b']);
  assert.deepEqual(applied.at(-1), { origin: 'b', gateway: 'g3' });
});
