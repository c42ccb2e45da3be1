/**
 * Every bench target (Replicant open and with auth, bare uWS, Centrifugo, Socket.IO, ws) through the bench's own
 * pieces: the launcher starts it, a real receiver child process connects and subscribes over the
 * target's wire, the target's publisher writes, and the receiver measures every delivery in order
 * with the sampled seq check. Keeps the peer drivers from rotting; the numbers are `npm run bench`'s.
 * Centrifugo comes from scripts/install-go-tool.sh (.ci/run builds it once; cached after).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startServer, type ServerProc } from '../src/servers.js';
import { TARGET_NAMES, parseTargets } from '../src/targets.js';
import { publish } from '../src/open-loop-writer.js';
import { wallMs } from '../src/histogram.js';
import { makeWire, type FastParse } from '../src/wire.js';
import { INSTALL_GO_TOOL } from '../src/paths.js';
import { connectReceivers, setWindow, statsUntil, type ConnectOptions, type Endpoint } from '../src/receivers.js';
import type { StatsMsg } from '../src/receiver.js';

/** one receiver child process with `count` subscribers of `doc` on `server` (with its credentials, if any), every socket fully checked */
async function subscribed(server: Endpoint, doc: string, count: number, extra: Partial<ConnectOptions> = {}) {
  const c = await connectReceivers(server, [count], { doc, addrBlock: 0, addrsPerReceiver: 0, concurrency: count, sampleEvery: 1, deadlineMs: 10000, ...extra });
  const [rx] = c.receivers;
  return { rx, c, close: () => rx.exit() };
}

/** `writes` publishes of the bench patch shape `{"t":…,"n":i}` to `doc`, each acknowledged */
async function publishAll(server: ServerProc, doc: string, writes: number): Promise<void> {
  for (let n = 0; n < writes; n++) {
    const r = await publish(server.publisher, doc, `{"t":${wallMs().toFixed(3)},"n":${n}}`);
    assert.ok(server.publisher.acked(r.status, r.body), `write ${n}: HTTP ${r.status} ${r.body}`);
  }
}

/** nothing but deliveries: no error frame, goaway, close or resync */
function assertClean(s: StatsMsg): void {
  assert.equal(s.seqViolations, 0, s.firstViolation ?? '');
  assert.equal(s.errorFrames + s.goaways + s.closedAfterReady + s.resyncSnapshots, 0, JSON.stringify(s));
}

for (const kind of TARGET_NAMES) {
  test(`${kind}: a receiver subscribes over its wire and measures every publish, in order`, async () => {
    const server = await startServer(kind, { readyTimeoutMs: 20000 });
    try {
      const subscribers = 4;
      const writes = 5;
      const { rx, c, close } = await subscribed(server, 'smoke', subscribers);
      try {
        assert.equal(c.ready, subscribers, `ready ${c.ready}/${subscribers}: ${c.firstError}`);
        await setWindow([rx], 0, writes - 1); // the window is set before any write
        await publishAll(server, 'smoke', writes);
        const [s] = await statsUntil([rx], ([x]) => x.windowDeltas >= subscribers * writes, 10000, 50);
        assert.equal(s.windowDeltas, subscribers * writes, JSON.stringify(s));
        assert.equal(s.sampledDeltas, subscribers * writes, 'every delta went through the full seq check');
        assertClean(s);
        assert.ok(s.latency.count === subscribers * writes, 'every delivery has a latency');
        assert.equal(server.exited, false);
      } finally {
        await close();
      }
    } finally {
      await server.stop(5000);
    }
  });
}

test('receiver stallEvery: every k-th socket says hello window 4 and stalls; the healthy ones get every write, in order', async () => {
  const server = await startServer('replicant', { readyTimeoutMs: 20000 });
  const { rx, c, close } = await subscribed(server, 'stall', 6, { stallEvery: 3 });
  try {
    assert.equal(c.ready, 6, `ready ${c.ready}/6: ${c.firstError}`);
    assert.equal(c.stalled, 2, 'sockets 0 and 3 are stalled');
    const writes = 10; // more than the stalled sockets' window of 4
    await setWindow([rx], 0, writes - 1);
    await publishAll(server, 'stall', writes);
    const healthy = 4;
    const [s] = await statsUntil([rx], ([x]) => x.windowOps >= healthy * writes, 10000, 50);
    // only the healthy sockets are measured: every op exactly once, the seq chain unbroken
    assert.equal(s.windowOps, healthy * writes, JSON.stringify(s));
    assertClean(s);
    assert.equal(s.open, 6, 'the stalled sockets stay connected');
  } finally {
    await close();
    await server.stop(5000);
  }
});

test('replicant-auth has auth on: no token, no subscription; no API key, no write', async () => {
  const server = await startServer('replicant-auth', { readyTimeoutMs: 20000 });
  // no credentials: the endpoint without the target's tokens
  const { c, close } = await subscribed({ port: server.port, stream: server.stream }, 'smoke', 1, { deadlineMs: 2000 });
  try {
    assert.equal(c.ready, 0, 'an unauthenticated subscribe is refused');
    assert.ok(c.firstError !== null);
    const { headers: _, ...noKey } = server.publisher;
    const r = await publish(noKey, 'smoke', '{"t":0,"n":0}');
    assert.equal(r.status, 401, r.body);
  } finally {
    await close();
    await server.stop(5000);
  }
});

test('targets: all, a list, and a clear error for an unknown name', () => {
  assert.deepEqual(parseTargets('all'), [...TARGET_NAMES]);
  assert.deepEqual(parseTargets('replicant, centrifugo'), ['replicant', 'centrifugo']);
  assert.throws(() => parseTargets('replicant,nats'), /unknown target nats/);
});

const fp = (): FastParse => ({ kind: 'other', t: NaN, n: NaN });

test('centrifugo wire: handshake replies, pings, batched frames, publications and offsets', () => {
  const w = makeWire('centrifugo', 'bench');
  assert.deepEqual(w.open(), ['{"id":1,"connect":{}}']);
  const out = fp();
  assert.equal(w.parse(Buffer.from('{"id":1,"connect":{"client":"c1","version":"6","ping":25,"pong":true}}'), out).reply, '{"id":2,"subscribe":{"channel":"bench"}}');
  assert.equal(w.parse(Buffer.from('{}'), out).reply, '{}');
  assert.equal(w.parse(Buffer.from('{"id":2,"subscribe":{"recoverable":true,"epoch":"x","offset":7}}'), out).kind, 'snapshot');
  assert.equal(w.parse(Buffer.from('{"id":2,"error":{"code":103,"message":"permission denied"}}'), out).kind, 'error');
  // one WebSocket message, two publications
  const frame = Buffer.from('{"push":{"channel":"bench","pub":{"data":{"t":1.5,"n":8},"offset":8}}}\n{"push":{"channel":"bench","pub":{"data":{"t":2.5,"n":9},"offset":9}}}');
  const seen: string[] = [];
  w.each(frame, (m) => {
    const r = w.parse(m, out);
    seen.push(`${r.kind}:${r.t}:${r.n}:${r.reply}`);
  });
  assert.deepEqual(seen, ['delta:1.5:8:null', 'delta:2.5:9:null']);
  assert.deepEqual(w.seqs(Buffer.from('{"push":{"channel":"bench","pub":{"data":{"n":9,"t":2},"offset":9}}}')), { kind: 'delta', seq: 9n, prevSeq: 8n });
  assert.deepEqual(w.seqs(Buffer.from('{"id":2,"subscribe":{"recoverable":true,"offset":7}}')), { kind: 'snapshot', seq: 7n });
  // other field order: the JSON fallback still finds t and n
  const r = w.parse(Buffer.from('{"push":{"channel":"bench","pub":{"offset":3,"data":{"n":3,"t":4.25}}}}'), out);
  assert.deepEqual([r.kind, r.t, r.n], ['delta', 4.25, 3]);
  assert.equal(w.parse(Buffer.from('{"push":{"channel":"bench","disconnect":{"code":3001,"reason":"shutdown"}}}'), out).kind, 'goaway');
});

test('socket.io wire: engine.io open, namespace connect, ping, events', () => {
  const w = makeWire('socketio', 'bench');
  assert.deepEqual(w.open(), []);
  const out = fp();
  assert.equal(w.parse(Buffer.from('0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":65536}'), out).reply, '40');
  assert.equal(w.parse(Buffer.from('40{"sid":"b"}'), out).reply, '42["subscribe","bench"]');
  assert.equal(w.parse(Buffer.from('2'), out).reply, '3');
  assert.equal(w.parse(Buffer.from('42["snapshot",{"doc":"bench","seq":"0","state":{}}]'), out).kind, 'snapshot');
  const d = w.parse(Buffer.from('42["delta",{"doc":"bench","seq":"5","prevSeq":"4","patch":{"t":12.5,"n":3}}]'), out);
  assert.deepEqual([d.kind, d.t, d.n, d.reply], ['delta', 12.5, 3, null]);
  assert.deepEqual(w.seqs(Buffer.from('42["delta",{"doc":"bench","seq":"5","prevSeq":"4","patch":{"t":12.5,"n":3}}]')), { kind: 'delta', seq: 5n, prevSeq: 4n });
  assert.equal(w.parse(Buffer.from('42["error_frame",{"code":"bad_doc_id"}]'), out).kind, 'error');
  assert.equal(w.parse(Buffer.from('44{"message":"nope"}'), out).kind, 'error');
  assert.equal(w.parse(Buffer.from('1'), out).kind, 'goaway');
});

test('install-go-tool.sh: a cached pin answers with its path at once; an unknown pin is one clear error', () => {
  const bin = execFileSync('bash', [INSTALL_GO_TOOL, 'centrifugo'], { encoding: 'utf8' }).trim();
  assert.match(bin, /\/bin\/centrifugo$/);
  // the same answer twice: the version check passed, nothing was rebuilt
  assert.equal(execFileSync('bash', [INSTALL_GO_TOOL, 'centrifugo'], { encoding: 'utf8' }).trim(), bin);
  assert.throws(
    () => execFileSync('bash', [INSTALL_GO_TOOL, 'no-such-tool'], { encoding: 'utf8', stdio: 'pipe' }),
    (e: any) => e.status === 1 && /no pin named 'no-such-tool'/.test(String(e.stderr)),
  );
});
