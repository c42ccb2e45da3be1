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
  readonly subs = new Set<Socket>();
  waiting: Waiter[] = [];
  nJson = 0;
  nBin = 0;
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
    if (ws.send(curFrames[i], curBinary, false) === 2) curStatus = 2;
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
    if (d.subs.delete(ws)) {
      if (ws.getUserData().proto === PROTO_BINARY) d.nBin--;
      else d.nJson--;
    } else {
      d.waiting = d.waiting.filter((w) => w.ws !== ws);
    }
    if (d.subs.size === 0 && d.waiting.length === 0) {
      this.docs.delete(doc);
      this.opts.upstream.unsubscribe(doc, this);
    }
  }

  // ---- UpstreamListener ----

  onBase(doc: string, seq: bigint, state: JsonObject, history: Delta[]): void {
    const d = this.docs.get(doc);
    if (!d) return;
    if (d.state !== undefined) {
      // Re-base after an upstream resync or failover: continue with deltas when the new history
      // reaches back to what our subscribers have, else give everyone a fresh snapshot.
      const tmp = new HistoryRing(history.length);
      for (const h of history) tmp.push(h);
      const missing = tmp.since(d.seq, seq);
      if (missing) {
        for (const m of missing) this.onDelta(m);
        return;
      }
      if (d.queued) this.flushDoc(d);
      this.setBase(d, seq, state, history);
      for (const ws of d.subs) this.sendSnapshot(ws, d);
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
    if (d.subs.size === 0) return;
    if (d.nJson > 0) d.pendJson.push(delta.jsonFrame());
    if (d.nBin > 0) d.pendBin.push(delta.binaryFrame());
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
    for (const ws of d.subs) this.opts.onDocError(ws, doc, code, message);
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
    if (ws.getUserData().closed || d.subs.has(ws)) return;
    d.subs.add(ws);
    if (ws.getUserData().proto === PROTO_BINARY) d.nBin++;
    else d.nJson++;
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
    if (curStatus === 2 || ws.getBufferedAmount() > this.opts.maxSendBuffer) {
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
    if (json.length === 0 && bin.length === 0) return;
    let slow: Socket[] | undefined;
    const max = this.opts.maxSendBuffer;
    for (const ws of d.subs) {
      const isBin = ws.getUserData().proto === PROTO_BINARY;
      curFrames = isBin ? bin : json;
      curBinary = isBin;
      curWs = ws;
      curStatus = 1;
      ws.cork(sendCurrent);
      if (curStatus === 2 || ws.getBufferedAmount() > max) (slow ??= []).push(ws);
    }
    this.deliveries += json.length * d.nJson + bin.length * d.nBin;
    curWs = undefined;
    if (slow) {
      for (const ws of slow) {
        this.slowConsumers++;
        this.opts.onSlowConsumer(ws);
      }
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const dirty = this.dirty.splice(0);
    for (const d of dirty) if (d.queued) this.flushDoc(d);
  };
}

