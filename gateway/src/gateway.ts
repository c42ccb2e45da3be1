/**
 * The edge: WebSocket sessions on uWebSockets.js at `/v1/stream`, both subprotocols, and SSE
 * streams at `/v1/sse` (sse.ts: the same session and flow control, another sink), auth, limits,
 * subscribe/unsubscribe through the local fan-out, publish through the writer, graceful drain.
 *
 * Input never takes the process down: every frame is decoded into a typed frame or a
 * ProtocolError, answered with an `error` frame; oversized frames close the connection with 1009.
 *
 * Security (docs/security.md): a token (upgrade `?token=` or the first `auth` frame) is verified
 * with @replicant/auth; its read/write scopes are compiled once per token and checked on
 * subscribe (and resume) and publish — never per delivery. At `exp` the connection gets
 * `token_expired` and has AUTH_REFRESH_GRACE_MS to send a fresh `auth` (else 4001); an `auth`
 * on a live connection replaces the principal and ends subscriptions it no longer permits.
 * Frames that arrive while a token is being verified wait, in order, behind it (at most
 * MAX_QUEUED_BEHIND_AUTH frames and MAX_QUEUED_BYTES_BEHIND_AUTH bytes, or one MAX_FRAME_BYTES
 * frame if that is larger; past either bound a frame is answered with `unavailable`). Publishes are rate limited per connection (CLIENT_PUBLISH_RATE)
 * and reach the writer one at a time per (connection, doc), in arrival order (publish-order.ts).
 */
import type { HttpRequest, HttpResponse, TemplatedApp, us_socket_context_t } from 'uWebSockets.js';
import type { Counter, Histogram } from 'prom-client';
import { LATENCY_BUCKETS, defineMetrics } from '@replicant/stream';
import {
  answerJson,
  answerPreflight,
  errorBody,
  CloseCode,
  decodeClientBinary,
  decodeClientJson,
  ErrorCode,
  isPresenceDoc,
  PRESENCE_READ_ONLY,
  ProtocolError,
  parseSseCursor,
  parseSseDocs,
  sseCursorPrefix,
  SUBPROTOCOL_BINARY,
  SUBPROTOCOL_JSON,
  type ClientFrame,
  type JsonObject,
  type ServerFrame,
  type View,
  type ViewRules,
} from '@replicant/protocol';
import { DEFAULT_HISTORY_BUDGET_BYTES, DEFAULT_HISTORY_BYTES, HistoryBudget, type Upstream, type UpstreamListener } from '@replicant/fanout';
import { AuthError, FULL_ACCESS, TokenVerifier, viewerOf, type AuthConfig, type Principal } from '@replicant/auth';
import { newBucket, takeToken } from './publish-rate.js';
import { blocksLane, MAX_BLOCKED_DOCS, PublishLanes, type QueuedPublish } from './publish-order.js';
import { Admission } from './admission.js';
import { DEFAULT_HOT_FLUSH_MS, DEFAULT_HOT_FLUSH_RATE, LocalFanout } from './local-fanout.js';
import { encodeFor, PROTO_BINARY, PROTO_JSON, PROTO_SSE, type Proto, type Session, type Socket, type SocketData } from './session.js';
import { SseSocket, STALL_PROBE_MS } from './sse.js';
import { Connections, REVOKED_ERROR } from './connections.js';
import { ControlFollower } from './control.js';
import { PresenceTracker, type PresenceSink } from './presence.js';

/** The write path as the gateway sees it (in-process Origin, or an HTTP client of one). */
export interface Writer {
  /** `ifSeq`: apply only if the doc is at that seq, else reject with code `conflict` */
  write(docId: string, patchText: string, idempotencyKey?: string, ifSeq?: bigint): Promise<bigint>;
}

export interface GatewayOptions {
  upstream: Upstream;
  writer: Writer;
  auth?: AuthConfig;
  /** largest accepted client frame in bytes; larger closes with 1009 (default 1 MiB) */
  maxFrameBytes?: number;
  /** per-connection send buffer bound in bytes (default 1 MiB) */
  maxSendBuffer?: number;
  /** subscriptions per connection (default 1000) */
  maxSubscriptions?: number;
  /** unacknowledged publishes per connection (default 64) */
  maxInflightPublishes?: number;
  /** deltas kept per doc for resume (default 1024) */
  historySize?: number;
  /** HISTORY_BYTES: bytes of history kept per doc (default 1 MiB) */
  historyBytes?: number;
  /** HISTORY_BUDGET_BYTES: the process's history budget (default: 256 MiB of this gateway's own) */
  historyBudget?: HistoryBudget;
  /** time to present a token in the first frame when none came with the upgrade (default 10 s) */
  authTimeoutMs?: number;
  /** idle timeout in seconds; uWS pings automatically before it (default 120) */
  idleTimeoutSec?: number;
  /** AUTH_REFRESH_GRACE_MS: time after token_expired to send a fresh auth frame (default 10 s) */
  refreshGraceMs?: number;
  /** CLIENT_PUBLISH_RATE: publishes per second per connection, burst 2x (default 100) */
  publishRate?: number;
  // ---- client hop (docs/protocol.md "Flow control") ----
  /** a send buffer over maxSendBuffer for this long closes the connection with 4008 (default 30000) */
  slowConsumerTimeoutMs?: number;
  /** coalesce a doc's pending ops into exactly composed deltas (default true) */
  coalesce?: boolean;
  /** hot docs (hotFlushRate ops/s or more) are flushed to subscribers every this many ms (default 10; 0 = off) */
  hotFlushMs?: number;
  /** ops/s from which a doc is hot (default 200) */
  hotFlushRate?: number;
  /** WebSocket upgrades admitted per second (token bucket; default 2000) */
  admissionRate?: number;
  /** upgrades admitted at once before the rate applies (default 4000) */
  admissionBurst?: number;
  /** drain: goaway.reconnectMs is spread uniformly over [0, this) (default 1000) */
  drainSpreadMs?: number;
  /** drain: a connection is closed at the latest this long after goaway (default 1000) */
  drainGraceMs?: number;
  /** NODE_ID: the prefix of this gateway's connection ids (default a random one) */
  nodeId?: string;
  /** SSE streams get `: ping` after this long without a write (default 15000) */
  ssePingMs?: number;
  /** presence (presence.ts): where members are reported; absent = `presence: true` is refused */
  presence?: { sink: PresenceSink; intervalMs?: number; ttlMs?: number };
  /**
   * VIEWS_FILE (protocol views.ts): a reader whose view of a doc is not the whole doc is served
   * its projection (local-fanout.ts: one child doc per view); a publish touching a member its
   * writer cannot see is `forbidden`. Full access (auth off) reads the whole doc.
   */
  views?: ViewRules;
}

/** frames held while a token is verified; over it a frame is answered with `unavailable` */
export const MAX_QUEUED_BEHIND_AUTH = 256;
/** bytes of frames held while a token is verified (a slow JWKS fetch); over it, `unavailable` */
export const MAX_QUEUED_BYTES_BEHIND_AUTH = 1024 * 1024;
/** setTimeout's largest delay; a later exp is re-armed when this fires */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const STREAM_PATH = '/v1/stream';
export const SSE_PATH = '/v1/sse';

const gatewayMetrics = defineMetrics((m) => ({
  connections: m.gauge({ name: 'replicant_gateway_connections', help: 'Open client connections (WebSocket and SSE)' }),
  connectionsTotal: m.counter({ name: 'replicant_gateway_connections_total', help: 'Accepted client connections (WebSocket and SSE)' }),
  byTransport: m.gauge({ name: 'replicant_gateway_transport_connections', help: 'Open client connections by transport (websocket, sse)', labelNames: ['transport'] }),
  transportTotal: m.counter({ name: 'replicant_gateway_transport_connections_total', help: 'Accepted client connections by transport (websocket, sse)', labelNames: ['transport'] }),
  framesIn: m.counter({ name: 'replicant_gateway_frames_received_total', help: 'Client frames received', labelNames: ['type'] }),
  errors: m.counter({ name: 'replicant_gateway_errors_total', help: 'Error frames sent to clients', labelNames: ['code'] }),
  closes: m.counter({ name: 'replicant_gateway_forced_closes_total', help: 'Connections closed by the gateway', labelNames: ['reason'] }),
  docs: m.gauge({ name: 'replicant_gateway_docs', help: 'Documents with local subscribers (one upstream subscription each)' }),
  deliveries: m.counter({ name: 'replicant_gateway_deliveries_total', help: 'Snapshot and delta messages handed to client sockets' }),
  deliveryLatency: m.histogram({
    name: 'replicant_gateway_delivery_latency_seconds',
    help: "End to end: from the origin accepting the write (the op's timestamp) to the gateway handing the delta to its subscribers' sockets",
    buckets: LATENCY_BUCKETS,
  }),
  admissionRefusals: m.counter({ name: 'replicant_gateway_admission_refusals_total', help: 'WebSocket upgrades refused by admission control (503 + Retry-After)' }),
  serverApi: m.counter({
    name: 'replicant_gateway_server_api_total',
    help: 'Server API at this gateway: messages delivered, messages dropped (inactive connection), control commands applied, commands lost to a re-base',
    labelNames: ['event'],
  }),
  presenceMembers: m.gauge({ name: 'replicant_gateway_presence_members', help: 'Presence memberships held by this gateway (connection, doc) pairs' }),
  presenceReports: m.counter({ name: 'replicant_gateway_presence_reports_total', help: 'Presence reports to origin by result (a failed one is followed by a full one)', labelNames: ['result'] }),
  sendBuffer: m.gauge({
    name: 'replicant_gateway_send_buffer_bytes',
    help: 'Client send queues: bytes buffered per connection, the largest (stat="max") and all together (stat="sum")',
    labelNames: ['stat'],
  }),
}));

/**
 * The upstream as the gateway's local fan-out sees it, timing each delta once on arrival (once per
 * doc per gateway, not per subscriber): the fan-out hands it to every local socket in the same tick.
 * The op's timestamp is the origin's clock: across hosts the histogram includes their clock skew.
 */
function timedUpstream(upstream: Upstream, latency: Histogram): Upstream {
  const wrapped = new WeakMap<UpstreamListener, UpstreamListener>();
  const wrap = (l: UpstreamListener): UpstreamListener => {
    let w = wrapped.get(l);
    if (!w) {
      w = {
        onBase: (doc, seq, state, history) => l.onBase(doc, seq, state, history),
        onDelta: (d) => {
          if (d.tsMs > 0) latency.observe(Math.max(0, Date.now() - d.tsMs) / 1000);
          l.onDelta(d);
        },
        onError: (doc, code, message) => l.onError(doc, code, message),
      };
      wrapped.set(l, w);
    }
    return w;
  };
  return {
    subscribe: (doc, l) => upstream.subscribe(doc, wrap(l)),
    unsubscribe: (doc, l) => upstream.unsubscribe(doc, wrap(l)),
  };
}

/** how long after its reconnectMs a draining gateway still keeps a client's connection */
const DRAIN_SLACK_MS = 500;

const FRAME_TYPES = ['auth', 'hello', 'credit', 'subscribe', 'unsubscribe', 'publish', 'ping', 'invalid'] as const;

/** a verified token waited longer than authTimeoutMs for the control stream's base */
const CONTROL_BASE_LATE = new Error('control stream base not held in time');

export class Gateway {
  private readonly metrics = gatewayMetrics();
  readonly fanout: LocalFanout;
  private readonly auth: TokenVerifier;
  private readonly sockets = new Set<Socket>();
  private nextId = 1;
  private draining = false;
  private readonly o: Required<Omit<GatewayOptions, 'auth' | 'upstream' | 'writer' | 'nodeId' | 'presence' | 'views'>>;
  /** open SSE streams (also in `sockets`): pinged, and probed while stalled */
  private readonly sseSockets = new Set<SseSocket>();
  private sseTimer: NodeJS.Timeout | undefined;
  private readonly admission: Admission;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly typeCounters: Map<string, Counter.Internal>;
  private lastDeliveries = 0;
  private lastRefused = 0;
  /** bytes that may wait behind a verification: the bound, or one largest frame */
  private readonly maxQueuedBytes: number;
  /** the server API: connection index, revocations, commands (connections.ts) */
  readonly connections: Connections;
  /** follows the control stream that carries the server API's commands (control.ts) */
  readonly control: ControlFollower;
  /** this gateway's presence members, reported to origin (presence.ts) */
  readonly presence: PresenceTracker | undefined;
  private lastApi = { delivered: 0, dropped: 0, commands: 0, lost: 0 };
  private lastPresence = { reports: 0, failures: 0 };

  constructor(private readonly opts: GatewayOptions) {
    this.o = {
      maxFrameBytes: opts.maxFrameBytes ?? 1024 * 1024,
      maxSendBuffer: opts.maxSendBuffer ?? 1024 * 1024,
      maxSubscriptions: opts.maxSubscriptions ?? 1000,
      maxInflightPublishes: opts.maxInflightPublishes ?? 64,
      historySize: opts.historySize ?? 1024,
      historyBytes: opts.historyBytes ?? DEFAULT_HISTORY_BYTES,
      historyBudget: opts.historyBudget ?? new HistoryBudget(DEFAULT_HISTORY_BUDGET_BYTES),
      authTimeoutMs: opts.authTimeoutMs ?? 10_000,
      idleTimeoutSec: opts.idleTimeoutSec ?? 120,
      refreshGraceMs: opts.refreshGraceMs ?? 10_000,
      publishRate: opts.publishRate ?? 100,
      slowConsumerTimeoutMs: opts.slowConsumerTimeoutMs ?? 30_000,
      coalesce: opts.coalesce ?? true,
      hotFlushMs: opts.hotFlushMs ?? DEFAULT_HOT_FLUSH_MS,
      hotFlushRate: opts.hotFlushRate ?? DEFAULT_HOT_FLUSH_RATE,
      admissionRate: opts.admissionRate ?? 2000,
      admissionBurst: opts.admissionBurst ?? 4000,
      drainSpreadMs: opts.drainSpreadMs ?? 1000,
      drainGraceMs: opts.drainGraceMs ?? 1000,
      ssePingMs: opts.ssePingMs ?? 15_000,
    };
    this.admission = new Admission(this.o.admissionRate, this.o.admissionBurst);
    this.maxQueuedBytes = Math.max(MAX_QUEUED_BYTES_BEHIND_AUTH, this.o.maxFrameBytes);
    this.auth = new TokenVerifier(opts.auth ?? {});
    this.fanout = new LocalFanout({
      upstream: timedUpstream(opts.upstream, this.metrics.deliveryLatency),
      historySize: this.o.historySize,
      historyBytes: this.o.historyBytes,
      historyBudget: this.o.historyBudget,
      maxSendBuffer: this.o.maxSendBuffer,
      slowConsumerTimeoutMs: this.o.slowConsumerTimeoutMs,
      coalesce: this.o.coalesce,
      hotFlushMs: this.o.hotFlushMs,
      hotFlushRate: this.o.hotFlushRate,
      onSlowConsumer: (ws) => this.forceClose(ws, CloseCode.SlowConsumer, 'slow consumer: send buffer full', 'slow_consumer'),
      onDocError: (ws, doc, code, message) => {
        ws.getUserData().session.subs?.delete(doc);
        this.leavePresence(ws, doc);
        this.sendFrame(ws, { type: 'error', code, message, doc });
      },
    });
    this.typeCounters = new Map(FRAME_TYPES.map((t) => [t, this.metrics.framesIn.labels(t)]));
    this.connections = new Connections(opts.nodeId ?? `gw-${Math.random().toString(36).slice(2, 8)}`, {
      close: (ws, code, reason, label) => this.forceClose(ws, code, reason, label),
      expire: (ws) => this.onExpired(ws),
      maxSendBuffer: this.o.maxSendBuffer,
    });
    this.control = new ControlFollower(opts.upstream, this.connections);
    this.presence = opts.presence ? new PresenceTracker({ ...opts.presence, gateway: this.connections.nodeId }) : undefined;
    // deliveries are counted with plain numbers on the hot path and published at scrape time
    this.metrics.deliveries.reset();
    this.metrics.docs.reset();
    this.metrics.byTransport.labels('websocket').set(0);
    this.metrics.byTransport.labels('sse').set(0);
  }

  /** refreshes scrape-time metrics (call from the /metrics handler) */
  collectMetrics(): void {
    const d = this.fanout.deliveries;
    this.metrics.deliveries.inc(d - this.lastDeliveries);
    this.lastDeliveries = d;
    this.metrics.docs.set(this.fanout.docCount);
    let max = 0;
    let sum = 0;
    for (const ws of this.sockets) {
      const b = ws.getBufferedAmount();
      sum += b;
      if (b > max) max = b;
    }
    this.metrics.sendBuffer.set({ stat: 'max' }, max);
    this.metrics.sendBuffer.set({ stat: 'sum' }, sum);
    this.metrics.admissionRefusals.inc(this.admission.refused - this.lastRefused);
    this.lastRefused = this.admission.refused;
    const c = this.connections;
    const api = { delivered: c.delivered, dropped: c.dropped, commands: c.commands, lost: this.control.lost };
    for (const k of ['delivered', 'dropped', 'commands', 'lost'] as const) this.metrics.serverApi.labels(k).inc(api[k] - this.lastApi[k]);
    this.lastApi = api;
    const p = this.presence;
    if (p) {
      this.metrics.presenceMembers.set(p.members);
      this.metrics.presenceReports.labels('ok').inc(p.reports - this.lastPresence.reports);
      this.metrics.presenceReports.labels('failed').inc(p.failures - this.lastPresence.failures);
      this.lastPresence = { reports: p.reports, failures: p.failures };
    }
  }

  /** upgrades refused by admission control so far */
  get admissionRefusals(): number {
    return this.admission.refused;
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  /**
   * Client-hop flow control across connections (tests, admin): how many are inactive, the largest
   * user-space send buffer, and the most per-doc seqs any inactive connection holds.
   */
  flowStats(): { connections: number; inactive: number; maxBuffered: number; maxTrackedDocs: number; catchUpDeltas: number; catchUpSnapshots: number } {
    let maxBuffered = 0;
    let maxTrackedDocs = 0;
    for (const ws of this.sockets) {
      const c = this.fanout.connectionState(ws);
      if (c.buffered > maxBuffered) maxBuffered = c.buffered;
      if (c.trackedDocs > maxTrackedDocs) maxTrackedDocs = c.trackedDocs;
    }
    return {
      connections: this.sockets.size,
      inactive: this.fanout.inactiveCount,
      maxBuffered,
      maxTrackedDocs,
      catchUpDeltas: this.fanout.catchUpDeltas,
      catchUpSnapshots: this.fanout.catchUpSnapshots,
    };
  }

  attach(app: TemplatedApp): void {
    app.ws<SocketData>(STREAM_PATH, {
      compression: 0,
      // uWS cuts a connection off without a close frame (1006) past maxPayloadLength; the hard
      // cap sits above our limit so over-limit frames usually get a proper 1009 close from us.
      maxPayloadLength: this.o.maxFrameBytes * 2,
      // uWS drops (send() === 2) past maxBackpressure. A connection over our own bound is made
      // inactive (nothing more is queued), so this is only a safety net well above it; a drop is
      // still handled (that doc is caught up with a snapshot), never a silent gap.
      maxBackpressure: Math.max(this.o.maxSendBuffer * 4, 16 * 1024 * 1024),
      closeOnBackpressureLimit: false,
      idleTimeout: this.o.idleTimeoutSec,
      sendPingsAutomatically: true,
      upgrade: (res, req, ctx) => this.upgrade(res, req, ctx),
      open: (ws) => this.onOpen(ws),
      message: (ws, message, isBinary) => this.onMessage(ws, message, isBinary),
      drain: (ws) => this.fanout.onDrain(ws),
      close: (ws) => this.onClose(ws),
    });
    app.get(SSE_PATH, (res, req) => this.sseRequest(res, req));
    // CORS preflight: fetch-based readers (the SDK) send Authorization and Last-Event-ID
    app.options(SSE_PATH, (res) => answerPreflight(res, 'GET'));
    app.any(SSE_PATH, (res) => httpError(res, '405 Method Not Allowed', ErrorCode.MethodNotAllowed, 'use GET', undefined, 'GET'));
  }

  /**
   * Graceful drain: stop accepting, tell every client to reconnect elsewhere (`goaway` with a
   * `reconnectMs` spread uniformly over `spreadMs`, so they do not all arrive at once elsewhere),
   * keep each connection until its client has had its reconnectMs (plus a little slack; the
   * client moves and resumes by itself), closing what is left at `graceMs` at the latest.
   * Resolves when every connection is closed.
   */
  async drain(opts: { spreadMs?: number; graceMs?: number } = {}): Promise<void> {
    this.draining = true;
    const spread = opts.spreadMs ?? this.o.drainSpreadMs;
    const grace = opts.graceMs ?? this.o.drainGraceMs;
    const timers: NodeJS.Timeout[] = [];
    const allClosed = new Promise<void>((resolve) => (this.onAllClosed = resolve));
    if (this.sockets.size === 0) this.onAllClosed?.();
    for (const ws of [...this.sockets]) {
      const reconnectMs = Math.floor(Math.random() * spread);
      this.sendFrame(ws, { type: 'goaway', reconnectMs });
      const closeAt = Math.min(reconnectMs + DRAIN_SLACK_MS, grace);
      if (closeAt <= 0) this.forceClose(ws, CloseCode.GoingAway, 'server shutting down', 'drain');
      else timers.push(setTimeout(() => this.forceClose(ws, CloseCode.GoingAway, 'server shutting down', 'drain'), closeAt));
    }
    await allClosed;
    for (const t of timers) clearTimeout(t);
    this.control.close();
    await this.presence?.stop();
    this.fanout.close();
  }

  private onAllClosed: (() => void) | undefined;

  // ---- connection lifecycle ----

  private upgrade(res: HttpResponse, req: HttpRequest, ctx: us_socket_context_t): void {
    const key = req.getHeader('sec-websocket-key');
    const offered = req.getHeader('sec-websocket-protocol');
    const ext = req.getHeader('sec-websocket-extensions');
    const query = req.getQuery() ?? '';
    if (this.draining) return httpError(res, '503 Service Unavailable', ErrorCode.Unavailable, 'gateway is draining; reconnect', this.admission.retryAfterSec());
    if (!this.admission.take()) {
      return httpError(res, '503 Service Unavailable', ErrorCode.Unavailable, 'too many connection attempts; retry later', this.admission.retryAfterSec());
    }
    let proto: string;
    if (offered === '') proto = '';
    else {
      const list = offered.split(',').map((s) => s.trim());
      if (list.includes(SUBPROTOCOL_BINARY)) proto = SUBPROTOCOL_BINARY;
      else if (list.includes(SUBPROTOCOL_JSON)) proto = SUBPROTOCOL_JSON;
      else {
        return httpError(res, '400 Bad Request', ErrorCode.BadRequest, `unsupported subprotocol; use ${SUBPROTOCOL_BINARY} or ${SUBPROTOCOL_JSON}`);
      }
    }
    const token = new URLSearchParams(query).get('token');
    const session = this.newSession(proto === SUBPROTOCOL_BINARY ? PROTO_BINARY : PROTO_JSON);
    // A `?token=` is verified like a first `auth` frame, after the upgrade: verification is
    // asynchronous (jose), and upgrades completed asynchronously were seen to drop the new
    // connection (1006 on both ends) after a series of refused ones. A bad query token therefore
    // gets an `error` frame and 4001, not HTTP 401; frames sent meanwhile wait behind it.
    if (token !== null && this.auth.required) session.urlToken = token;
    const data: SocketData = { session };
    res.upgrade(data, key, proto, ext, ctx);
  }

  /** a new connection's session (either transport); authed at once when auth is off */
  private newSession(proto: Proto): Session {
    return {
      id: this.nextId++,
      proto,
      authed: !this.auth.required,
      closed: false,
      subs: undefined,
      inflight: 0,
      authTimer: undefined,
      principal: this.auth.required ? undefined : FULL_ACCESS,
      authPending: 0,
      queued: undefined,
      queuedBytes: 0,
      queuedSizes: undefined,
      rx: 0,
      queuedRx: undefined,
      lanes: undefined,
      expTimer: undefined,
      expired: false,
      bucket: newBucket(this.o.publishRate, Date.now()),
      credit: Infinity,
      inactive: 0,
      lastSeqs: undefined,
      fullSince: 0,
      connId: this.connections.newId(),
      since: Date.now(),
      meta: undefined,
      indexedSub: undefined,
      presence: undefined,
    };
  }

  private onOpen(ws: Socket): void {
    this.sockets.add(ws);
    this.metrics.connections.inc();
    this.metrics.connectionsTotal.inc();
    this.metrics.byTransport.labels('websocket').inc();
    this.metrics.transportTotal.labels('websocket').inc();
    const s = ws.getUserData().session;
    if (s.authed) {
      this.armExpiry(ws, s.principal!);
      this.welcome(ws);
    } else if (s.urlToken !== undefined) {
      const t = s.urlToken;
      s.urlToken = undefined;
      this.onAuth(ws, t);
    } else {
      s.authTimer = setTimeout(() => {
        if (!s.closed && !s.authed) this.forceClose(ws, CloseCode.AuthTimeout, 'no auth frame in time', 'auth_timeout');
      }, this.o.authTimeoutMs);
    }
  }

  // ---- SSE: GET /v1/sse?doc=…&doc=… (docs/protocol.md "SSE") ----

  /**
   * An SSE stream: the request is checked (doc list, admission, credential, read scope) before
   * any byte of the stream is sent, so refusals are plain HTTP (400/401/403/503); then it becomes
   * a connection like a WebSocket one (welcome, subscriptions resumed from `Last-Event-ID`).
   */
  private sseRequest(res: HttpResponse, req: HttpRequest): void {
    const params = new URLSearchParams(req.getQuery() ?? '');
    const authorization = req.getHeader('authorization');
    const lastEventId = req.getHeader('last-event-id');
    const r = { aborted: false, sock: undefined as SseSocket | undefined };
    res.onAborted(() => {
      r.aborted = true;
      r.sock?.aborted();
    });
    const docs = parseSseDocs(params);
    if (docs instanceof ProtocolError) return httpError(res, '400 Bad Request', docs.code, docs.message);
    let resumed: (bigint | undefined)[] | undefined;
    if (lastEventId !== '') {
      const c = parseSseCursor(lastEventId, docs);
      if (c instanceof Error) return httpError(res, '400 Bad Request', ErrorCode.BadRequest, c.message);
      resumed = c ?? undefined; // another doc list's cursor: start fresh (snapshots)
    }
    if (this.draining) return httpError(res, '503 Service Unavailable', ErrorCode.Unavailable, 'gateway is draining; reconnect', this.admission.retryAfterSec());
    if (!this.admission.take()) {
      return httpError(res, '503 Service Unavailable', ErrorCode.Unavailable, 'too many connection attempts; retry later', this.admission.retryAfterSec());
    }
    const bearer = /^Bearer\s+(.+)$/i.exec(authorization)?.[1]?.trim();
    const token = bearer ?? params.get('token') ?? undefined;
    if (!this.auth.required) return this.sseOpen(res, docs, resumed, FULL_ACCESS, r);
    if (token === undefined || token === '') {
      return httpError(res, '401 Unauthorized', ErrorCode.Unauthorized, 'missing token: Authorization: Bearer <token> or ?token=');
    }
    // as for a WebSocket: the revocation list must be known (control base) before a token is taken
    this.auth.verify(token).then(this.control.ready ? undefined : (p) => this.afterControlBase(p)).then(
      (p) => {
        if (r.aborted) return;
        if (this.connections.isRevoked(p)) return httpError(res, '401 Unauthorized', REVOKED_ERROR.code, REVOKED_ERROR.message);
        // a stream no doc of which may be read is refused; otherwise each doc outside the read
        // scope gets its own `error` event `forbidden` (as over WebSocket) and the others stream
        if (!docs.some((d) => p.read.allows(d))) return httpError(res, '403 Forbidden', ErrorCode.Forbidden, "no doc of this stream is inside this token's read scope");
        if (this.draining) return httpError(res, '503 Service Unavailable', ErrorCode.Unavailable, 'gateway is draining; reconnect', this.admission.retryAfterSec());
        this.sseOpen(res, docs, resumed, p, r);
      },
      (err: AuthError | Error) => {
        if (r.aborted) return;
        if (err === CONTROL_BASE_LATE) return httpError(res, '503 Service Unavailable', ErrorCode.Unavailable, 'gateway is starting; retry later', 1);
        httpError(res, '401 Unauthorized', (err as AuthError).code ?? ErrorCode.Unauthorized, err.message);
      },
    );
  }

  private sseOpen(res: HttpResponse, docs: string[], resumed: (bigint | undefined)[] | undefined, p: Principal, r: { sock: SseSocket | undefined }): void {
    const s = this.newSession(PROTO_SSE);
    const sock = new SseSocket(res, s, docs, sseCursorPrefix(docs), resumed, Math.max(this.o.maxSendBuffer * 4, 16 * 1024 * 1024), {
      onDrain: (x) => this.fanout.onDrain(x),
      onClose: (x) => this.onClose(x),
    });
    r.sock = sock;
    res.cork(() => {
      res
        .writeStatus('200 OK')
        .writeHeader('Content-Type', 'text/event-stream; charset=utf-8')
        .writeHeader('Cache-Control', 'no-cache, no-transform')
        .writeHeader('X-Accel-Buffering', 'no')
        // the credential is the token (no cookies): a page of any origin may read its stream
        .writeHeader('Access-Control-Allow-Origin', '*');
    });
    this.sockets.add(sock);
    this.sseSockets.add(sock);
    this.metrics.connections.inc();
    this.metrics.connectionsTotal.inc();
    this.metrics.byTransport.labels('sse').inc();
    this.metrics.transportTotal.labels('sse').inc();
    this.armSseTimer();
    this.setPrincipal(sock, p); // expiry, the connection index, `welcome` (the first event)
    if (s.closed) return;
    const subs = (s.subs = new Set<string>());
    for (let i = 0; i < docs.length; i++) {
      if (s.closed) return;
      const doc = docs[i];
      if (subs.has(doc)) continue;
      if (!p.read.allows(doc)) {
        this.sendFrame(sock, { type: 'error', code: ErrorCode.Forbidden, message: "doc is outside this token's read scope", doc });
        continue;
      }
      subs.add(doc);
      this.fanout.subscribe(sock, doc, resumed?.[i], this.restrictedView(p, doc));
    }
  }

  /** one timer for every SSE stream: `: ping` after ssePingMs of silence, and probes while stalled */
  private armSseTimer(): void {
    if (this.sseTimer) return;
    const every = Math.min(STALL_PROBE_MS, this.o.ssePingMs);
    this.sseTimer = setInterval(() => {
      const now = Date.now();
      for (const sock of this.sseSockets) {
        if (sock.isStalled) sock.probe();
        else if (now - sock.lastWriteMs >= this.o.ssePingMs - every / 2) sock.ping();
      }
    }, every);
    this.sseTimer.unref();
  }

  private onClose(ws: Socket): void {
    const s = ws.getUserData().session;
    s.closed = true;
    if (s.authTimer) clearTimeout(s.authTimer);
    if (s.expTimer) clearTimeout(s.expTimer);
    s.queued = undefined;
    s.queuedSizes = undefined;
    s.queuedRx = undefined;
    s.queuedBytes = 0;
    s.lanes = undefined; // answers still to come are dropped (s.closed)
    this.sockets.delete(ws);
    this.connections.remove(ws);
    this.metrics.connections.dec();
    if (s.proto === PROTO_SSE) {
      this.sseSockets.delete(ws as SseSocket);
      this.metrics.byTransport.labels('sse').dec();
      if (this.sseSockets.size === 0 && this.sseTimer) {
        clearInterval(this.sseTimer);
        this.sseTimer = undefined;
      }
    } else this.metrics.byTransport.labels('websocket').dec();
    if (s.subs) for (const doc of s.subs) this.fanout.unsubscribe(ws, doc);
    s.subs = undefined;
    if (s.presence) for (const [doc, m] of s.presence) this.presence?.leave(doc, m.user);
    s.presence = undefined;
    this.fanout.onClose(ws);
    if (this.sockets.size === 0) this.onAllClosed?.();
  }

  private onMessage(ws: Socket, message: ArrayBuffer, isBinary: boolean): void {
    const s = ws.getUserData().session;
    if (message.byteLength > this.o.maxFrameBytes) {
      this.forceClose(ws, CloseCode.FrameTooLarge, `frame over ${this.o.maxFrameBytes} bytes`, 'frame_too_large');
      return;
    }
    let frame: ClientFrame | ProtocolError;
    if (s.proto === PROTO_BINARY) {
      frame = isBinary
        ? decodeClientBinary(new Uint8Array(message))
        : new ProtocolError(ErrorCode.BadFrame, `${SUBPROTOCOL_BINARY} expects binary protobuf frames`);
    } else if (isBinary) {
      frame = new ProtocolError(ErrorCode.BadFrame, `${SUBPROTOCOL_JSON} expects text frames`);
    } else {
      let text: string | undefined;
      try {
        text = this.decoder.decode(message);
      } catch {
        text = undefined;
      }
      frame = text === undefined ? new ProtocolError(ErrorCode.BadFrame, 'frame is not valid UTF-8') : decodeClientJson(text);
    }
    if (frame instanceof ProtocolError) {
      this.typeCounters.get('invalid')!.inc();
      this.sendFrame(ws, { type: 'error', code: frame.code, message: frame.message, doc: frame.doc, id: frame.id });
      return;
    }
    this.typeCounters.get(frame.type)?.inc();
    const rx = ++s.rx;
    if (s.authPending > 0) {
      // a token is being verified: keep order, this frame runs under the principal it yields
      const q = (s.queued ??= []);
      const bytes = message.byteLength;
      if (q.length >= MAX_QUEUED_BEHIND_AUTH || s.queuedBytes + bytes > this.maxQueuedBytes) {
        const f = frame as { doc?: string; id?: string };
        this.sendFrame(ws, {
          type: 'error',
          code: ErrorCode.Unavailable,
          message: `at most ${MAX_QUEUED_BEHIND_AUTH} frames and ${this.maxQueuedBytes} bytes may wait for a token to be verified`,
          doc: f.doc,
          id: f.id,
        });
        if (frame.type === 'publish') this.blockLane(ws, frame.doc, frame.id, rx);
        return;
      }
      q.push(frame);
      (s.queuedRx ??= []).push(rx);
      (s.queuedSizes ??= []).push(bytes);
      s.queuedBytes += bytes;
      return;
    }
    this.dispatch(ws, frame, rx);
  }

  /** runs one decoded frame (received as the connection's `rx`th) for an authenticated (or authenticating) connection */
  private dispatch(ws: Socket, frame: ClientFrame, rx: number): void {
    const s = ws.getUserData().session;
    if (!s.authed && frame.type !== 'auth') {
      this.sendFrame(ws, { type: 'error', code: ErrorCode.Unauthorized, message: 'authenticate first: send {"type":"auth","token":"…"}' });
      this.forceClose(ws, CloseCode.Unauthorized, 'unauthorized', 'unauthorized');
      return;
    }
    switch (frame.type) {
      case 'auth':
        return this.onAuth(ws, frame.token);
      case 'subscribe': {
        if (s.expired) return this.expiredError(ws, frame.doc, undefined);
        if (!s.principal!.read.allows(frame.doc)) {
          this.sendFrame(ws, { type: 'error', code: ErrorCode.Forbidden, message: 'doc is outside this token\'s read scope', doc: frame.doc });
          return;
        }
        const subs = (s.subs ??= new Set());
        if (subs.has(frame.doc)) {
          // re-subscribe = explicit resync request: serve it as a fresh join
          this.fanout.unsubscribe(ws, frame.doc);
        } else if (subs.size >= this.o.maxSubscriptions) {
          this.sendFrame(ws, {
            type: 'error',
            code: ErrorCode.TooManySubscriptions,
            message: `at most ${this.o.maxSubscriptions} subscriptions per connection`,
            doc: frame.doc,
          });
          return;
        }
        if (frame.presence && !this.presence) {
          this.sendFrame(ws, { type: 'error', code: ErrorCode.BadRequest, message: 'presence is not available on this gateway', doc: frame.doc });
          return;
        }
        subs.add(frame.doc);
        this.fanout.subscribe(ws, frame.doc, frame.lastSeq, this.restrictedView(s.principal!, frame.doc));
        // a re-subscribe replaces the membership (joins with the new info, or leaves)
        this.leavePresence(ws, frame.doc);
        if (frame.presence) {
          const user = s.principal!.sub !== '' ? s.principal!.sub : s.connId;
          (s.presence ??= new Map()).set(frame.doc, { user, info: frame.info });
          this.presence!.join(frame.doc, user, frame.info);
        }
        return;
      }
      case 'unsubscribe':
        if (s.subs?.delete(frame.doc)) this.fanout.unsubscribe(ws, frame.doc);
        this.leavePresence(ws, frame.doc);
        return;
      case 'publish':
        return this.onPublish(ws, frame.doc, frame.patch, frame.id, frame.ifSeq, rx);
      case 'ping':
        this.sendFrame(ws, { type: 'pong' });
        return;
      case 'hello':
        // the codec validated the window; a second hello would make the allowance ambiguous
        if (s.credit !== Infinity) return this.badFrame(ws, 'hello may be sent once per connection');
        if (frame.meta !== undefined) this.connections.setMeta(ws, frame.meta);
        this.fanout.setWindow(ws, frame.window);
        return;
      case 'credit':
        if (s.credit === Infinity) return this.badFrame(ws, 'credit before hello: send {"type":"hello","window":N} first');
        if (s.credit + frame.n > MAX_CREDIT) return this.badFrame(ws, `credit outstanding would exceed ${MAX_CREDIT}`);
        this.fanout.addCredit(ws, frame.n);
        return;
    }
  }

  private onAuth(ws: Socket, token: string): void {
    const s = ws.getUserData().session;
    if (!this.auth.required) {
      s.authed = true;
      return;
    }
    s.authPending++;
    this.auth.verify(token).then(this.control.ready ? undefined : (p) => this.afterControlBase(p)).then(
      (p) => {
        s.authPending--;
        if (s.closed) return;
        // In the refresh grace, a token already past its exp (accepted within AUTH_CLOCK_SKEW_S) is
        // no refresh: the grace timer keeps running (resetting it would let such tokens keep the
        // connection open forever), and the client is told again.
        if (s.expired && p.expMs !== undefined && p.expMs <= Date.now()) this.staleToken(ws);
        else this.setPrincipal(ws, p);
        this.drainQueued(ws);
      },
      (err: AuthError) => {
        s.authPending--;
        s.queued = undefined;
        s.queuedSizes = undefined;
        s.queuedRx = undefined;
        s.queuedBytes = 0;
        if (s.closed) return;
        if (err === CONTROL_BASE_LATE) {
          this.sendFrame(ws, { type: 'error', code: ErrorCode.Unavailable, message: 'gateway is starting; retry later' });
          this.forceClose(ws, CloseCode.Overloaded, 'gateway is starting', 'control_base_late');
          return;
        }
        this.sendFrame(ws, { type: 'error', code: err.code, message: err.message });
        this.forceClose(ws, CloseCode.Unauthorized, 'unauthorized', 'unauthorized');
      },
    );
  }

  /**
   * A token verified before this gateway holds the control stream's base waits for it: only then
   * is its revocation known (a restarted gateway would otherwise accept a revoked token). Bounded by
   * authTimeoutMs; past it the connection gets `unavailable` (close 4013) and retries.
   */
  private afterControlBase(p: Principal): Promise<Principal> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(CONTROL_BASE_LATE), this.o.authTimeoutMs);
    });
    return Promise.race([this.control.whenReady().then(() => p), late]).finally(() => clearTimeout(timer));
  }

  /** frames that waited behind a verification run now, until another auth has to be verified */
  private drainQueued(ws: Socket): void {
    const s = ws.getUserData().session;
    const q = s.queued;
    if (!q) return;
    const sizes = s.queuedSizes!;
    const rxs = s.queuedRx!;
    let i = 0;
    while (i < q.length && s.authPending === 0 && !s.closed) {
      s.queuedBytes -= sizes[i];
      this.dispatch(ws, q[i], rxs[i]);
      i++;
    }
    if (i >= q.length) {
      s.queued = s.queuedSizes = s.queuedRx = undefined;
      s.queuedBytes = 0;
    } else {
      q.splice(0, i);
      sizes.splice(0, i);
      rxs.splice(0, i);
    }
  }

  /** a verified token becomes the connection's principal (first auth or an in-band refresh) */
  private setPrincipal(ws: Socket, p: Principal): void {
    const s = ws.getUserData().session;
    if (this.connections.isRevoked(p)) {
      s.queued = undefined; // frames that waited behind this token never run
      this.sendFrame(ws, { type: 'error', ...REVOKED_ERROR });
      this.forceClose(ws, CloseCode.Unauthorized, 'token revoked', 'token_revoked');
      return;
    }
    s.principal = p;
    s.authed = true;
    s.expired = false;
    if (s.authTimer) clearTimeout(s.authTimer);
    s.authTimer = undefined;
    this.armExpiry(ws, p);
    this.welcome(ws);
    // a refreshed token of another sub: the memberships move to it
    if (s.presence && p.sub !== '') {
      for (const [doc, m] of s.presence) {
        if (m.user === p.sub) continue;
        this.presence?.leave(doc, m.user);
        m.user = p.sub;
        this.presence?.join(doc, m.user, m.info);
      }
    }
    if (!s.subs) return;
    for (const doc of [...s.subs]) {
      if (p.read.allows(doc)) {
        // a refreshed token may see another view (claims changed): re-join through it with a snapshot
        const view = this.restrictedView(p, doc);
        if ((view?.key ?? '') !== this.fanout.viewKeyOf(ws, doc)) {
          this.fanout.unsubscribe(ws, doc);
          this.fanout.subscribe(ws, doc, undefined, view);
        }
        continue;
      }
      s.subs.delete(doc);
      this.fanout.unsubscribe(ws, doc);
      this.leavePresence(ws, doc);
      this.sendFrame(ws, { type: 'error', code: ErrorCode.Forbidden, message: 'the new token does not grant reading this doc', doc });
    }
  }

  /**
   * the view `p` reads `doc` through when it is not the whole doc (VIEWS_FILE), else undefined; a
   * presence doc has one only when an entry names presence docs (protocol views.ts ViewRules.forDoc)
   */
  private restrictedView(p: Principal, doc: string): View | undefined {
    if (!this.opts.views) return undefined;
    const v = this.opts.views.forDoc(doc)?.viewFor(viewerOf(p));
    return v && !v.all ? v : undefined;
  }

  /** the connection stops being a member of `doc`'s presence (if it was one) */
  private leavePresence(ws: Socket, doc: string): void {
    const m = ws.getUserData().session.presence;
    const member = m?.get(doc);
    if (member === undefined) return;
    m!.delete(doc);
    this.presence?.leave(doc, member.user);
  }

  /** indexes an authenticated connection (server API); the first time it is sent `welcome` */
  private welcome(ws: Socket): void {
    if (this.connections.indexed(ws)) this.sendFrame(ws, { type: 'welcome', connection: ws.getUserData().session.connId });
  }

  private armExpiry(ws: Socket, p: Principal): void {
    const s = ws.getUserData().session;
    if (s.expTimer) clearTimeout(s.expTimer);
    s.expTimer = undefined;
    if (p.expMs === undefined) return;
    const delay = p.expMs - Date.now();
    s.expTimer = setTimeout(() => {
      s.expTimer = undefined;
      if (s.closed || s.principal !== p) return;
      if (Date.now() < p.expMs!) return this.armExpiry(ws, p); // exp was beyond one timer
      this.onExpired(ws);
    }, Math.min(Math.max(0, delay), MAX_TIMER_MS));
  }

  private onExpired(ws: Socket): void {
    const s = ws.getUserData().session;
    s.expired = true;
    if (s.proto === PROTO_SSE) {
      // no in-band refresh over SSE: the stream ends; the client reconnects with a fresh token
      this.sendFrame(ws, { type: 'error', code: ErrorCode.TokenExpired, message: 'token expired: reconnect with a fresh token' });
      return this.forceClose(ws, CloseCode.Unauthorized, 'token expired', 'token_expired');
    }
    this.sendFrame(ws, {
      type: 'error',
      code: ErrorCode.TokenExpired,
      message: `token expired: send {"type":"auth","token":"…"} within ${this.o.refreshGraceMs} ms`,
    });
    s.expTimer = setTimeout(() => {
      s.expTimer = undefined;
      if (!s.closed && s.expired) this.forceClose(ws, CloseCode.Unauthorized, 'token expired', 'token_expired');
    }, this.o.refreshGraceMs);
  }

  private staleToken(ws: Socket): void {
    this.sendFrame(ws, {
      type: 'error',
      code: ErrorCode.TokenExpired,
      message: 'token expired: the token sent is past its exp too; send one with a later exp before the grace ends',
    });
  }

  private expiredError(ws: Socket, doc: string | undefined, id: string | undefined): void {
    this.sendFrame(ws, { type: 'error', code: ErrorCode.TokenExpired, message: 'token expired: send a fresh auth frame first', doc, id });
  }

  /**
   * A publish: refused at once (token expiry, a refused earlier op of the doc, rate limit, scope,
   * the in-flight bound), else queued on its doc's lane and sent to the writer in arrival order,
   * one at a time per doc (publish-order.ts). A transient refusal blocks the doc's lane on it.
   */
  private onPublish(ws: Socket, doc: string, patch: string, id: string | undefined, ifSeq: bigint | undefined, rx: number): void {
    const s = ws.getUserData().session;
    if (s.expired) {
      this.expiredError(ws, doc, id);
      return this.blockLane(ws, doc, id, rx);
    }
    const lanes = (s.lanes ??= new PublishLanes());
    const waitFor = lanes.admit(doc, id, rx);
    if (waitFor !== undefined) return this.refuseBehind(ws, doc, id, waitFor);
    if (!takeToken(s.bucket, this.o.publishRate, Date.now())) {
      this.sendFrame(ws, {
        type: 'error',
        code: ErrorCode.RateLimited,
        message: `over ${this.o.publishRate} publishes per second on this connection`,
        doc,
        id,
      });
      return this.blockLane(ws, doc, id, rx);
    }
    if (isPresenceDoc(doc)) {
      this.sendFrame(ws, { type: 'error', code: ErrorCode.BadRequest, message: PRESENCE_READ_ONLY, doc, id });
      return;
    }
    if (!s.principal!.write.allows(doc)) {
      this.sendFrame(ws, { type: 'error', code: ErrorCode.Forbidden, message: 'doc is outside this token\'s write scope', doc, id });
      return;
    }
    const view = this.restrictedView(s.principal!, doc);
    if (view && !view.allowsPatch(JSON.parse(patch) as JsonObject)) {
      // (the frame decoder has checked the patch is a JSON object)
      this.sendFrame(ws, { type: 'error', code: ErrorCode.Forbidden, message: 'the patch touches a member outside your view', doc, id });
      return;
    }
    if (s.inflight >= this.o.maxInflightPublishes) {
      this.sendFrame(ws, {
        type: 'error',
        code: ErrorCode.Unavailable,
        message: `more than ${this.o.maxInflightPublishes} publishes awaiting ack; wait for acks`,
        doc,
        id,
      });
      return this.blockLane(ws, doc, id, rx);
    }
    s.inflight++;
    const p: QueuedPublish = { patch, id, ifSeq, rx };
    if (lanes.enqueue(doc, p)) this.write(ws, lanes, doc, p);
  }

  /** sends the head of a doc's lane to the writer; its answer sends the next one */
  private write(ws: Socket, lanes: PublishLanes, doc: string, p: QueuedPublish): void {
    const s = ws.getUserData().session;
    this.opts.writer.write(doc, p.patch, p.id, p.ifSeq).then(
      (seq) => {
        s.inflight--;
        if (s.closed) return;
        this.sendFrame(ws, { type: 'ack', id: p.id ?? '', seq });
        const n = lanes.next(doc);
        if (n) this.write(ws, lanes, doc, n);
      },
      (err: { code?: string; message?: string }) => {
        s.inflight--;
        if (s.closed) return;
        const code = err.code ?? ErrorCode.Internal;
        this.sendFrame(ws, { type: 'error', code, message: err.message ?? 'publish failed', doc, id: p.id });
        if (!blocksLane(code)) {
          const n = lanes.next(doc);
          if (n) this.write(ws, lanes, doc, n);
          return;
        }
        const { queued, ok } = lanes.refuseQueued(doc, p.id, p.rx);
        s.inflight -= queued.length;
        for (const q of queued) this.refuseBehind(ws, doc, q.id, p.id ?? queued[0].id ?? '');
        if (!ok) this.tooManyBlocked(ws);
      },
    );
  }

  /** a publish refused because an earlier one of its doc was refused and has not come back yet */
  private refuseBehind(ws: Socket, doc: string, id: string | undefined, waitFor: string): void {
    this.sendFrame(ws, {
      type: 'error',
      code: ErrorCode.Unavailable,
      message: `an earlier publish to this doc (id ${waitFor}) was refused; send it again first`,
      doc,
      id,
    });
  }

  /** a publish of `doc` arriving at `rx` was refused with a transient code: later ones wait for it */
  private blockLane(ws: Socket, doc: string, id: string | undefined, rx: number): void {
    const s = ws.getUserData().session;
    if (!(s.lanes ??= new PublishLanes()).block(doc, id, rx)) this.tooManyBlocked(ws);
  }

  private tooManyBlocked(ws: Socket): void {
    this.forceClose(ws, CloseCode.Overloaded, `more than ${MAX_BLOCKED_DOCS} docs with a refused publish not sent again`, 'blocked_publishes');
  }

  private badFrame(ws: Socket, message: string): void {
    this.typeCounters.get('invalid')!.inc();
    this.sendFrame(ws, { type: 'error', code: ErrorCode.BadFrame, message });
  }

  private sendFrame(ws: Socket, f: ServerFrame): void {
    const s = ws.getUserData().session;
    if (s.closed) return;
    if (f.type === 'error') this.metrics.errors.labels(f.code).inc();
    const bin = s.proto === PROTO_BINARY;
    const bytes = encodeFor(s.proto, f);
    ws.cork(() => {
      ws.send(bytes, bin, false);
    });
  }

  private forceClose(ws: Socket, code: number, reason: string, label: string): void {
    const s = ws.getUserData().session;
    if (s.closed) return;
    this.metrics.closes.labels(label).inc();
    ws.end(code, reason);
  }
}

/** outstanding credit a connection may hold (window plus granted, minus sent) */
const MAX_CREDIT = 2 ** 31 - 1;

/** a refused upgrade or SSE request: readable cross-origin (the credential is a token, never a cookie) */
function httpError(res: HttpResponse, status: string, code: string, message: string, retryAfterSec?: number, allow?: string): void {
  answerJson(res, { done: false }, Number.parseInt(status, 10), errorBody(code, message), { retryAfterSec, allow, cors: true });
}
