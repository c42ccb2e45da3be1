/**
 * Local fan-out: one upstream subscription per document however many local subscribers, a mirror
 * of the document's state (to serve snapshots to joiners without asking upstream) and a bounded
 * history ring (to serve resumes and catch-ups). It also runs the client hop's flow control.
 *
 * Invariants and bounds:
 *  - Encode once: the ops of a doc pending for one flush are coalesced into as few deltas as the
 *    exact merge-patch composition allows (usually one), each encoded once per subprotocol; every
 *    active subscriber (all of them at the doc's `flushedSeq`) gets the very same bytes, one corked
 *    write per socket per flush. No closure is created per socket or per message. A JSON frame for
 *    several WebSockets is handed to uWS as bytes (one UTF-8 conversion per flush; uWS converts a
 *    string on every send).
 *  - Hot docs: a doc written at `hotFlushRate` ops/s or more is flushed every `hotFlushMs` instead
 *    of on the next event-loop turn (more ops per frame, fewer sends; latency up to hotFlushMs on
 *    hot docs only). Pending ops per doc are bounded: at MAX_PENDING_OPS ops or MAX_PENDING_BYTES
 *    (1 MiB) it flushes at once.
 *  - Per-socket sends, not uWS `app.publish` (issue 21, measured in docs/benchmarks.md): publish
 *    queues a frame in uWS's topic tree and writes it when uWS drains the tree at the end of the
 *    loop iteration, so no buffered amount or send status reaches JS; uWS reports only drops past
 *    maxBackpressure, far above `maxSendBuffer`. Keeping the bound below would need a
 *    getBufferedAmount pass over the sockets, and publish alone already cost 1-6 % more CPU per
 *    delivery than this loop: both make one write syscall per socket, which dominates.
 *  - Credit: after `hello{window}` a connection receives at most `window` data frames beyond the
 *    credit it granted (`Session.credit` is the remaining allowance); control frames never count.
 *  - Inactive connections: a connection out of credit, or whose uWS send buffer is over
 *    `maxSendBuffer`, is moved out of its docs' send sets: nothing is queued for it, only the seq it
 *    last received per subscribed doc is kept (`Session.lastSeqs`, O(subscriptions)). When it can
 *    send again (credit, uWS `drain`), every doc that moved on gets ONE frame to the latest state: a
 *    delta composed from the ring when the ring covers the client's seq, else a snapshot.
 *  - A buffer that stays over the bound for `slowConsumerTimeoutMs` closes the connection (4008);
 *    withholding credit never does.
 *  - A re-base (failover, a collapsed link backlog) whose history does not reach back to our seq
 *    is bridged with one delta from our state to the new one (diffMergePatch), so subscribers keep
 *    their chain; a snapshot goes only where no merge patch reaches the new state.
 *  - A receiver never goes backwards: a resume whose `lastSeq` is ahead of this gateway's copy
 *    waits (nothing is sent) until the doc has passed `lastSeq`, then gets what follows it.
 *  - Transports: a subscriber is a `Socket` (session.ts): a WebSocket of either subprotocol or an
 *    SSE stream (sse.ts). Its session's `proto` picks the encoding (JSON, protobuf, SSE event, each
 *    built once per delta and cached on it) and the send set; everything above is the same code.
 *    SSE streams never hold credit (they send no frames): only their buffer makes them inactive.
 *  - User-space bytes per connection: at most `maxSendBuffer` plus one flush's frames (the check
 *    runs after every send); uWS's own limit (maxBackpressure) sits far above as a safety net.
 *  - Per-user views (protocol views.ts): a reader whose view is not the whole doc joins a child
 *    LocalDoc of the doc, one per distinct view (at most MAX_VIEWS_PER_DOC; a further view is
 *    refused `unavailable`). A child holds the projected state and its own ring and chain: each
 *    upstream delta is projected once per child against the doc's state before it (no frame, not
 *    even an empty one, when the view sees no change), so a child's `prevSeq` is the seq of the
 *    last delta IT sent and its snapshots carry that seq. Everything below (coalescing, credit,
 *    catch-up, resume) runs on children unchanged, so each frame is encoded once per view.
 */
import { defineMetrics } from '@replicant/stream';
import {
  diffMergePatch,
  encodeServerBinary,
  encodeServerJson,
  isEmptyPatch,
  MAX_VIEWS_PER_DOC,
  sseEventText,
  type JsonObject,
  type SseDataEvent,
  type View,
} from '@replicant/protocol';
import {
  applyMergePatch,
  coalesceDeltas,
  DEFAULT_HISTORY_BUDGET_BYTES,
  DEFAULT_HISTORY_BYTES,
  Delta,
  deltaCost,
  HistoryBudget,
  HistoryRing,
  type Upstream,
  type UpstreamListener,
} from '@replicant/fanout';
import { INACTIVE_BUFFER, INACTIVE_CREDIT, PROTO_BINARY, PROTO_SSE, type Frame, type Proto, type Session, type Socket } from './session.js';

export interface LocalFanoutOptions {
  upstream: Upstream;
  /** deltas kept per doc for client resume (default 1024) */
  historySize?: number;
  /** bytes of history kept per doc (HISTORY_BYTES, default 1 MiB; fanout history-ring.ts) */
  historyBytes?: number;
  /** the process's history budget (HISTORY_BUDGET_BYTES; default: 256 MiB of this gateway's own) */
  historyBudget?: HistoryBudget;
  /** per-connection send buffer bound in bytes: over it the connection is inactive */
  maxSendBuffer: number;
  /** a send buffer over the bound for this long closes the connection (default 30000) */
  slowConsumerTimeoutMs?: number;
  /** coalesce pending ops into composed deltas (FANOUT_COALESCE, default true) */
  coalesce?: boolean;
  /** a hot doc's subscribers get its ops at most every this many ms (HOT_DOC_FLUSH_MS; default 10, 0 = off) */
  hotFlushMs?: number;
  /** ops/s from which a doc counts as hot for hotFlushMs (HOT_DOC_FLUSH_RATE; default 200) */
  hotFlushRate?: number;
  /** called for a connection whose send buffer stayed full too long (closes it with 4008) */
  onSlowConsumer: (ws: Socket) => void;
  /** called to tell a subscriber its subscription failed upstream */
  onDocError: (ws: Socket, doc: string, code: string, message: string) => void;
}

interface Waiter {
  ws: Socket;
  lastSeq: bigint | undefined;
}

/** composed catch-up deltas cached per doc (for a reconnect storm: one composition per distinct lastSeq) */
export const CATCH_UP_ENTRIES = 64;

/** bytes a cached catch-up entry is charged: a composed delta is new memory, a ring delta is shared */
const catchUpCost = (v: Delta | null): number => (v !== null && v.ops > 1 ? deltaCost(v) : 64);

/**
 * Hot-doc flush: a doc written at DEFAULT_HOT_FLUSH_RATE ops/s or more is flushed on a timer every
 * DEFAULT_HOT_FLUSH_MS instead of on the next event-loop turn, so each flush coalesces several ops
 * into one frame per subscriber (600 ops/s: ~6 per frame). A send is the cost that grows with
 * subscribers; this trades at most hotFlushMs of latency on hot docs only for 1/ops-per-frame of
 * the sends. The rate is judged over windows of HOT_RATE_WINDOW_MS.
 */
export const DEFAULT_HOT_FLUSH_MS = 10;
export const DEFAULT_HOT_FLUSH_RATE = 200;
const HOT_RATE_WINDOW_MS = 250;
/** a doc's pending ops are flushed at once when they reach this many, or this many bytes (deltaCost) */
export const MAX_PENDING_OPS = 256;
export const MAX_PENDING_BYTES = 1024 * 1024;

/** a connection's seq for a doc meaning "has nothing usable: send a snapshot" */
const NEEDS_SNAPSHOT = -1n;

const localFanoutMetrics = defineMetrics((m) => ({
  inactive: m.gauge({ name: 'replicant_gateway_inactive_connections', help: 'Connections out of credit or over their send-buffer bound (nothing queued for them)' }),
  catchUps: m.counter({ name: 'replicant_gateway_catchup_frames_total', help: 'One-frame catch-ups sent to connections that became active again or resumed', labelNames: ['kind'] }),
  coalesced: m.histogram({
    name: 'replicant_gateway_coalesced_ops',
    help: 'Ops covered by each delta a flush sent (1 = nothing coalesced)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024],
  }),
  resumeAhead: m.counter({ name: 'replicant_gateway_resume_ahead_total', help: 'Resumes with a lastSeq ahead of this gateway (held until it caught up)' }),
  // counted per flushed delta, not per socket: with per-user views it shows frames encoded once per view
  encodes: m.counter({
    name: 'replicant_gateway_delta_encodes_total',
    help: 'Delta frames a flush encoded for its subscribers: one per flushed delta per subprotocol per doc or view child (per-user views: once per view that changed)',
    labelNames: ['proto'],
  }),
}));

class LocalDoc {
  seq = 0n;
  /** the seq every active subscriber is at (seq minus the pending ops) */
  flushedSeq = 0n;
  state: JsonObject | undefined; // undefined until the upstream base arrives
  // active subscribers, split by subprotocol and by flow control, so the send loops need no
  // per-socket lookup: without credit (no hello) and with credit
  readonly json = new Set<Socket>();
  readonly bin = new Set<Socket>();
  readonly credJson = new Set<Socket>();
  readonly credBin = new Set<Socket>();
  /** SSE streams (never credited: an SSE client sends no frames) */
  readonly sse = new Set<Socket>();
  /** inactive subscribers (their seq is in their Session.lastSeqs) */
  readonly idle = new Set<Socket>();
  /** before the base arrived, or resumes ahead of us */
  waiting: Waiter[] = [];
  /** ops after flushedSeq, sent at the next flush */
  pending: Delta[] = [];
  /** deltaCost of `pending` (bounded with its count: MAX_PENDING_OPS, MAX_PENDING_BYTES) */
  pendingBytes = 0;
  queued = false;
  /** write-rate estimate for the hot flush: ops applied since `rateSince` (ms), and the verdict */
  rateOps = 0;
  rateSince = 0;
  hot = false;
  // snapshot encodings of (seq, state), built on demand and dropped on the next delta
  snapText: string | undefined;
  snapJson: string | undefined;
  snapBin: Uint8Array | undefined;
  snapSse: SseDataEvent | undefined;
  /**
   * composed catch-up deltas to `seq` by the receiver's seq (null = not composable); reset per seq,
   * at most CATCH_UP_ENTRIES entries and the doc's history bytes, oldest evicted first
   */
  catchUp: Map<bigint, Delta | null> | undefined;
  catchUpSeq = -1n;
  catchUpBytes = 0;
  /** per-user views: the children of a doc, by view key */
  children: Map<string, LocalDoc> | undefined;
  /** a child: its view and its doc */
  view: View | undefined;
  parent: LocalDoc | undefined;
  constructor(
    readonly doc: string,
    readonly ring: HistoryRing,
  ) {}
  get active(): number {
    return this.json.size + this.bin.size + this.credJson.size + this.credBin.size + this.sse.size;
  }
  get size(): number {
    return this.active + this.idle.size;
  }
}

// Send state lives at module level so the per-socket cork callback is one function, not a
// closure per socket per flush.
let curFrames: Frame[] = [];
let curCount = 0;
let curBinary = false;
let curWs: Socket | undefined;
/** 1 = all sent, 0 = backpressure built up, 2 = uWS dropped a frame */
let curStatus = 1;
function sendCurrent(): void {
  const ws = curWs!;
  for (let i = 0; i < curCount; i++) {
    const st = ws.send(curFrames[i], curBinary, false);
    if (st !== 1 && curStatus !== 2) curStatus = st;
  }
}

/** a delta's frame for a subprotocol, encoded once per delta (cached on it) */
function deltaFrame(r: Delta, proto: Proto): Frame {
  return proto === PROTO_BINARY ? r.binaryFrame() : proto === PROTO_SSE ? r.sseFrame() : r.jsonFrame();
}

export class LocalFanout implements UpstreamListener {
  private readonly metrics = localFanoutMetrics();
  private readonly catchUpDelta = this.metrics.catchUps.labels('delta');
  private readonly catchUpSnapshot = this.metrics.catchUps.labels('snapshot');
  private readonly encodesJson = this.metrics.encodes.labels('json');
  private readonly encodesBinary = this.metrics.encodes.labels('binary');
  private readonly encodesSse = this.metrics.encodes.labels('sse');
  private readonly docs = new Map<string, LocalDoc>();
  private readonly dirty: LocalDoc[] = [];
  private flushScheduled = false;
  /** hot docs waiting for the hot-flush timer */
  private readonly hotDirty: LocalDoc[] = [];
  private hotTimer: NodeJS.Timeout | undefined;
  private readonly hotFlushMs: number;
  private readonly hotFlushRate: number;
  private readonly historySize: number;
  private readonly historyBytes: number;
  private readonly historyBudget: HistoryBudget;
  private readonly coalesce: boolean;
  private readonly slowMs: number;
  /** an inactive-by-buffer connection is resumed once its buffer is at or below this */
  private readonly lowWater: number;
  /** connections inactive because of their send buffer (swept for the slow-consumer timeout) */
  private readonly stalled = new Set<Socket>();
  private sweepTimer: NodeJS.Timeout | undefined;
  // connections found over their bound during a send loop, parked after it
  private parkWs: Socket[] = [];
  private parkSeq: bigint[] = [];
  /** messages handed to sockets (deliveries), read by metrics */
  deliveries = 0;
  slowConsumers = 0;
  /** connections currently inactive */
  inactiveCount = 0;
  /** catch-up frames sent, by kind */
  catchUpDeltas = 0;
  catchUpSnapshots = 0;

  constructor(private readonly opts: LocalFanoutOptions) {
    this.historySize = opts.historySize ?? 1024;
    this.historyBytes = opts.historyBytes ?? DEFAULT_HISTORY_BYTES;
    this.historyBudget = opts.historyBudget ?? new HistoryBudget(DEFAULT_HISTORY_BUDGET_BYTES);
    this.coalesce = opts.coalesce ?? true;
    this.hotFlushMs = opts.hotFlushMs ?? DEFAULT_HOT_FLUSH_MS;
    this.hotFlushRate = opts.hotFlushRate ?? DEFAULT_HOT_FLUSH_RATE;
    this.slowMs = opts.slowConsumerTimeoutMs ?? 30_000;
    this.lowWater = Math.floor(opts.maxSendBuffer / 2);
    this.metrics.inactive.set(0);
  }

  get docCount(): number {
    return this.docs.size;
  }

  /** this gateway's subscribers of `doc` (the console's inspector; one map lookup) */
  subscriberCount(doc: string): number {
    const d = this.docs.get(doc);
    if (!d) return 0;
    let n = d.size;
    if (d.children) for (const c of d.children.values()) n += c.size;
    return n;
  }

  /** the LocalDoc `ws` reads `doc` through: its view's child, or the doc */
  private docOf(ws: Socket, doc: string): LocalDoc | undefined {
    const v = ws.getUserData().session.viewDocs?.get(doc);
    return v !== undefined ? (v as LocalDoc) : this.docs.get(doc);
  }

  /** the key of the view `ws` reads `doc` through ('' = the whole doc) */
  viewKeyOf(ws: Socket, doc: string): string {
    return (ws.getUserData().session.viewDocs?.get(doc) as LocalDoc | undefined)?.view?.key ?? '';
  }

  subscribe(ws: Socket, doc: string, lastSeq: bigint | undefined, view?: View): void {
    let d = this.docs.get(doc);
    const fresh = !d;
    if (!d) {
      d = new LocalDoc(doc, new HistoryRing(this.historySize, this.historyBytes, this.historyBudget));
      this.docs.set(doc, d);
    }
    if (view !== undefined && !view.all) {
      let c = d.children?.get(view.key);
      if (!c) {
        if ((d.children?.size ?? 0) >= MAX_VIEWS_PER_DOC) {
          if (fresh) this.docs.delete(doc);
          this.opts.onDocError(ws, doc, 'unavailable', `more than ${MAX_VIEWS_PER_DOC} distinct views of this doc at this gateway`);
          return;
        }
        c = new LocalDoc(doc, new HistoryRing(this.historySize, this.historyBytes, this.historyBudget));
        c.view = view;
        c.parent = d;
        (d.children ??= new Map()).set(view.key, c);
        if (d.state !== undefined) this.setBase(c, d.seq, view.projectState(d.state), []);
      }
      (ws.getUserData().session.viewDocs ??= new Map()).set(doc, c);
      if (c.state === undefined) c.waiting.push({ ws, lastSeq });
      else this.join(ws, c, lastSeq);
      if (fresh) this.upstreamSubscribe(d);
      return;
    }
    if (fresh) {
      // waiting before the upstream is asked: it may answer synchronously, with the base (the
      // waiter joins) or with an error (e.g. an in-process replica that does not serve the doc's
      // partition or is shutting down: onError tells the waiter and drops the doc)
      d.waiting.push({ ws, lastSeq });
      this.upstreamSubscribe(d);
      return;
    }
    if (d.state === undefined) {
      d.waiting.push({ ws, lastSeq });
      return;
    }
    this.join(ws, d, lastSeq);
  }

  private upstreamSubscribe(d: LocalDoc): void {
    try {
      this.opts.upstream.subscribe(d.doc, this);
    } catch (err) {
      console.error(`gateway: upstream subscribe of ${d.doc} failed: ${(err as Error).message}`);
      this.opts.upstream.unsubscribe(d.doc, this);
      this.onError(d.doc, 'unavailable', 'subscription failed; retry');
    }
  }

  unsubscribe(ws: Socket, doc: string): void {
    const s = ws.getUserData().session;
    let d = this.docOf(ws, doc);
    if (!d) return;
    s.lastSeqs?.delete(doc);
    if (!this.removeActive(ws, d) && !d.idle.delete(ws)) d.waiting = d.waiting.filter((w) => w.ws !== ws);
    if (d.parent) {
      s.viewDocs!.delete(doc);
      const c = d;
      d = c.parent!;
      if (c.size > 0 || c.waiting.length > 0) return;
      d.children!.delete(c.view!.key);
      c.ring.clear();
    }
    if (d.size === 0 && d.waiting.length === 0 && (d.children?.size ?? 0) === 0) {
      this.docs.delete(doc);
      d.ring.clear(); // its bytes go back to the budget
      this.opts.upstream.unsubscribe(doc, this);
    }
  }

  /** `hello{window}`: from now on the connection gets data frames only within its credit */
  setWindow(ws: Socket, window: number): void {
    const s = ws.getUserData().session;
    s.credit = window;
    if (s.inactive !== 0 || !s.subs) return;
    for (const doc of s.subs) {
      const d = this.docOf(ws, doc);
      if (d && this.removeActive(ws, d)) this.addActive(ws, s, d); // now into the credited set
    }
  }

  /** `credit{n}` */
  addCredit(ws: Socket, n: number): void {
    const s = ws.getUserData().session;
    s.credit += n;
    if (s.inactive !== 0) this.activate(ws);
  }

  /** uWS `drain`: the send buffer went down */
  onDrain(ws: Socket): void {
    const s = ws.getUserData().session;
    if ((s.inactive & INACTIVE_BUFFER) !== 0) this.activate(ws);
  }

  /** the connection closed (after the gateway unsubscribed its docs) */
  onClose(ws: Socket): void {
    const s = ws.getUserData().session;
    if (s.inactive !== 0) this.inactiveCount--;
    s.inactive = 0;
    s.lastSeqs = undefined;
    this.stalled.delete(ws);
    this.metrics.inactive.set(this.inactiveCount);
  }

  /** flow-control state of one connection (tests, admin) */
  connectionState(ws: Socket): { inactive: number; credit: number; trackedDocs: number; buffered: number } {
    const s = ws.getUserData().session;
    return { inactive: s.inactive, credit: s.credit, trackedDocs: s.lastSeqs?.size ?? 0, buffered: s.closed ? 0 : ws.getBufferedAmount() };
  }

  /** stops the sweep and gives every doc's history back to the budget (shared with a replica in dev) */
  close(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    if (this.hotTimer) clearTimeout(this.hotTimer);
    this.hotTimer = undefined;
    for (const d of this.docs.values()) d.ring.clear();
  }

  // ---- UpstreamListener ----

  onBase(doc: string, seq: bigint, state: JsonObject, history: Delta[]): void {
    const d = this.docs.get(doc);
    if (!d) return;
    if (d.state !== undefined && seq <= d.seq) {
      // A re-base that is not ahead of us (e.g. a failover replica still catching up): keep our
      // state; its deltas up to our seq are ignored and the next one chains on our seq.
    } else if (d.state !== undefined) {
      // Re-base after an upstream resync or failover: continue with deltas when the new history
      // reaches back to what our subscribers have, else give everyone a fresh snapshot.
      const tmp = new HistoryRing(history.length);
      for (const h of history) tmp.push(h);
      const missing = tmp.since(d.seq, seq);
      const bridge = missing ? undefined : this.bridge(d, seq, state, history);
      if (missing) {
        for (const m of missing) this.onDelta(m);
      } else if (bridge !== undefined) {
        this.onDelta(bridge);
      } else {
        if (d.pending.length > 0) this.flushDoc(d);
        this.setBase(d, seq, state, history);
        this.snapshotAll(d);
        this.rebaseChildren(d);
      }
    } else {
      this.setBase(d, seq, state, history);
      this.rebaseChildren(d);
    }
    this.admitWaiters(d);
  }

  private snapshotAll(d: LocalDoc): void {
    for (const set of [d.json, d.bin, d.credJson, d.credBin, d.sse]) {
      for (const ws of [...set]) this.deliverCatchUp(ws, ws.getUserData().session, d, NEEDS_SNAPSHOT);
    }
    this.applyParks();
  }

  /** the doc took a new base: each view child continues with one delta to its projection of it, or a snapshot */
  private rebaseChildren(d: LocalDoc): void {
    if (!d.children) return;
    for (const c of d.children.values()) {
      const proj = c.view!.projectState(d.state!);
      if (c.state === undefined) {
        this.setBase(c, d.seq, proj, []);
        this.admitWaiters(c);
        continue;
      }
      const patch = diffMergePatch(c.state, proj) as JsonObject | undefined;
      if (patch !== undefined && isEmptyPatch(patch)) continue;
      if (patch !== undefined) {
        this.applyDelta(c, new Delta(c.doc, d.seq, c.seq, JSON.stringify(patch), patch, Date.now()));
        continue;
      }
      if (c.pending.length > 0) this.flushDoc(c);
      this.setBase(c, d.seq, proj, []);
      this.snapshotAll(c);
      this.admitWaiters(c);
    }
  }

  /**
   * One delta from our state at d.seq to the re-base's state at `seq`, for when its history does
   * not reach back to d.seq: a failover replica that loaded the doc cold, from a checkpoint newer
   * than what the dead replica had delivered to us. It keeps every subscriber's chain where a
   * snapshot would resync them all (a delta may cover several ops). Its size is bounded by the two
   * states' (changed members of the new one, a null per member gone). Undefined, so a snapshot goes
   * instead, when no merge patch reaches the state.
   */
  private bridge(d: LocalDoc, seq: bigint, state: JsonObject, history: Delta[]): Delta | undefined {
    const patch = diffMergePatch(d.state!, state) as JsonObject | undefined;
    if (patch === undefined) return undefined;
    const text = JSON.stringify(patch);
    const tsMs = history.length > 0 ? history[history.length - 1].tsMs : Date.now();
    return new Delta(d.doc, seq, d.seq, text, patch, tsMs);
  }

  onDelta(delta: Delta): void {
    const d = this.docs.get(delta.doc);
    if (!d || d.state === undefined || delta.seq <= d.seq) return;
    if (delta.prevSeq !== d.seq) {
      // Upstream skipped something: never forward a gap; resubscribe to get a new base.
      this.opts.upstream.unsubscribe(d.doc, this);
      this.opts.upstream.subscribe(d.doc, this);
      return;
    }
    if (d.children) {
      // each view sees the delta projected against the state before it; nothing when it sees no change
      for (const c of d.children.values()) {
        if (c.state === undefined) continue;
        const pp = c.view!.projectPatch(delta.patchObj, d.state);
        if (!isEmptyPatch(pp)) this.applyDelta(c, new Delta(c.doc, delta.seq, c.seq, JSON.stringify(pp), pp, delta.tsMs));
      }
    }
    this.applyDelta(d, delta);
  }

  /** `delta` (chained on d.seq) is applied to d and queued for its subscribers */
  private applyDelta(d: LocalDoc, delta: Delta): void {
    d.state = applyMergePatch(d.state, delta.patchObj) as JsonObject;
    d.seq = delta.seq;
    d.ring.push(delta);
    d.snapText = d.snapJson = d.snapBin = d.snapSse = undefined;
    if (d.active === 0) d.flushedSeq = d.seq;
    else {
      d.pending.push(delta);
      d.pendingBytes += deltaCost(delta);
      d.rateOps++;
      if (d.pending.length >= MAX_PENDING_OPS || d.pendingBytes >= MAX_PENDING_BYTES) this.flushDoc(d);
      else if (!d.queued) {
        d.queued = true;
        if (this.hotFlushMs > 0 && this.isHot(d)) {
          this.hotDirty.push(d);
          if (this.hotTimer === undefined) this.hotTimer = setTimeout(this.flushHot, this.hotFlushMs);
        } else {
          this.dirty.push(d);
          if (!this.flushScheduled) {
            this.flushScheduled = true;
            setImmediate(this.flush);
          }
        }
      }
    }
    if (d.waiting.length > 0) this.admitWaiters(d);
  }

  onError(doc: string, code: string, message: string): void {
    const d = this.docs.get(doc);
    if (!d) return;
    this.docs.delete(doc);
    d.ring.clear();
    for (const set of [d.json, d.bin, d.credJson, d.credBin, d.sse, d.idle]) {
      for (const ws of set) {
        ws.getUserData().session.lastSeqs?.delete(doc);
        this.opts.onDocError(ws, doc, code, message);
      }
    }
    for (const w of d.waiting) this.opts.onDocError(w.ws, doc, code, message);
    if (!d.children) return;
    for (const c of d.children.values()) {
      c.ring.clear();
      for (const set of [c.json, c.bin, c.credJson, c.credBin, c.sse, c.idle]) {
        for (const ws of set) {
          const s = ws.getUserData().session;
          s.lastSeqs?.delete(doc);
          s.viewDocs?.delete(doc);
          this.opts.onDocError(ws, doc, code, message);
        }
      }
      for (const w of c.waiting) {
        w.ws.getUserData().session.viewDocs?.delete(doc);
        this.opts.onDocError(w.ws, doc, code, message);
      }
    }
  }

  // ---- joining ----

  private setBase(d: LocalDoc, seq: bigint, state: JsonObject, history: Delta[]): void {
    d.state = structuredClone(state); // upstream keeps mutating its own copy
    d.seq = seq;
    d.flushedSeq = seq;
    d.ring.clear();
    for (const h of history) d.ring.push(h);
    d.snapText = d.snapJson = d.snapBin = d.snapSse = undefined;
    d.catchUp = undefined;
    d.catchUpBytes = 0;
  }

  /** waiters whose lastSeq this doc has reached join; those ahead of it keep waiting */
  private admitWaiters(d: LocalDoc): void {
    if (d.state === undefined) return;
    const waiting = d.waiting;
    d.waiting = [];
    for (const w of waiting) {
      if (w.lastSeq !== undefined && w.lastSeq > d.seq) d.waiting.push(w);
      else this.join(w.ws, d, w.lastSeq);
    }
  }

  /** a subscriber joins a doc whose base is here: catch it up from lastSeq, then send it live ops */
  private join(ws: Socket, d: LocalDoc, lastSeq: bigint | undefined): void {
    const s = ws.getUserData().session;
    if (s.closed) return;
    if (lastSeq !== undefined && lastSeq > d.seq) {
      // the client has seen more than we have (e.g. its gateway died and our copy lags): a
      // snapshot now would take it backwards, so it gets nothing until we passed its seq
      this.metrics.resumeAhead.inc();
      d.waiting.push({ ws, lastSeq });
      return;
    }
    const from = lastSeq ?? NEEDS_SNAPSHOT;
    if (s.inactive !== 0) {
      // caught up with its other docs when it can receive again
      d.idle.add(ws);
      s.lastSeqs!.set(d.doc, from);
      return;
    }
    if (d.pending.length > 0) this.flushDoc(d); // so the catch-up target is d.seq for everyone
    if (from !== d.seq) {
      if (s.credit === Infinity && from !== NEEDS_SNAPSHOT && this.sendMissed(ws, s, d, from)) {
        this.addActive(ws, s, d);
        this.applyParks();
        return;
      }
      this.addActive(ws, s, d);
      this.deliverCatchUp(ws, s, d, from);
    } else {
      this.addActive(ws, s, d);
    }
    this.applyParks();
  }

  /**
   * A resume of a connection without flow control: the missed ops as coalesced deltas (several
   * frames only where composition had to split, or all of them with coalescing off). False when
   * the ring does not cover `from` (the caller sends a snapshot).
   */
  private sendMissed(ws: Socket, s: Session, d: LocalDoc, from: bigint): boolean {
    const missed = d.ring.since(from, d.seq);
    if (missed === undefined) return false;
    const one = this.coalesce ? this.composedSince(d, from) : missed.length === 1 ? missed[0] : undefined;
    const runs = one !== undefined ? [one] : this.coalesce ? coalesceDeltas(missed)! : missed;
    const bin = s.proto === PROTO_BINARY;
    curFrames = runs.map((r) => deltaFrame(r, s.proto));
    this.catchUpDelta.inc(runs.length);
    this.catchUpDeltas += runs.length;
    this.sendTo(ws, curFrames.length, bin);
    this.checkAfterSend(ws, s, d, d.seq);
    return true;
  }

  /**
   * One data frame bringing `ws` from `from` to d.seq: the composed delta when the ring covers
   * `from` and the ops compose exactly, else a snapshot. The caller has flushed d.
   */
  private deliverCatchUp(ws: Socket, s: Session, d: LocalDoc, from: bigint): void {
    const bin = s.proto === PROTO_BINARY;
    const delta = from === NEEDS_SNAPSHOT ? undefined : this.composedSince(d, from);
    if (delta !== undefined) {
      curFrames = [deltaFrame(delta, s.proto)];
      this.catchUpDelta.inc();
      this.catchUpDeltas++;
    } else {
      curFrames = [this.snapshotFrame(d, s.proto)];
      if (from !== NEEDS_SNAPSHOT) {
        this.catchUpSnapshot.inc();
        this.catchUpSnapshots++;
      }
    }
    this.sendTo(ws, 1, bin);
    if (s.credit !== Infinity) s.credit--;
    this.checkAfterSend(ws, s, d, d.seq);
  }

  /**
   * The one delta from `from` to d.seq, cached per seq: a reconnect storm composes once per lastSeq.
   * Bounded (defect 4 of issue 17): only seqs the ring covers are cached (others are a binary search
   * away from their answer, a snapshot), at most CATCH_UP_ENTRIES per doc and the doc's history
   * bytes of composed deltas, oldest evicted first; all dropped at the doc's next op.
   */
  private composedSince(d: LocalDoc, from: bigint): Delta | undefined {
    if (d.catchUpSeq !== d.seq) {
      d.catchUp = undefined;
      d.catchUpBytes = 0;
      d.catchUpSeq = d.seq;
    }
    const hit = d.catchUp?.get(from);
    if (hit !== undefined) return hit ?? undefined;
    const missed = d.ring.since(from, d.seq);
    if (missed === undefined || missed.length === 0) return undefined;
    const one = this.coalesce ? coalesceDeltas(missed, 1)?.[0] : missed.length === 1 ? missed[0] : undefined;
    const cost = catchUpCost(one ?? null);
    if (cost > this.historyBytes) return one;
    const cache = (d.catchUp ??= new Map());
    cache.set(from, one ?? null);
    d.catchUpBytes += cost;
    while (cache.size > CATCH_UP_ENTRIES || d.catchUpBytes > this.historyBytes) {
      const [oldest, v] = cache.entries().next().value as [bigint, Delta | null];
      cache.delete(oldest);
      d.catchUpBytes -= catchUpCost(v);
    }
    return one;
  }

  private snapshotFrame(d: LocalDoc, proto: Proto): Frame {
    d.snapText ??= JSON.stringify(d.state);
    if (proto === PROTO_BINARY) return (d.snapBin ??= encodeServerBinary({ type: 'snapshot', doc: d.doc, seq: d.seq, state: d.snapText }));
    d.snapJson ??= encodeServerJson({ type: 'snapshot', doc: d.doc, seq: d.seq, state: d.snapText });
    if (proto === PROTO_SSE) return (d.snapSse ??= { doc: d.doc, seq: d.seq.toString(), text: sseEventText('snapshot', d.snapJson) });
    return d.snapJson;
  }

  // ---- active / inactive ----

  private addActive(ws: Socket, s: Session, d: LocalDoc): void {
    if (s.proto === PROTO_SSE) {
      d.sse.add(ws);
      return;
    }
    const bin = s.proto === PROTO_BINARY;
    if (s.credit === Infinity) (bin ? d.bin : d.json).add(ws);
    else (bin ? d.credBin : d.credJson).add(ws);
  }

  private removeActive(ws: Socket, d: LocalDoc): boolean {
    return d.json.delete(ws) || d.bin.delete(ws) || d.credJson.delete(ws) || d.credBin.delete(ws) || d.sse.delete(ws);
  }

  /** after a send to one socket (curStatus set): park it when out of credit or over its bound */
  private checkAfterSend(ws: Socket, s: Session, d: LocalDoc, seqIfSent: bigint): void {
    if (curStatus === 2) this.queuePark(ws, NEEDS_SNAPSHOT); // uWS dropped it: the client needs a snapshot
    else if (curStatus === 0 && ws.getBufferedAmount() > this.opts.maxSendBuffer) this.queuePark(ws, seqIfSent);
    else if (s.credit <= 0) this.queuePark(ws, seqIfSent);
    this.parkDoc = d; // the seq is for `d`; other docs are at their flushedSeq
  }

  private parkDoc: LocalDoc | undefined;

  private queuePark(ws: Socket, seq: bigint): void {
    this.parkWs.push(ws);
    this.parkSeq.push(seq);
  }

  /** parks the connections queued by the last send loop (all for the doc `parkDoc`) */
  private applyParks(): void {
    const d = this.parkDoc;
    this.parkDoc = undefined;
    if (this.parkWs.length === 0) return;
    const wss = this.parkWs;
    const seqs = this.parkSeq;
    this.parkWs = [];
    this.parkSeq = [];
    for (let i = 0; i < wss.length; i++) this.park(wss[i], d!, seqs[i]);
  }

  /**
   * Makes a connection inactive: out of every doc's send set, remembering per doc only the seq it
   * has (for `d`: `seq`; for the others: their flushedSeq, which every active subscriber is at).
   */
  private park(ws: Socket, d: LocalDoc, seq: bigint): void {
    const s = ws.getUserData().session;
    if (s.closed) return;
    let reason = 0;
    if (s.credit <= 0) reason |= INACTIVE_CREDIT;
    if (seq === NEEDS_SNAPSHOT || ws.getBufferedAmount() > this.opts.maxSendBuffer) reason |= INACTIVE_BUFFER;
    if (reason === 0) return;
    if ((reason & INACTIVE_BUFFER) !== 0 && s.fullSince === 0) {
      s.fullSince = Date.now();
      this.stalled.add(ws);
      this.armSweep();
    }
    if (s.inactive !== 0) {
      // already inactive (a catch-up in progress): just record what this doc got
      s.inactive |= reason;
      if (s.lastSeqs!.has(d.doc)) s.lastSeqs!.set(d.doc, seq);
      return;
    }
    s.inactive = reason;
    this.inactiveCount++;
    this.metrics.inactive.set(this.inactiveCount);
    const seqs = (s.lastSeqs = new Map());
    if (s.subs) {
      for (const doc of s.subs) {
        const x = this.docOf(ws, doc);
        if (x === undefined || !this.removeActive(ws, x)) continue; // waiting docs join later
        x.idle.add(ws);
        seqs.set(doc, x === d ? seq : x.flushedSeq);
      }
    }
  }

  /**
   * Credit arrived or the buffer drained: every doc that moved on gets one frame to its latest
   * state; once all are current and the connection still has credit and room, it is active again.
   */
  private activate(ws: Socket): void {
    const s = ws.getUserData().session;
    if (s.closed || s.inactive === 0) return;
    if ((s.inactive & INACTIVE_BUFFER) !== 0) {
      if (ws.getBufferedAmount() > this.lowWater) return;
      s.inactive &= ~INACTIVE_BUFFER;
      s.fullSince = 0;
      this.stalled.delete(ws);
    }
    if (s.credit > 0) s.inactive &= ~INACTIVE_CREDIT;
    if (s.inactive !== 0) return;
    const seqs = s.lastSeqs!;
    for (const [doc, seq] of seqs) {
      const d = this.docOf(ws, doc);
      if (d === undefined || d.state === undefined) {
        seqs.delete(doc);
        continue;
      }
      if (d.pending.length > 0) this.flushDoc(d); // its active subscribers first; then d.flushedSeq = d.seq
      if (seq === d.seq) continue;
      this.deliverCatchUp(ws, s, d, seq);
      seqs.set(doc, d.seq);
      const over = curStatus === 2 || (curStatus === 0 && ws.getBufferedAmount() > this.opts.maxSendBuffer);
      // decided here rather than by a park: the connection is already out of the send sets
      this.parkWs = [];
      this.parkSeq = [];
      this.parkDoc = undefined;
      if (over || s.credit <= 0) {
        if (curStatus === 2) seqs.set(doc, NEEDS_SNAPSHOT);
        s.inactive = (s.credit <= 0 ? INACTIVE_CREDIT : 0) | (over ? INACTIVE_BUFFER : 0);
        if (over && s.fullSince === 0) {
          s.fullSince = Date.now();
          this.stalled.add(ws);
          this.armSweep();
        }
        return; // still inactive; the remaining docs are caught up at the next chance
      }
    }
    // everything current: back into the send sets
    for (const doc of seqs.keys()) {
      const d = this.docOf(ws, doc)!;
      d.idle.delete(ws);
      this.addActive(ws, s, d);
    }
    s.lastSeqs = undefined;
    this.inactiveCount--;
    this.metrics.inactive.set(this.inactiveCount);
  }

  private armSweep(): void {
    if (this.sweepTimer) return;
    const every = Math.max(10, Math.min(1000, Math.floor(this.slowMs / 4)));
    this.sweepTimer = setInterval(this.sweep, every);
    this.sweepTimer.unref();
  }

  /** slow-consumer timeout for connections whose buffer stays full; a missed drain is caught here too */
  private readonly sweep = (): void => {
    const now = Date.now();
    for (const ws of this.stalled) {
      const s = ws.getUserData().session;
      if (s.closed || (s.inactive & INACTIVE_BUFFER) === 0) {
        this.stalled.delete(ws);
        continue;
      }
      if (ws.getBufferedAmount() <= this.lowWater) this.activate(ws);
      else if (now - s.fullSince >= this.slowMs) {
        this.stalled.delete(ws);
        this.slowConsumers++;
        this.opts.onSlowConsumer(ws);
      }
    }
    if (this.stalled.size === 0 && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  };

  // ---- sending ----

  /** sends curFrames[0..count) to one socket, corked; sets curStatus */
  private sendTo(ws: Socket, count: number, binary: boolean): void {
    curWs = ws;
    curBinary = binary;
    curCount = count;
    curStatus = 1;
    ws.cork(sendCurrent);
    this.deliveries += count;
    curWs = undefined;
  }

  private flushDoc(d: LocalDoc): void {
    d.queued = false;
    const pend = d.pending;
    d.pending = [];
    d.pendingBytes = 0;
    if (pend.length === 0) return;
    const runs = this.coalesce && pend.length > 1 ? coalesceDeltas(pend)! : pend;
    for (let i = 0; i < runs.length; i++) this.metrics.coalesced.observe(runs[i].ops);
    d.flushedSeq = d.seq;
    this.parkDoc = d;
    if (d.json.size > 0 || d.credJson.size > 0) {
      // uWS converts a JS string to UTF-8 on every send: with several sockets, convert once
      const once = d.json.size + d.credJson.size > 1;
      const frames = runs.map((r) => (once ? Buffer.from(r.jsonFrame()) : r.jsonFrame()));
      this.encodesJson.inc(runs.length);
      if (d.json.size > 0) this.sendAll(d.json, frames, false, d.seq);
      if (d.credJson.size > 0) this.sendCredited(d.credJson, frames, runs, false);
    }
    if (d.bin.size > 0 || d.credBin.size > 0) {
      const frames = runs.map((r) => r.binaryFrame());
      this.encodesBinary.inc(runs.length);
      if (d.bin.size > 0) this.sendAll(d.bin, frames, true, d.seq);
      if (d.credBin.size > 0) this.sendCredited(d.credBin, frames, runs, true);
    }
    if (d.sse.size > 0) {
      this.encodesSse.inc(runs.length);
      this.sendAll(d.sse, runs.map((r) => r.sseFrame()), false, d.seq);
    }
    this.applyParks();
  }

  /**
   * The hot loop: the same frames to every socket of one subprotocol without flow control. One
   * frame goes out with a single native call per socket; several are corked into one write. The
   * buffered amount is only read when uWS reports built-up backpressure.
   */
  private sendAll(subs: Set<Socket>, frames: Frame[], binary: boolean, seq: bigint): void {
    const max = this.opts.maxSendBuffer;
    if (frames.length === 1) {
      const f = frames[0];
      for (const ws of subs) {
        const st = ws.send(f, binary, false);
        if (st !== 1) {
          if (st === 2) this.queuePark(ws, NEEDS_SNAPSHOT);
          else if (ws.getBufferedAmount() > max) this.queuePark(ws, seq);
        }
      }
    } else {
      curFrames = frames;
      curCount = frames.length;
      curBinary = binary;
      for (const ws of subs) {
        curWs = ws;
        curStatus = 1;
        ws.cork(sendCurrent);
        if (curStatus !== 1) {
          if (curStatus === 2) this.queuePark(ws, NEEDS_SNAPSHOT);
          else if (ws.getBufferedAmount() > max) this.queuePark(ws, seq);
        }
      }
      curWs = undefined;
    }
    this.deliveries += frames.length * subs.size;
  }

  /** the same frames to connections with credit: each gets what its credit allows, then parks at 0 */
  private sendCredited(subs: Set<Socket>, frames: Frame[], runs: Delta[], binary: boolean): void {
    const max = this.opts.maxSendBuffer;
    curFrames = frames;
    curBinary = binary;
    for (const ws of subs) {
      const s = ws.getUserData().session;
      const n = s.credit < frames.length ? s.credit : frames.length;
      s.credit -= n;
      curWs = ws;
      curCount = n;
      curStatus = 1;
      ws.cork(sendCurrent);
      this.deliveries += n;
      if (curStatus === 2) this.queuePark(ws, NEEDS_SNAPSHOT);
      else if (s.credit <= 0 || (curStatus === 0 && ws.getBufferedAmount() > max)) this.queuePark(ws, runs[n - 1].seq);
    }
    curWs = undefined;
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const dirty = this.dirty.splice(0);
    for (const d of dirty) if (d.queued) this.flushDoc(d);
  };

  private readonly flushHot = (): void => {
    this.hotTimer = undefined;
    const dirty = this.hotDirty.splice(0);
    for (const d of dirty) if (d.queued) this.flushDoc(d);
  };

  /**
   * Whether `d` is written at hotFlushRate or more, re-judged once per HOT_RATE_WINDOW_MS from the
   * ops applied in the window (called once per flush a doc queues, not per op).
   */
  private isHot(d: LocalDoc): boolean {
    const now = Date.now();
    const span = now - d.rateSince;
    if (span >= HOT_RATE_WINDOW_MS) {
      d.hot = d.rateOps * 1000 >= this.hotFlushRate * span;
      d.rateOps = 0;
      d.rateSince = now;
    }
    return d.hot;
  }
}
