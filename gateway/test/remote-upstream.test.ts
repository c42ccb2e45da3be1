/**
 * Gateway <-> replica tier in one process over real sockets: a uWS gateway whose RemoteUpstream
 * routes through an in-memory registry to TCP LinkServers of two replicas sharing one log.
 * Covers upstream dedup, credit pause (bounded replica backlog, then one catch-up delta + live deltas
 * at the clients) and failover to the other replica without a gap, a duplicate or a resync snapshot
 * (also when the other replica loads the doc from a checkpoint newer than what the gateway has).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import * as uWS from 'uWebSockets.js';
import WebSocket from 'ws';
import { MemoryLog, MemorySnapshotStore } from '@replicant/stream';
import { Origin } from '@replicant/origin';
import { LinkServer, MemoryRegistry, MemoryRegistryHub, Replica } from '@replicant/fanout';
import { applyMergePatch } from '@replicant/protocol';
import { Gateway } from '../src/gateway.js';
import { RemoteUpstream } from '../src/remote-upstream.js';

class Client {
  frames: any[] = [];
  private waiters: { pred: (f: any) => boolean; resolve: (f: any) => void }[] = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      this.frames.push(f);
      this.waiters = this.waiters.filter((w) => (w.pred(f) ? (w.resolve(f), false) : true));
    });
  }
  static async open(port: number): Promise<Client> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream`, ['replicant.v1.json']);
    await once(ws, 'open');
    return new Client(ws);
  }
  next(pred: (f: any) => boolean): Promise<any> {
    const f = this.frames.find(pred);
    if (f) return Promise.resolve(f);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }
  /** every snapshot/delta is consistent: deltas chain on the previous seq */
  checkChain(doc: string): void {
    let seq: string | undefined;
    for (const f of this.frames.filter((x) => x.doc === doc)) {
      if (f.type === 'snapshot') {
        if (seq !== undefined) assert.ok(BigInt(f.seq) >= BigInt(seq), 'snapshot never goes back');
        seq = f.seq;
      } else if (f.type === 'delta') {
        assert.equal(f.prevSeq, seq, `delta ${f.seq} chains on ${seq}`);
        seq = f.seq;
      }
    }
  }
}

async function setup(replicas: number, opts: { backlog?: number } = {}) {
  const log = new MemoryLog({ partitions: 4 });
  const store = new MemorySnapshotStore();
  const origin = await Origin.start({ log, store });
  const hub = new MemoryRegistryHub();
  const nodes: { id: string; replica: Replica; server: LinkServer; registry: MemoryRegistry }[] = [];
  for (let i = 0; i < replicas; i++) {
    const replica = await Replica.start({ log, store });
    const server = new LinkServer(replica, { maxBacklogPerDoc: opts.backlog ?? 256 });
    const port = await server.listen();
    const registry = new MemoryRegistry({ hub });
    const id = `r${i + 1}`;
    await registry.register({ id, address: `127.0.0.1:${port}`, partitions: [0, 1, 2, 3], partitionCount: 4, load: 0 });
    nodes.push({ id, replica, server, registry });
  }
  const upstream = new RemoteUpstream({ registry: new MemoryRegistry({ hub }), nodeId: 'gw', partitions: 4, downCooldownMs: 60_000 });
  const gateway = new Gateway({ upstream, writer: origin });
  const app = uWS.App();
  gateway.attach(app);
  const port = await new Promise<number>((resolve) =>
    app.listen('127.0.0.1', 0, (t) => resolve(uWS.us_socket_local_port(t as uWS.us_listen_socket))),
  );
  return {
    origin,
    nodes,
    upstream,
    gateway,
    port,
    write: (doc: string, patch: object) => origin.write(doc, JSON.stringify(patch)),
    async close() {
      await gateway.drain({ graceMs: 0 });
      app.close();
      upstream.close();
      for (const n of nodes) {
        await n.server.close();
        await n.replica.close();
      }
      await origin.close();
    },
  };
}

test('many local subscribers of one doc make exactly one replica subscription', async () => {
  const s = await setup(2);
  const clients = await Promise.all(Array.from({ length: 50 }, () => Client.open(s.port)));
  for (const c of clients) c.ws.send(JSON.stringify({ type: 'subscribe', doc: 'shared' }));
  await Promise.all(clients.map((c) => c.next((f) => f.type === 'snapshot')));
  const seq = await s.write('shared', { a: 1 });
  await Promise.all(clients.map((c) => c.next((f) => f.type === 'delta' && f.seq === String(seq))));
  // per doc: the gateway also holds one subscription to the server API's control doc
  const subs = s.nodes.map((n) => n.replica.peek('shared')?.listeners ?? 0);
  assert.deepEqual(subs.sort(), [0, 1], 'one subscription on one replica');
  for (const c of clients) c.ws.close();
  await s.close();
});

test('a gateway that stops granting credit costs the replica a bounded backlog; on resume clients get one delta to the latest state, then live deltas', async () => {
  const s = await setup(1, { backlog: 8 });
  const c = await Client.open(s.port);
  c.ws.send(JSON.stringify({ type: 'subscribe', doc: 'busy' }));
  await c.next((f) => f.type === 'snapshot');
  const first = await s.write('busy', { n: 0 });
  await c.next((f) => f.type === 'delta' && f.seq === String(first));
  s.upstream.pauseCredit();
  // Use up the window the gateway already granted, then keep writing: the backlog must stay bounded.
  let last = 0n;
  for (let i = 1; i <= 5000; i++) {
    last = await s.write('busy', { n: i });
    const link = s.nodes[0].server.stats()[0];
    assert.ok(link.queuedDeltas <= 8, `replica backlog bounded (${link.queuedDeltas})`);
  }
  assert.ok(s.nodes[0].server.stats()[0].collapses >= 1, 'the backlog collapsed');
  const before = c.frames.length;
  s.upstream.resumeCredit();
  // the collapsed backlog comes back as the latest state; the gateway bridges it with one delta
  // from what its clients have (a snapshot would resync them)
  const caught = await c.next((f) => (f.type === 'snapshot' || f.type === 'delta') && BigInt(f.seq) === last);
  assert.equal(caught.type, 'delta');
  assert.equal(caught.patch.n, 5000);
  assert.ok(c.frames.indexOf(caught) >= before);
  assert.equal(c.frames.filter((f) => f.type === 'snapshot').length, 1, 'no resync snapshot');
  const live = await s.write('busy', { n: 5001 });
  const d = await c.next((f) => f.type === 'delta' && f.seq === String(live));
  assert.equal(d.prevSeq, String(last));
  c.checkChain('busy');
  c.ws.close();
  await s.close();
});

test('replica loss: the gateway re-routes and resumes without gap or duplicate', async () => {
  const s = await setup(2);
  const docs = Array.from({ length: 20 }, (_, i) => `fo-${i}`);
  const c = await Client.open(s.port);
  for (const d of docs) c.ws.send(JSON.stringify({ type: 'subscribe', doc: d }));
  await Promise.all(docs.map((d) => c.next((f) => f.type === 'snapshot' && f.doc === d)));
  for (let i = 0; i < 5; i++) for (const d of docs) await s.write(d, { i });
  // kill the replica serving fo-0 (its link drops like a crashed process's)
  const victim = s.nodes.find((n) => n.id === s.upstream.routeOf('fo-0'))!;
  const survivor = s.nodes.find((n) => n !== victim)!;
  await victim.registry.close();
  await victim.server.close();
  const finals = new Map<string, bigint>();
  for (let i = 5; i < 10; i++) for (const d of docs) finals.set(d, await s.write(d, { i }));
  await Promise.all(docs.map((d) => c.next((f) => f.type === 'delta' && f.doc === d && f.seq === String(finals.get(d)))));
  for (const d of docs) {
    c.checkChain(d);
    const seqs = c.frames.filter((f) => f.doc === d && f.type === 'delta').map((f) => f.seq);
    assert.equal(new Set(seqs).size, seqs.length, `no duplicate delta on ${d}`);
    assert.equal(seqs.length, 10, `all 10 writes on ${d} delivered once`);
    assert.equal(c.frames.filter((f) => f.doc === d && f.type === 'snapshot').length, 1, 'no extra snapshot');
    assert.equal(s.upstream.routeOf(d), survivor.id);
  }
  c.ws.close();
  await victim.replica.close();
  await s.close();
});

test('replica loss after a checkpoint passed what the gateway has: the cold replica catches it up with a delta, no snapshot', async () => {
  const s = await setup(2);
  const doc = 'behind-0';
  const c = await Client.open(s.port);
  try {
    c.ws.send(JSON.stringify({ type: 'subscribe', doc }));
    await c.next((f) => f.type === 'snapshot' && f.doc === doc);
    const first = await s.write(doc, { a: 1, keep: { x: 1, y: [1, null] } });
    await c.next((f) => f.type === 'delta' && f.seq === String(first));
    const victim = s.nodes.find((n) => n.id === s.upstream.routeOf(doc))!;
    const survivor = s.nodes.find((n) => n !== victim)!;
    // the victim stops delivering (crashed, or stalled before it crashed) while writes go on and are
    // checkpointed: the store holds the doc at a seq the gateway never saw, and the survivor, cold
    // for this doc, loads it from there, so its history starts after what the gateway has
    await victim.replica.close();
    await s.write(doc, { b: 2 });
    const missed = await s.write(doc, { a: null, keep: { y: null, z: { deep: true } } });
    await s.origin.checkpoint();
    await victim.registry.close();
    await victim.server.close();
    const last = await s.write(doc, { c: 3 });
    await c.next((f) => f.doc === doc && (f.type === 'delta' || f.type === 'snapshot') && BigInt(f.seq) >= last);
    assert.equal(s.upstream.routeOf(doc), survivor.id);
    c.checkChain(doc);
    assert.equal(c.frames.filter((f) => f.doc === doc && f.type === 'snapshot').length, 1, 'no resync snapshot');
    const bridge = c.frames.find((f) => f.doc === doc && f.type === 'delta' && f.prevSeq === String(first));
    assert.ok(bridge && BigInt(bridge.seq) >= missed, 'one delta from what the gateway had past the missed ops');
    let state: Record<string, unknown> = {};
    for (const f of c.frames.filter((x) => x.doc === doc)) {
      state = f.type === 'snapshot' ? f.state : (applyMergePatch(state, f.patch) as Record<string, unknown>);
    }
    assert.deepEqual(state, (await s.origin.read(doc)).state, 'the deltas fold to the origin state');
  } finally {
    c.ws.close();
    await s.close();
  }
});

test('a replica sending a zero-length link frame (00 00 00 00) drops that link only: no uncaught exception, the gateway carries on', async () => {
  const uncaught: unknown[] = [];
  let failFast: (err: unknown) => void = () => {};
  const crashed = new Promise<never>((_, reject) => (failFast = reject));
  const onUncaught = (err: unknown) => {
    uncaught.push(err);
    failFast(err);
  };
  process.on('uncaughtException', onUncaught);
  // a fake replica: answers the gateway's hello with an empty frame, its 4-byte prefix alone in one write
  const fake = createServer();
  const dropped = new Promise<void>((resolve) => {
    fake.on('connection', (s) => {
      s.once('data', () => s.write(Buffer.from([0, 0, 0, 0])));
      s.on('error', () => {});
      s.on('close', () => resolve());
    });
  });
  fake.listen(0, '127.0.0.1');
  await once(fake, 'listening');
  const hub = new MemoryRegistryHub();
  const registry = new MemoryRegistry({ hub });
  await registry.register({ id: 'fake', address: `127.0.0.1:${(fake.address() as AddressInfo).port}`, partitions: [0, 1, 2, 3], partitionCount: 4, load: 0 });
  const log = new MemoryLog({ partitions: 4 });
  const origin = await Origin.start({ log, store: new MemorySnapshotStore() });
  const upstream = new RemoteUpstream({ registry: new MemoryRegistry({ hub }), nodeId: 'gw', partitions: 4, downCooldownMs: 60_000 });
  const gateway = new Gateway({ upstream, writer: origin });
  const app = uWS.App();
  gateway.attach(app);
  const port = await new Promise<number>((resolve) =>
    app.listen('127.0.0.1', 0, (t) => resolve(uWS.us_socket_local_port(t as uWS.us_listen_socket))),
  );
  try {
    const c = await Client.open(port);
    c.ws.send(JSON.stringify({ type: 'subscribe', doc: 'z' }));
    await Promise.race([dropped, crashed]); // the gateway closed the link (or the error escaped: fail at once)
    // the gateway still serves: a publish is acknowledged
    c.ws.send(JSON.stringify({ type: 'publish', doc: 'z', id: 'p1', patch: { a: 1 } }));
    await c.next((f) => f.type === 'ack' && f.id === 'p1');
    c.ws.close();
    assert.deepEqual(uncaught, []);
  } finally {
    process.off('uncaughtException', onUncaught);
    await gateway.drain({ graceMs: 0 });
    app.close();
    upstream.close();
    fake.close();
    await origin.close();
  }
});
