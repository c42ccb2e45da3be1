/**
 * The link port against unauthenticated and oversized input (DESIGN "Size bounds"): a peer may
 * send at most 4 KiB before its handshake completes, however much it streams, and the replica's
 * event loop and registry heartbeats carry on meanwhile; waiting connections are bounded (the
 * oldest goes, so a gateway still gets in) and so are authenticated links; frame reassembly is
 * linear in the frame size, by the codec's own copy accounting and by time.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { linkProof, newNonce } from '@replicant/auth';
import { MemoryLog, MemorySnapshotStore, processMetrics } from '@replicant/stream';
import { redisPerSuite } from '@replicant/testkit';
import { Replica } from '../src/replica.js';
import { LinkServer } from '../src/link-server.js';
import { RedisRegistry } from '../src/registry-redis.js';
import { encodeLinkFrame, LinkFrameReader, type ILinkFrame, type LinkFrame } from '../src/link-codec.js';

const SECRET = 'link-bounds-cluster-secret-0123456789';

/** a raw TCP peer of a link port: collects frames, records its close */
class Peer {
  readonly frames: LinkFrame[] = [];
  private waiters: { pred: (f: LinkFrame) => boolean; resolve: (f: LinkFrame) => void }[] = [];
  readonly closed: Promise<void>;
  isClosed = false;
  private constructor(readonly socket: Socket) {
    const reader = new LinkFrameReader();
    socket.on('data', (c: Buffer) => {
      for (const f of reader.push(c)) {
        this.frames.push(f);
        this.waiters = this.waiters.filter((w) => (w.pred(f) ? (w.resolve(f), false) : true));
      }
    });
    socket.on('error', () => {}); // the replica resets a peer that keeps writing
    this.closed = new Promise((r) =>
      socket.on('close', () => {
        this.isClosed = true;
        r();
      }),
    );
  }
  static async open(port: number): Promise<Peer> {
    const s = connect({ host: '127.0.0.1', port });
    await once(s, 'connect');
    return new Peer(s);
  }
  send(f: ILinkFrame): void {
    this.socket.write(encodeLinkFrame(f));
  }
  next(pred: (f: LinkFrame) => boolean): Promise<LinkFrame> {
    const hit = this.frames.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }
  /** answers the replica's challenge with the right proof and waits for its authOk */
  async handshake(secret = SECRET): Promise<void> {
    const ch = await this.next((f) => f.frame === 'challenge');
    const gw = newNonce();
    this.send({ auth: { nonce: gw, proof: linkProof(secret, 'gateway', ch.challenge!.nonce!, gw) } });
    await this.next((f) => f.frame === 'authOk');
  }
  /** writes `total` bytes of `piece`s, respecting backpressure, until done or the socket closes */
  async stream(data: Buffer, total: number, yieldEvery = 0, writeSize = data.length): Promise<number> {
    let sent = 0;
    let n = 0;
    while (sent < total && !this.isClosed) {
      // `data` repeated (a piece) or walked through (a frame), writeSize bytes per write
      const at = data.length === total ? sent : 0;
      const b = data.subarray(at, at + Math.min(writeSize, total - sent));
      sent += b.length;
      if (!this.socket.write(b)) await Promise.race([once(this.socket, 'drain').catch(() => {}), this.closed]);
      else if (yieldEvery > 0 && ++n % yieldEvery === 0) await new Promise((r) => setImmediate(r));
    }
    return sent;
  }
}

async function limited(reason: string): Promise<number> {
  const m = processMetrics.getSingleMetric('replicant_fanout_links_limited_total');
  if (!m) return 0;
  return (await m.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

async function replicaWithLinks(opts: ConstructorParameters<typeof LinkServer>[1] = {}) {
  const log = new MemoryLog({ partitions: 2 });
  const replica = await Replica.start({ log, store: new MemorySnapshotStore() });
  const server = new LinkServer(replica, { clusterSecret: SECRET, ...opts });
  const port = await server.listen();
  return {
    server,
    port,
    async close() {
      await server.close();
      await replica.close();
      await log.close();
    },
  };
}

describe('link port before the handshake, with the real (Redis) registry', () => {
  const redis = redisPerSuite();

  test('a peer streaming 64 MiB at a link port is cut after 4 KiB; the event loop stays responsive and the registry entry never expires', async (t) => {
    const s = await replicaWithLinks();
    const TTL = 300;
    const registry = new RedisRegistry({ url: redis.server.url, keyPrefix: 'lb:', ttlMs: TTL, log: () => {} });
    await registry.register({ id: 'replica-1', address: `127.0.0.1:${s.port}`, partitions: [0, 1], load: 0 });
    // Redis itself reports an expiry, even one that happened while this process was blocked
    await redis.raw.config('SET', 'notify-keyspace-events', 'Ex');
    const events = new Redis(redis.server.url);
    // closed even when an assertion fails: a Redis client left open keeps the test process alive
    t.after(async () => {
      events.disconnect();
      await registry.close();
      await s.close();
    });
    const expired: string[] = [];
    events.on('message', (_ch: string, key: string) => expired.push(key));
    await events.subscribe('__keyevent@0__:expired');

    // Event-loop delay is wall-clock: on a shared 2-core machine another process can starve this one
    // for 100 ms on its own. Blocking by the replica is deterministic (the unfixed reader parsed the
    // 64 MiB in one go, ~200 ms every time), so the best of up to 3 attempts is what is judged.
    const delays: number[] = [];
    for (let attempt = 0; attempt < 3 && !(Math.min(...delays) < 100); attempt++) {
      const before = await limited('pre_auth_bytes');
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      const peer = await Peer.open(s.port);
      // a length prefix just under the 64 MiB frame bound, then its body, 64 KiB at a time
      const piece = Buffer.alloc(64 * 1024, 0x41);
      piece.writeUInt32BE(64 * 1024 * 1024 - 4, 0);
      const t0 = Date.now();
      const sent = await peer.stream(piece, 64 * 1024 * 1024);
      await peer.closed;
      delay.disable();
      delays.push(delay.max / 1e6);
      t.diagnostic(`peer sent ${sent} bytes before the cut; event-loop delay max ${delays.at(-1)!.toFixed(1)} ms`);
      const err = peer.frames.find((f) => f.frame === 'error');
      assert.ok(err, 'the peer was told why');
      assert.match(err.error!.message!, /more than 4096 bytes before the cluster handshake/);
      assert.equal(await limited('pre_auth_bytes'), before + 1);
      assert.ok(sent < 64 * 1024 * 1024, `cut before the 64 MiB were sent (sent ${sent} bytes in ${Date.now() - t0} ms)`);
    }
    const best = Math.min(...delays);
    assert.ok(best < 100, `event-loop delay stayed under 100 ms (best of ${delays.length}: ${delays.map((d) => d.toFixed(1)).join(', ')} ms)`);
    assert.deepEqual(
      registry.list().map((r) => r.id),
      ['replica-1'],
    );
    // one more TTL with heartbeats due: an expiry in the window above would have been published by now
    const probe = new RedisRegistry({ url: redis.server.url, keyPrefix: 'lb:', ttlMs: TTL, log: () => {} });
    await probe.start();
    assert.deepEqual(
      probe.list().map((r) => r.id),
      ['replica-1'],
    );
    assert.deepEqual(expired.filter((k) => k.startsWith('lb:')), [], 'the registry entry never expired');
    assert.equal(s.server.connections().links, 0);
    await probe.close();
  });
});

test('a length prefix over 4 KiB before the handshake is cut at once, with nothing buffered', async () => {
  const s = await replicaWithLinks();
  const peer = await Peer.open(s.port);
  await peer.next((f) => f.frame === 'challenge');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(10 * 1024 * 1024, 0);
  peer.socket.write(head);
  const err = await peer.next((f) => f.frame === 'error');
  assert.match(err.error!.message!, /exceeds 4092/);
  await peer.closed;
  await s.close();
});

test('connections waiting for their handshake are bounded: beyond the bound the oldest go, and a gateway still connects', async () => {
  const s = await replicaWithLinks({ maxPreAuthLinks: 8 });
  const before = await limited('pre_auth_links');
  const idle: Peer[] = [];
  for (let i = 0; i < 20; i++) {
    const p = await Peer.open(s.port);
    await p.next((f) => f.frame === 'challenge');
    idle.push(p);
  }
  // the first 12 were closed to make room, the newest 8 wait
  await Promise.all(idle.slice(0, 12).map((p) => p.closed));
  assert.deepEqual(
    idle.map((p) => p.isClosed),
    [...Array(12).fill(true), ...Array(8).fill(false)],
  );
  assert.equal(await limited('pre_auth_links'), before + 12);
  assert.deepEqual(s.server.connections(), { links: 8, preAuth: 8 });
  // the slots are full of idle peers; a gateway with the secret completes its handshake and is served
  const gw = await Peer.open(s.port);
  await gw.handshake();
  gw.send({ hello: { nodeId: 'gw', window: 10 } });
  gw.send({ subscribe: { doc: 'd' } });
  const snap = await gw.next((f) => f.frame === 'snapshot');
  assert.equal(snap.snapshot!.doc, 'd');
  assert.equal(idle[12].isClosed, true, 'its arrival closed the oldest waiting peer');
  assert.deepEqual(s.server.connections(), { links: 8, preAuth: 7 });
  for (const p of idle) p.socket.destroy();
  gw.socket.destroy();
  await s.close();
});

test('authenticated links are bounded: beyond maxLinks a gateway is refused with unavailable', async () => {
  const s = await replicaWithLinks({ maxLinks: 2 });
  const a = await Peer.open(s.port);
  await a.handshake();
  const b = await Peer.open(s.port);
  await b.handshake();
  const c = await Peer.open(s.port);
  const ch = await c.next((f) => f.frame === 'challenge');
  const nonce = newNonce();
  c.send({ auth: { nonce, proof: linkProof(SECRET, 'gateway', ch.challenge!.nonce!, nonce) } });
  const err = await c.next((f) => f.frame === 'error');
  assert.equal(err.error!.code, 'unavailable');
  assert.match(err.error!.message!, /at most 2 links/);
  assert.equal(c.frames.some((f) => f.frame === 'authOk'), false);
  await c.closed;
  // one leaves: the next one is served
  a.socket.destroy();
  await a.closed;
  while (s.server.connections().links > 1) await new Promise((r) => setImmediate(r)); // the replica saw a's close
  const d = await Peer.open(s.port);
  await d.handshake();
  b.socket.destroy();
  d.socket.destroy();
  await s.close();
});

test('frame reassembly is linear: 1 MiB and 16 MiB frames in 1 KiB chunks copy each byte once', (t) => {
  const run = (size: number) => {
    const frame = encodeLinkFrame({ hello: { nodeId: 'x'.repeat(size), window: 1 } });
    const reader = new LinkFrameReader();
    const t0 = performance.now();
    let out: LinkFrame[] = [];
    for (let off = 0; off < frame.length; off += 1024) out = out.concat(reader.push(frame.subarray(off, off + 1024)));
    const ms = performance.now() - t0;
    assert.equal(out.length, 1);
    assert.equal(out[0].hello!.nodeId!.length, size);
    assert.equal(reader.buffered, 0);
    // the body is joined once; the 4-byte prefix is read in place
    assert.ok(reader.copiedBytes <= frame.length, `copied ${reader.copiedBytes} bytes for a ${frame.length}-byte frame`);
    return ms;
  };
  run(1024 * 1024); // warm-up
  const small = run(1024 * 1024);
  const large = run(16 * 1024 * 1024);
  // linearity is asserted by copiedBytes above; the timing is only a diagnostic (the machine is shared)
  t.diagnostic(`1 MiB: ${small.toFixed(1)} ms, 16 MiB: ${large.toFixed(1)} ms (1 KiB chunks)`);
});

test('after the handshake, a 16 MiB frame sent in 1 KiB writes arrives without blocking the event loop; the link carries on', async (t) => {
  const s = await replicaWithLinks();
  const peer = await Peer.open(s.port);
  await peer.handshake();
  const frame = encodeLinkFrame({ hello: { nodeId: 'n'.repeat(16 * 1024 * 1024), window: 10 } });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  // 1 KiB writes, yielding now and then so the replica (same process) reads as they come
  await peer.stream(frame, frame.length, 64, 1024);
  peer.send({ subscribe: { doc: 'big' } });
  const snap = await peer.next((f) => f.frame === 'snapshot');
  delay.disable();
  assert.equal(snap.snapshot!.doc, 'big');
  assert.equal(s.server.stats()[0].node.length, 16 * 1024 * 1024);
  // Wall-clock delay on a shared machine includes starvation by other processes (CI runs two test
  // files at once, Kafka brokers among them), so this bound is a loose sanity check that the frame
  // arrives without a long block; linear reassembly itself is asserted exactly by the reader's copy
  // count in the test above (the pre-fix reader measured 114 ms here: this test does not tell them apart).
  const maxMs = delay.max / 1e6;
  t.diagnostic(`event-loop delay max ${maxMs.toFixed(1)} ms`);
  assert.ok(maxMs < 500, `event-loop delay stayed under 500 ms (max ${maxMs.toFixed(1)} ms)`);
  peer.socket.destroy();
  await s.close();
});
