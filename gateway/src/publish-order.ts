/**
 * Per-document write order on one connection (docs/protocol.md "Ordering"): the publishes a
 * connection sends to one doc reach the writer one at a time, in arrival order, and a transient
 * refusal of one of them refuses every later one of that doc until the refused op comes back.
 *
 * A lane per (connection, doc) with publishes queued or in flight, or blocked:
 *  - `busy`: one publish of the doc is at the writer; later ones wait in `q` (arrival order).
 *    Docs are independent, so a client writing many docs keeps its concurrency.
 *  - `blockedOn`: the id of the earliest-arrived op of the doc refused with a transient code
 *    (by the gateway: rate limit, token expiry, the in-flight or pre-auth bound; or by the writer).
 *    A publish of the doc that arrives after it (`rx` > `blockRx`) is refused (`unavailable`)
 *    unless it is that id, which lifts the block and goes first. Frames that arrived before it
 *    (waiting behind a token verification) are not held back by it.
 *  - `internal` from the writer does not block: a client may give up on it (the SDK does after
 *    5 tries), and a block nothing lifts would wedge the doc until reconnect.
 * Bounds: queued entries are counted by the connection's unacked publishes (maxInflightPublishes);
 * blocked lanes (O(1) each: an id) by MAX_BLOCKED_DOCS, past which the caller closes the
 * connection (Overloaded). A connection close drops everything.
 */
import { ErrorCode } from '@replicant/protocol';

/** docs with a refused publish waiting to be re-sent, per connection; past it the connection is closed */
export const MAX_BLOCKED_DOCS = 1024;

export interface QueuedPublish {
  readonly patch: string;
  readonly id: string | undefined;
  readonly ifSeq: bigint | undefined;
  /** the connection's frame counter when it arrived */
  readonly rx: number;
}

interface Lane {
  busy: boolean;
  q: QueuedPublish[];
  blockedOn: string | undefined;
  blockRx: number;
}

/** a writer's answer that blocks the lane (transient, worth the client re-sending in order) */
export function blocksLane(code: string | undefined): boolean {
  return code === ErrorCode.Unavailable || code === ErrorCode.RateLimited || code === ErrorCode.TokenExpired;
}

export class PublishLanes {
  private readonly lanes = new Map<string, Lane>();
  private blockedCount = 0;

  /** docs currently blocked */
  get blocked(): number {
    return this.blockedCount;
  }

  /** lanes held (busy or blocked) */
  get size(): number {
    return this.lanes.size;
  }

  /**
   * Whether a publish that arrived at `rx` may proceed. The refused op itself lifts the block.
   * Returns the id it has to wait for when it may not.
   */
  admit(doc: string, id: string | undefined, rx: number): string | undefined {
    const l = this.lanes.get(doc);
    if (!l || l.blockedOn === undefined || rx <= l.blockRx) return undefined;
    if (id !== l.blockedOn) return l.blockedOn;
    l.blockedOn = undefined;
    this.blockedCount--;
    this.dropIfIdle(doc, l);
    return undefined;
  }

  /**
   * A publish that arrived at `rx` was refused with a transient code: later arrivals of the doc
   * wait for it. Keeps the earliest-arrived refused op. False when a new block would exceed
   * MAX_BLOCKED_DOCS (the caller closes the connection). Ops without an id cannot be re-sent
   * idempotently, so they do not block.
   */
  block(doc: string, id: string | undefined, rx: number): boolean {
    if (id === undefined) return true;
    let l = this.lanes.get(doc);
    if (l?.blockedOn !== undefined) {
      if (rx < l.blockRx) {
        l.blockedOn = id;
        l.blockRx = rx;
      }
      return true;
    }
    if (this.blockedCount >= MAX_BLOCKED_DOCS) return false;
    if (!l) this.lanes.set(doc, (l = { busy: false, q: [], blockedOn: undefined, blockRx: 0 }));
    l.blockedOn = id;
    l.blockRx = rx;
    this.blockedCount++;
    return true;
  }

  /** Queues an admitted publish; true when it is to be sent to the writer now (the lane was idle). */
  enqueue(doc: string, p: QueuedPublish): boolean {
    let l = this.lanes.get(doc);
    if (!l) this.lanes.set(doc, (l = { busy: false, q: [], blockedOn: undefined, blockRx: 0 }));
    if (l.busy) {
      l.q.push(p);
      return false;
    }
    l.busy = true;
    return true;
  }

  /** The publish at the writer was answered (not with a blocking code): the next one to send, if any. */
  next(doc: string): QueuedPublish | undefined {
    const l = this.lanes.get(doc);
    if (!l) return undefined;
    const p = l.q.shift();
    if (p) return p;
    l.busy = false;
    this.dropIfIdle(doc, l);
    return undefined;
  }

  /**
   * The publish at the writer (arrived at `rx`) was refused with a blocking code: the doc blocks on
   * it, and the publishes queued behind it are returned, to be refused. False as for block().
   */
  refuseQueued(doc: string, id: string | undefined, rx: number): { queued: QueuedPublish[]; ok: boolean } {
    const l = this.lanes.get(doc);
    if (!l) return { queued: [], ok: true };
    const queued = l.q;
    l.q = [];
    l.busy = false;
    // the queued ones arrived after it: when it cannot block (no id), the first of them does
    let ok = this.block(doc, id, rx);
    if (id === undefined && queued.length > 0) ok = this.block(doc, queued[0].id, queued[0].rx);
    this.dropIfIdle(doc, l);
    return { queued, ok };
  }

  private dropIfIdle(doc: string, l: Lane): void {
    if (!l.busy && l.blockedOn === undefined && l.q.length === 0) this.lanes.delete(doc);
  }
}
