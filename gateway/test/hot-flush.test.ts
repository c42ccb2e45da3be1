/**
 * Hot-doc flush (local-fanout.ts, HOT_DOC_FLUSH_MS / HOT_DOC_FLUSH_RATE): a doc written at the hot
 * rate or more reaches its subscribers every hotFlushMs, several ops per frame; a quiet doc keeps
 * one flush per event-loop turn; pending ops never exceed their bound; the chain stays gap-free.
 * Time is node:test's mock clock (setTimeout and Date), so the rates are exact; the flush of a cold
 * doc runs on the real setImmediate, awaited after each op.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@replicant/protocol';
import { Delta, type Upstream, type UpstreamListener } from '@replicant/fanout';
import { LocalFanout, MAX_PENDING_BYTES, MAX_PENDING_OPS } from '../src/local-fanout.js';
import { PROTO_JSON, type Session, type Socket, type SocketData } from '../src/session.js';

class OneDocUpstream implements Upstream {
  listener: UpstreamListener | undefined;
  subscribe(doc: string, l: UpstreamListener): void {
    this.listener = l;
    l.onBase(doc, 0n, {}, []);
  }
  unsubscribe(): void {
    this.listener = undefined;
  }
}

/** a subscriber that records the data frames it was sent */
function recordingSocket(): { ws: Socket; frames: { type: string; seq: string; prevSeq?: string; patch?: JsonObject }[] } {
  const frames: { type: string; seq: string; prevSeq?: string; patch?: JsonObject }[] = [];
  const session = { id: 1, proto: PROTO_JSON, closed: false, credit: Infinity, inactive: 0, lastSeqs: undefined, fullSince: 0 } as unknown as Session;
  const data: SocketData = { session };
  const ws: Socket = {
    getUserData: () => data,
    send: (f) => {
      frames.push(JSON.parse(String(f)));
      return 1;
    },
    cork: (cb) => cb(),
    getBufferedAmount: () => 0,
    end: () => {},
  };
  return { ws, frames };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

function setup(t: TestContext, hotFlushMs: number, historyBytes?: number) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const upstream = new OneDocUpstream();
  const fanout = new LocalFanout({ upstream, maxSendBuffer: 1 << 20, historyBytes, hotFlushMs, hotFlushRate: 200, onSlowConsumer: () => {}, onDocError: () => {} });
  t.after(() => fanout.close());
  const sub = recordingSocket();
  fanout.subscribe(sub.ws, 'd', undefined);
  let seq = 0n;
  /** one op `{n: i}` from upstream */
  const op = (i: number, pad?: string) => {
    const patch: JsonObject = pad === undefined ? { n: i } : { n: i, pad };
    upstream.listener!.onDelta(new Delta('d', seq + 1n, seq, JSON.stringify(patch), patch, Date.now()));
    seq++;
  };
  /** ops from..to, one every `gapMs` of mock time, each followed by a real turn (a cold doc's flush) */
  const opsEvery = async (from: number, to: number, gapMs: number) => {
    for (let i = from; i <= to; i++) {
      t.mock.timers.tick(gapMs);
      op(i);
      await turn();
    }
  };
  return { sub, op, opsEvery, seqNow: () => seq };
}

/** deltas after the snapshot: each chained on the one before, the last at `seq`, with ops per frame */
function chain(frames: { type: string; seq: string; prevSeq?: string }[], seq: bigint): number[] {
  assert.equal(frames[0].type, 'snapshot');
  let at = BigInt(frames[0].seq);
  const opsPerFrame: number[] = [];
  for (const f of frames.slice(1)) {
    assert.equal(f.type, 'delta');
    assert.equal(BigInt(f.prevSeq!), at, `delta ${f.seq} chains on ${at}`);
    opsPerFrame.push(Number(BigInt(f.seq) - at));
    at = BigInt(f.seq);
  }
  assert.equal(at, seq);
  return opsPerFrame;
}

test('a doc written at 1,000 ops/s is flushed every 10 ms once judged hot (10 ops per frame); gap-free', async (t) => {
  const { sub, opsEvery, seqNow } = setup(t, 10);
  // 400 ops, one per (mock) millisecond: the first 250 ms judge the rate, one flush per op
  await opsEvery(1, 400, 1);
  t.mock.timers.tick(10);
  const per = chain(sub.frames, seqNow());
  const firstHot = per.findIndex((n) => n > 1);
  // the first window (250 ms) is judged before the doc counts as hot: one op per frame until then
  assert.ok(firstHot >= 245 && firstHot <= 255, `judged hot after the first window (frame ${firstHot})`);
  const hot = per.slice(firstHot + 1, -1);
  assert.ok(hot.length >= 13 && hot.every((n) => n === 10), `hot: 10 ops per frame (${hot.join(',')})`);
  assert.deepEqual(JSON.parse(JSON.stringify(sub.frames.at(-1)!.patch)), { n: 400 });
});

test('HOT_DOC_FLUSH_MS=0: every op is flushed on the next turn, one op per frame', async (t) => {
  const { sub, opsEvery, seqNow } = setup(t, 0);
  await opsEvery(1, 400, 1);
  assert.ok(chain(sub.frames, seqNow()).every((n) => n === 1));
});

test('a doc that quietens is cold again: its next ops go out on the next turn', async (t) => {
  const { sub, op, opsEvery, seqNow } = setup(t, 10);
  await opsEvery(1, 300, 1);
  t.mock.timers.tick(10); // the last hot flush
  // 10 ops/s for a while: the first op after the window is judged on the window's rate
  await opsEvery(301, 310, 100);
  const before = sub.frames.length;
  op(311);
  await turn(); // no timer tick: a cold doc does not wait for one
  assert.equal(sub.frames.length, before + 1);
  chain(sub.frames, seqNow());
});

test('a hot doc never holds more than MAX_PENDING_OPS ops: at the bound it flushes at once', async (t) => {
  const { sub, op, opsEvery, seqNow } = setup(t, 10);
  await opsEvery(1, 300, 1);
  t.mock.timers.tick(10);
  const before = sub.frames.length;
  // a burst inside one millisecond: no timer fires, the bound does
  for (let i = 0; i < MAX_PENDING_OPS + 5; i++) op(1000 + i);
  assert.equal(sub.frames.length, before + 1, 'one frame at the bound, synchronously');
  t.mock.timers.tick(10);
  const per = chain(sub.frames, seqNow());
  assert.deepEqual(per.slice(-2), [MAX_PENDING_OPS, 5]);
});

test('a hot doc never holds more than MAX_PENDING_BYTES of pending ops: at the bound it flushes at once (also with a small HISTORY_BYTES)', async (t) => {
  // a 64 KiB history bound: the pending bound is its own, or a small HISTORY_BYTES would flush every op
  const { sub, op, opsEvery, seqNow } = setup(t, 10, 64 * 1024);
  await opsEvery(1, 300, 1);
  t.mock.timers.tick(10);
  const before = sub.frames.length;
  // ops of ~200 KB: deltaCost 3 x the patch, so the second reaches 1 MiB; no timer fires
  const pad = 'x'.repeat(Math.ceil(MAX_PENDING_BYTES / 6) + 1);
  op(1000, pad);
  assert.equal(sub.frames.length, before, 'one big op waits for the timer');
  op(1001, pad);
  assert.equal(sub.frames.length, before + 1, 'two reach the byte bound: flushed synchronously');
  t.mock.timers.tick(10);
  assert.deepEqual(chain(sub.frames, seqNow()).slice(-1), [2]);
});
