/**
 * The gateway <-> replica link against a real TCP LinkServer: bases then ordered deltas, credit
 * flow control with a bounded backlog that collapses into a snapshot, resume with lastSeq, and
 * protocol errors that drop only the offending link.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { MemoryLog, MemorySnapshotStore, encodeOp, processMetrics } from '@replicant/stream';
import { commandOf, commandPatch, CONTROL_DOC, longToSeq, seqToLong } from '@replicant/protocol';
import { Replica } from '../src/replica.js';
import { LinkServer } from '../src/link-server.js';
import { encodeLinkFrame, LinkFrameReader, type ILinkFrame, type LinkFrame } from '../src/link-codec.js';

class RawLink {
  readonly frames: LinkFrame[] = [];
  private waiters: { pred: (f: LinkFrame) => boolean; resolve: (f: LinkFrame) => void }[] = [];
  readonly closed: Promise<void>;
  private constructor(
    readonly socket: Socket,
    maxFrameBytes?: number,
  ) {
    const reader = new LinkFrameReader(maxFrameBytes);
    socket.on('data', (c: Buffer) => {
      let frames: LinkFrame[];
      try {
        frames = reader.push(c);
      } catch {
        socket.destroy(); // as the gateway does with a frame over its bound
        return;
      }
      for (const f of frames) {
        this.frames.push(f);
        this.waiters = this.waiters.filter((w) => (w.pred(f) ? (w.resolve(f), false) : true));
      }
    });
    this.closed = new Promise((r) => socket.on('close', () => r()));
  }
  static async open(port: number, maxFrameBytes?: number): Promise<RawLink> {
    const s = connect({ host: '127.0.0.1', port });
    await once(s, 'connect');
    return new RawLink(s, maxFrameBytes);
  }
  send(f: ILinkFrame): void {
    this.socket.write(encodeLinkFrame(f));
  }
  next(pred: (f: LinkFrame) => boolean, from = 0): Promise<LinkFrame> {
    for (let i = from; i < this.frames.length; i++) if (pred(this.frames[i])) return Promise.resolve(this.frames[i]);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }
}

/** the current value of a metric without labels in this process's registry */
async function metric(name: string): Promise<number> {
  const m = processMetrics.getSingleMetric(name);
  assert.ok(m, `${name} is registered`);
  return (await m.get()).values[0]?.value ?? 0;
}

const seqOf = (f: LinkFrame) => longToSeq((f.delta ?? f.snapshot)!.seq);

async function setup(opts: { maxBacklogPerDoc?: number; coalesce?: boolean; maxFrameBytes?: number } = {}) {
  const log = new MemoryLog({ partitions: 2 });
  const store = new MemorySnapshotStore();
  const replica = await Replica.start({ log, store });
  const server = new LinkServer(replica, { maxBacklogPerDoc: opts.maxBacklogPerDoc ?? 256, coalesce: opts.coalesce, maxFrameBytes: opts.maxFrameBytes });
  const port = await server.listen();
  const write = async (doc: string, patch: object) => (await log.append(doc, encodeOp(JSON.stringify(patch), '', Date.now()))).offset + 1n;
  return {
    log,
    replica,
    server,
    port,
    write,
    async close() {
      await server.close();
      await replica.close();
      await log.close();
    },
  };
}

test('a link gets a base, then ordered deltas within its credit (FANOUT_COALESCE=false: one per op)', async () => {
  const s = await setup({ coalesce: false });
  const l = await RawLink.open(s.port);
  l.send({ hello: { nodeId: 'gw-1', window: 1000 } });
  l.send({ subscribe: { doc: 'd1' } });
  const base = await l.next((f) => f.frame === 'snapshot');
  assert.equal(seqOf(base), 0n);
  let last = 0n;
  for (let i = 0; i < 50; i++) last = await s.write('d1', { i });
  await l.next((f) => f.frame === 'delta' && seqOf(f) === last);
  const deltas = l.frames.filter((f) => f.frame === 'delta');
  assert.equal(deltas.length, 50);
  let prev = 0n;
  for (const d of deltas) {
    assert.equal(longToSeq(d.delta!.prevSeq), prev);
    prev = seqOf(d);
  }
  assert.equal(s.server.stats()[0].node, 'gw-1');
  assert.equal(s.replica.stats().subscriptions, 1);
  l.socket.destroy();
  await l.closed;
  await s.close();
});

test('without credit the backlog stays bounded and collapses; credit brings a snapshot then live deltas', async () => {
  const s = await setup({ maxBacklogPerDoc: 16 });
  const stallsBefore = await metric('replicant_fanout_link_credit_stalls_total');
  const l = await RawLink.open(s.port);
  l.send({ hello: { nodeId: 'gw-slow', window: 1 } }); // room for the base only
  l.send({ subscribe: { doc: 'hot' } });
  await l.next((f) => f.frame === 'snapshot');
  let last = 0n;
  for (let i = 0; i < 1000; i++) {
    last = await s.write('hot', { i, pad: 'x'.repeat(100) });
    const st = s.server.stats()[0];
    assert.ok(st.queuedDeltas <= 16, `backlog bounded (${st.queuedDeltas})`);
  }
  const st = s.server.stats()[0];
  assert.ok(st.collapses >= 1, 'the backlog collapsed');
  assert.equal(l.frames.length, 1, 'nothing sent without credit');
  // one stall, counted once however many deltas waited; the link shows as stalled until credit comes
  assert.equal((await metric('replicant_fanout_link_credit_stalls_total')) - stallsBefore, 1);
  assert.equal(await metric('replicant_fanout_links_stalled'), 1);
  const from = l.frames.length;
  l.send({ credit: { n: 100 } });
  const snap = await l.next((f) => f.frame === 'snapshot', from);
  assert.equal(await metric('replicant_fanout_links_stalled'), 0);
  assert.equal(seqOf(snap), last, 'the collapse is replaced by the latest state');
  assert.deepEqual(JSON.parse(Buffer.from(snap.snapshot!.state!).toString()).i, 999);
  assert.equal(snap.snapshot!.history?.length ?? 0, 0, 'a collapsed base carries no history');
  const live = await s.write('hot', { i: 1000 });
  const d = await l.next((f) => f.frame === 'delta', from);
  assert.equal(seqOf(d), live);
  assert.equal(longToSeq(d.delta!.prevSeq), last);
  l.socket.destroy();
  await s.close();
});

test('ops queued for want of credit are sent as one exactly composed delta (coalescing)', async () => {
  const s = await setup({ maxBacklogPerDoc: 64 });
  const l = await RawLink.open(s.port);
  l.send({ hello: { nodeId: 'gw-co', window: 1 } }); // the base only
  l.send({ subscribe: { doc: 'co' } });
  const base = await l.next((f) => f.frame === 'snapshot');
  let last = 0n;
  for (let i = 0; i < 20; i++) last = await s.write('co', { i, [`k${i % 3}`]: i });
  // the replica tails the log asynchronously: wait until all 20 are queued on the link
  while (s.server.stats()[0].queuedDeltas < 20) await new Promise((r) => setImmediate(r));
  const from = l.frames.length;
  l.send({ credit: { n: 1 } });
  const d = await l.next((f) => f.frame === 'delta', from);
  assert.equal(longToSeq(d.delta!.prevSeq as any), seqOf(base));
  assert.equal(seqOf(d), last, 'one frame covers all 20 ops');
  assert.deepEqual(JSON.parse(Buffer.from(d.delta!.patch!).toString()), { i: 19, k0: 18, k1: 19, k2: 17 });
  assert.equal(s.server.stats()[0].queuedDeltas, 0);
  l.socket.destroy();
  await s.close();
});

test('the control stream is never coalesced: each queued command goes out as its own delta', async () => {
  const s = await setup({ maxBacklogPerDoc: 64 });
  const l = await RawLink.open(s.port);
  l.send({ hello: { nodeId: 'gw-ctl', window: 1 } }); // the base only
  l.send({ subscribe: { doc: CONTROL_DOC } });
  await l.next((f) => f.frame === 'snapshot');
  const seqs: bigint[] = [];
  for (let i = 0; i < 5; i++) seqs.push(await s.write(CONTROL_DOC, JSON.parse(commandPatch({ t: 'disconnect', sub: `u${i}`, reconnect: false }))));
  while (s.server.stats()[0].queuedDeltas < 5) await new Promise((r) => setImmediate(r));
  const from = l.frames.length;
  l.send({ credit: { n: 5 } });
  await l.next((f) => f.frame === 'delta' && seqOf(f) === seqs[4], from);
  const deltas = l.frames.slice(from).filter((f) => f.frame === 'delta');
  assert.deepEqual(deltas.map(seqOf), seqs, 'one delta per command');
  assert.deepEqual(
    deltas.map((d) => commandOf(JSON.parse(Buffer.from(d.delta!.patch!).toString()))),
    seqs.map((_, i) => ({ t: 'disconnect', sub: `u${i}`, reconnect: false })),
  );
  l.socket.destroy();
  await s.close();
});

test('resubscribe with lastSeq carries exactly the missed deltas as history', async () => {
  const s = await setup();
  const seqs: bigint[] = [];
  for (let i = 0; i < 10; i++) seqs.push(await s.write('r', { i }));
  const warm = await RawLink.open(s.port); // load the doc so the ring holds its history
  warm.send({ hello: { nodeId: 'warm', window: 100 } });
  warm.send({ subscribe: { doc: 'r' } });
  await warm.next((f) => f.frame === 'snapshot');
  for (let i = 10; i < 20; i++) seqs.push(await s.write('r', { i }));
  await warm.next((f) => f.frame === 'delta' && seqOf(f) === seqs[19]);

  const l = await RawLink.open(s.port);
  l.send({ hello: { nodeId: 'gw-2', window: 100 } });
  l.send({ subscribe: { doc: 'r', lastSeq: seqToLong(seqs[14]) } });
  const base = await l.next((f) => f.frame === 'snapshot');
  assert.equal(seqOf(base), seqs[19]);
  assert.deepEqual(base.snapshot!.history!.map((h) => longToSeq(h.seq)), seqs.slice(15));
  warm.socket.destroy();
  l.socket.destroy();
  await s.close();
});

test('a malformed link frame drops only that link', async () => {
  const s = await setup();
  const good = await RawLink.open(s.port);
  good.send({ hello: { nodeId: 'good', window: 100 } });
  good.send({ subscribe: { doc: 'g' } });
  await good.next((f) => f.frame === 'snapshot');
  const bad = await RawLink.open(s.port);
  bad.socket.write(Buffer.from([0, 0, 0, 3, 0xff, 0xff, 0xff]));
  const err = await bad.next((f) => f.frame === 'error');
  assert.equal(err.error!.code, 'bad_frame');
  await bad.closed;
  const huge = await RawLink.open(s.port);
  huge.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  await huge.closed;
  const seq = await s.write('g', { still: 'alive' });
  await good.next((f) => f.frame === 'delta' && seqOf(f) === seq);
  assert.equal(s.server.stats().length, 1);
  good.socket.destroy();
  await s.close();
});

test('a subscribe the replica refuses at once (partition not served) answers with an error and leaves no watcher behind', async () => {
  const log = new MemoryLog({ partitions: 2 });
  const replica = await Replica.start({ log, store: new MemorySnapshotStore(), partitions: [0] });
  // hot at 2 watching links: a refused subscription that still counted as watching would show here
  const server = new LinkServer(replica, { hotThreshold: 1 });
  const port = await server.listen();
  const unserved = ['a', 'b', 'c', 'd', 'e', 'f'].find((d) => log.partitionOf(d) === 1)!;
  const links = [await RawLink.open(port), await RawLink.open(port)];
  for (const l of links) {
    l.send({ hello: { nodeId: 'gw', window: 10 } });
    l.send({ subscribe: { doc: unserved } });
    const err = await l.next((f) => f.frame === 'error');
    assert.equal(err.error!.doc, unserved);
    assert.equal(err.error!.code, 'unavailable');
  }
  assert.equal(server.hotDocs, 0, 'no link is left watching a doc it was refused');
  assert.equal(links.some((l) => l.frames.some((f) => f.frame === 'hot')), false);
  for (const l of links) l.socket.destroy();
  await server.close();
  await replica.close();
  await log.close();
});

test('a base fits the link frame bound by construction: the oldest history deltas that would not fit are left out', async () => {
  const MAX = 64 * 1024;
  const s = await setup({ maxFrameBytes: MAX });
  const pad = 'p'.repeat(5000);
  let last = 0n;
  await s.write('fit', { state: 's'.repeat(10_000) });
  for (let i = 0; i < 60; i++) last = await s.write('fit', { [`k${i % 4}`]: `${i}${pad}` }); // 60 x 5 KB of history
  const l = await RawLink.open(s.port, MAX); // the gateway's reader enforces the same bound
  l.send({ hello: { nodeId: 'gw-fit', window: 1000 } });
  l.send({ subscribe: { doc: 'fit' } });
  const base = await Promise.race([l.next((f) => f.frame === 'snapshot'), l.closed.then(() => assert.fail('link dropped'))]);
  const snap = base.snapshot!;
  assert.equal(longToSeq(snap.seq), last);
  const history = snap.history!;
  assert.ok(history.length > 0 && history.length < 60, `${history.length} of 60 deltas fit`);
  assert.equal(longToSeq(history.at(-1)!.seq), last, 'the newest deltas are the ones kept');
  for (let k = 1; k < history.length; k++) assert.equal(longToSeq(history[k].prevSeq), longToSeq(history[k - 1].seq), 'an unbroken chain');
  assert.ok(encodeLinkFrame({ snapshot: snap }).length <= MAX + 4);
  // the link carries on: the next op arrives as a delta
  const next = await s.write('fit', { after: 1 });
  const d = await l.next((f) => f.frame === 'delta' && seqOf(f) === next);
  assert.equal(longToSeq(d.delta!.prevSeq), last);
  l.socket.destroy();
  await s.close();
});

test('a state bigger than the link frame bound: that doc gets doc_too_large, the link carries on', async () => {
  const MAX = 16 * 1024;
  const s = await setup({ maxFrameBytes: MAX });
  await s.write('huge', { state: 'h'.repeat(MAX + 1000) });
  const small = await s.write('small', { a: 1 });
  const l = await RawLink.open(s.port, MAX); // the gateway's reader enforces the same bound
  l.send({ hello: { nodeId: 'gw-huge', window: 1000 } });
  l.send({ subscribe: { doc: 'huge' } });
  const err = await Promise.race([l.next((f) => f.frame === 'error'), l.closed.then(() => assert.fail('link dropped'))]);
  assert.equal(err.error!.doc, 'huge');
  assert.equal(err.error!.code, 'doc_too_large');
  assert.equal(l.frames.some((f) => f.frame === 'snapshot'), false);
  // the link carries on: another doc is served on it
  l.send({ subscribe: { doc: 'small' } });
  const base = await Promise.race([l.next((f) => f.frame === 'snapshot'), l.closed.then(() => assert.fail('link dropped'))]);
  assert.equal(base.snapshot!.doc, 'small');
  assert.equal(longToSeq(base.snapshot!.seq), small);
  l.socket.destroy();
  await s.close();
});
