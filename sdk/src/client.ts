/**
 * The Replicant client: one WebSocket to a gateway carrying any number of document subscriptions
 * and publishes. It keeps each subscribed document as a live state, and keeps the connection
 * itself alive: reconnect with full-jitter backoff, resume every document from its last seq, resync
 * a document from a snapshot when its delta chain breaks, and re-send unacknowledged publishes with
 * their idempotency ids.
 */
import {
  isJsonObject,
  isValidDocId,
  MAX_ID_LENGTH,
  ProtocolError,
  type ClientFrame,
  type JsonObject,
  type ReceivedFrame,
} from '@replicant/protocol';
import { Backoff, type BackoffOptions } from './backoff.js';
import { CreditWindow } from './credit.js';
import { ClientErrorCode, ReplicantError } from './errors.js';
import { Emitter, type ClientEvent, type ClientEventOf, type ClientEventType, type ClientStatus } from './events.js';
import { DocStream, type DeltaOutcome, type LiveDoc } from './live-doc.js';
import { newPublishId, PublishQueue } from './publish-queue.js';
import {
  decodeFrame,
  encodeFrame,
  watchRefusal,
  resolveWebSocket,
  streamUrl,
  subprotocolOf,
  WS_OPEN,
  type WebSocketConstructor,
  type WebSocketLike,
  type WireProtocol,
} from './transport.js';

/** Timer functions, injectable so tests can observe and drive reconnect delays without sleeping. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** wall clock in ms (default Date.now), for how long a connection stayed healthy */
  now?(): number;
}

export interface ClientOptions {
  /** sent as the `token` query parameter; a function is called before every (re)connect */
  token?: string | (() => string | Promise<string>);
  /** wire encoding: 'binary' = `replicant.v1` (protobuf, default), 'json' = `replicant.v1.json` */
  protocol?: WireProtocol;
  /** WebSocket implementation; default the global one, else the `ws` package (Node) */
  WebSocket?: WebSocketConstructor;
  /**
   * reconnect backoff. `resetAfterMs` (default 5000): only a connection that stayed open this long
   * (and was not closed as a slow consumer) counts as healthy and resets the backoff; receiving a
   * snapshot does not, so a client that cannot keep up never loops connect -> snapshot -> close
   */
  backoff?: BackoffOptions & { resetAfterMs?: number };
  /**
   * credit flow control: the gateway sends at most this many data frames ahead of the credit the
   * client returns as its application consumes them (1..65536, default 256; 0 turns it off). It
   * bounds what a stalled client can have in flight, kernel buffers included.
   */
  window?: number;
  /** send `ping` this often while open; a connection silent for a whole interval is dropped */
  pingIntervalMs?: number;
  /** bound on unacknowledged publishes (in flight + queued while disconnected), default 1000 */
  maxPendingPublishes?: number;
  /** uniform random in [0, 1) used for jitter (injectable for tests) */
  random?: () => number;
  timers?: Timers;
}

export interface PublishOptions {
  /** idempotency key; default a random UUID. Reusing the key of an applied write is a no-op. */
  id?: string;
}

export type DocListener = (doc: LiveDoc) => void;

export interface Subscription {
  /** the live document; the same object is passed to the listener */
  readonly doc: LiveDoc;
  unsubscribe(): void;
}

interface DocEntry {
  stream: DocStream;
  listeners: Set<DocListener>;
}

const DEFAULT_RESET_AFTER_MS = 5000;
const DEFAULT_WINDOW = 256;
/** WebSocket close code of a slow consumer (protocol CloseCode.SlowConsumer) */
const CLOSE_SLOW_CONSUMER = 4008;

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>),
};

/** Opens a client; it connects in the background and reconnects until `close()`. */
export function connect(url: string, opts: ClientOptions = {}): ReplicantClient {
  return new ReplicantClient(url, opts);
}

export class ReplicantClient {
  private readonly protocol: WireProtocol;
  private readonly random: () => number;
  private readonly timers: Timers;
  private readonly backoff: Backoff;
  private readonly resetAfterMs: number;
  private readonly credit: CreditWindow | undefined;
  private readonly publishes: PublishQueue;
  private readonly events = new Emitter();
  private readonly docs = new Map<string, DocEntry>();

  private _status: ClientStatus = 'connecting';
  private ws: WebSocketLike | null = null;
  /** bumped by every connect attempt and by close(), so a stale async connect gives up */
  private generation = 0;
  private openedAt: number | undefined;
  private reconnectTimer: unknown;
  private goawayTimer: unknown;
  private pingTimer: unknown;
  private rxSincePing = true;
  private closed: Promise<void> | undefined;
  /** Retry-After of a refused upgrade (HTTP 503 from admission control), ms; used once */
  private retryAfterMs: number | undefined;

  /** Use `connect()`; the constructor starts connecting. */
  constructor(
    private readonly url: string,
    private readonly opts: ClientOptions = {},
  ) {
    streamUrl(url); // throws now on an unusable URL rather than failing every reconnect
    if (opts.window !== undefined && (!Number.isInteger(opts.window) || opts.window < 0 || opts.window > 65536)) {
      throw new RangeError('window must be an integer in [0, 65536] (0 = no credit flow control)');
    }
    this.protocol = opts.protocol ?? 'binary';
    this.random = opts.random ?? Math.random;
    this.timers = opts.timers ?? defaultTimers;
    this.backoff = new Backoff(opts.backoff, this.random);
    this.resetAfterMs = opts.backoff?.resetAfterMs ?? DEFAULT_RESET_AFTER_MS;
    const window = opts.window ?? DEFAULT_WINDOW;
    this.credit = window > 0 ? new CreditWindow(window) : undefined;
    this.publishes = new PublishQueue(opts.maxPendingPublishes);
    void this.openSocket();
  }

  get status(): ClientStatus {
    return this._status;
  }

  /** Unacknowledged publishes (sent and waiting, or queued while disconnected). */
  get pendingPublishes(): number {
    return this.publishes.size;
  }

  /** Listens to one kind of event; returns a function that removes the listener. */
  on<K extends ClientEventType>(type: K, listener: (ev: ClientEventOf<K>) => void): () => void {
    return this.events.on(type, listener);
  }

  /** Listens to every event (discriminated by `type`); returns a function that removes it. */
  onEvent(listener: (ev: ClientEvent) => void): () => void {
    return this.events.onAny(listener);
  }

  /**
   * Subscribes to a document. The listener runs after every applied snapshot or delta (and once
   * soon after subscribing when the document is already live). Subscriptions to the same document
   * share one server subscription.
   */
  subscribe(docId: string, listener: DocListener): Subscription {
    if (this._status === 'closed') throw new ReplicantError(ClientErrorCode.Closed, 'client is closed', docId);
    if (!isValidDocId(docId)) throw new ReplicantError('bad_doc_id', `invalid doc id ${JSON.stringify(docId)}`);
    let entry = this.docs.get(docId);
    const l: DocListener = (doc) => listener(doc); // own identity: the same function may subscribe twice
    if (!entry) {
      entry = { stream: new DocStream(docId), listeners: new Set() };
      this.docs.set(docId, entry);
      this.send({ type: 'subscribe', doc: docId }); // when not open, sent by the resubscribe on open
    } else if (entry.stream.synced) {
      const e = entry;
      queueMicrotask(() => {
        if (e.listeners.has(l)) this.invoke(l, e.stream);
      });
    }
    entry.listeners.add(l);
    const e = entry;
    return {
      doc: e.stream,
      unsubscribe: () => {
        if (!e.listeners.delete(l) || e.listeners.size > 0 || this.docs.get(docId) !== e) return;
        this.docs.delete(docId);
        this.send({ type: 'unsubscribe', doc: docId });
      },
    };
  }

  /**
   * Publishes a merge patch; resolves with the seq the server acknowledged it at (durable by then).
   * While disconnected the publish is queued and sent on reconnect; unacknowledged publishes are
   * re-sent after a reconnect with the same id. Rejects with a ReplicantError on a server `error`
   * for this id, when the pending bound is reached (`unavailable`), or on close (`closed`).
   */
  publish(docId: string, patch: JsonObject, opts: PublishOptions = {}): Promise<bigint> {
    const id = opts.id ?? newPublishId();
    if (this._status === 'closed') return reject(ClientErrorCode.Closed, 'client is closed', docId, id);
    if (!isValidDocId(docId)) return reject('bad_doc_id', `invalid doc id ${JSON.stringify(docId)}`, undefined, id);
    if (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH) {
      return reject('bad_request', `id must be a non-empty string of at most ${MAX_ID_LENGTH} characters`, docId);
    }
    if (!isJsonObject(patch)) return reject('bad_patch', 'patch must be a JSON object (RFC 7386 merge patch)', docId, id);
    let text: string;
    try {
      text = JSON.stringify(patch); // serialized now: later mutation of `patch` cannot change a re-send
    } catch (err) {
      return reject('bad_patch', `patch is not serializable: ${errorMessage(err)}`, docId, id);
    }
    const frame = { type: 'publish' as const, doc: docId, patch: text, id };
    let result: Promise<bigint>;
    try {
      result = this.publishes.add(frame);
    } catch (err) {
      return Promise.reject(err as ReplicantError);
    }
    this.send(frame);
    return result;
  }

  /**
   * Closes the connection for good: no reconnect, pending publishes reject with `closed`.
   * Resolves once the socket has closed.
   */
  close(): Promise<void> {
    if (this.closed) return this.closed;
    this.generation++;
    this.clearTimer('reconnectTimer');
    this.clearTimer('goawayTimer');
    this.clearTimer('pingTimer');
    const sock = this.ws;
    this.ws = null;
    this.setStatus('closed');
    this.docs.clear();
    this.publishes.failAll((f) => new ReplicantError(ClientErrorCode.Closed, 'client closed', f.doc, f.id));
    this.closed =
      sock && sock.readyState <= WS_OPEN
        ? new Promise<void>((resolve) => {
            sock.onclose = () => resolve();
            sock.close(1000, 'client close');
          })
        : Promise.resolve();
    return this.closed;
  }

  // ---- connection lifecycle ----

  private async openSocket(): Promise<void> {
    const gen = ++this.generation;
    let sock: WebSocketLike;
    try {
      const Ctor = await resolveWebSocket(this.opts.WebSocket);
      const t = this.opts.token;
      const token = typeof t === 'function' ? await t() : t;
      if (gen !== this.generation) return; // closed (or superseded) while waiting
      sock = new Ctor(streamUrl(this.url, token), [subprotocolOf(this.protocol)]);
    } catch (err) {
      if (gen !== this.generation) return;
      this.emitError(new ReplicantError(ClientErrorCode.Connect, `connect failed: ${errorMessage(err)}`));
      this.scheduleReconnect('error');
      return;
    }
    sock.binaryType = 'arraybuffer';
    this.ws = sock;
    watchRefusal(sock, (ms) => {
      if (this.ws === sock) this.retryAfterMs = ms;
    });
    // Handlers of a socket that was replaced or abandoned see `this.ws !== sock` and do nothing.
    sock.onopen = () => {
      if (this.ws === sock) this.handleOpen();
    };
    sock.onmessage = (ev) => {
      if (this.ws === sock) this.handleMessage(ev.data);
    };
    sock.onclose = (ev) => {
      if (this.ws === sock) this.handleClose(ev.code, ev.reason);
    };
    sock.onerror = () => {
      // Always followed by a close event, which drives reconnection.
    };
  }

  private now(): number {
    return this.timers.now ? this.timers.now() : Date.now();
  }

  private handleOpen(): void {
    this.openedAt = this.now();
    this.credit?.reset();
    if (this.credit) this.send({ type: 'hello', window: this.credit.window });
    // Resume: every document continues from its last applied seq (or asks for a snapshot).
    for (const [doc, e] of this.docs) {
      const lastSeq = e.stream.resumeSeq();
      this.send(lastSeq === undefined ? { type: 'subscribe', doc } : { type: 'subscribe', doc, lastSeq });
    }
    for (const f of this.publishes.frames()) this.send(f);
    this.armPing();
    this.setStatus('open'); // last, so a status listener that publishes is not sent twice
  }

  private handleClose(code: number, reason: string): void {
    this.ws = null;
    this.clearTimer('pingTimer');
    // healthy = stayed open long enough, and not dropped for failing to keep up
    if (this.openedAt !== undefined && code !== CLOSE_SLOW_CONSUMER && this.now() - this.openedAt >= this.resetAfterMs) this.backoff.reset();
    this.openedAt = undefined;
    this.setStatus('connecting', code, reason);
    // After a goaway the reconnect is already scheduled at the time the server asked for.
    if (this.goawayTimer === undefined) this.scheduleReconnect('close');
  }

  private scheduleReconnect(cause: 'close' | 'error'): void {
    if (this._status === 'closed') return;
    this.clearTimer('reconnectTimer');
    const attempt = this.backoff.attempts;
    let delayMs = this.backoff.next();
    const ra = this.retryAfterMs;
    this.retryAfterMs = undefined;
    // refused by admission control: not before Retry-After, plus up to as much again of jitter so
    // the refused crowd does not come back in one wave
    if (ra !== undefined) delayMs = Math.max(delayMs, Math.floor(ra + this.random() * ra));
    this.events.emit({ type: 'reconnect', attempt, delayMs, cause });
    this.reconnectTimer = this.timers.setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.openSocket();
    }, delayMs);
  }

  /**
   * The gateway is draining: keep using this connection until the time it asked for (plus up to
   * one initial backoff step of jitter, so its clients do not all return at the same instant), then
   * move to a new one.
   */
  private handleGoaway(reconnectMs: number): void {
    if (this.goawayTimer !== undefined) return;
    const delayMs = Math.floor(Math.max(0, reconnectMs) + this.random() * this.backoff.initialMs);
    this.events.emit({ type: 'reconnect', attempt: 0, delayMs, cause: 'goaway' });
    this.goawayTimer = this.timers.setTimeout(() => {
      this.goawayTimer = undefined;
      this.clearTimer('reconnectTimer');
      const old = this.ws;
      if (old) {
        this.ws = null;
        this.clearTimer('pingTimer');
        this.openedAt = undefined;
        old.close(1000, 'goaway');
        this.setStatus('connecting');
      }
      void this.openSocket();
    }, delayMs);
  }

  private armPing(): void {
    const interval = this.opts.pingIntervalMs;
    if (!interval || interval <= 0) return;
    this.rxSincePing = true;
    this.pingTimer = this.timers.setTimeout(() => this.pingTick(interval), interval);
  }

  private pingTick(interval: number): void {
    this.pingTimer = undefined;
    const sock = this.ws;
    if (!sock || sock.readyState !== WS_OPEN) return;
    if (!this.rxSincePing) {
      // Not even a pong for a whole interval: the path is dead (half-open TCP). Do not wait for a
      // close handshake that will never complete; drop the socket and reconnect now.
      this.ws = null;
      const s = sock as WebSocketLike & { terminate?: () => void };
      if (typeof s.terminate === 'function') s.terminate();
      else s.close(1000, 'ping timeout');
      this.handleClose(1006, 'ping timeout');
      return;
    }
    this.rxSincePing = false;
    this.send({ type: 'ping' });
    this.pingTimer = this.timers.setTimeout(() => this.pingTick(interval), interval);
  }

  // ---- frames ----

  private send(f: ClientFrame): boolean {
    const sock = this.ws;
    if (!sock || sock.readyState !== WS_OPEN) return false;
    try {
      sock.send(encodeFrame(this.protocol, f));
      return true;
    } catch {
      return false; // the socket is going away; its close event will follow
    }
  }

  private handleMessage(data: unknown): void {
    this.rxSincePing = true;
    const f = decodeFrame(data);
    if (f instanceof ProtocolError) {
      // A lost delta shows up as a gap on the next one, so an undecodable frame is only reported.
      this.emitError(new ReplicantError(f.code, f.message, f.doc, f.id));
      return;
    }
    switch (f.type) {
      case 'snapshot':
        this.handleSnapshot(f);
        this.consumeCredit();
        break;
      case 'delta':
        this.handleDelta(f);
        this.consumeCredit();
        break;
      case 'ack':
        this.events.emit(f);
        this.publishes.ack(f.id, f.seq);
        break;
      case 'error': {
        const err = new ReplicantError(f.code, f.message, f.doc, f.id);
        this.emitError(err);
        if (f.id !== undefined) this.publishes.fail(f.id, err);
        break;
      }
      case 'goaway':
        this.events.emit(f);
        this.handleGoaway(f.reconnectMs);
        break;
      case 'pong':
        break;
    }
  }

  private handleSnapshot(f: Extract<ReceivedFrame, { type: 'snapshot' }>): void {
    const e = this.docs.get(f.doc);
    if (e) {
      e.stream.applySnapshot(f.seq, f.state);
      this.notify(e);
    }
    this.events.emit(f);
  }

  private handleDelta(f: Extract<ReceivedFrame, { type: 'delta' }>): void {
    const e = this.docs.get(f.doc);
    let outcome: DeltaOutcome | 'unsubscribed' = 'unsubscribed';
    if (e) {
      outcome = e.stream.applyDelta(f.seq, f.prevSeq, f.patch);
      if (outcome === 'applied') this.notify(e);
      // The chain broke: only a snapshot can repair it, so subscribe again without lastSeq.
      else if (outcome === 'gap' && e.stream.beginResync()) this.send({ type: 'subscribe', doc: f.doc });
    }
    this.events.emit({ ...f, outcome });
  }

  /** Every data frame counts against the window, whatever was done with it. */
  private consumeCredit(): void {
    const n = this.credit?.consume() ?? 0;
    if (n > 0) this.send({ type: 'credit', n });
  }

  private notify(e: DocEntry): void {
    for (const l of [...e.listeners]) this.invoke(l, e.stream);
  }

  private invoke(l: DocListener, doc: LiveDoc): void {
    try {
      l(doc);
    } catch (err) {
      this.emitError(new ReplicantError(ClientErrorCode.Listener, `subscription listener threw: ${errorMessage(err)}`, doc.docId));
    }
  }

  private emitError(error: ReplicantError): void {
    this.events.emit({ type: 'error', error });
  }

  private setStatus(status: ClientStatus, code?: number, reason?: string): void {
    if (this._status === status) return;
    this._status = status;
    this.events.emit(code === undefined ? { type: 'status', status } : { type: 'status', status, code, reason });
  }

  private clearTimer(name: 'reconnectTimer' | 'goawayTimer' | 'pingTimer'): void {
    if (this[name] !== undefined) this.timers.clearTimeout(this[name]);
    this[name] = undefined;
  }
}

function reject(code: string, message: string, doc?: string, id?: string): Promise<never> {
  return Promise.reject(new ReplicantError(code, message, doc, id));
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
