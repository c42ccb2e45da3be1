/**
 * The Replicant client and its connection manager: one connection to a gateway carrying any
 * number of document subscriptions and publishes, over a transport (transport.ts seam: WebSocket,
 * or SSE + HTTP POST; 'auto' falls back from the one to the other and back, see `nextKind` and
 * `armProbe`). The manager speaks frames only; nothing else here depends on which transport
 * carries them. It keeps each subscribed document as a live state, and keeps the connection
 * itself alive: reconnect with full-jitter backoff, resume every document from its last seq, resync
 * a document from a snapshot when its delta chain breaks, and re-send unacknowledged publishes with
 * their idempotency ids. Publishes go through the outbox (outbox.ts): stored before they are sent,
 * shown at once in each LiveDoc's optimistic view, applied exactly once across reloads.
 * Server errors are classified by the protocol's one list (isTransientError): a subscribe or
 * publish refused for a transient reason is sent again (after a backoff delay with jitter, or
 * after the in-band token refresh for `token_expired`), never dropped; permanent ones settle.
 * Retry state is per doc / per op; one timer each for due subscribes and due publishes.
 */
import {
  backoffDelay,
  CloseCode,
  DisconnectReason,
  ErrorCode,
  formatSequencedKey,
  isTransientError,
  isJsonObject,
  isValidDocId,
  MAX_ID_LENGTH,
  PRESENCE_SUFFIX,
  ProtocolError,
  validateMeta,
  type ClientFrame,
  type JsonObject,
  type ReceivedFrame,
  type SubscribeFrame,
} from '@replicant/protocol';
import { Backoff, fullJitterDelay, type BackoffOptions } from '@replicant/protocol';
import { CreditWindow } from './credit.js';
import { ClientErrorCode, ReplicantError } from './errors.js';
import { Emitter, type ClientEvent, type ClientEventOf, type ClientEventType, type ClientStatus } from './events.js';
import { DocStream, type DeltaOutcome, type LiveDoc } from './live-doc.js';
import { Outbox, randomId, type OutboxEntry } from './outbox.js';
import { RefreshPacer } from './refresh-pacer.js';
import { DueQueue } from './due-queue.js';
import { memoryStorage, type OutboxStorage, type StoredOp } from './storage.js';
import { resolveWebSocket, streamUrl, WebSocketTransport, type WebSocketConstructor, type WireProtocol } from './transport-websocket.js';
import { SseTransport, type FetchLike } from './transport-sse.js';
import type { Transport, TransportEvents, TransportKind, TransportMode } from './transport.js';
import { fetchHistory, fetchStateAt, httpBase, postRestore, type HistoryOptions, type HistoryPage } from './history.js';

/** Timer functions, injectable so tests can observe and drive reconnect delays without sleeping. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** wall clock in ms (default Date.now), for how long a connection stayed healthy */
  now?(): number;
}

export interface ClientOptions {
  /**
   * The access token, sent in the first `auth` frame of every connection (not in the URL, which
   * ends up in proxy logs). A function is called before every (re)connect and again shortly
   * before the token's `exp`, and the fresh token is sent in-band on the live connection: no
   * reconnect, no gap in any subscription.
   */
  token?: string | (() => string | Promise<string>);
  /** send the token as the `?token=` query parameter instead (servers without `auth` frames) */
  tokenInUrl?: boolean;
  /**
   * A routing hint (1..256 characters) sent as the `?affinity=` query parameter of every stream
   * connection (WebSocket and SSE). A load balancer hashing on it puts every client giving the same
   * key on the same gateway, so a doc they share costs one (gateway, doc) pair instead of one per
   * gateway its readers happen to land on: give the room (or the team, community) your clients
   * mostly read together (docs/deploy.md "Affinity"). The gateway itself ignores it.
   */
  affinity?: string;
  /** wire encoding: 'binary' = `replicant.v1` (protobuf, default), 'json' = `replicant.v1.json` */
  protocol?: WireProtocol;
  /** WebSocket implementation; default the global one, else the `ws` package (Node) */
  WebSocket?: WebSocketConstructor;
  /**
   * 'auto' (default): WebSocket, falling back to SSE + HTTP POST when the WebSocket fails twice
   * in a row before its first frame (upgrade refused, or the socket dies first), and trying
   * WebSocket again later (`websocketRetryMs`). 'websocket' / 'sse': only that one (docs/sdk.md
   * "Transports").
   */
  transport?: TransportMode;
  /** while fallen back to SSE, first try WebSocket again after about this long (doubling, to 5 min); default 5000 */
  websocketRetryMs?: number;
  /** fetch implementation for the SSE transport (default the global one) */
  fetch?: FetchLike;
  /**
   * SSE bounds: the largest event (default 24 MiB: a 16 MiB doc as a frame, with room) and how
   * long a stream may stay silent (default 45 s: three of the server's 15 s pings) before it is dropped
   */
  sse?: { maxEventBytes?: number; idleTimeoutMs?: number };
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
  /**
   * routing metadata for the server API (`POST /v1/messages` to `{"meta":{…}}`, GET
   * /v1/connections): flat string values, at most 1 KiB as JSON; sent in `hello` (needs window > 0)
   */
  meta?: Record<string, string>;
  /** send `ping` this often while open; a connection silent for a whole interval is dropped */
  pingIntervalMs?: number;
  /** bound on unacknowledged publishes (in flight + queued while disconnected), default 1000 */
  maxPendingPublishes?: number;
  /** bound on the patch bytes of unacknowledged publishes, default 4 MiB */
  maxPendingBytes?: number;
  /**
   * where pending publishes are kept: `memoryStorage()` (default), `fileStorage(dir)` (Node) or
   * `indexedDbStorage(name)` (browsers); with a durable one they survive reloads and restarts
   */
  storage?: OutboxStorage;
  /** uniform random in [0, 1) used for jitter (injectable for tests) */
  random?: () => number;
  timers?: Timers;
}

export interface PublishOptions {
  /**
   * idempotency key; default a sequenced key `~<client>.<n>.<base>` that the origin deduplicates
   * however long the client was away. Reusing the key of an applied write is a no-op.
   */
  id?: string;
  /** apply only if the document is at this seq when the op reaches it, else reject with `conflict` */
  ifSeq?: bigint;
}

export type DocListener = (doc: LiveDoc) => void;

export interface SubscribeOptions {
  /**
   * join the doc's presence (`<doc>~presence`) while subscribed; `info` (a JSON object, at most
   * 1 KiB as JSON) is shown to others. Subscriptions to one doc share one server subscription:
   * it is a member while any of them asked for presence (the latest `info` wins).
   */
  presence?: boolean | { info?: JsonObject };
}

/** the state of a presence document (docs/presence-and-server-api.md) */
export interface PresenceState {
  /** member connections, exact */
  connections: number;
  /** at most PRESENCE_MAX_USERS users (sub -> its connections and info) */
  users: Record<string, { connections: number; info: JsonObject }>;
}
export type PresenceListener = (presence: PresenceState, doc: LiveDoc) => void;

export interface Subscription {
  /** the live document; the same object is passed to the listener */
  readonly doc: LiveDoc;
  unsubscribe(): void;
}

interface DocEntry {
  stream: DocStream;
  listeners: Set<DocListener>;
  /** the auth epoch its last subscribe was sent in (see ReplicantClient.authEpoch) */
  sentEpoch: number;
  /** transient refusals of its subscribe since its last snapshot, and when to send it again (0: not waiting) */
  attempts: number;
  retryAt: number;
  /** its subscribe was refused with `token_expired`: sent again right after the next `auth` frame */
  heldForAuth: boolean;
  /** joins the doc's presence with this info (SubscribeOptions.presence) */
  presence?: JsonObject;
}

const DEFAULT_RESET_AFTER_MS = 5000;
const DEFAULT_WINDOW = 256;
/** WebSocket close code of a slow consumer (protocol CloseCode.SlowConsumer) */
const CLOSE_SLOW_CONSUMER = 4008;

/** consecutive WebSocket attempts ending before their first frame after which 'auto' falls back to SSE */
export const FALLBACK_AFTER_FAILURES = 2;
const DEFAULT_WEBSOCKET_RETRY_MS = 5000;
const MAX_WEBSOCKET_RETRY_MS = 300_000;

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>),
};

/** SubscribeOptions.presence as the info to send */
function presenceInfo(p: NonNullable<SubscribeOptions['presence']>): JsonObject {
  return typeof p === 'boolean' ? {} : (p.info ?? {});
}

/** the longest `affinity` routing hint in characters (it rides in every stream URL) */
export const MAX_AFFINITY_CHARS = 256;

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
  private readonly outbox: Outbox;
  /** this client instance's name in sequenced keys, and its op counter */
  private readonly clientId = randomId();
  private opCounter = 0;
  private retryTimer: unknown;
  private readonly events = new Emitter();
  private readonly docs = new Map<string, DocEntry>();

  private _status: ClientStatus = 'connecting';
  /** the connection's transport (transport.ts seam); null while connecting */
  private conn: Transport | null = null;
  private readonly mode: TransportMode;
  /** the current connection delivered a frame (the fallback counts those that did not) */
  private connGotFrame = false;
  /** WebSocket attempts in a row that ended before their first frame ('auto' falls back at FALLBACK_AFTER_FAILURES) */
  private wsFailures = 0;
  /** the kind of the last connection opened (a `transport` event says when it changes) */
  private lastKind: TransportKind | undefined;
  /** while on SSE in 'auto': a WebSocket being tried, its timer, and the tries so far */
  private probe: Transport | null = null;
  private probeTimer: unknown;
  private probeAttempts = 0;

  /** bumped by every connect attempt and by close(), so a stale async connect gives up */
  private generation = 0;
  private openedAt: number | undefined;
  private reconnectTimer: unknown;
  private goawayTimer: unknown;
  private pingTimer: unknown;
  private rxSincePing = true;
  private closed: Promise<void> | undefined;
  private refreshTimer: unknown;
  /** re-sends subscribes refused with a transient error (the earliest due), and when it fires (0: not armed) */
  private subRetryTimer: unknown;
  private subRetryArmedAt = 0;
  /** due subscribe / unsubscribe retries by time (stale entries are skipped when popped) */
  private readonly subRetries = new DueQueue();
  /**
   * unsubscribes refused with a transient error, by doc: when to send again (0: sent, waiting) and
   * the refusals so far (the backoff attempt). Entries leave on subscribe and on a new connection:
   * at most one per doc unsubscribed while refusals happen (only while a token verification is
   * pending, in practice).
   */
  private readonly unsubRetry = new Map<string, { at: number; attempts: number }>();
  /**
   * `auth` frames sent so far. A frame sent after an `auth` frame runs under that token (the gateway
   * queues frames behind a verification), so a `token_expired` answer to a frame stamped with an
   * older epoch needs only a re-send, one stamped with the current epoch needs a refresh first.
   */
  private authEpoch = 0;
  /** the in-band refresh in progress: concurrent `token_expired` answers share one `token()` call */
  private refreshing: Promise<void> | undefined;
  private refreshingFor: Transport | null = null;
  /** spaces the token() calls of refreshes (refresh-pacer.ts): no tight loop on stale tokens */
  private readonly pacer: RefreshPacer;
  /** Retry-After of a refused upgrade (HTTP 503 from admission control), ms; used once */
  private retryAfterMs: number | undefined;

  /** Use `connect()`; the constructor starts connecting. */
  constructor(
    private readonly url: string,
    private readonly opts: ClientOptions = {},
  ) {
    streamUrl(url); // throws now on an unusable URL rather than failing every reconnect
    if (opts.affinity !== undefined && (typeof opts.affinity !== 'string' || opts.affinity === '' || [...opts.affinity].length > MAX_AFFINITY_CHARS)) {
      throw new RangeError(`affinity must be a string of 1 to ${MAX_AFFINITY_CHARS} characters`);
    }
    if (opts.window !== undefined && (!Number.isInteger(opts.window) || opts.window < 0 || opts.window > 65536)) {
      throw new RangeError('window must be an integer in [0, 65536] (0 = no credit flow control)');
    }
    this.protocol = opts.protocol ?? 'binary';
    this.mode = opts.transport ?? 'auto';
    if (this.mode !== 'auto' && this.mode !== 'websocket' && this.mode !== 'sse') throw new RangeError("transport must be 'auto', 'websocket' or 'sse'");
    this.random = opts.random ?? Math.random;
    this.timers = opts.timers ?? defaultTimers;
    this.backoff = new Backoff(opts.backoff, this.random);
    this.resetAfterMs = opts.backoff?.resetAfterMs ?? DEFAULT_RESET_AFTER_MS;
    this.pacer = new RefreshPacer(this.backoff.maxMs, this.random);
    const window = opts.window ?? DEFAULT_WINDOW;
    this.credit = window > 0 ? new CreditWindow(window) : undefined;
    if (opts.meta !== undefined) {
      if (!this.credit) throw new RangeError('meta is sent in hello: it needs credit flow control (window > 0)');
      const m = validateMeta(opts.meta);
      if (typeof m === 'string') throw new RangeError(m);
    }
    this.outbox = new Outbox({
      storage: opts.storage ?? memoryStorage(),
      owner: this.clientId,
      maxOps: opts.maxPendingPublishes,
      maxBytes: opts.maxPendingBytes,
    });
    this.loaded = this.adoptStored();
    void this.openSocket();
  }

  get status(): ClientStatus {
    return this._status;
  }

  /** the transport of the open connection ('websocket' or 'sse'); undefined while not connected */
  get transport(): TransportKind | undefined {
    return this.conn?.isOpen ? this.conn.kind : undefined;
  }

  /** the cluster-unique id the gateway gave this connection (`welcome`); undefined while not connected */
  get connectionId(): string | undefined {
    return this._connectionId;
  }
  private _connectionId: string | undefined;
  /** a `disconnect` frame with reconnect: false arrived: the close that follows ends the client's reconnects */
  private stayAway = false;

  /** Unacknowledged publishes (sent and waiting, or queued while disconnected). */
  get pendingPublishes(): number {
    return this.outbox.size;
  }

  /** Resolves once the ops left in storage by earlier clients (reloads, restarts) are loaded. */
  readonly loaded: Promise<void>;

  /** This client's unacknowledged ops (of one doc, or all), oldest first: what it will still send. */
  pendingOps(docId?: string): { id: string; doc: string; patch: JsonObject; ifSeq?: bigint }[] {
    return this.outbox
      .entries()
      .filter((e) => docId === undefined || e.op.doc === docId)
      .map((e) => {
        const o: { id: string; doc: string; patch: JsonObject; ifSeq?: bigint } = { id: e.op.id, doc: e.op.doc, patch: e.patch };
        if (e.op.ifSeq !== undefined) o.ifSeq = BigInt(e.op.ifSeq);
        return o;
      });
  }

  /** Resolves once every op published so far is durable in the outbox storage. */
  persisted(): Promise<void> {
    return this.outbox.persisted();
  }

  private async adoptStored(): Promise<void> {
    let adopted: OutboxEntry[];
    try {
      adopted = await this.outbox.adopt();
    } catch (err) {
      this.emitError(new ReplicantError(ClientErrorCode.Storage, `loading the outbox failed: ${errorMessage(err)}`));
      return;
    }
    if (adopted.length === 0 || this._status === 'closed') return;
    for (const doc of new Set(adopted.map((e) => e.op.doc))) {
      const d = this.docs.get(doc);
      if (d) {
        d.stream.setPending(this.pendingOf(doc));
        this.notify(d);
      }
    }
    this.emitPending();
    this.pump();
  }

  private pendingOf(doc: string): { id: string; patch: JsonObject }[] {
    return this.outbox
      .entries()
      .filter((e) => e.op.doc === doc)
      .map((e) => ({ id: e.op.id, patch: e.patch }));
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
  subscribe(docId: string, listener: DocListener, opts: SubscribeOptions = {}): Subscription {
    if (this._status === 'closed') throw new ReplicantError(ClientErrorCode.Closed, 'client is closed', docId);
    if (this._status === 'disconnected') throw new ReplicantError(ClientErrorCode.Disconnected, 'disconnected by the server (reconnect: false)', docId);
    if (!isValidDocId(docId)) throw new ReplicantError('bad_doc_id', `invalid doc id ${JSON.stringify(docId)}`);
    let entry = this.docs.get(docId);
    const l: DocListener = (doc) => listener(doc); // own identity: the same function may subscribe twice
    if (!entry) {
      entry = { stream: new DocStream(docId), listeners: new Set(), sentEpoch: 0, attempts: 0, retryAt: 0, heldForAuth: false };
      if (opts.presence) entry.presence = presenceInfo(opts.presence);
      this.unsubRetry.delete(docId);
      entry.stream.setPending(this.pendingOf(docId));
      this.docs.set(docId, entry);
      this.sendSubscribe(docId, entry); // when not open, sent by the resubscribe on open
    } else if (opts.presence) {
      // joining (or new info) on a shared subscription: the subscribe is sent again (a fresh join)
      entry.presence = presenceInfo(opts.presence);
      this.sendSubscribe(docId, entry);
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
   * The op is put in the outbox and shown in the document's optimistic view at once; it is sent
   * once stored, re-sent after reconnects and reloads with the same id, and retried by itself on
   * transient errors (`unavailable` / `rate_limited` after a backoff delay, `token_expired` after
   * the in-band token refresh; docs/sdk.md "Errors the SDK retries"). Rejects with a ReplicantError
   * on a permanent server `error` for this id (`bad_patch`, `forbidden`, `conflict`, `doc_too_large`, ...), at the
   * outbox bound (`outbox_full`), or on close (`closed`; the op stays stored and a later client
   * with the same storage sends it).
   */
  publish(docId: string, patch: JsonObject, opts: PublishOptions = {}): Promise<bigint> {
    const n = ++this.opCounter;
    // base: the doc seq this client has seen; the origin's dedupe horizon check needs it
    const id = opts.id ?? formatSequencedKey(this.clientId, n, this.docs.get(docId)?.stream.seq ?? 0n);
    if (this._status === 'closed') return reject(ClientErrorCode.Closed, 'client is closed', docId, id);
    if (this._status === 'disconnected') return reject(ClientErrorCode.Disconnected, 'disconnected by the server (reconnect: false)', docId, id);
    if (!isValidDocId(docId)) return reject('bad_doc_id', `invalid doc id ${JSON.stringify(docId)}`, undefined, id);
    if (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH) {
      return reject('bad_request', `id must be a non-empty string of at most ${MAX_ID_LENGTH} characters`, docId);
    }
    if (!isJsonObject(patch)) return reject('bad_patch', 'patch must be a JSON object (RFC 7386 merge patch)', docId, id);
    if (opts.ifSeq !== undefined && (typeof opts.ifSeq !== 'bigint' || opts.ifSeq < 0n || opts.ifSeq >= 1n << 64n)) {
      return reject('bad_seq', 'ifSeq must be a bigint seq', docId, id);
    }
    let text: string;
    try {
      text = JSON.stringify(patch); // serialized now: later mutation of `patch` cannot change a re-send
    } catch (err) {
      return reject('bad_patch', `patch is not serializable: ${errorMessage(err)}`, docId, id);
    }
    const op: StoredOp = { id, doc: docId, patch: text, owner: this.clientId, n, t: Date.now() };
    if (opts.ifSeq !== undefined) op.ifSeq = opts.ifSeq.toString();
    let result: Promise<bigint>;
    try {
      // a copy of the patch as sent: later mutation by the caller cannot change the view
      result = this.outbox.add(op, JSON.parse(text) as JsonObject, () => this.pump()).result;
    } catch (err) {
      return Promise.reject(err as ReplicantError);
    }
    const d = this.docs.get(docId);
    if (d) {
      d.stream.addPending(id, JSON.parse(text) as JsonObject);
      this.notify(d);
    }
    this.emitPending();
    return result;
  }

  /** Sends what the outbox lets go now; arms a timer for the earliest retry. */
  private pump(): void {
    if (!this.conn?.isOpen || this._status === 'closed') return;
    const now = Date.now();
    for (const e of this.outbox.takeSendable(now)) {
      const f: ClientFrame =
        e.op.ifSeq === undefined
          ? { type: 'publish', doc: e.op.doc, patch: e.op.patch, id: e.op.id }
          : { type: 'publish', doc: e.op.doc, patch: e.op.patch, id: e.op.id, ifSeq: BigInt(e.op.ifSeq) };
      if (!this.send(f)) {
        e.sent = false;
        break;
      }
      e.sentEpoch = this.authEpoch;
    }
    const wait = this.outbox.nextRetryIn(now);
    this.clearTimer('retryTimer'); // re-armed for the earliest retry due
    if (wait !== undefined) {
      this.retryTimer = this.timers.setTimeout(() => {
        this.retryTimer = undefined;
        this.pump();
      }, wait);
    }
  }

  private emitPending(): void {
    const pending = this.outbox.size;
    this.events.emit({ type: 'pending', pending });
    if (pending === 0) this.events.emit({ type: 'drained' });
  }

  /** the view of the op's doc after it was acknowledged or rejected */
  private settled(e: OutboxEntry, ackSeq: bigint | undefined): void {
    const d = this.docs.get(e.op.doc);
    if (d && (ackSeq === undefined ? d.stream.dropPending(e.op.id) : d.stream.ackPending(e.op.id, ackSeq))) this.notify(d);
    this.emitPending();
    this.pump();
  }

  /** Applied ops of `doc` after `opts.after`, oldest first, over HTTP on this client's host (history.ts). */
  history(doc: string, opts?: HistoryOptions): Promise<HistoryPage> {
    return fetchHistory(httpBase(this.url), this.opts.token, doc, opts);
  }

  /** `doc` as of `seq` (`GET /v1/docs/{doc}?at=<seq>`): the state a subscriber held at that seq. */
  stateAt(doc: string, seq: string): Promise<{ seq: string; state: JsonObject }> {
    return fetchStateAt(httpBase(this.url), this.opts.token, doc, seq);
  }

  /** Takes `doc` back to its state at `seq` with one write; resolves with that write's seq. */
  restore(doc: string, seq: string): Promise<string> {
    return postRestore(httpBase(this.url), this.opts.token, doc, seq);
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
    this.clearTimer('refreshTimer');
    this.clearTimer('subRetryTimer');
    this.subRetries.clear();
    this.unsubRetry.clear();
    this.clearTimer('probeTimer');
    this.probe?.terminate();
    this.probe = null;
    const conn = this.conn;
    this.conn = null;
    this.setStatus('closed');
    this.clearTimer('retryTimer');
    this.docs.clear();
    const outboxClosed = this.outbox.close((op) => new ReplicantError(ClientErrorCode.Closed, 'client closed', op.doc, op.id));
    const sockClosed = conn ? conn.close(1000, 'client close') : Promise.resolve();
    this.closed = Promise.all([sockClosed, outboxClosed.catch(() => {})]).then(() => undefined);
    return this.closed;
  }

  // ---- connection lifecycle ----

  /** the kind the next connection uses: the mode's, or in 'auto' SSE after repeated WebSocket failures */
  private nextKind(): TransportKind {
    if (this.mode !== 'auto') return this.mode;
    return this.wsFailures >= FALLBACK_AFTER_FAILURES ? 'sse' : 'websocket';
  }

  /** the token for a new connection: `token()` is called for each (paced like refreshes) */
  private async connectToken(): Promise<string | undefined> {
    const t = this.opts.token;
    if (typeof t !== 'function') return t;
    this.pacer.started(Date.now());
    const token = await t();
    this.pacer.got(jwtExpMs(token), Date.now());
    return token;
  }

  /**
   * Makes a transport of `kind` whose events reach `on` only while it is the one they are for
   * (`current()`): a replaced or abandoned transport's late events do nothing.
   */
  private makeTransport(kind: TransportKind, token: string | undefined, Ctor: WebSocketConstructor | undefined, on: (t: Transport) => TransportEvents): Transport {
    let t: Transport | undefined;
    const inner: TransportEvents = {
      open: () => handlers.open(),
      frame: (f) => handlers.frame(f),
      close: (c, r) => handlers.close(c, r),
      retryAfter: (ms) => handlers.retryAfter(ms),
    };
    if (kind === 'websocket') {
      const inUrl = this.opts.tokenInUrl === true;
      t = new WebSocketTransport({ Ctor: Ctor!, url: streamUrl(this.url, inUrl ? token : undefined, this.opts.affinity), protocol: this.protocol, events: inner });
    } else {
      const docs = [...this.docs].map(([doc, e]): [string, string | undefined] => [doc, e.stream.resumeSeq()?.toString()]);
      t = new SseTransport({ base: httpBase(this.url), token, affinity: this.opts.affinity, events: inner, docs, fetch: this.opts.fetch, timers: this.timers, maxEventBytes: this.opts.sse?.maxEventBytes, idleTimeoutMs: this.opts.sse?.idleTimeoutMs });
    }
    const handlers = on(t);
    return t;
  }

  /** the events of the connection's transport `t` */
  private connEvents(t: Transport, token: string | undefined): TransportEvents {
    return {
      open: () => {
        if (this.conn === t) this.handleOpen(token);
      },
      frame: (f) => {
        if (this.conn === t) this.handleMessage(f);
      },
      close: (code, reason) => {
        if (this.conn === t) this.handleClose(code, reason);
      },
      retryAfter: (ms) => {
        if (this.conn === t) this.retryAfterMs = ms;
      },
    };
  }

  /**
   * Whether the connection that just ended counts toward the fallback: it never delivered a frame,
   * and was not turned away by admission control (503 + Retry-After, seen by the Node `ws`
   * implementation: it proves WebSocket reaches the server, which asked for patience, and SSE must
   * not be a way around it). Browsers do not expose the refused response, so there it counts.
   */
  private countsAsWsFailure(): boolean {
    return !this.connGotFrame && this.retryAfterMs === undefined;
  }

  private async openSocket(): Promise<void> {
    const gen = ++this.generation;
    const kind = this.nextKind();
    try {
      const Ctor = kind === 'websocket' ? await resolveWebSocket(this.opts.WebSocket) : undefined;
      const token = await this.connectToken();
      if (gen !== this.generation) return; // closed (or superseded) while waiting
      this.connGotFrame = false;
      const inUrl = kind === 'websocket' && this.opts.tokenInUrl === true;
      this.conn = this.makeTransport(kind, token, Ctor, (t) => this.connEvents(t, inUrl ? undefined : token));
      if (inUrl && token) this.armRefresh(token);
    } catch (err) {
      if (gen !== this.generation) return;
      this.emitError(new ReplicantError(ClientErrorCode.Connect, `connect failed: ${errorMessage(err)}`));
      this.scheduleReconnect('error');
    }
  }

  /**
   * While on SSE in 'auto': try WebSocket again after a backoff delay (doubling per failed try,
   * equal jitter). The SSE connection stays until the WebSocket opens; then it replaces it like
   * any reconnect (resubscribe from each doc's seq, unacknowledged ops re-sent with their ids). A
   * WebSocket that then dies before its first frame sends the client back to SSE at once.
   */
  private armProbe(): void {
    this.clearTimer('probeTimer');
    if (this.mode !== 'auto' || this.conn?.kind !== 'sse') return;
    const initial = this.opts.websocketRetryMs ?? DEFAULT_WEBSOCKET_RETRY_MS;
    const delay = backoffDelay(this.probeAttempts, initial, Math.max(initial, MAX_WEBSOCKET_RETRY_MS), 'equal', this.random());
    this.probeTimer = this.timers.setTimeout(() => {
      this.probeTimer = undefined;
      void this.openProbe();
    }, delay);
  }

  private async openProbe(): Promise<void> {
    const sse = this.conn;
    if (!sse || sse.kind !== 'sse' || this.probe) return;
    let token: string | undefined;
    let Ctor: WebSocketConstructor;
    try {
      Ctor = await resolveWebSocket(this.opts.WebSocket);
      token = await this.connectToken();
    } catch {
      if (this.conn === sse) this.probeFailed();
      return;
    }
    if (this.conn !== sse || this._status === 'closed') return;
    const inUrl = this.opts.tokenInUrl === true;
    this.probe = this.makeTransport('websocket', token, Ctor, (t) => ({
      open: () => {
        if (this.probe !== t) return;
        // promote: the WebSocket is the connection now; the SSE one goes (its answers no longer count)
        this.probe = null;
        const old = this.conn;
        this.conn = t;
        this.connGotFrame = false;
        this.wsFailures = FALLBACK_AFTER_FAILURES - 1; // one more failure before its first frame: back to SSE
        old?.close(1000, 'websocket is back');
        if (inUrl && token) this.armRefresh(token);
        this.handleOpen(inUrl ? undefined : token);
      },
      frame: (f) => {
        if (this.conn === t) this.handleMessage(f);
      },
      close: (code, reason) => {
        if (this.probe === t) {
          this.probe = null;
          this.probeFailed();
        } else if (this.conn === t) this.handleClose(code, reason);
      },
      retryAfter: (ms) => {
        if (this.conn === t) this.retryAfterMs = ms;
      },
    }));
  }

  private probeFailed(): void {
    this.probeAttempts++;
    this.armProbe();
  }

  private now(): number {
    return this.timers.now ? this.timers.now() : Date.now();
  }

  private handleOpen(token: string | undefined): void {
    this.openedAt = this.now();
    this.authEpoch++; // a new connection: whatever was refused on the old one is sent afresh
    if (token) {
      this.send({ type: 'auth', token }); // first, so everything after runs under it
      this.armRefresh(token);
    }
    this.credit?.reset();
    if (this.credit) this.send(this.opts.meta === undefined ? { type: 'hello', window: this.credit.window } : { type: 'hello', window: this.credit.window, meta: this.opts.meta });
    // Resume: every document continues from its last applied seq (or asks for a snapshot).
    this.clearTimer('subRetryTimer');
    this.subRetries.clear();
    this.unsubRetry.clear(); // the new connection has no subscription to end
    for (const [doc, e] of this.docs) {
      e.retryAt = 0;
      e.heldForAuth = false;
      this.sendSubscribe(doc, e);
    }
    this.outbox.unsendAll();
    this.pump();
    this.armPing();
    const kind = this.conn!.kind;
    if (kind === 'sse') this.armProbe();
    this.setStatus('open'); // last, so a status listener that publishes is not sent twice
    if (kind !== this.lastKind) {
      this.lastKind = kind;
      this.events.emit({ type: 'transport', transport: kind });
    }
    // a tab closed meanwhile may have left ops for this one to send
    if (this.outbox.storage.sharedName !== undefined) void this.adoptStored();
  }

  private handleClose(code: number, reason: string): void {
    const kind = this.conn?.kind;
    this.conn = null;
    this.clearTimer('probeTimer');
    // the fallback's count: WebSockets that never delivered a frame (refused upgrade, or dead
    // before welcome). An SSE connection that failed the same way sends the next try to
    // WebSocket again: the network may have changed, or the server is down for both.
    if (this.mode === 'auto' && kind === 'websocket' && this.countsAsWsFailure()) this.wsFailures++;
    else if (this.mode === 'auto' && kind === 'sse' && !this.connGotFrame) this.wsFailures = 0;
    this.clearTimer('pingTimer');
    this.clearTimer('refreshTimer');
    this.clearTimer('subRetryTimer'); // the open resubscribes every doc
    // healthy = stayed open long enough, and not dropped for failing to keep up
    if (this.openedAt !== undefined && code !== CLOSE_SLOW_CONSUMER && this.now() - this.openedAt >= this.resetAfterMs) this.backoff.reset();
    this.openedAt = undefined;
    this._connectionId = undefined;
    // the close reason carries the flag too: the disconnect frame may have been dropped
    if (code === CloseCode.Disconnected && reason === DisconnectReason.NoReconnect) this.stayAway = true;
    if (this.stayAway) {
      // the server API said reconnect: false: stay disconnected (no reconnect timer)
      this.clearTimer('goawayTimer');
      this.setStatus('disconnected', code, reason);
      return;
    }
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
      const old = this.conn;
      if (old) {
        this.conn = null;
        this.clearTimer('pingTimer');
        this.clearTimer('probeTimer');
        this.probe?.terminate();
        this.probe = null;
        this.openedAt = undefined;
        void old.close(1000, 'goaway');
        this.setStatus('connecting');
      }
      void this.openSocket();
    }, delayMs);
  }

  /**
   * Schedules the in-band refresh of `token` (when `token` is a function): a quarter of its
   * remaining lifetime before `exp`, at most 30 s early. The exp is read from the JWT payload
   * without verifying it: only the server's verification matters, this is just a clock.
   */
  private armRefresh(token: string): void {
    this.clearTimer('refreshTimer');
    if (typeof this.opts.token !== 'function') return;
    const expMs = jwtExpMs(token);
    // none, or already past: the server's token_expired drives the (paced) refresh instead
    if (expMs === undefined || expMs <= Date.now()) return;
    const remaining = expMs - Date.now();
    const delay = Math.max(0, remaining - Math.min(30_000, remaining / 4));
    this.refreshTimer = this.timers.setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refreshToken();
    }, Math.min(delay, 2 ** 31 - 1));
  }

  /**
   * Fetches a fresh token and sends it on the live connection, then what waited for it (subscribes
   * and publishes refused with `token_expired`), which follow the `auth` frame on the wire and so
   * run under it. One refresh at a time: callers during one share it.
   */
  private refreshToken(): Promise<void> {
    // a refresh started for an earlier socket sends nothing on this one: start another
    if (this.refreshing && this.refreshingFor === this.conn) return this.refreshing;
    const p: Promise<void> = this.doRefresh().finally(() => {
      if (this.refreshing === p) this.refreshing = undefined;
    });
    this.refreshing = p;
    this.refreshingFor = this.conn;
    return p;
  }

  private async doRefresh(): Promise<void> {
    const t = this.opts.token;
    const sock = this.conn;
    if (typeof t !== 'function' || !sock) return; // a static token: held frames go after the next (re)connect
    const wait = this.pacer.waitMs(Date.now());
    if (wait > 0) {
      await new Promise<void>((resolve) => {
        this.clearTimer('refreshTimer');
        this.refreshTimer = this.timers.setTimeout(() => {
          this.refreshTimer = undefined;
          resolve();
        }, wait);
      });
      if (this.conn !== sock) return;
    }
    let token: string;
    try {
      this.pacer.started(Date.now());
      token = await t();
      this.pacer.got(jwtExpMs(token), Date.now());
    } catch (err) {
      this.emitError(new ReplicantError(ClientErrorCode.Connect, `token refresh failed: ${errorMessage(err)}`));
      return; // the server's token_expired (or its 4001 close and our reconnect) follows
    }
    if (this.conn !== sock || !this.send({ type: 'auth', token })) return;
    this.authEpoch++;
    this.armRefresh(token);
    this.outbox.releaseHeld();
    for (const [doc, e] of this.docs) {
      if (!e.heldForAuth) continue;
      e.heldForAuth = false;
      this.sendSubscribe(doc, e);
    }
    this.pump();
  }

  private armPing(): void {
    const interval = this.opts.pingIntervalMs;
    if (!interval || interval <= 0 || !this.conn?.pings) return; // SSE: its transport's idle timer instead
    this.rxSincePing = true;
    this.pingTimer = this.timers.setTimeout(() => this.pingTick(interval), interval);
  }

  private pingTick(interval: number): void {
    this.pingTimer = undefined;
    const conn = this.conn;
    if (!conn?.isOpen) return;
    if (!this.rxSincePing) {
      // Not even a pong for a whole interval: the path is dead (half-open TCP). Do not wait for a
      // close handshake that will never complete; drop the socket and reconnect now.
      conn.terminate();
      this.handleClose(1006, 'ping timeout');
      return;
    }
    this.rxSincePing = false;
    this.send({ type: 'ping' });
    this.pingTimer = this.timers.setTimeout(() => this.pingTick(interval), interval);
  }

  // ---- frames ----

  private send(f: ClientFrame): boolean {
    return this.conn?.send(f) ?? false;
  }

  private handleMessage(f: ReceivedFrame | ProtocolError): void {
    this.rxSincePing = true;
    if (!this.connGotFrame) {
      this.connGotFrame = true;
      if (this.conn?.kind === 'websocket') {
        // WebSocket works (again): the fallback starts over
        this.wsFailures = 0;
        this.probeAttempts = 0;
      }
    }
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
      case 'ack': {
        this.events.emit(f);
        const e = this.outbox.ack(f.id, f.seq);
        if (e) this.settled(e, f.seq);
        break;
      }
      case 'error': {
        const err = new ReplicantError(f.code, f.message, f.doc, f.id);
        this.emitError(err);
        if (f.id !== undefined) this.publishFailed(f.id, err);
        else if (f.doc !== undefined) this.subscribeFailed(f.doc, f.code);
        // the refresh came too late (or failed): one more try within the server's grace
        else if (f.code === ErrorCode.TokenExpired) void this.refreshToken();
        break;
      }
      case 'goaway':
        this.events.emit(f);
        this.handleGoaway(f.reconnectMs);
        break;
      case 'pong':
        break;
      case 'welcome':
        this._connectionId = f.connection;
        this.events.emit(f);
        break;
      case 'message':
        this.events.emit(f);
        break;
      case 'disconnect':
        if (!f.reconnect) this.stayAway = true;
        this.events.emit(f);
        break;
    }
  }

  /**
   * Transient answers (protocol isTransientError) keep the op in the outbox with its id, so it is
   * still applied exactly once: `token_expired` holds it until a fresh `auth` frame precedes it
   * (refreshing first unless one was sent since the op was), the others are retried with full-jitter
   * backoff (`internal` at most MAX_INTERNAL_RETRIES times, since it may not be transient).
   * Anything else rejects the publish.
   */
  private publishFailed(id: string, err: ReplicantError): void {
    const e = this.outbox.get(id);
    if (e && err.code === ErrorCode.TokenExpired) {
      // sent before the latest auth frame: a re-send now follows that frame; else refresh first
      if (e.sentEpoch < this.authEpoch) this.outbox.retry(id, 0, Date.now());
      else {
        this.outbox.holdForAuth(id);
        void this.refreshToken();
      }
      this.pump();
      return;
    }
    if (e && isTransientError(err.code) && (err.code !== ErrorCode.Internal || e.attempts < MAX_INTERNAL_RETRIES)) {
      const delay = Math.max(50, fullJitterDelay(e.attempts, this.backoff.initialMs, this.backoff.maxMs, this.random()));
      this.outbox.retry(id, delay, Date.now());
      this.pump();
      return;
    }
    const failed = this.outbox.fail(id, err);
    if (failed) this.settled(failed, undefined);
  }

  /** sends a doc's subscribe (resuming from its seq when it has one), stamped with the auth epoch */
  private sendSubscribe(doc: string, e: DocEntry): void {
    const lastSeq = e.stream.resumeSeq();
    const f: SubscribeFrame = lastSeq === undefined ? { type: 'subscribe', doc } : { type: 'subscribe', doc, lastSeq };
    if (e.presence) {
      f.presence = true;
      if (Object.keys(e.presence).length > 0) f.info = e.presence;
    }
    if (this.send(f)) e.sentEpoch = this.authEpoch;
  }

  /**
   * Who is here: subscribes to `<doc>~presence` (readable with `doc`'s read scope); the listener
   * gets its state after every change. Joining is `subscribe(doc, cb, { presence: { info } })`.
   */
  presence(docId: string, listener: PresenceListener): Subscription {
    return this.subscribe(docId + PRESENCE_SUFFIX, (d) => {
      const s = d.serverState as Partial<PresenceState>;
      listener({ connections: typeof s.connections === 'number' ? s.connections : 0, users: (s.users as PresenceState['users']) ?? {} }, d);
    });
  }

  /**
   * A subscribe refused (an `error` with `doc`, no `id`). Transient refusals are retried, so the doc
   * still syncs: `token_expired` right after the next `auth` frame (refreshing first unless one was
   * sent since), `unavailable` / `rate_limited` / `internal` (at most MAX_INTERNAL_RETRIES) after a
   * backoff delay with the client's jitter, per doc, so a thousand refused subscribes come back
   * spread over the window rather than in one wave. Permanent ones (`forbidden`,
   * `too_many_subscriptions`, ...) are only reported.
   */
  private subscribeFailed(doc: string, code: string): void {
    if (!isTransientError(code)) return;
    const e = this.docs.get(doc);
    if (!e) {
      // not subscribed (any more): it was our unsubscribe that was refused, or a subscribe since
      // abandoned; either way the gateway may hold the subscription, so end it again (idempotent)
      const u = this.unsubRetry.get(doc);
      if (u && u.at !== 0) return; // already waiting
      const attempts = u ? u.attempts : 0;
      const now = Date.now();
      const at = now + Math.max(50, backoffDelay(attempts, this.backoff.initialMs, this.backoff.maxMs, this.backoff.jitter, this.random()));
      this.unsubRetry.set(doc, { at, attempts: attempts + 1 });
      this.scheduleSubRetry(at, doc, now);
      return;
    }
    if (e.heldForAuth || e.retryAt !== 0) return;
    if (code === ErrorCode.TokenExpired) {
      if (e.sentEpoch < this.authEpoch) return this.sendSubscribe(doc, e);
      e.heldForAuth = true;
      void this.refreshToken();
      return;
    }
    if (code === ErrorCode.Internal && e.attempts >= MAX_INTERNAL_RETRIES) return;
    const delay = Math.max(50, backoffDelay(e.attempts++, this.backoff.initialMs, this.backoff.maxMs, this.backoff.jitter, this.random()));
    const now = Date.now();
    e.retryAt = now + delay;
    this.scheduleSubRetry(e.retryAt, doc, now);
  }

  /** queues a subscribe (or unsubscribe) retry of `doc` at `at`: O(log n), the timer re-armed only for an earlier time */
  private scheduleSubRetry(at: number, doc: string, now: number): void {
    this.subRetries.push(at, doc);
    if (this.subRetryArmedAt === 0 || at < this.subRetryArmedAt) this.armSubRetry(now);
  }

  /** arms the one timer for the earliest subscribe (or unsubscribe) retry due */
  private armSubRetry(now: number): void {
    this.clearTimer('subRetryTimer');
    this.subRetryArmedAt = 0;
    const next = this.subRetries.peek();
    if (next === undefined) return;
    this.subRetryArmedAt = next;
    this.subRetryTimer = this.timers.setTimeout(() => {
      this.subRetryTimer = undefined;
      this.subRetryArmedAt = 0;
      const due = Math.max(next, Date.now()); // the timer firing means `next` has come (injected timers too)
      while ((this.subRetries.peek() ?? Infinity) <= due) {
        const doc = this.subRetries.pop()!;
        const e = this.docs.get(doc);
        if (e && e.retryAt !== 0 && e.retryAt <= due) {
          e.retryAt = 0;
          this.sendSubscribe(doc, e);
          continue;
        }
        const u = this.unsubRetry.get(doc);
        if (!e && u && u.at !== 0 && u.at <= due) {
          u.at = 0; // sent; its attempts stay for the next refusal's backoff
          this.send({ type: 'unsubscribe', doc });
        }
      }
      this.armSubRetry(Date.now());
    }, Math.max(0, next - now));
  }

  private handleSnapshot(f: Extract<ReceivedFrame, { type: 'snapshot' }>): void {
    const e = this.docs.get(f.doc);
    if (e) {
      e.attempts = 0;
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
      else if (outcome === 'gap' && e.stream.beginResync()) this.sendSubscribe(f.doc, e);
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

  private clearTimer(name: 'reconnectTimer' | 'goawayTimer' | 'pingTimer' | 'retryTimer' | 'refreshTimer' | 'subRetryTimer' | 'probeTimer'): void {
    if (this[name] !== undefined) this.timers.clearTimeout(this[name]);
    this[name] = undefined;
    if (name === 'subRetryTimer') this.subRetryArmedAt = 0;
  }
}

/** `internal` may not be transient: retried this many times, then it settles (publish) or is reported (subscribe) */
const MAX_INTERNAL_RETRIES = 5;

function reject(code: string, message: string, doc?: string, id?: string): Promise<never> {
  return Promise.reject(new ReplicantError(code, message, doc, id));
}

/** `exp` of a compact JWT in ms, read without verification; undefined when absent or unreadable */
function jwtExpMs(token: string): number | undefined {
  try {
    const part = token.split('.')[1] ?? '';
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const exp = (JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4))) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
