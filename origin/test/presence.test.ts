/**
 * The presence aggregator against an in-memory writer (the fold is applyMergePatch, as for any
 * doc): exact counts summed over gateways, the users cap with promotion of waiting users, a
 * gateway's new boot and its expiry, idempotent reports, a failed write retried, the first write
 * of an origin's life diffing against the stored state, and O(changes) work per flush.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMergePatch, type JsonObject, type PresenceReport } from '@replicant/protocol';
import { PresenceAggregator } from '../src/presence.js';

class MemWriter {
  docs = new Map<string, JsonObject>();
  patches: { doc: string; patch: any }[] = [];
  fail = false;
  async writeReserved(doc: string, text: string): Promise<bigint> {
    if (this.fail) throw new Error('log down');
    const patch = JSON.parse(text);
    this.patches.push({ doc, patch });
    this.docs.set(doc, applyMergePatch(this.docs.get(doc) ?? {}, patch) as JsonObject);
    return BigInt(this.patches.length);
  }
  async readReserved(doc: string): Promise<{ seq: bigint; state: JsonObject }> {
    return { seq: 0n, state: structuredClone(this.docs.get(doc) ?? {}) };
  }
  state(doc = 'd~presence'): any {
    return this.docs.get(doc);
  }
}

const report = (gateway: string, docs: PresenceReport['docs'], full = false, boot = 'b1'): PresenceReport => ({ gateway, boot, full, docs });
/** a tick, then the writes it started */
async function flush(p: PresenceAggregator, now = Date.now()): Promise<void> {
  p.tick(now);
  await new Promise((r) => setImmediate(r));
}

test('sums gateways exactly, lists at most maxUsers and promotes waiting users when listed ones leave', async () => {
  const w = new MemWriter();
  const p = new PresenceAggregator(w, { maxUsers: 2, intervalMs: 1e9, warmupMs: 0 });
  p.report(report('g1', { d: { n: 3, u: { alice: [2, { n: 'A' }], bob: [1, {}] } } }));
  p.report(report('g2', { d: { n: 2, u: { alice: [1, { n: 'A2' }], carol: [1, {}] } } }));
  await flush(p);
  assert.deepEqual(w.state(), { connections: 5, users: { alice: { connections: 3, info: { n: 'A2' } }, bob: { connections: 1, info: {} } } });
  // the same report again changes nothing (absolute values): nothing is written
  const writes = p.writes;
  p.report(report('g2', { d: { n: 2, u: { alice: [1, { n: 'A2' }], carol: [1, {}] } } }));
  await flush(p);
  assert.equal(p.writes, writes);
  // bob leaves: carol (waiting) takes the place
  p.report(report('g1', { d: { n: 2, u: { bob: null } } }));
  await flush(p);
  assert.deepEqual(w.state(), { connections: 4, users: { alice: { connections: 3, info: { n: 'A2' } }, carol: { connections: 1, info: {} } } });
  // info replaced, not merged: removed keys go
  p.report(report('g1', { d: { n: 2, u: { alice: [2, { x: 1 }] } } }));
  await flush(p);
  assert.deepEqual(w.state().users.alice, { connections: 3, info: { x: 1 } });
  // a sub's count on one gateway drops: its total follows
  p.report(report('g1', { d: { n: 1, u: { alice: [1, { x: 1 }] } } }));
  await flush(p);
  assert.deepEqual([w.state().connections, w.state().users.alice], [3, { connections: 2, info: { x: 1 } }]);
  p.close();
});

test('a gateway silent past the TTL leaves with its members; a new boot replaces the old contribution', async () => {
  const w = new MemWriter();
  const p = new PresenceAggregator(w, { intervalMs: 1e9, ttlMs: 1000, warmupMs: 0 });
  p.report(report('g1', { d: { n: 1, u: { a: [1, {}] } } }, true));
  p.report(report('g2', { d: { n: 2, u: { b: [2, {}] } } }, true));
  await flush(p);
  assert.equal(w.state().connections, 3);
  // g1 restarted (new boot, full report without d): its old members are gone at once
  p.report(report('g1', {}, true, 'b2'));
  await flush(p);
  assert.deepEqual(w.state(), { connections: 2, users: { b: { connections: 2, info: {} } } });
  // g2 is silent past the TTL; g1 heartbeats (an empty report)
  const t0 = Date.now();
  p.report(report('g1', {}, false, 'b2'), t0 + 1400);
  await flush(p, t0 + 1500);
  assert.deepEqual(w.state(), { connections: 0, users: {} });
  assert.equal(p.expired, 1);
  p.report(report('g1', { d: { n: 1, u: { c: [1, {}] } } }, false, 'b2'), t0 + 1600);
  await flush(p, t0 + 1700);
  assert.deepEqual(w.state(), { connections: 1, users: { c: { connections: 1, info: {} } } });
  p.close();
});

test('a failed write is retried at the next interval; the first write of a life diffs against the stored state', async () => {
  const w = new MemWriter();
  w.docs.set('d~presence', { connections: 9, users: { ghost: { connections: 9, info: {} } } });
  const p = new PresenceAggregator(w, { intervalMs: 1e9, warmupMs: 0 });
  p.report(report('g1', { d: { n: 1, u: { a: [1, {}] } } }));
  w.fail = true;
  await flush(p);
  assert.deepEqual(w.state(), { connections: 9, users: { ghost: { connections: 9, info: {} } } });
  w.fail = false;
  await flush(p);
  assert.deepEqual(w.state(), { connections: 1, users: { a: { connections: 1, info: {} } } });
  p.close();
});

test('a flush writes only what changed: O(changed users), whatever the member count', async () => {
  const w = new MemWriter();
  const p = new PresenceAggregator(w, { maxUsers: 1000, intervalMs: 1e9, warmupMs: 0 });
  const u: Record<string, [number, JsonObject]> = {};
  for (let i = 0; i < 20_000; i++) u[`s${i}`] = [1, { i }];
  p.report(report('g1', { d: { n: 20_000, u } }, true));
  await flush(p);
  assert.equal(Object.keys(w.state().users).length, 1000);
  // one listed user leaves: the patch names it, the promoted one, and the count
  p.report(report('g1', { d: { n: 19_999, u: { s0: null } } }));
  await flush(p);
  const last = w.patches.at(-1)!.patch;
  assert.deepEqual(last, { connections: 19_999, users: { s0: null, s1000: { connections: 1, info: { i: 1000 } } } });
  // an unlisted user leaving changes only the count
  p.report(report('g1', { d: { n: 19_998, u: { s19999: null } } }));
  await flush(p);
  assert.deepEqual(w.patches.at(-1)!.patch, { connections: 19_998 });
  p.close();
});
