import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SUBPROTOCOL_BINARY, SUBPROTOCOL_JSON, type JsonObject } from '@replicant/protocol';
import {
  connect,
  ReplicantError,
  httpBase,
  type ClientEventOf,
  type ClientEventType,
  type ClientOptions,
  type ReplicantClient,
  type Timers,
} from '../src/index.js';
import { ScriptedServer, snapshot, delta, type Conn } from './scripted-server.js';
import { serverPerTest } from './per-test-server.js';
import { MIN_REFRESH_INTERVAL_MS } from '../src/refresh-pacer.js';

let server!: ScriptedServer;
const clients = serverPerTest((s) => (server = s));

/** Opens a client that reconnects immediately unless a test says otherwise. */
function open(opts: ClientOptions = {}, url = server.url): ReplicantClient {
  const c = connect(url, { random: () => 0, window: 0, ...opts });
  clients.push(c);
  return c;
}

/** Resolves with the next event of a type that matches; register before triggering it. */
function nextEvent<K extends ClientEventType>(
  c: ReplicantClient,
  type: K,
  pred: (ev: ClientEventOf<K>) => boolean = () => true,
  timeoutMs = 3000,
): Promise<ClientEventOf<K>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for a ${type} event`));
    }, timeoutMs);
    const off = c.on(type, (ev) => {
      if (!pred(ev)) return;
      clearTimeout(timer);
      off();
      resolve(ev);
    });
  });
}

/** Timers that record every requested delay and only fire when the test says so. */
class ManualTimers implements Timers {
  readonly delays: number[] = [];
  private pending = new Map<number, () => void>();
  private nextHandle = 1;
  setTimeout(fn: () => void, ms: number): unknown {
    this.delays.push(ms);
    const h = this.nextHandle++;
    this.pending.set(h, fn);
    return h;
  }
  clearTimeout(h: unknown): void {
    this.pending.delete(h as number);
  }
  fireAll(): void {
    const fns = [...this.pending.values()];
    this.pending.clear();
    for (const fn of fns) fn();
  }
}

/** Timers that record every requested delay and fire on the next turn of the event loop. */
class ImmediateTimers implements Timers {
  readonly delays: number[] = [];
  setTimeout(fn: () => void, ms: number): unknown {
    this.delays.push(ms);
    return setImmediate(fn);
  }
  clearTimeout(h: unknown): void {
    clearImmediate(h as NodeJS.Immediate);
  }
}

async function openAndSubscribe(
  opts: ClientOptions,
  doc: string,
): Promise<{ c: ReplicantClient; conn: Conn; states: { seq: bigint; state: JsonObject }[] }> {
  const c = open(opts);
  const states: { seq: bigint; state: JsonObject }[] = [];
  c.subscribe(doc, (d) => states.push({ seq: d.seq, state: d.state }));
  const conn = await server.connections.next();
  if (typeof opts.token === 'string') assert.deepEqual(await conn.frames.next(), { type: 'auth', token: opts.token });
  if (opts.window !== undefined) assert.deepEqual(await conn.frames.next(), { type: 'hello', window: opts.window });
  assert.deepEqual(await conn.frames.next(), { type: 'subscribe', doc });
  return { c, conn, states };
}

for (const protocol of ['binary', 'json'] as const) {
  test(`${protocol}: snapshot then deltas fold into the live state; duplicates are ignored`, async () => {
    const big = 1n << 60n; // past 2^53: seqs must survive both codecs exactly
    const { c, conn, states } = await openAndSubscribe({ protocol, token: 'tok en' }, 'doc.a');
    assert.equal(conn.protocol, protocol === 'json' ? SUBPROTOCOL_JSON : SUBPROTOCOL_BINARY);
    assert.equal(conn.path, '/v1/stream');
    assert.equal(conn.query.get('token'), null, 'the token travels in the first auth frame, not the URL');
    const outcomes: string[] = [];
    c.on('delta', (ev) => outcomes.push(ev.outcome));
    const done = nextEvent(c, 'delta', (ev) => ev.seq === big + 9n);
    conn.send(snapshot('doc.a', big + 5n, { a: 1, b: { c: 2 }, list: [1, 2] }));
    conn.send(delta('doc.a', big + 7n, big + 5n, { b: { c: null, d: 3 } }));
    conn.send(delta('doc.a', big + 7n, big + 5n, { b: { c: null, d: 3 } })); // redelivered
    conn.send(delta('doc.a', big + 6n, big + 5n, { a: 99 })); // older than current
    conn.send(delta('doc.a', big + 9n, big + 7n, { a: 2, list: [3] }));
    await done;
    assert.deepEqual(outcomes, ['applied', 'duplicate', 'duplicate', 'applied']);
    assert.deepEqual(
      states.map((s) => s.seq),
      [big + 5n, big + 7n, big + 9n],
    );
    assert.deepEqual(states[0].state, { a: 1, b: { c: 2 }, list: [1, 2] });
    assert.deepEqual(states[1].state, { a: 1, b: { d: 3 }, list: [1, 2] });
    assert.deepEqual(states[2].state, { a: 2, b: { d: 3 }, list: [3] });
    assert.equal(c.status, 'open');
  });
}

test('a second subscriber to a live doc is called at once; the last unsubscribe sends unsubscribe', async () => {
  const { c, conn } = await openAndSubscribe({}, 'shared');
  const first = nextEvent(c, 'snapshot');
  conn.send(snapshot('shared', 3n, { v: 1 }));
  await first;
  const seen = await new Promise<bigint>((resolve) => {
    const sub = c.subscribe('shared', (d) => {
      resolve(d.seq);
      sub.unsubscribe(); // the first subscription remains: no unsubscribe frame
    });
  });
  assert.equal(seen, 3n);
  const other = c.subscribe('other', () => {});
  assert.deepEqual(await conn.frames.next(), { type: 'subscribe', doc: 'other' });
  other.unsubscribe();
  assert.deepEqual(await conn.frames.next(), { type: 'unsubscribe', doc: 'other' });
});

test('a delta whose prevSeq does not chain triggers one resubscribe without lastSeq', async () => {
  const { c, conn, states } = await openAndSubscribe({ protocol: 'json' }, 'gappy');
  conn.send(snapshot('gappy', 5n, { n: 5 }));
  const gap = nextEvent(c, 'delta', (ev) => ev.outcome === 'gap');
  conn.send(delta('gappy', 9n, 7n, { n: 9 })); // seq 7 was never seen
  await gap;
  assert.deepEqual(await conn.frames.next(), { type: 'subscribe', doc: 'gappy' });
  // Deltas of the broken chain are dropped while the snapshot is on its way, with no new subscribe.
  const second = nextEvent(c, 'delta', (ev) => ev.seq === 11n);
  conn.send(delta('gappy', 11n, 9n, { n: 11 }));
  assert.equal((await second).outcome, 'gap');
  const fixed = nextEvent(c, 'delta', (ev) => ev.seq === 12n);
  conn.send(snapshot('gappy', 11n, { n: 11, full: true }));
  conn.send(delta('gappy', 12n, 11n, { n: 12 }));
  assert.equal((await fixed).outcome, 'applied');
  assert.deepEqual(
    states.map((s) => [s.seq, s.state]),
    [
      [5n, { n: 5 }],
      [11n, { n: 11, full: true }],
      [12n, { n: 12, full: true }],
    ],
  );
  // Frames on one socket arrive in order: if a second subscribe had been sent, it would come first.
  void c.publish('gappy', {}, { id: 'sentinel' }).catch(() => {});
  assert.equal((await conn.frames.next()).type, 'publish', 'exactly one resubscribe was sent');
});

test('after a server-side close the client reconnects and resumes every doc from its last seq', async () => {
  const c = open({ window: 8 });
  c.subscribe('r1', () => {});
  c.subscribe('r2', () => {});
  c.subscribe('r3', () => {});
  const conn = await server.connections.next();
  await conn.frames.next(); // hello
  await conn.frames.next();
  await conn.frames.next();
  await conn.frames.next();
  const applied = nextEvent(c, 'delta', (ev) => ev.doc === 'r1' && ev.seq === 7n);
  conn.send(snapshot('r1', 5n, { x: 1 }));
  conn.send(delta('r1', 7n, 5n, { x: 2 }));
  conn.send(snapshot('r2', 0n, {})); // never written: a snapshot is as cheap as a resume
  await applied;
  const reconnecting = nextEvent(c, 'status', (ev) => ev.status === 'connecting');
  conn.ws.close(1001, 'bye');
  const st = await reconnecting;
  assert.equal(st.code, 1001);
  const reopened = nextEvent(c, 'status', (ev) => ev.status === 'open');
  const conn2 = await server.connections.next();
  assert.deepEqual(await conn2.frames.next(), { type: 'hello', window: 8 });
  const subs = [await conn2.frames.next(), await conn2.frames.next(), await conn2.frames.next()];
  assert.deepEqual(subs, [
    { type: 'subscribe', doc: 'r1', lastSeq: 7n },
    { type: 'subscribe', doc: 'r2' },
    { type: 'subscribe', doc: 'r3' },
  ]);
  await reopened;
  // The resumed stream continues the chain.
  const next = nextEvent(c, 'delta', (ev) => ev.seq === 8n);
  conn2.send(delta('r1', 8n, 7n, { y: 1 }));
  assert.equal((await next).outcome, 'applied');
});

test('publish resolves with the ack seq and rejects on an error frame carrying its id', async () => {
  const c = open({ protocol: 'binary' });
  const conn = await server.connections.next();
  const p1 = c.publish('pub', { a: 1 });
  const f1 = await conn.frames.next();
  assert.equal(f1.type, 'publish');
  if (f1.type !== 'publish') return;
  assert.equal(f1.doc, 'pub');
  assert.equal(f1.patch, '{"a":1}');
  // the default id is a sequenced key: this client's id, its op counter, the doc seq it had seen
  assert.match(f1.id ?? '', /^~[A-Za-z0-9_-]{16}\.1\.0$/);
  conn.send({ type: 'ack', id: f1.id!, seq: 42n });
  assert.equal(await p1, 42n);

  const p2 = c.publish('pub', { b: 2 }, { id: 'key-2' });
  assert.deepEqual(await conn.frames.next(), { type: 'publish', doc: 'pub', patch: '{"b":2}', id: 'key-2' });
  conn.send({ type: 'error', code: 'forbidden', message: 'no writes here', doc: 'pub', id: 'key-2' });
  await assert.rejects(p2, (err: unknown) => {
    assert.ok(err instanceof ReplicantError);
    assert.equal(err.code, 'forbidden');
    assert.equal(err.message, 'no writes here');
    assert.equal(err.doc, 'pub');
    assert.equal(err.id, 'key-2');
    return true;
  });
  await assert.rejects(c.publish('bad doc id!', {}), { code: 'bad_doc_id' });
  assert.equal(c.pendingPublishes, 0);
});

test('publishes issued while disconnected are queued and re-sent with the same ids after reconnect', async () => {
  const timers = new ManualTimers();
  const c = open({ timers, protocol: 'json' });
  const conn = await server.connections.next();
  const p0 = c.publish('q', { n: 0 }, { id: 'in-flight' }); // sent, never acked on this connection
  assert.deepEqual(await conn.frames.next(), { type: 'publish', doc: 'q', patch: '{"n":0}', id: 'in-flight' });
  const down = nextEvent(c, 'reconnect');
  conn.ws.close(1012, 'restart');
  await down;
  assert.equal(c.status, 'connecting');
  const p1 = c.publish('q', { n: 1 }, { id: 'offline-1' });
  const p2 = c.publish('q', { n: 2 });
  assert.equal(c.pendingPublishes, 3);
  timers.fireAll(); // the backoff delay is up
  const conn2 = await server.connections.next();
  const resent = [await conn2.frames.next(), await conn2.frames.next(), await conn2.frames.next()];
  assert.deepEqual(resent.slice(0, 2), [
    { type: 'publish', doc: 'q', patch: '{"n":0}', id: 'in-flight' },
    { type: 'publish', doc: 'q', patch: '{"n":1}', id: 'offline-1' },
  ]);
  const f2 = resent[2];
  assert.ok(f2.type === 'publish' && f2.patch === '{"n":2}' && typeof f2.id === 'string');
  conn2.send({ type: 'ack', id: 'in-flight', seq: 10n });
  conn2.send({ type: 'ack', id: 'offline-1', seq: 11n });
  conn2.send({ type: 'ack', id: f2.id!, seq: 12n });
  assert.deepEqual(await Promise.all([p0, p1, p2]), [10n, 11n, 12n]);
});

test('the outbox is bounded: over the bound a publish is rejected at once with outbox_full', async () => {
  const timers = new ManualTimers();
  const dead = await ScriptedServer.start();
  const url = dead.url;
  await dead.stop(); // nothing listens there any more: the client never gets connected
  const c = open({ timers, maxPendingPublishes: 2 }, url);
  const p1 = c.publish('b', { n: 1 });
  const p2 = c.publish('b', { n: 2 });
  const r1 = assert.rejects(p1, { code: 'closed' });
  const r2 = assert.rejects(p2, { code: 'closed' });
  await assert.rejects(c.publish('b', { n: 3 }), (err: unknown) => {
    assert.ok(err instanceof ReplicantError);
    assert.equal(err.code, 'outbox_full');
    return true;
  });
  assert.equal(c.pendingPublishes, 2);
  await c.close();
  await Promise.all([r1, r2]);
  assert.equal(c.status, 'closed');
});

test('reconnect delays follow exponential backoff with full jitter', async () => {
  // Against a refused port every attempt fails: delays are random * min(max, initial * 2^n).
  const dead = await ScriptedServer.start();
  const url = dead.url;
  await dead.stop();
  const timers = new ImmediateTimers();
  const rs = [0.5, 0.25, 0.5, 0.5, 0.999, 0.5];
  let i = 0;
  const c = open({ timers, random: () => rs[i++ % rs.length], backoff: { initialMs: 100, maxMs: 1000 } }, url);
  const events: { attempt: number; delayMs: number }[] = [];
  await new Promise<void>((resolve) => {
    c.on('reconnect', (ev) => {
      events.push({ attempt: ev.attempt, delayMs: ev.delayMs });
      if (events.length === 6) resolve();
    });
  });
  await c.close();
  assert.deepEqual(events.slice(0, 6), [
    { attempt: 0, delayMs: 50 }, // 0.5 * 100
    { attempt: 1, delayMs: 50 }, // 0.25 * 200
    { attempt: 2, delayMs: 200 }, // 0.5 * 400
    { attempt: 3, delayMs: 400 }, // 0.5 * 800
    { attempt: 4, delayMs: 999 }, // 0.999 * min(1000, 1600)
    { attempt: 5, delayMs: 500 }, // 0.5 * 1000 (capped)
  ]);
  assert.deepEqual(timers.delays.slice(0, 6), [50, 50, 200, 400, 999, 500]);
});

test('the backoff resets only after a connection stayed healthy, not on a snapshot, never after 4008', async () => {
  const timers = new (class extends ImmediateTimers {
    clock = 0;
    now(): number {
      return this.clock;
    }
  })();
  const c = open({ timers, random: () => 0.5, backoff: { initialMs: 100, maxMs: 10_000, resetAfterMs: 5000 } });
  c.subscribe('flappy', () => {});
  const attempts: number[] = [];
  c.on('reconnect', (ev) => attempts.push(ev.attempt));
  const cycle = async (withSnapshot: boolean, openForMs: number, code: number) => {
    const conn = await server.connections.next();
    await conn.frames.next();
    if (withSnapshot) {
      const snap = nextEvent(c, 'snapshot');
      conn.send(snapshot('flappy', 1n, { ok: true }));
      await snap;
    }
    timers.clock += openForMs;
    conn.ws.close(code);
    await nextEvent(c, 'reconnect');
  };
  await cycle(false, 0, 1011); // dies at once: attempt 0
  await cycle(true, 10, 1011); // a snapshot, then dies at once: still widening (attempt 1)
  await cycle(true, 60_000, 4008); // long-lived but dropped as a slow consumer: attempt 2
  await cycle(false, 5000, 1011); // stayed open 5 s: healthy, the next retry starts from attempt 0
  assert.deepEqual(attempts, [0, 1, 2, 0]);
  assert.deepEqual(timers.delays, [50, 100, 200, 50]);
});

test('an upgrade refused with 503 + Retry-After is retried no earlier than Retry-After, with jitter', async () => {
  const http = await import('node:http');
  let refusals = 0;
  const refuser = http.createServer((_req, res) => res.writeHead(404).end());
  refuser.on('upgrade', (_req, socket) => {
    refusals++;
    socket.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 2\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((r) => refuser.listen(0, '127.0.0.1', () => r()));
  const port = (refuser.address() as { port: number }).port;
  const timers = new ManualTimers();
  const c = open({ timers, random: () => 0.25, backoff: { initialMs: 100 } }, `ws://127.0.0.1:${port}/v1/stream`);
  const ev = await nextEvent(c, 'reconnect');
  assert.equal(refusals, 1);
  // 2 s Retry-After plus 0.25 x 2 s of jitter, instead of the 25 ms backoff step
  assert.equal(ev.delayMs, 2500);
  assert.deepEqual(timers.delays, [2500]);
  await c.close();
  await new Promise<void>((r) => refuser.close(() => r()));
});

test('with a window the client says hello and returns credit in half-window batches', async () => {
  const { c, conn } = await openAndSubscribe({ window: 4, protocol: 'binary' }, 'credit');
  const last = nextEvent(c, 'delta', (ev) => ev.seq === 6n);
  conn.send(snapshot('credit', 1n, {}));
  for (let s = 2n; s <= 6n; s++) conn.send(delta('credit', s, s - 1n, { s: Number(s) }));
  await last;
  // 6 data frames consumed, batch = window / 2 = 2: three credits of 2.
  assert.deepEqual(await conn.frames.next(), { type: 'credit', n: 2 });
  assert.deepEqual(await conn.frames.next(), { type: 'credit', n: 2 });
  assert.deepEqual(await conn.frames.next(), { type: 'credit', n: 2 });
  void c.publish('credit', {}, { id: 'sentinel' }).catch(() => {});
  assert.equal((await conn.frames.next()).type, 'publish', 'no further credit');
});

test('goaway: the client moves to a new connection after reconnectMs plus jitter and resumes', async () => {
  const { c, conn } = await openAndSubscribe({ random: () => 0.5, backoff: { initialMs: 20 } }, 'drain');
  const snap = nextEvent(c, 'snapshot');
  conn.send(snapshot('drain', 4n, { v: 4 }));
  await snap;
  const scheduled = nextEvent(c, 'reconnect');
  conn.send({ type: 'goaway', reconnectMs: 30 });
  const ev = await scheduled;
  assert.equal(ev.cause, 'goaway');
  assert.equal(ev.delayMs, 40); // 30 + 0.5 * 20
  const conn2 = await server.connections.next();
  await conn.closed; // the client let go of the draining connection
  assert.deepEqual(await conn2.frames.next(), { type: 'subscribe', doc: 'drain', lastSeq: 4n });
});

test('keepalive pings; a connection silent for a whole interval is dropped and replaced', async () => {
  const c = open({ pingIntervalMs: 25, protocol: 'json' });
  const conn = await server.connections.next();
  assert.deepEqual(await conn.frames.next(), { type: 'ping' });
  conn.send({ type: 'pong' });
  assert.deepEqual(await conn.frames.next(), { type: 'ping' });
  // No pong this time: the client gives up on the connection and opens another.
  const down = nextEvent(c, 'status', (e) => e.status === 'connecting');
  await down;
  const conn2 = await server.connections.next();
  await conn.closed;
  assert.deepEqual(await conn2.frames.next(), { type: 'ping' });
});

test('a token function is called for every connection; a failing one is retried with backoff', async () => {
  let n = 0;
  const c = open({
    token: async () => {
      if (n++ === 0) throw new Error('token service down');
      return `t${n - 1}`;
    },
  });
  const failed = await nextEvent(c, 'error');
  assert.equal(failed.error.code, 'connect_failed');
  assert.match(failed.error.message, /token service down/);
  const conn = await server.connections.next();
  assert.deepEqual(await conn.frames.next(), { type: 'auth', token: 't1' });
  conn.ws.close(1001);
  const conn2 = await server.connections.next();
  assert.deepEqual(await conn2.frames.next(), { type: 'auth', token: 't2' });
  await c.close();
  assert.equal(c.status, 'closed');
  assert.throws(() => c.subscribe('x', () => {}), { code: 'closed' });
  await assert.rejects(c.publish('x', {}), { code: 'closed' });
});

/** an unsigned JWT-shaped token expiring in `ms` (the scripted server does not verify) */
function fakeJwt(n: number, ms: number): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'HS256' })}.${b64({ sub: 'a', n, exp: (Date.now() + ms) / 1000 })}.sig`;
}

test('token(): refreshed in-band before exp on the same connection; token_expired triggers one more refresh', async () => {
  let n = 0;
  const c = open({ token: () => fakeJwt(n++, 1200) });
  c.subscribe('r', () => {});
  const conn = await server.connections.next();
  const first = (await conn.frames.next()) as { type: string; token: string };
  assert.equal(first.type, 'auth');
  assert.equal((await conn.frames.next()).type, 'subscribe');
  const t0 = Date.now();
  const refresh = (await conn.frames.next()) as { type: string; token: string };
  assert.equal(refresh.type, 'auth');
  assert.notEqual(refresh.token, first.token);
  assert.ok(Date.now() - t0 < 1200, 'the refresh is sent before exp');
  conn.send({ type: 'error', code: 'token_expired', message: 'late' });
  assert.equal(((await conn.frames.next()) as { type: string }).type, 'auth');
  assert.equal(c.status, 'open');
  assert.equal(n, 3, 'no reconnect: one token per refresh only');
  await c.close();
});

test('a token function returning tokens already past exp: refreshes on token_expired are paced, with growing gaps', async () => {
  const timers = new ManualTimers();
  let calls = 0;
  const c = open({ timers, random: () => 0.5, token: () => (calls++, fakeJwt(calls, -1000)) });
  const conn = await server.connections.next();
  assert.equal((await conn.frames.next()).type, 'auth');
  assert.deepEqual(timers.delays, [], 'no refresh armed for a token already past exp');
  const gaps: number[] = [];
  for (let i = 0; i < 4; i++) {
    conn.send({ type: 'error', code: 'token_expired', message: 'exp' });
    while (timers.delays.length === gaps.length) await new Promise((r) => setImmediate(r));
    assert.equal(calls, i + 1, 'token() is not called before the gap has passed');
    gaps.push(timers.delays[gaps.length]);
    timers.fireAll();
    assert.equal((await conn.frames.next()).type, 'auth');
    assert.equal(calls, i + 2);
  }
  assert.ok(gaps[0] >= MIN_REFRESH_INTERVAL_MS - 100, `at least the minimum interval: ${gaps.join(',')}`);
  for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i] > gaps[i - 1], `the gaps grow: ${gaps.join(',')}`);
  await c.close();
});

test('a subscribe refused with a transient error is re-sent after a backoff delay; a permanent refusal is not', async () => {
  const timers = new ManualTimers();
  const c = open({ timers, random: () => 0.5, backoff: { initialMs: 400 } });
  c.subscribe('busy', () => {});
  c.subscribe('denied', () => {});
  const conn = await server.connections.next();
  assert.deepEqual(await conn.frames.next(), { type: 'subscribe', doc: 'busy' });
  assert.deepEqual(await conn.frames.next(), { type: 'subscribe', doc: 'denied' });
  const reported = nextEvent(c, 'error', (e) => e.error.doc === 'denied');
  conn.send({ type: 'error', code: 'unavailable', message: 'queue full', doc: 'busy' });
  conn.send({ type: 'error', code: 'forbidden', message: 'no', doc: 'denied' });
  await reported;
  assert.deepEqual(timers.delays, [200], 'one retry timer: the jittered first backoff window (0.5 x 400 ms)');
  timers.fireAll();
  assert.deepEqual(await conn.frames.next(), { type: 'subscribe', doc: 'busy' });
  const synced = nextEvent(c, 'snapshot');
  conn.send(snapshot('busy', 3n, { ok: true }));
  await synced;
  assert.equal(conn.frames.length, 0, 'the forbidden subscribe was not re-sent');
  await c.close();
});

test('an unsubscribe refused with a transient error is re-sent after a backoff delay', async () => {
  const timers = new ManualTimers();
  const c = open({ timers, random: () => 0.5, backoff: { initialMs: 400 } });
  const sub = c.subscribe('gone', () => {});
  const conn = await server.connections.next();
  assert.deepEqual(await conn.frames.next(), { type: 'subscribe', doc: 'gone' });
  sub.unsubscribe();
  assert.deepEqual(await conn.frames.next(), { type: 'unsubscribe', doc: 'gone' });
  const reported = nextEvent(c, 'error');
  conn.send({ type: 'error', code: 'unavailable', message: 'queue full', doc: 'gone' });
  await reported;
  assert.deepEqual(timers.delays, [200]);
  timers.fireAll();
  assert.deepEqual(await conn.frames.next(), { type: 'unsubscribe', doc: 'gone' });
  await c.close();
});

test('an unsubscribe refused again and again is re-sent with growing backoff delays', async () => {
  const timers = new ManualTimers();
  const c = open({ timers, random: () => 0.5, backoff: { initialMs: 400, maxMs: 10_000 } });
  const sub = c.subscribe('gone', () => {});
  const conn = await server.connections.next();
  assert.deepEqual(await conn.frames.next(), { type: 'subscribe', doc: 'gone' });
  sub.unsubscribe();
  assert.deepEqual(await conn.frames.next(), { type: 'unsubscribe', doc: 'gone' });
  for (let i = 0; i < 4; i++) {
    const reported = nextEvent(c, 'error');
    conn.send({ type: 'error', code: 'unavailable', message: 'queue full', doc: 'gone' });
    await reported;
    timers.fireAll();
    assert.deepEqual(await conn.frames.next(), { type: 'unsubscribe', doc: 'gone' });
  }
  assert.deepEqual(timers.delays, [200, 400, 800, 1600], 'attempts are counted: the window doubles');
  await c.close();
});

test('1,000 refused subscribes are scheduled with O(n log n) work and one retry timer, not a scan per refusal', async () => {
  const timers = new ManualTimers();
  let r = 0;
  const c = open({ timers, random: () => ((r = (r * 7919 + 13) % 1000), r / 1000), backoff: { initialMs: 400 } });
  const n = 1000;
  for (let i = 0; i < n; i++) c.subscribe(`doc${i}`, () => {});
  const conn = await server.connections.next();
  for (let i = 0; i < n; i++) await conn.frames.next();
  let refused = 0;
  const all = new Promise<void>((resolve) =>
    c.on('error', () => {
      if (++refused === n) resolve();
    }),
  );
  for (let i = 0; i < n; i++) conn.send({ type: 'error', code: 'unavailable', message: 'busy', doc: `doc${i}` });
  await all;
  const work = (c as unknown as { subRetries: { work: number } }).subRetries.work;
  assert.ok(work <= 2 * n * Math.ceil(Math.log2(n)), `heap work ${work} for ${n} refusals`);
  assert.ok(timers.delays.length < 50, `${timers.delays.length} timers armed for ${n} refusals (only when an earlier one is due)`);
  timers.fireAll();
  await conn.frames.next(); // the due ones are sent again
  await c.close();
});

test('token_expired for a publish sent before the latest auth frame: re-sent at once with its id, no second refresh', async () => {
  let n = 0;
  const c = open({ token: () => fakeJwt(n++, 600_000) });
  const conn = await server.connections.next();
  assert.equal((await conn.frames.next()).type, 'auth');
  const p = c.publish('d', { a: 1 });
  const pub = (await conn.frames.next()) as { type: string; id: string };
  assert.equal(pub.type, 'publish');
  conn.send({ type: 'error', code: 'token_expired', message: 'exp' }); // the connection's token expired
  assert.equal((await conn.frames.next()).type, 'auth', 'refreshed in-band');
  // the publish had reached the gateway before the fresh auth: refused, and re-sent behind that auth
  conn.send({ type: 'error', code: 'token_expired', message: 'exp', doc: 'd', id: pub.id });
  const again = (await conn.frames.next()) as { type: string; id: string };
  assert.deepEqual([again.type, again.id], ['publish', pub.id]);
  conn.send({ type: 'ack', id: pub.id, seq: 9n });
  assert.equal(await p, 9n);
  assert.equal(n, 2, 'one token at connect, one refresh');
  await c.close();
});

test('tokenInUrl sends the token as the query parameter instead', async () => {
  const c = open({ token: 'q-token', tokenInUrl: true });
  const conn = await server.connections.next();
  assert.equal(conn.query.get('token'), 'q-token');
  await c.close();
});

test('affinity is sent as the ?affinity= query parameter of the stream URL (beside the token when in the URL); a bad one is refused at connect', async () => {
  const c = open({ token: 'q-token', tokenInUrl: true, affinity: 'room 7/ü' });
  const conn = await server.connections.next();
  assert.equal(conn.query.get('affinity'), 'room 7/ü');
  assert.equal(conn.query.get('token'), 'q-token');
  await c.close();
  assert.throws(() => connect(server.url, { affinity: '' }), /affinity must be a string of 1 to 256 characters/);
  assert.throws(() => connect(server.url, { affinity: 'x'.repeat(257) }), /affinity must be a string of 1 to 256 characters/);
});

test('an undecodable server frame is reported and the connection carries on', async () => {
  const { c, conn, states } = await openAndSubscribe({ protocol: 'json' }, 'robust');
  const bad = nextEvent(c, 'error');
  conn.ws.send('{"type":"delta","doc":"robust"'); // truncated JSON
  assert.equal((await bad).error.code, 'bad_frame');
  const bin = nextEvent(c, 'error');
  conn.ws.send(new Uint8Array([0xff, 0xff, 0xff]));
  assert.equal((await bin).error.code, 'bad_frame');
  const snap = nextEvent(c, 'snapshot');
  conn.send(snapshot('robust', 2n, { fine: true }));
  await snap;
  assert.deepEqual(states, [{ seq: 2n, state: { fine: true } }]);
  assert.equal(c.status, 'open');
});

test('doc_too_large is a permanent rejection of that publish: not retried, the next publish goes out', async () => {
  const c = open({ protocol: 'binary' });
  const conn = await server.connections.next();
  const big = c.publish('full', { big: 'x' }, { id: 'big-1' });
  assert.equal((await conn.frames.next()).type, 'publish');
  conn.send({ type: 'error', code: 'doc_too_large', message: 'over MAX_DOC_BYTES', doc: 'full', id: 'big-1' });
  await assert.rejects(big, { code: 'doc_too_large', id: 'big-1' });
  assert.equal(c.pendingPublishes, 0);
  const next = c.publish('full', { small: 1 }, { id: 'small-1' });
  const f = await conn.frames.next();
  assert.deepEqual(f, { type: 'publish', doc: 'full', patch: '{"small":1}', id: 'small-1' }, 'the next frame is the new publish, not a re-send');
  conn.send({ type: 'ack', id: 'small-1', seq: 7n });
  assert.equal(await next, 7n);
});

test('close 4003 "disconnect:noreconnect" without its frame: status disconnected, new work refused with disconnected', async () => {
  const c = open();
  const conn = await server.connections.next();
  await nextEvent(c, 'status', (ev) => ev.status === 'open');
  // the disconnect frame was dropped (send buffer over its bound): only the close arrives
  const gone = nextEvent(c, 'status', (ev) => ev.status === 'disconnected');
  conn.ws.close(4003, 'disconnect:noreconnect');
  assert.equal((await gone).code, 4003);
  await assert.rejects(c.publish('d', { a: 1 }), (e: ReplicantError) => e.code === 'disconnected');
  assert.throws(() => c.subscribe('d', () => {}), (e: ReplicantError) => e.code === 'disconnected');
});

test('close 4003 "disconnect" (reconnect: true) reconnects', async () => {
  const c = open();
  const conn = await server.connections.next();
  await nextEvent(c, 'status', (ev) => ev.status === 'open');
  const again = nextEvent(c, 'status', (ev) => ev.status === 'connecting');
  conn.ws.close(4003, 'disconnect');
  assert.equal((await again).code, 4003);
  await server.connections.next();
  await nextEvent(c, 'status', (ev) => ev.status === 'open');
});

test('httpBase keeps a proxy path prefix before /v1/stream; other paths give the host root', () => {
  assert.equal(httpBase('wss://h.example/rt/v1/stream'), 'https://h.example/rt');
  assert.equal(httpBase('ws://h:8080/v1/stream?token=x'), 'http://h:8080');
  assert.equal(httpBase('wss://h/a/b/v1/stream/'), 'https://h/a/b');
  assert.equal(httpBase('ws://h:8080'), 'http://h:8080');
  assert.equal(httpBase('https://h/other'), 'https://h');
});
