/**
 * Local fan-out: one upstream subscription per document however many local subscribers, a mirror
 * of the document's state (to serve snapshots to joiners without asking upstream) and a bounded
 * history ring (to serve resumes). Each delta is encoded once per subprotocol; the same bytes go
 * to every local subscriber. Deltas that arrive in one event-loop turn are flushed together, one
 * corked write per socket, so a burst costs one syscall per subscriber instead of one per delta.
 */
import { encodeServerBinary, encodeServerJson, type JsonObject } from '@replicant/protocol';
import { applyMergePatch, HistoryRing, type Delta, type Upstream, type UpstreamListener } from '@replicant/fanout';
import { PROTO_BINARY, type Socket } from './session.js';

export interface LocalFanoutOptions {
  upstream: Upstream;
  /** deltas kept per doc for client resume (default 1024) */
  historySize?: number;
  /** per-connection send buffer bound in bytes; a connection over it is closed as a slow consumer */
  maxSendBuffer: number;
  /** called for a connection that overflowed its send buffer (closes it) */
  onSlowConsumer: (ws: Socket) => void;
  /** called to tell a subscriber its subscription failed upstream */
  onDocError: (ws: Socket, doc: string, code: string, message: string) => void;
}

interface Waiter {
  ws: Socket;
  lastSeq: bigint | undefined;
}

class LocalDoc {
  seq = 0n;
  state: JsonObject | undefined; // undefined until the upstream base arrives
  // subscribers split by subprotocol, so the send loop needs no per-socket lookup
  readonly subsJson = new Set<Socket>();
  readonly subsBin = new Set<Socket>();
  waiting: Waiter[] = [];
  get size(): number {
    return this.subsJson.size + this.subsBin.size;
  }
  // frames queued for the next flush (only for the subprotocols in use)
  pendJson: string[] = [];
  pendBin: Uint8Array[] = [];
  queued = false;
  // snapshot encodings of (seq, state), built on demand and dropped on the next delta
  snapText: string | undefined;
  snapJson: string | undefined;
  snapBin: Uint8Array | undefined;
  constructor(
    readonly doc: string,
    readonly ring: HistoryRing,
  ) {}
}

// Flush state lives at module level so the per-socket cork callback is one function, not a
// closure per socket per flush.
let curFrames: (string | Uint8Array)[] = [];
let curBinary = false;
let curWs: Socket | undefined;
let curStatus = 1;
function sendCurrent(): void {
  const ws = curWs!;
  for (let i = 0; i < curFrames.length; i++) {
    const st = ws.send(curFrames[i], curBinary, false);
    if (st !== 1 && curStatus !== 2) curStatus = st;
  }
}

export class LocalFanout implements UpstreamListener {
  private readonly docs = new Map<string, LocalDoc>();
  private readonly dirty: LocalDoc[] = [];
  private flushScheduled = false;
  private readonly historySize: number;
  /** messages handed to sockets (deliveries), read by metrics */
  deliveries = 0;
  slowConsumers = 0;

  constructor(private readonly opts: LocalFanoutOptions) {
    this.historySize = opts.historySize ?? 1024;
  }

  get docCount(): number {
    return this.docs.size;
  }

  subscribe(ws: Socket, doc: string, lastSeq: bigint | undefined): void {
    let d = this.docs.get(doc);
    if (!d) {
      d = new LocalDoc(doc, new HistoryRing(this.historySize));
      this.docs.set(doc, d);
      this.opts.upstream.subscribe(doc, this);
      // the upstream may have answered synchronously with the base
    }
    if (d.state === undefined) {
      d.waiting.push({ ws, lastSeq });
      return;
    }
    // Frames queued for the current subscribers include seqs the joiner will be caught up to:
    // flush them first so it never receives them twice.
    if (d.queued) this.flushDoc(d);
    this.catchUp(ws, d, lastSeq);
    this.addSub(ws, d);
  }

  unsubscribe(ws: Socket, doc: string): void {
    const d = this.docs.get(doc);
    if (!d) return;
    if (!d.subsJson.delete(ws) && !d.subsBin.delete(ws)) d.waiting = d.waiting.filter((w) => w.ws !== ws);
    if (d.size === 0 && d.waiting.length === 0) {
      this.docs.delete(doc);
      this.opts.upstream.unsubscribe(doc, this);
    }
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
      if (missing) {
        for (const m of missing) this.onDelta(m);
      } else {
        if (d.queued) this.flushDoc(d);
        this.setBase(d, seq, state, history);
        for (const ws of d.subsJson) this.sendSnapshot(ws, d);
        for (const ws of d.subsBin) this.sendSnapshot(ws, d);
      }
    } else {
      this.setBase(d, seq, state, history);
    }
    const waiting = d.waiting;
    d.waiting = [];
    for (const w of waiting) {
      this.catchUp(w.ws, d, w.lastSeq);
      this.addSub(w.ws, d);
    }
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
    d.state = applyMergePatch(d.state, delta.patchObj) as JsonObject;
    d.seq = delta.seq;
    d.ring.push(delta);
    d.snapText = d.snapJson = d.snapBin = undefined;
    if (d.subsJson.size > 0) d.pendJson.push(delta.jsonFrame());
    if (d.subsBin.size > 0) d.pendBin.push(delta.binaryFrame());
    if (d.pendJson.length === 0 && d.pendBin.length === 0) return;
    if (!d.queued) {
      d.queued = true;
      this.dirty.push(d);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
      }
    }
  }

  onError(doc: string, code: string, message: string): void {
    const d = this.docs.get(doc);
    if (!d) return;
    this.docs.delete(doc);
    for (const ws of d.subsJson) this.opts.onDocError(ws, doc, code, message);
    for (const ws of d.subsBin) this.opts.onDocError(ws, doc, code, message);
    for (const w of d.waiting) this.opts.onDocError(w.ws, doc, code, message);
  }

  // ---- internals ----

  private setBase(d: LocalDoc, seq: bigint, state: JsonObject, history: Delta[]): void {
    d.state = structuredClone(state); // upstream keeps mutating its own copy
    d.seq = seq;
    d.ring.clear();
    for (const h of history) d.ring.push(h);
    d.snapText = d.snapJson = d.snapBin = undefined;
  }

  private addSub(ws: Socket, d: LocalDoc): void {
    const s = ws.getUserData();
    if (s.closed) return;
    (s.proto === PROTO_BINARY ? d.subsBin : d.subsJson).add(ws);
  }

  /** brings a joiner to d.seq: the missed deltas when the ring covers lastSeq, else a snapshot */
  private catchUp(ws: Socket, d: LocalDoc, lastSeq: bigint | undefined): void {
    if (ws.getUserData().closed) return;
    const missed = lastSeq === undefined ? undefined : d.ring.since(lastSeq, d.seq);
    if (missed === undefined) {
      this.sendSnapshot(ws, d);
      return;
    }
    if (missed.length === 0) return;
    const bin = ws.getUserData().proto === PROTO_BINARY;
    curFrames = missed.map((m) => (bin ? m.binaryFrame() : m.jsonFrame()));
    this.sendFrames(ws, bin);
  }

  private sendSnapshot(ws: Socket, d: LocalDoc): void {
    const bin = ws.getUserData().proto === PROTO_BINARY;
    d.snapText ??= JSON.stringify(d.state);
    let frame: string | Uint8Array;
    if (bin) {
      frame = d.snapBin ??= encodeServerBinary({ type: 'snapshot', doc: d.doc, seq: d.seq, state: d.snapText });
    } else {
      frame = d.snapJson ??= encodeServerJson({ type: 'snapshot', doc: d.doc, seq: d.seq, state: d.snapText });
    }
    curFrames = [frame];
    this.sendFrames(ws, bin);
  }

  /** sends curFrames to one socket, corked; enforces the send-buffer bound */
  private sendFrames(ws: Socket, binary: boolean): void {
    curWs = ws;
    curBinary = binary;
    curStatus = 1;
    ws.cork(sendCurrent);
    this.deliveries += curFrames.length;
    if (curStatus !== 1 && (curStatus === 2 || ws.getBufferedAmount() > this.opts.maxSendBuffer)) {
      this.slowConsumers++;
      this.opts.onSlowConsumer(ws);
    }
    curWs = undefined;
  }

  private flushDoc(d: LocalDoc): void {
    d.queued = false;
    const json = d.pendJson;
    const bin = d.pendBin;
    d.pendJson = [];
    d.pendBin = [];
    let slow: Socket[] | undefined;
    if (json.length > 0) slow = this.sendAll(d.subsJson, json, false, slow);
    if (bin.length > 0) slow = this.sendAll(d.subsBin, bin, true, slow);
    if (slow) {
      for (const ws of slow) {
        this.slowConsumers++;
        this.opts.onSlowConsumer(ws);
      }
    }
  }

  /**
   * The hot loop: the same frames to every socket of one subprotocol. One frame goes out with a
   * single native call per socket; several are corked into one write. The buffered amount is only
   * read when uWS reports built-up backpressure.
   */
  private sendAll(subs: Set<Socket>, frames: (string | Uint8Array)[], binary: boolean, slow: Socket[] | undefined): Socket[] | undefined {
    const max = this.opts.maxSendBuffer;
    if (frames.length === 1) {
      const f = frames[0];
      for (const ws of subs) {
        const st = ws.send(f, binary, false);
        if (st !== 1 && (st === 2 || ws.getBufferedAmount() > max)) (slow ??= []).push(ws);
      }
    } else {
      curFrames = frames;
      curBinary = binary;
      for (const ws of subs) {
        curWs = ws;
        curStatus = 1;
        ws.cork(sendCurrent);
        if (curStatus !== 1 && (curStatus === 2 || ws.getBufferedAmount() > max)) (slow ??= []).push(ws);
      }
      curWs = undefined;
    }
    this.deliveries += frames.length * subs.size;
    return slow;
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const dirty = this.dirty.splice(0);
    for (const d of dirty) if (d.queued) this.flushDoc(d);
  };
}

