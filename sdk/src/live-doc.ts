/**
 * One subscribed document on the client: the fold of its snapshot and deltas, with the ordering
 * rules that keep it equal to the server's state, plus the optimistic view on top. Deltas chain by
 * `prevSeq`; a delta that does not chain onto the current seq means something was missed, and the
 * only safe repair is a fresh snapshot (the stream is not contiguous, so the client cannot tell what
 * is missing).
 *
 * Optimistic view: `state` = `serverState` with this client's pending ops applied on top, in
 * publish order, recomputed whenever the server state moves (rebase). An acknowledged op stays in
 * the view until the server state reaches the seq it was acknowledged at (so the view never shows
 * it undone in between); a rejected op leaves at once.
 */
import { mergeObjectPatch, type JsonObject } from '@replicant/protocol';

/** What a subscription listener sees. `seq` 0 with `{}` is a document that was never written. */
export interface LiveDoc {
  readonly docId: string;
  /** the optimistic view: server state + pending ops (a new object after every change) */
  readonly state: JsonObject;
  /** the document as the server has it at `seq` (untouched subtrees are shared) */
  readonly serverState: JsonObject;
  /** seq of the last applied snapshot or delta */
  readonly seq: bigint;
  /** this client's ops on the document not acknowledged yet */
  readonly pending: number;
  /** true once a snapshot has been applied (state before that is the empty default) */
  readonly synced: boolean;
}

/** How a received delta was handled. */
export type DeltaOutcome = 'applied' | 'duplicate' | 'gap';

interface ViewOp {
  id: string;
  patch: JsonObject;
  /** set once acknowledged: the op leaves the view when seq reaches it */
  ackSeq?: bigint;
}

export class DocStream implements LiveDoc {
  serverState: JsonObject = {};
  state: JsonObject = {};
  seq = 0n;
  synced = false;
  /** a resync (subscribe without lastSeq) is in flight: deltas are dropped until its snapshot */
  resyncing = false;
  private ops: ViewOp[] = [];

  constructor(readonly docId: string) {}

  get pending(): number {
    let n = 0;
    for (const o of this.ops) if (o.ackSeq === undefined) n++;
    return n;
  }

  applySnapshot(seq: bigint, state: JsonObject): void {
    this.serverState = state;
    this.seq = seq;
    this.synced = true;
    this.resyncing = false;
    this.rebase();
  }

  /**
   * Applies a delta if it chains onto the current seq. Deltas at or below the current seq are
   * replays (resume overlap, duplicate delivery) and are ignored. Anything else is a gap: the
   * caller must resync, and until the snapshot arrives later deltas are dropped too.
   */
  applyDelta(seq: bigint, prevSeq: bigint, patch: JsonObject): DeltaOutcome {
    if (seq <= this.seq) return 'duplicate';
    if (this.resyncing || prevSeq !== this.seq) return 'gap';
    this.serverState = mergeObjectPatch(this.serverState, patch);
    this.seq = seq;
    this.rebase();
    return 'applied';
  }

  /** A new pending op: applied on top of the view at once. */
  addPending(id: string, patch: JsonObject): void {
    this.ops.push({ id, patch });
    this.state = mergeObjectPatch(this.state, patch);
  }

  /**
   * Replaces the pending ops with the outbox's (in order), keeping acknowledged ops the server state
   * does not show yet (they are older than any pending one), then recomputes.
   */
  setPending(ops: { id: string; patch: JsonObject }[]): void {
    const acked = this.ops.filter((o) => o.ackSeq !== undefined);
    this.ops = [...acked, ...ops.map((o) => ({ id: o.id, patch: o.patch }))];
    this.rebase();
  }

  /** The op was acknowledged at `seq`; true when the view changed. */
  ackPending(id: string, seq: bigint): boolean {
    const o = this.ops.find((x) => x.id === id);
    if (!o) return false;
    o.ackSeq = seq;
    if (seq > this.seq) return true; // pending count changed; the state did not
    this.ops.splice(this.ops.indexOf(o), 1);
    this.rebase();
    return true;
  }

  /** The op was rejected: it leaves the view. True when it was in it. */
  dropPending(id: string): boolean {
    const i = this.ops.findIndex((x) => x.id === id);
    if (i < 0) return false;
    this.ops.splice(i, 1);
    this.rebase();
    return true;
  }

  /** state = serverState + the ops not yet reflected in it */
  private rebase(): void {
    if (this.ops.some((o) => o.ackSeq !== undefined && o.ackSeq <= this.seq)) {
      this.ops = this.ops.filter((o) => o.ackSeq === undefined || o.ackSeq > this.seq);
    }
    let s = this.serverState;
    for (const o of this.ops) s = mergeObjectPatch(s, o.patch);
    this.state = s;
  }

  /** The lastSeq to resume from, or undefined when only a snapshot can help. */
  resumeSeq(): bigint | undefined {
    // seq 0 is the empty never-written state: a snapshot of it is as cheap as a resume.
    return this.resyncing || this.seq === 0n ? undefined : this.seq;
  }

  /** Marks a resync as started; false when one is already in flight (send one subscribe, not many). */
  beginResync(): boolean {
    if (this.resyncing) return false;
    this.resyncing = true;
    return true;
  }
}
