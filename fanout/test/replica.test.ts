import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DocState, MemoryLog, MemorySnapshotStore, encodeOp, type SnapshotStore } from '@replicant/stream';
import type { JsonObject } from '@replicant/protocol';
import { Replica } from '../src/replica.js';
import type { Delta } from '../src/delta.js';
import type { UpstreamListener } from '../src/upstream.js';

class Recorder implements UpstreamListener {
  bases: { seq: bigint; state: JsonObject; history: bigint[] }[] = [];
  deltas: Delta[] = [];
  errors: string[] = [];
  seq = 0n;
  state: JsonObject = {};
  private waiters: { seq: bigint; resolve: () => void }[] = [];
  onBase(_doc: string, seq: bigint, state: JsonObject, history: Delta[]): void {
    this.bases.push({ seq, state: structuredClone(state), history: history.map((h) => h.seq) });
    this.seq = seq;
    this.state = structuredClone(state);
    this.wake();
  }
  onDelta(d: Delta): void {
    assert.equal(d.prevSeq, this.seq, 'delta chains on the previous seq');
    this.deltas.push(d);
    this.seq = d.seq;
    this.state = { ...this.state, ...d.patchObj } as JsonObject;
    this.wake();
  }
  onError(_doc: string, code: string): void {
    this.errors.push(code);
  }
  until(seq: bigint): Promise<void> {
    if (this.seq >= seq) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }
  private wake() {
    this.waiters = this.waiters.filter((w) => (this.seq >= w.seq ? (w.resolve(), false) : true));
  }
}

async function write(log: MemoryLog, doc: string, patch: JsonObject, key = ''): Promise<bigint> {
  const r = await log.append(doc, encodeOp(JSON.stringify(patch), key, Date.now()));
  return r.offset + 1n;
}

test('a subscriber gets a base, then ordered deltas; one materialization per doc', async () => {
  const log = new MemoryLog({ partitions: 2 });
  const store = new MemorySnapshotStore();
  const replica = await Replica.start({ log, store });
  const a = new Recorder();
  const b = new Recorder();
  replica.subscribe('doc', a);
  replica.subscribe('doc', b);
  replica.subscribe('doc', a); // idempotent
  let last = 0n;
  for (let i = 0; i < 20; i++) last = await write(log, 'doc', { [`k${i % 3}`]: i });
  await a.until(last);
  await b.until(last);
  assert.equal(a.bases.length, 1);
  assert.equal(a.deltas.length, 20);
  assert.deepEqual(a.deltas.map((d) => d.seq), b.deltas.map((d) => d.seq));
  assert.strictEqual(a.deltas[0], b.deltas[0], 'the same Delta object goes to every listener');
  assert.deepEqual(replica.stats(), { docs: 1, idleDocs: 0, subscriptions: 2 });
  await replica.close();
  await log.close();
});

test('cold bootstrap from snapshot store + log catch-up equals a full fold', async () => {
  const log = new MemoryLog({ partitions: 3 });
  const store = new MemorySnapshotStore();
  const reference = new DocState('d');
  const p = log.partitionOf('d');
  for (let i = 0; i < 30; i++) {
    const patch = { [`f${i % 4}`]: i % 5 === 0 ? null : i, n: i };
    const seq = await write(log, 'd', patch, `key-${i % 25}`); // some duplicate keys: skipped deterministically
    reference.apply(seq, patch, `key-${i % 25}`, undefined, undefined);
    await write(log, 'other', { i });
    if (i === 12) {
      // checkpoint part-way: a snapshot and the covered offset after it
      await store.commit([reference.snapshot()], new Map([[p, seq]]));
    }
  }
  const replica = await Replica.start({ log, store });
  const r = new Recorder();
  replica.subscribe('d', r);
  await r.until(reference.seq);
  assert.equal(r.bases.length, 1);
  assert.equal(r.bases[0].seq, reference.seq);
  assert.deepEqual(r.bases[0].state, reference.state);
  // the catch-up deltas it replayed are in the history handed over with the base
  assert.ok(r.bases[0].history.length > 0);
  assert.equal(r.bases[0].history.at(-1), reference.seq);
  await replica.close();
  await log.close();
});

test('writes landing while a doc loads are parked and applied in order, without gap', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const inner = new MemorySnapshotStore();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const store: SnapshotStore = {
    get: async (doc) => {
      await gate;
      return inner.get(doc);
    },
    commit: (s, c) => inner.commit(s, c),
    covered: (p) => inner.covered(p),
    close: () => inner.close(),
  };
  for (let i = 0; i < 5; i++) await write(log, 'x', { before: i });
  const replica = await Replica.start({ log, store, maxPendingPerDoc: 100 });
  const r = new Recorder();
  replica.subscribe('x', r);
  let last = 0n;
  for (let i = 0; i < 10; i++) last = await write(log, 'x', { during: i });
  release();
  await r.until(last);
  const later = await write(log, 'x', { after: 1 });
  await r.until(later);
  assert.equal(r.bases.length, 1);
  assert.equal(r.bases[0].seq, last);
  assert.equal((r.bases[0].state as any).during, 9);
  assert.equal(r.deltas.length, 1);
  await replica.close();
  await log.close();
});

test('past the parked-record bound the load restarts and still converges', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const inner = new MemorySnapshotStore();
  let release!: () => void;
  let gate = new Promise<void>((r) => (release = r));
  let loads = 0;
  const store: SnapshotStore = {
    get: async (doc) => {
      loads++;
      await gate;
      return inner.get(doc);
    },
    commit: (s, c) => inner.commit(s, c),
    covered: (p) => inner.covered(p),
    close: () => inner.close(),
  };
  const replica = await Replica.start({ log, store, maxPendingPerDoc: 3 });
  const r = new Recorder();
  replica.subscribe('y', r);
  let last = 0n;
  for (let i = 0; i < 10; i++) last = await write(log, 'y', { i });
  const first = release;
  gate = Promise.resolve();
  first();
  await r.until(last);
  assert.ok(loads >= 2, 'the overflowing load was restarted');
  assert.equal(r.bases.length, 1);
  assert.equal((r.bases[0].state as any).i, 9);
  await replica.close();
  await log.close();
});

test('unwatched docs are evicted past the idle bound', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const replica = await Replica.start({ log, store: new MemorySnapshotStore(), idleDocs: 1 });
  const recs = new Map<string, Recorder>();
  for (const doc of ['a', 'b', 'c']) {
    const seq = await write(log, doc, { v: 1 });
    const r = new Recorder();
    recs.set(doc, r);
    replica.subscribe(doc, r);
    await r.until(seq);
  }
  for (const [doc, r] of recs) replica.unsubscribe(doc, r);
  assert.deepEqual(replica.stats(), { docs: 1, idleDocs: 1, subscriptions: 0 });
  await replica.close();
  await log.close();
});

test('a replica refuses docs of partitions it does not serve', async () => {
  const log = new MemoryLog({ partitions: 4 });
  const p = log.partitionOf('doc-q');
  const replica = await Replica.start({ log, store: new MemorySnapshotStore(), partitions: [(p + 1) % 4] });
  const r = new Recorder();
  replica.subscribe('doc-q', r);
  assert.deepEqual(r.errors, ['unavailable']);
  await replica.close();
  await log.close();
});

test('a replace op (Kafka ingest upsert/Debezium) reaches subscribers as the merge patch from the state it met', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const replica = await Replica.start({ log, store: new MemorySnapshotStore() });
  const a = new Recorder();
  replica.subscribe('row', a);
  await write(log, 'row', { id: 1, name: 'Sally', email: 's@x', o: { p: 1, q: 2 } });
  const r = await log.append('row', encodeOp('{"id":1,"name":"Sal","o":{"q":3}}', '', Date.now(), undefined, undefined, true));
  await a.until(r.offset + 1n);
  const last = a.deltas[a.deltas.length - 1];
  assert.deepEqual(last.patchObj, { name: 'Sal', email: null, o: { p: null, q: 3 } });
  assert.deepEqual(JSON.parse(last.patch), last.patchObj, 'the text sent is that merge patch, not the record');
  await replica.close();
  await log.close();
});
