/**
 * Hot docs: a doc watched by more gateways than the replica's threshold is spread over several
 * replicas (each gateway takes the slot the replica assigned it among the best `spread`), and
 * every gateway keeps an unbroken delta chain through the move.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLog, MemorySnapshotStore } from '@replicant/stream';
import { Origin } from '@replicant/origin';
import { LinkServer, MemoryRegistry, MemoryRegistryHub, Replica, type Delta, type UpstreamListener } from '@replicant/fanout';
import type { JsonObject } from '@replicant/protocol';
import { RemoteUpstream } from '../src/remote-upstream.js';

/** mirrors LocalFanout's continuity rules and records violations */
class Chain implements UpstreamListener {
  seq: bigint | undefined;
  bad: string[] = [];
  snapshots = 0;
  private waiters: { seq: bigint; resolve: () => void }[] = [];
  onBase(_doc: string, seq: bigint, _state: JsonObject, history: Delta[]): void {
    if (this.seq === undefined) {
      this.seq = seq;
      this.snapshots++;
    } else if (seq > this.seq) {
      const i = history.findIndex((h) => h.prevSeq === this.seq);
      if (i < 0) this.bad.push(`rebase to ${seq} without history from ${this.seq}`);
      else for (const h of history.slice(i)) this.onDelta(h);
    }
    this.wake();
  }
  onDelta(d: Delta): void {
    if (this.seq !== undefined && d.seq <= this.seq) return;
    if (d.prevSeq !== this.seq) this.bad.push(`delta ${d.seq} prev ${d.prevSeq} at ${this.seq}`);
    this.seq = d.seq;
    this.wake();
  }
  onError(doc: string, code: string): void {
    this.bad.push(`error ${code} on ${doc}`);
  }
  until(seq: bigint): Promise<void> {
    if (this.seq !== undefined && this.seq >= seq) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }
  private wake(): void {
    this.waiters = this.waiters.filter((w) => (this.seq !== undefined && this.seq >= w.seq ? (w.resolve(), false) : true));
  }
}

test('a hot doc spreads over replicas without breaking any gateway chain', async (t) => {
  const log = new MemoryLog({ partitions: 2 });
  const store = new MemorySnapshotStore();
  const origin = await Origin.start({ log, store });
  const hub = new MemoryRegistryHub();
  const replicas: { id: string; replica: Replica; server: LinkServer }[] = [];
  for (let i = 0; i < 3; i++) {
    const replica = await Replica.start({ log, store });
    const server = new LinkServer(replica, { hotThreshold: 2, hotSpread: 3 });
    const port = await server.listen();
    const reg = new MemoryRegistry({ hub });
    await reg.register({ id: `r${i}`, address: `127.0.0.1:${port}`, partitions: [0, 1], partitionCount: 2, load: 0 });
    replicas.push({ id: `r${i}`, replica, server });
  }
  const gateways = Array.from({ length: 12 }, (_, i) => ({
    up: new RemoteUpstream({ registry: new MemoryRegistry({ hub }), nodeId: `gw-${i}`, partitions: 2 }),
    chain: new Chain(),
  }));
  t.after(async () => {
    for (const g of gateways) g.up.close();
    for (const r of replicas) {
      await r.server.close();
      await r.replica.close();
    }
    await origin.close();
  });
  let seq = await origin.write('hot', JSON.stringify({ n: 0 }));
  for (const g of gateways) g.up.subscribe('hot', g.chain);
  await Promise.all(gateways.map((g) => g.chain.until(seq)));
  for (let i = 1; i <= 200; i++) seq = await origin.write('hot', JSON.stringify({ n: i }));
  await Promise.all(gateways.map((g) => g.chain.until(seq)));

  const perReplica = replicas.map((r) => r.replica.stats().subscriptions);
  const routes = new Set(gateways.map((g) => g.up.routeOf('hot')));
  assert.ok(routes.size >= 2, `spread over ${routes.size} replicas (${perReplica})`);
  assert.equal(perReplica.reduce((a, b) => a + b, 0), gateways.length, 'each gateway holds one subscription, somewhere');
  // slots are handed out round-robin: 12 gateways over 3 replicas divide 4 / 4 / 4
  assert.deepEqual([...perReplica].sort(), [4, 4, 4], `even spread (${perReplica})`);
  assert.ok(replicas.some((r) => r.server.hotDocs === 1), 'a replica flagged the doc hot');
  for (const g of gateways) {
    assert.deepEqual(g.chain.bad, []);
    assert.equal(g.chain.snapshots, 1);
    assert.equal(g.chain.seq, seq);
  }
});
