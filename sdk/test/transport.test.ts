/**
 * The connection manager's transport decisions ('auto' falls back to SSE + HTTP after two
 * WebSocket failures before a first frame, and returns to WebSocket later) and the SSE transport
 * itself (stream parsing, reopen on subscription changes with the cursor, publishes as HTTP POSTs
 * with the op id as Idempotency-Key, HTTP answers as ack / error), against a scripted WebSocket
 * class and a scripted fetch. The real gateway is exercised end to end in cli/test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sseCursorPrefix, type ReceivedFrame } from '@replicant/protocol';
import { connect, type FetchLike, type ClientEventOf, type ClientEventType, type ClientOptions, type ReplicantClient, type Timers, type WebSocketLike } from '../src/index.js';
import { FALLBACK_AFTER_FAILURES } from '../src/client.js';
import { SseTransport } from '../src/transport-sse.js';

/** a frame as the `replicant.v1.json` subprotocol spells it (seqs as decimal strings) */
function json(f: ReceivedFrame): string {
  return JSON.stringify(f, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

// ---- a scripted WebSocket class ----

class FakeWs implements WebSocketLike {
  static all: FakeWs[] = [];
  static waiters: ((ws: FakeWs) => void)[] = [];
  binaryType = 'blob';
  protocol = 'replicant.v1.json';
  readyState = 0;
  sent: unknown[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {
    FakeWs.all.push(this);
    const w = FakeWs.waiters.shift();
    if (w) queueMicrotask(() => w(this));
  }
  static next(): Promise<FakeWs> {
    return new Promise((resolve) => FakeWs.waiters.push(resolve));
  }
  send(data: string | Uint8Array): void {
    this.sent.push(JSON.parse(data as string));
  }
  close(code = 1000, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    queueMicrotask(() => this.onclose?.({ code, reason }));
  }
  private refusalHandlers: ((req: unknown, res: { statusCode?: number; headers: Record<string, string>; resume?: () => void }) => void)[] = [];
  /** the `ws` package's EventEmitter side, which watchRefusal listens on */
  on(ev: string, fn: (req: unknown, res: { statusCode?: number; headers: Record<string, string>; resume?: () => void }) => void): void {
    if (ev === 'unexpected-response') this.refusalHandlers.push(fn);
  }
  terminate(): void {
    this.die();
  }
  /** the upgrade answered 503 with Retry-After (admission control), as `ws` reports it */
  emitRetryAfter(ms: number): void {
    for (const fn of this.refusalHandlers) fn({}, { statusCode: 503, headers: { 'retry-after': String(ms / 1000) } });
  }
  /** the upgrade refused (a proxy's 403): error, then close 1006, never open */
  refuse(): void {
    this.readyState = 3;
    this.onerror?.({});
    this.onclose?.({ code: 1006, reason: '' });
  }
  accept(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  frame(f: ReceivedFrame): void {
    this.onmessage?.({ data: json(f) });
  }
  die(): void {
    this.readyState = 3;
    this.onclose?.({ code: 1006, reason: '' });
  }
}

// ---- a scripted fetch: SSE streams the test writes to, POSTs the test answers ----

interface SseReq {
  url: URL;
  headers: Record<string, string>;
  aborted: boolean;
  /** answers the request with a stream; returns a writer of events */
  open(status?: number, body?: string): void;
  event(f: ReceivedFrame, id?: string): void;
  raw(text: string): void;
  bytes(b: Uint8Array): void;
  end(): void;
}
interface PostReq {
  url: URL;
  headers: Record<string, string>;
  body: string;
  answer(status: number, body: unknown): void;
  fail(): void;
}

class FakeFetch {
  readonly sse: SseReq[] = [];
  readonly posts: PostReq[] = [];
  private sseWaiters: ((r: SseReq) => void)[] = [];
  private postWaiters: ((r: PostReq) => void)[] = [];
  nextSse(): Promise<SseReq> {
    return new Promise((resolve) => this.sseWaiters.push(resolve));
  }
  nextPost(): Promise<PostReq> {
    return new Promise((resolve) => this.postWaiters.push(resolve));
  }
  readonly fetch = (url: string, init: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal }): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const u = new URL(url);
      const headers = init.headers ?? {};
      init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      if (init.method === 'POST') {
        const r: PostReq = {
          url: u,
          headers,
          body: init.body ?? '',
          answer: (status, body) => resolve(new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })),
          fail: () => reject(new TypeError('fetch failed')),
        };
        this.posts.push(r);
        this.postWaiters.shift()?.(r);
        return;
      }
      const enc = new TextEncoder();
      let ctl!: ReadableStreamDefaultController<Uint8Array>;
      const stream = new ReadableStream<Uint8Array>({ start: (c) => void (ctl = c) });
      const r: SseReq = {
        url: u,
        headers,
        aborted: false,
        open: (status = 200, body) => resolve(body !== undefined ? new Response(body, { status }) : new Response(stream, { status, headers: { 'content-type': 'text/event-stream' } })),
        event: (f, id) => ctl.enqueue(enc.encode(`${id !== undefined ? `id: ${id}\n` : ''}event: ${f.type}\ndata: ${json(f)}\n\n`)),
        raw: (text) => ctl.enqueue(enc.encode(text)),
        bytes: (b) => ctl.enqueue(b),
        end: () => ctl.close(),
      };
      init.signal?.addEventListener('abort', () => (r.aborted = true));
      this.sse.push(r);
      this.sseWaiters.shift()?.(r);
    });
}

/** Timers that only fire when the test says so, by the delay they were armed with. */
class ManualTimers implements Timers {
  private pending = new Map<number, { fn: () => void; ms: number }>();
  private n = 1;
  setTimeout(fn: () => void, ms: number): unknown {
    const h = this.n++;
    this.pending.set(h, { fn, ms });
    return h;
  }
  clearTimeout(h: unknown): void {
    this.pending.delete(h as number);
  }
  /** fires every armed timer whose delay passes `pred` */
  fire(pred: (ms: number) => boolean = () => true): number {
    const due = [...this.pending].filter(([, t]) => pred(t.ms));
    for (const [h] of due) this.pending.delete(h);
    for (const [, t] of due) t.fn();
    return due.length;
  }
}

function nextEvent<K extends ClientEventType>(c: ReplicantClient, type: K, pred: (ev: ClientEventOf<K>) => boolean = () => true): Promise<ClientEventOf<K>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for a ${type} event`));
    }, 3000);
    const off = c.on(type, (ev) => {
      if (!pred(ev)) return;
      clearTimeout(timer);
      off();
      resolve(ev);
    });
  });
}

const RETRY_MS = 7777; // websocketRetryMs: the probe's timer is told apart by its delay

/** a client on the fakes; with `realTimers` its delays run by themselves (the outbox's retry due times are wall-clock) */
function setup(opts: ClientOptions = {}, realTimers = false): { c: ReplicantClient; f: FakeFetch; timers: ManualTimers } {
  FakeWs.all = [];
  FakeWs.waiters = [];
  const f = new FakeFetch();
  const timers = new ManualTimers();
  const c = connect('ws://gw.test:8080', {
    WebSocket: FakeWs,
    // as strict as a browser's: called with any `this` but the global object or none, it throws
    fetch: function (this: unknown, url, init) {
      if (this !== undefined && this !== globalThis) return Promise.reject(new TypeError("Failed to execute 'fetch' on 'Window': Illegal invocation"));
      return f.fetch(url, init);
    } as FetchLike,
    ...(realTimers ? {} : { timers }),
    protocol: 'json',
    window: 0,
    random: () => 0,
    backoff: { initialMs: 10, maxMs: 10 },
    websocketRetryMs: RETRY_MS,
    ...opts,
  });
  return { c, f, timers };
}

/** Refuses WebSocket upgrades until the client opens its SSE stream; returns that request. */
async function fallBack(c: ReplicantClient, f: FakeFetch, timers: ManualTimers): Promise<SseReq> {
  const sse = f.nextSse();
  for (let i = 0; i < FALLBACK_AFTER_FAILURES; i++) {
    const ws = FakeWs.all[i] ?? (await FakeWs.next());
    ws.refuse();
    timers.fire((ms) => ms !== RETRY_MS); // the reconnect backoff
  }
  return sse;
}

test("'auto' falls back to SSE after two refused upgrades, streams a live doc and publishes over HTTP exactly once", async () => {
  const { c, f, timers } = setup({ token: 'tok' }, true);
  const docs: unknown[] = [];
  c.subscribe('d', (d) => docs.push(d.state));
  await FakeWs.next();
  const req = await fallBack(c, f, timers);
  assert.equal(FakeWs.all.length, FALLBACK_AFTER_FAILURES);
  assert.equal(req.url.pathname, '/v1/sse');
  assert.equal(req.url.origin, 'http://gw.test:8080');
  assert.deepEqual(req.url.searchParams.getAll('doc'), ['d']);
  assert.equal(req.headers.Authorization, 'Bearer tok');
  assert.equal(req.headers['Last-Event-ID'], undefined);
  const switched = nextEvent(c, 'transport');
  req.open();
  assert.equal((await switched).transport, 'sse');
  assert.equal(c.status, 'open');
  assert.equal(c.transport, 'sse');
  const welcome = nextEvent(c, 'welcome');
  req.event({ type: 'welcome', connection: 'c1' }, 'k0');
  assert.equal((await welcome).connection, 'c1');
  const snap = nextEvent(c, 'snapshot');
  req.event({ type: 'snapshot', doc: 'd', seq: 5n, state: { a: 1 } }, 'k1');
  await snap;
  const delta = nextEvent(c, 'delta');
  req.raw(': ping\n\n'); // a comment carries no frame
  req.event({ type: 'delta', doc: 'd', seq: 9n, prevSeq: 5n, patch: { b: 2 } }, 'k2');
  assert.equal((await delta).outcome, 'applied');
  assert.deepEqual(docs.at(-1), { a: 1, b: 2 });

  // a publish is a POST with the op id as Idempotency-Key; a failed request is re-sent with the same key
  const post1 = f.nextPost();
  const p = c.publish('d', { c: 3 }, { id: 'op-1', ifSeq: 9n });
  const r1 = await post1;
  assert.equal(r1.url.pathname, '/v1/docs/d');
  assert.equal(r1.headers['Idempotency-Key'], 'op-1');
  assert.equal(r1.headers['If-Match'], '"9"');
  assert.equal(r1.headers.Authorization, 'Bearer tok');
  assert.equal(r1.body, '{"c":3}');
  const post2 = f.nextPost();
  r1.fail();
  // `unavailable` is retried after a backoff delay, on the client's one retry timer
  const retried = nextEvent(c, 'error');
  assert.equal((await retried).error.code, 'unavailable');
  const r2 = await post2;
  assert.equal(r2.headers['Idempotency-Key'], 'op-1');
  r2.answer(200, { seq: '12' });
  assert.equal(await p, 12n);
  assert.equal(c.pendingPublishes, 0);
  assert.equal(f.posts.length, 2);

  // an HTTP error answer is the same error the WebSocket path gives: conflict rejects the publish
  const post3 = f.nextPost();
  const q = c.publish('d', { c: 4 }, { id: 'op-2', ifSeq: 1n });
  (await post3).answer(412, { error: { code: 'conflict', message: 'doc is not at seq 1' } });
  await assert.rejects(q, { code: 'conflict', id: 'op-2' });
  await c.close();
  assert.ok(req.aborted);
});

test("over SSE a subscription change reopens the stream with the new doc set and a cursor of each doc's seq; a gapped doc resyncs from a snapshot", async () => {
  const { c, f, timers } = setup();
  c.subscribe('a', () => {});
  await FakeWs.next();
  const req = await fallBack(c, f, timers);
  req.open();
  req.event({ type: 'welcome', connection: 'c1' }, 'k0');
  const snap = nextEvent(c, 'snapshot');
  req.event({ type: 'snapshot', doc: 'a', seq: 3n, state: { x: 1 } }, 'cur-1');
  await snap;

  const reopened = f.nextSse();
  const subB = c.subscribe('b', () => {});
  const r2 = await reopened;
  assert.ok(req.aborted);
  assert.deepEqual(r2.url.searchParams.getAll('doc'), ['a', 'b']);
  assert.equal(r2.headers['Last-Event-ID'], `${sseCursorPrefix(['a', 'b'])}3,`); // a from 3, b: a snapshot
  r2.open();
  const snapB = nextEvent(c, 'snapshot');
  r2.event({ type: 'snapshot', doc: 'b', seq: 4n, state: {} }, 'cur-2');
  await snapB;

  const r3p = f.nextSse();
  subB.unsubscribe();
  const r3 = await r3p;
  assert.deepEqual(r3.url.searchParams.getAll('doc'), ['a']);
  assert.equal(r3.headers['Last-Event-ID'], `${sseCursorPrefix(['a'])}3`);
  r3.open();

  // a delta whose prevSeq is not the seq held: the doc must be resynced from a snapshot: no seq for it
  const r4p = f.nextSse();
  const gap = nextEvent(c, 'delta');
  r3.event({ type: 'delta', doc: 'a', seq: 9n, prevSeq: 7n, patch: { y: 1 } }, 'cur-3');
  assert.equal((await gap).outcome, 'gap');
  const r4 = await r4p;
  assert.equal(r4.headers['Last-Event-ID'], undefined);
  assert.deepEqual(r4.url.searchParams.getAll('doc'), ['a']);
  r4.open();
  const snapA = nextEvent(c, 'snapshot');
  r4.event({ type: 'snapshot', doc: 'a', seq: 9n, state: { x: 1, y: 1 } });
  await snapA;

  // a subscribe the server refused transiently: the client's retry reopens the stream with the doc
  const r5p = f.nextSse();
  c.subscribe('z', () => {});
  const r5 = await r5p;
  assert.deepEqual(r5.url.searchParams.getAll('doc'), ['a', 'z']);
  assert.equal(r5.headers['Last-Event-ID'], `${sseCursorPrefix(['a', 'z'])}9,`);
  r5.open();
  const r6p = f.nextSse();
  const refused = nextEvent(c, 'error');
  r5.event({ type: 'error', code: 'unavailable', message: 'try again', doc: 'z' });
  assert.equal((await refused).error.doc, 'z');
  timers.fire((ms) => ms < 1000); // the subscribe retry's backoff delay
  const r6 = await r6p;
  assert.deepEqual(r6.url.searchParams.getAll('doc'), ['a', 'z']);
  await c.close();
});

test("'auto' returns to WebSocket after websocketRetryMs: SSE stays until the socket opens, then resubscribes and re-sends in-flight ops with their ids", async () => {
  const { c, f, timers } = setup();
  c.subscribe('d', () => {});
  await FakeWs.next();
  const req = await fallBack(c, f, timers);
  req.open();
  const snap = nextEvent(c, 'snapshot');
  req.event({ type: 'snapshot', doc: 'd', seq: 5n, state: { a: 1 } }, 'k1');
  await snap;
  const post = f.nextPost();
  const p = c.publish('d', { b: 1 }, { id: 'op-9' });
  await post; // in flight over HTTP, never answered

  // the first try fails: SSE carries on, the next try is armed
  let probe = FakeWs.next();
  assert.equal(timers.fire((ms) => ms >= Math.floor(RETRY_MS / 2) && ms <= RETRY_MS), 1);
  (await probe).refuse();
  assert.equal(c.transport, 'sse');
  assert.ok(!req.aborted);
  // the next one works: it replaces the SSE connection
  probe = FakeWs.next();
  assert.equal(timers.fire((ms) => ms >= RETRY_MS && ms <= 2 * RETRY_MS), 1);
  const ws = await probe;
  const back = nextEvent(c, 'transport');
  ws.accept();
  assert.equal((await back).transport, 'websocket');
  assert.ok(req.aborted);
  assert.equal(c.transport, 'websocket');
  assert.deepEqual(ws.sent, [
    { type: 'subscribe', doc: 'd', lastSeq: '5' },
    { type: 'publish', doc: 'd', patch: { b: 1 }, id: 'op-9' },
  ]);
  ws.frame({ type: 'ack', id: 'op-9', seq: 6n });
  assert.equal(await p, 6n);
  await c.close();
});

test("'auto' counts only WebSockets that die before their first frame, two in a row", async () => {
  const { c, f, timers } = setup();
  c.subscribe('d', () => {});
  // refused once, then a socket that delivers a frame: the count starts over
  (await FakeWs.next()).refuse();
  let next = FakeWs.next();
  timers.fire();
  let ws = await next;
  ws.accept();
  ws.frame({ type: 'welcome', connection: 'w1' });
  ws.die();
  next = FakeWs.next();
  timers.fire();
  ws = await next;
  // opened but died before welcome: one failure
  ws.accept();
  ws.die();
  next = FakeWs.next();
  timers.fire();
  ws = await next; // still WebSocket: only one failure in a row so far
  const sse = f.nextSse();
  ws.refuse(); // the second in a row
  timers.fire();
  await sse;
  assert.equal(FakeWs.all.length, 4);
  await c.close();
});

test("'auto' does not fall back when admission control refuses the upgrade (503 + Retry-After): SSE is no way around it", async () => {
  const { c, f, timers } = setup();
  c.subscribe('d', () => {});
  for (let i = 0; i < 2 * FALLBACK_AFTER_FAILURES; i++) {
    const ws = FakeWs.all[i] ?? (await FakeWs.next());
    const next = FakeWs.next();
    // what watchRefusal reports for the ws package's 'unexpected-response' 503
    (ws as unknown as { emitRetryAfter(ms: number): void }).emitRetryAfter(1000);
    ws.refuse();
    timers.fire();
    await next;
  }
  assert.equal(f.sse.length, 0);
  await c.close();
});

test('over SSE the affinity routing hint rides on the stream request and on the reachability check', async () => {
  const { c, f } = setup({ transport: 'sse', affinity: 'team-42' }, true);
  const reach = await f.nextSse();
  assert.equal(reach.url.searchParams.get('affinity'), 'team-42', 'the check before any doc');
  const opened = nextEvent(c, 'status', (ev) => ev.status === 'open');
  reach.open(400, JSON.stringify({ error: { code: 'bad_request', message: 'name at least one doc' } }));
  await opened;
  const stream = f.nextSse();
  c.subscribe('d', () => {});
  const req = await stream;
  assert.deepEqual([req.url.searchParams.get('affinity'), req.url.searchParams.getAll('doc')], ['team-42', ['d']]);
  await c.close();
});

test("transport 'websocket' never falls back; 'sse' never tries WebSocket", async () => {
  {
    const { c, f, timers } = setup({ transport: 'websocket' });
    for (let i = 0; i < 4; i++) {
      const next = FakeWs.next();
      if (i > 0) timers.fire();
      (await next).refuse();
    }
    assert.equal(f.sse.length, 0);
    await c.close();
  }
  {
    const { c, f, timers } = setup({ transport: 'sse' });
    c.subscribe('d', () => {});
    const req = await f.nextSse();
    req.open();
    await nextEvent(c, 'status', (ev) => ev.status === 'open');
    assert.equal(timers.fire((ms) => ms === RETRY_MS || (ms >= Math.floor(RETRY_MS / 2) && ms < RETRY_MS)), 0); // no probe armed
    assert.equal(FakeWs.all.length, 0);
    await c.close();
  }
  assert.throws(() => connect('ws://x', { transport: 'carrier-pigeon' as never }), RangeError);
});

test('an SSE event split anywhere (inside a UTF-8 character, between CR and LF) over many chunks is read whole', async () => {
  const { c, f } = setup({ transport: 'sse' }, true);
  c.subscribe('big', () => {});
  const req = await f.nextSse();
  req.open();
  const text = 'é€😀'.repeat(40_000); // 2-, 3- and 4-byte UTF-8 characters
  const frame = `data: ${json({ type: 'snapshot', doc: 'big', seq: 7n, state: { text } })}\r\n\r\n`;
  const bytes = new TextEncoder().encode(frame);
  const got = nextEvent(c, 'snapshot');
  for (let i = 0; i < bytes.length; i += 997) req.bytes(bytes.subarray(i, Math.min(bytes.length, i + 997)));
  const ev = await got;
  assert.equal(ev.seq, 7n);
  assert.equal(ev.state.text, text);
  await c.close();
});

test('over SSE with no doc subscribed there is no stream (the server streams named docs only), only a check that the gateway answers; publishes go over HTTP', async () => {
  const { c, f } = setup({ transport: 'sse' }, true);
  const check = await f.nextSse();
  assert.deepEqual(check.url.searchParams.getAll('doc'), []);
  assert.equal(c.status, 'connecting');
  const opened = nextEvent(c, 'status', (ev) => ev.status === 'open');
  check.open(400, JSON.stringify({ error: { code: 'bad_request', message: 'name at least one doc' } }));
  await opened;
  assert.equal(f.sse.length, 1);
  const post = f.nextPost();
  const p = c.publish('solo', { a: 1 }, { id: 'x1' });
  (await post).answer(200, { seq: '3' });
  assert.equal(await p, 3n);
  const s = f.nextSse();
  c.subscribe('solo', () => {});
  assert.deepEqual((await s).url.searchParams.getAll('doc'), ['solo']);
  assert.equal(f.sse.length, 2);
  await c.close();
});

test('over SSE at most 100 docs are streamed; the first past the bound gets too_many_subscriptions', async () => {
  const { c, f } = setup({ transport: 'sse' }, true);
  for (let i = 0; i < 101; i++) c.subscribe(`m${i}`, () => {});
  const req = await f.nextSse();
  assert.equal(req.url.searchParams.getAll('doc').length, 100);
  const err = nextEvent(c, 'error');
  req.open();
  const e = (await err).error;
  assert.equal(e.code, 'too_many_subscriptions');
  assert.equal(e.doc, 'm100');
  await c.close();
});

test("the SSE transport refuses a doc's later publishes after a transient refusal until it comes again, and closes (4013) past 1024 blocked docs", async () => {
  const f = new FakeFetch();
  const frames: ReceivedFrame[] = [];
  const frameWaiters: { n: number; resolve: () => void }[] = [];
  const framesReach = (n: number) => new Promise<void>((resolve) => (frames.length >= n ? resolve() : frameWaiters.push({ n, resolve })));
  let opened!: () => void;
  const open = new Promise<void>((resolve) => (opened = resolve));
  let onClose!: (code: number) => void;
  const closed = new Promise<number>((resolve) => (onClose = resolve));
  const t = new SseTransport({
    base: 'http://gw.test',
    token: undefined,
    docs: [],
    fetch: f.fetch,
    timers: new ManualTimers(),
    events: {
      open: () => opened(),
      frame: (x) => {
        frames.push(x as ReceivedFrame);
        for (const w of frameWaiters.filter((w) => frames.length >= w.n)) w.resolve();
      },
      close: (code) => onClose(code),
      retryAfter: () => {},
    },
  });
  (await f.nextSse()).open(400, '{}');
  await open;
  const pub = (doc: string, id: string) => t.send({ type: 'publish', doc, patch: '{}', id });
  // one doc: op a1 refused (503 unavailable); a2, sent behind it, is refused without a request
  let next = f.nextPost();
  pub('d', 'a1');
  pub('d', 'a2');
  (await next).answer(503, { error: { code: 'unavailable', message: 'busy' } });
  await framesReach(2);
  assert.deepEqual(frames.map((x) => x.type === 'error' && [x.id, x.code]), [['a1', 'unavailable'], ['a2', 'unavailable']]);
  pub('d', 'a3'); // still blocked: refused, not sent
  await framesReach(3);
  assert.deepEqual(frames.map((x) => x.type === 'error' && x.id), ['a1', 'a2', 'a3']);
  assert.equal(f.posts.length, 1);
  next = f.nextPost();
  pub('d', 'a1'); // the refused op again: it goes, and unblocks the doc
  const again = await next;
  assert.equal(again.headers['Idempotency-Key'], 'a1');
  again.answer(200, { seq: '5' });
  await framesReach(4);
  assert.deepEqual(frames[3], { type: 'ack', id: 'a1', seq: 5n });
  // 1025 docs blocked at once: the transport gives up (4013), as the gateway does
  for (let i = 0; i <= 1024; i++) {
    next = f.nextPost();
    pub(`b${i}`, `b${i}`);
    (await next).answer(503, { error: { code: 'unavailable', message: 'busy' } });
  }
  assert.equal(await closed, 4013);
});

test('an SSE stream that fails, ends, or sends an event over the bound is dropped and the client reconnects', async () => {
  const { c, f, timers } = setup({ transport: 'sse', sse: { maxEventBytes: 100 * 1024 } });
  c.subscribe('d', () => {});
  const r1 = await f.nextSse();
  const err = nextEvent(c, 'error');
  const again = nextEvent(c, 'reconnect');
  r1.open(401, JSON.stringify({ error: { code: 'unauthorized', message: 'bad token' } }));
  assert.equal((await err).error.code, 'unauthorized');
  await again;
  let nextReq = f.nextSse();
  timers.fire();
  const r2 = await nextReq;
  r2.open();
  await nextEvent(c, 'status', (ev) => ev.status === 'open');
  const closed = nextEvent(c, 'status', (ev) => ev.status === 'connecting');
  r2.end();
  assert.equal((await closed).code, 1006);
  nextReq = f.nextSse();
  timers.fire((ms) => ms < 1000);
  const r3 = await nextReq;
  r3.open();
  await nextEvent(c, 'status', (ev) => ev.status === 'open');
  const tooBig = nextEvent(c, 'status', (ev) => ev.status === 'connecting');
  r3.raw(`data: ${'x'.repeat(64 * 1024)}`); // no end of event within the bound
  r3.raw('x'.repeat(64 * 1024));
  const st = await tooBig;
  assert.equal(st.code, 1009);
  await c.close();
});
