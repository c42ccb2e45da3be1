/**
 * The SSE + HTTP transport (transport.ts seam), for networks that refuse WebSocket upgrades:
 *  - down: `GET /v1/sse?doc=<id>&doc=<id>…` read as Server-Sent Events with fetch (so the token goes
 *    in `Authorization: Bearer`, and the resume cursor in `Last-Event-ID`, which EventSource
 *    cannot set on a stream it did not open itself). Each event's `data:` is a JSON frame of the
 *    `replicant.v1.json` subprotocol (`welcome`, `snapshot`, `delta`, `error`, `goaway`, `message`).
 *    The cursor is built here from the seq each doc holds, with protocol's cursor code (the code
 *    the gateway parses it with: sseCursorPrefix), so every doc resumes from its own seq across doc
 *    set changes, reconnects and a switch from WebSocket; a doc holding no seq (new, or resyncing
 *    after a gap) gets a snapshot. The server's `id:` lines say the same and are not needed.
 *  - up: `publish` is `POST /v1/docs/{id}` with `Idempotency-Key` = the op id and `If-Match` for
 *    `ifSeq`; `200 {seq}` becomes an `ack` frame, an error body an `error` frame with the op's id
 *    (the same code the WebSocket path would give), a failed request `unavailable` (transient: the
 *    outbox re-sends it with the same key, applied once).
 *  - `subscribe` / `unsubscribe` change the doc set: the stream is reopened (once per batch of
 *    frames, on a microtask) with the new set and the cursor. `auth` replaces the token for
 *    later requests and reopens the stream under it. `hello`, `credit` and `ping` are accepted and
 *    dropped: SSE has no credit (the server's inactive/collapse rules bound a slow reader) and
 *    EventSource-style comments (`: ping`) only feed the idle timer.
 * Order: a doc's publishes are POSTed one at a time in send order (docs run independently), and a
 * transient refusal refuses the doc's later ones `unavailable` until the refused id is sent again,
 * as the gateway does for a WebSocket (docs/protocol.md "Ordering").
 * Bounds: one event at most `maxEventBytes` (over it the stream is dropped: close 1009, the client
 * reconnects); queued publishes are bounded by the outbox's in-flight bound (MAX_IN_FLIGHT); lanes
 * blocked on a refused op at most MAX_BLOCKED_DOCS (past it: close 4013, as the gateway does); a
 * stream silent for `idleTimeoutMs` (the server pings every 15 s) is dropped (close 1006).
 */
import {
  decodeServerJson,
  ErrorCode,
  isTransientError,
  ProtocolError,
  SSE_MAX_DOCS,
  sseCursorPrefix,
  type ClientFrame,
  type ReceivedFrame,
} from '@replicant/protocol';
import type { Timers } from './client.js';
import type { Transport, TransportEvents } from './transport.js';

/** the gateway's SSE endpoint (DESIGN.md "More ways in") */
export const SSE_PATH = '/v1/sse';
/** docs per SSE stream, the server's bound */
export const MAX_SSE_DOCS = SSE_MAX_DOCS;
/** largest SSE event accepted: a 16 MiB doc (MAX_DOC_BYTES default) as a JSON frame, and room to spare */
export const DEFAULT_MAX_EVENT_BYTES = 24 * 1024 * 1024;
/** three of the server's 15 s keep-alives missed */
export const DEFAULT_SSE_IDLE_MS = 45_000;
/** docs waiting for a refused publish to be re-sent; past it the transport closes (4013), as the gateway does */
export const MAX_BLOCKED_DOCS = 1024;

export type FetchLike = (url: string, init: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<{
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  body: ReadableStream<Uint8Array> | null;
  text(): Promise<string>;
}>;

export interface SseTransportOptions {
  /** http(s) base of the gateway (history.ts httpBase) */
  base: string;
  token: string | undefined;
  /** the client's routing hint, sent as `?affinity=` on the stream (client.ts ClientOptions.affinity) */
  affinity?: string;
  events: TransportEvents;
  /** the docs to stream from the start, each with the seq to resume from (undefined: a snapshot) */
  docs: Iterable<[string, string | undefined]>;
  fetch?: FetchLike;
  timers: Timers;
  maxEventBytes?: number;
  idleTimeoutMs?: number;
}

interface Lane {
  busy: boolean;
  q: Extract<ClientFrame, { type: 'publish' }>[];
  /** the id of a transiently refused op: the doc's other publishes are refused until it comes again */
  blockedOn: string | undefined;
}

export class SseTransport implements Transport {
  readonly kind = 'sse';
  readonly pings = false;
  private live = true;
  private opened = false;
  private token: string | undefined;
  private readonly ev: TransportEvents;
  private readonly fetch: FetchLike;
  private readonly maxEventBytes: number;
  private readonly idleMs: number;
  /**
   * the doc set, and per doc the seq it holds: from its subscribe's lastSeq, then from the frames
   * that pass (undefined: waits for a snapshot)
   */
  private readonly docs = new Map<string, string | undefined>();
  private reopenQueued = false;
  /** the stream being read (aborted on reopen and close) */
  private stream: AbortController | undefined;
  private readonly requests = new Set<AbortController>();
  private readonly lanes = new Map<string, Lane>();
  private blocked = 0;
  private idleTimer: unknown;
  private rx = false;

  constructor(private readonly o: SseTransportOptions) {
    this.ev = o.events;
    this.token = o.token;
    const f = o.fetch ?? (globalThis as { fetch?: FetchLike }).fetch;
    if (!f) throw new TypeError('SSE transport needs fetch (browsers, Node >= 18)');
    // called as a plain function: a browser's fetch throws "Illegal invocation" on any other `this`
    this.fetch = (url, init) => f(url, init);
    this.maxEventBytes = o.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this.idleMs = o.idleTimeoutMs ?? DEFAULT_SSE_IDLE_MS;
    for (const [doc, seq] of o.docs) this.docs.set(doc, seq);
    // `open` once the first stream is answered 200: the manager's resubscribes then match the set
    // it was opened with and change nothing
    queueMicrotask(() => {
      if (this.live) this.reopen();
    });
  }

  get isOpen(): boolean {
    return this.live && this.opened;
  }

  send(f: ClientFrame): boolean {
    if (!this.isOpen) return false;
    switch (f.type) {
      case 'subscribe': {
        const had = this.docs.has(f.doc);
        const held = this.docs.get(f.doc);
        const want = f.lastSeq?.toString();
        if (had && held === want) return true; // what the stream already carries (the resubscribe on open)
        this.docs.set(f.doc, want);
        this.queueReopen();
        return true;
      }
      case 'unsubscribe':
        if (this.docs.delete(f.doc)) this.queueReopen();
        return true;
      case 'publish':
        this.enqueue(f);
        return true;
      case 'auth':
        if (f.token !== this.token) {
          this.token = f.token;
          this.queueReopen(); // the stream runs under the fresh token from now on
        }
        return true;
      default:
        return true; // hello, credit, ping: nothing to carry over SSE
    }
  }

  close(_code: number, _reason: string): Promise<void> {
    this.stop();
    return Promise.resolve();
  }

  terminate(): void {
    this.stop();
  }

  private stop(): void {
    this.live = false;
    this.stream?.abort();
    this.stream = undefined;
    for (const c of this.requests) c.abort();
    this.requests.clear();
    this.lanes.clear();
    this.clearIdle();
  }

  /** ends the transport from inside (stream failed, bound crossed): reported once */
  private fail(code: number, reason: string): void {
    if (!this.live) return;
    this.stop();
    this.ev.close(code, reason);
  }

  // ---- down: the event stream ----

  private queueReopen(): void {
    if (this.reopenQueued) return;
    this.reopenQueued = true;
    queueMicrotask(() => {
      this.reopenQueued = false;
      if (this.live) this.reopen();
    });
  }

  /**
   * (Re)opens the stream for the current doc set (the first MAX_SSE_DOCS), with a cursor of the
   * seq each doc holds: each resumes from there, or gets a snapshot when it holds none.
   */
  private reopen(): void {
    this.stream?.abort();
    this.stream = undefined;
    if (this.docs.size === 0) {
      // the server streams named docs only: no stream until one is subscribed; publishes go over
      // HTTP meanwhile. Opening first needs the server reached: a stream of no doc gets an HTTP
      // answer (400) from a live gateway, a network error from none.
      this.clearIdle();
      if (!this.opened) void this.reach();
      return;
    }
    const q = new URLSearchParams();
    if (this.o.affinity !== undefined) q.set('affinity', this.o.affinity);
    const list: string[] = [];
    const seqs: string[] = [];
    let resume = false;
    for (const [doc, seq] of this.docs) {
      if (list.length >= MAX_SSE_DOCS) break;
      list.push(doc);
      q.append('doc', doc);
      seqs.push(seq ?? '');
      if (seq !== undefined) resume = true;
    }
    const headers: Record<string, string> = { Accept: 'text/event-stream' };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (resume) headers['Last-Event-ID'] = sseCursorPrefix(list) + seqs.join(',');
    const ctl = new AbortController();
    this.stream = ctl;
    void this.read(`${this.o.base}${SSE_PATH}?${q.toString()}`, headers, ctl);
  }

  /** opens once an HTTP answer shows the gateway can be reached (no doc to stream yet) */
  private async reach(): Promise<void> {
    const ctl = new AbortController();
    this.stream = ctl;
    const current = () => this.live && this.stream === ctl;
    try {
      const res = await this.fetch(`${this.o.base}${SSE_PATH}${this.o.affinity !== undefined ? `?${new URLSearchParams({ affinity: this.o.affinity }).toString()}` : ''}`, { headers: { Accept: 'text/event-stream' }, signal: ctl.signal });
      await res.text().catch(() => '');
      if (!current()) return;
      this.stream = undefined;
      if (!this.opened) {
        this.opened = true;
        this.ev.open();
      }
    } catch {
      if (current()) this.fail(1006, 'SSE endpoint unreachable');
    }
  }

  private async read(url: string, headers: Record<string, string>, ctl: AbortController): Promise<void> {
    const current = () => this.live && this.stream === ctl;
    try {
      const res = await this.fetch(url, { headers, signal: ctl.signal });
      if (!current()) return;
      if (!res.ok || !res.body) {
        const retry = Number(res.headers.get('retry-after'));
        if (res.status === 503 && Number.isFinite(retry) && retry >= 0) this.ev.retryAfter(Math.min(retry, 3600) * 1000);
        const err = await errorFrame(res, undefined, undefined);
        if (!current()) return;
        this.ev.frame(err);
        // the reconnect asks token() again, as after a WebSocket's 4001
        this.fail(res.status === 401 ? 4001 : 1006, `SSE refused: HTTP ${res.status}`);
        return;
      }
      this.armIdle(); // from the answer on: a stream with no byte (not even `: ping`) for idleMs is dead
      if (!this.opened) {
        this.opened = true;
        this.ev.open();
        if (!current()) return;
      }
      if (this.docs.size > MAX_SSE_DOCS) {
        // the docs past the bound are not on the stream (each open says so again)
        const over = [...this.docs.keys()][MAX_SSE_DOCS]!;
        this.ev.frame({ type: 'error', code: ErrorCode.TooManySubscriptions, message: `SSE carries at most ${MAX_SSE_DOCS} docs per connection`, doc: over });
        if (!current()) return;
      }
      await this.parse(res.body, ctl, current);
      if (current()) this.fail(1006, 'SSE stream ended');
    } catch {
      if (current()) this.fail(1006, 'SSE stream failed');
    }
  }

  /** reads `text/event-stream` (WHATWG HTML 9.2.6) and reports each event's frame */
  private async parse(body: ReadableStream<Uint8Array>, ctl: AbortController, current: () => boolean): Promise<void> {
    const reader = body.getReader();
    ctl.signal.addEventListener('abort', () => void reader.cancel().catch(() => {}));
    const dec = new TextDecoder();
    let buf = '';
    let pending = 0; // bytes received since the last complete event
    let data: string[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done || !current()) return;
      this.rx = true;
      pending += value.byteLength;
      if (pending > this.maxEventBytes) {
        this.fail(1009, `SSE event over ${this.maxEventBytes} bytes`);
        return;
      }
      // what is left of `buf` holds no line end: only the new text is searched (a large event in
      // many chunks costs linear time, not quadratic)
      let scan = buf.length;
      buf += dec.decode(value, { stream: true });
      let start = 0;
      for (;;) {
        const nl = buf.indexOf('\n', scan);
        if (nl < 0) break;
        scan = nl + 1;
        let line = buf.slice(start, nl);
        start = nl + 1;
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (line === '') {
          // end of an event: dispatch it (comments and id-only events carry no frame)
          pending = 0;
          if (data.length > 0) {
            const f = decodeServerJson(data.join('\n'));
            // the seq each doc holds: the next reopen's cursor
            if (!(f instanceof ProtocolError) && (f.type === 'snapshot' || f.type === 'delta') && this.docs.has(f.doc)) this.docs.set(f.doc, f.seq.toString());
            // a doc the server refused is not on the stream: the manager's retry (a subscribe) must reopen
            else if (!(f instanceof ProtocolError) && f.type === 'error' && f.doc !== undefined && f.id === undefined) this.docs.delete(f.doc);
            this.ev.frame(f);
            if (!current()) return;
          }
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue; // `: ping`: only resets the idle timer
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let v = colon < 0 ? '' : line.slice(colon + 1);
        if (v.startsWith(' ')) v = v.slice(1);
        if (field === 'data') data.push(v);
        // `event:` repeats the frame's type, which the JSON carries; `id:` is the cursor we build
        // ourselves from the same seqs; `retry:` is ours to decide
      }
      buf = buf.slice(start);
    }
  }

  private armIdle(): void {
    this.clearIdle();
    this.rx = false;
    this.idleTimer = this.o.timers.setTimeout(() => {
      this.idleTimer = undefined;
      if (!this.live) return;
      if (!this.rx) return this.fail(1006, 'SSE stream idle');
      this.armIdle();
    }, this.idleMs);
  }

  private clearIdle(): void {
    if (this.idleTimer !== undefined) this.o.timers.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  // ---- up: publishes over HTTP ----

  private enqueue(f: Extract<ClientFrame, { type: 'publish' }>): void {
    let lane = this.lanes.get(f.doc);
    if (!lane) this.lanes.set(f.doc, (lane = { busy: false, q: [], blockedOn: undefined }));
    if (lane.blockedOn !== undefined) {
      if (f.id !== lane.blockedOn) {
        this.refuse(f, ErrorCode.Unavailable, 'an earlier publish of this doc was refused; it goes first');
        return;
      }
      lane.blockedOn = undefined;
      this.blocked--;
    }
    lane.q.push(f);
    if (!lane.busy) void this.drain(f.doc, lane);
  }

  private refuse(f: Extract<ClientFrame, { type: 'publish' }>, code: string, message: string): void {
    const e: ReceivedFrame = { type: 'error', code, message, doc: f.doc };
    if (f.id !== undefined) e.id = f.id;
    queueMicrotask(() => {
      if (this.live) this.ev.frame(e);
    });
  }

  private async drain(doc: string, lane: Lane): Promise<void> {
    lane.busy = true;
    while (this.live && lane.q.length > 0) {
      const f = lane.q.shift()!;
      const answer = await this.post(f);
      if (!this.live) return;
      if (answer === undefined) continue;
      this.ev.frame(answer);
      if (!this.live) return;
      if (answer.type === 'error' && isTransientError(answer.code) && answer.code !== ErrorCode.Internal && f.id !== undefined) {
        // as the gateway does: the doc's later ops wait until this one is sent again
        for (const g of lane.q.splice(0)) this.refuse(g, ErrorCode.Unavailable, 'an earlier publish of this doc was refused; it goes first');
        if (lane.blockedOn === undefined) this.blocked++;
        lane.blockedOn = f.id;
        if (this.blocked > MAX_BLOCKED_DOCS) return this.fail(4013, 'too many docs wait for a refused publish');
      }
    }
    lane.busy = false;
    if (lane.blockedOn === undefined && lane.q.length === 0) this.lanes.delete(doc);
  }

  /** one publish as `POST /v1/docs/{id}`; its answer as the frame the WebSocket path gives; undefined when closed meanwhile */
  private async post(f: Extract<ClientFrame, { type: 'publish' }>): Promise<ReceivedFrame | undefined> {
    const headers: Record<string, string> = { 'Content-Type': 'application/merge-patch+json' };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (f.id !== undefined) headers['Idempotency-Key'] = f.id;
    if (f.ifSeq !== undefined) headers['If-Match'] = `"${f.ifSeq.toString()}"`;
    const ctl = new AbortController();
    this.requests.add(ctl);
    try {
      const res = await this.fetch(`${this.o.base}/v1/docs/${encodeURIComponent(f.doc)}`, { method: 'POST', headers, body: f.patch, signal: ctl.signal });
      if (!this.live) return undefined;
      if (res.ok) {
        const body = JSON.parse(await res.text()) as { seq?: unknown };
        if (typeof body.seq !== 'string' || !/^\d+$/.test(body.seq)) throw new Error('answer without seq');
        if (f.id === undefined) return undefined; // nothing to acknowledge to
        return { type: 'ack', id: f.id, seq: BigInt(body.seq) };
      }
      return await errorFrame(res, f.doc, f.id);
    } catch {
      if (!this.live) return undefined;
      // the write may or may not have happened: transient, re-sent under the same key (applied once)
      const e: ReceivedFrame = { type: 'error', code: ErrorCode.Unavailable, message: 'publish request failed', doc: f.doc };
      if (f.id !== undefined) e.id = f.id;
      return e;
    } finally {
      this.requests.delete(ctl);
    }
  }
}

/** an HTTP error answer (`{"error":{"code","message"}}`) as an `error` frame */
async function errorFrame(
  res: { status: number; text(): Promise<string> },
  doc: string | undefined,
  id: string | undefined,
): Promise<Extract<ReceivedFrame, { type: 'error' }>> {
  let code: string = res.status >= 500 || res.status === 429 ? (res.status === 429 ? ErrorCode.RateLimited : ErrorCode.Unavailable) : ErrorCode.BadRequest;
  let message = `HTTP ${res.status}`;
  try {
    const b = JSON.parse(await res.text()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof b.error?.code === 'string') code = b.error.code;
    if (typeof b.error?.message === 'string') message = b.error.message;
  } catch {
    // not our JSON (a proxy's page): the status decides
  }
  const e: Extract<ReceivedFrame, { type: 'error' }> = { type: 'error', code, message };
  if (doc !== undefined) e.doc = doc;
  if (id !== undefined) e.id = id;
  return e;
}
