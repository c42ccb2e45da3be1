/**
 * One subscribed document on the client: the fold of its snapshot and deltas, with the ordering
 * rules that keep it equal to the server's state. Deltas chain by `prevSeq`; a delta that does not
 * chain onto the current seq means something was missed, and the only safe repair is a fresh
 * snapshot (the stream is not contiguous, so the client cannot tell what is missing).
 */
import { mergeObjectPatch, type JsonObject } from '@replicant/protocol';

/** What a subscription listener sees. `seq` 0 with `{}` is a document that was never written. */
export interface LiveDoc {
  readonly docId: string;
  /** the document state: a new object after every change (untouched subtrees are shared) */
  readonly state: JsonObject;
  /** seq of the last applied snapshot or delta */
  readonly seq: bigint;
  /** true once a snapshot has been applied (state before that is the empty default) */
  readonly synced: boolean;
}

/** How a received delta was handled. */
export type DeltaOutcome = 'applied' | 'duplicate' | 'gap';

export class DocStream implements LiveDoc {
  state: JsonObject = {};
  seq = 0n;
  synced = false;
  /** a resync (subscribe without lastSeq) is in flight: deltas are dropped until its snapshot */
  resyncing = false;

  constructor(readonly docId: string) {}

  applySnapshot(seq: bigint, state: JsonObject): void {
    this.state = state;
    this.seq = seq;
    this.synced = true;
    this.resyncing = false;
  }

  /**
   * Applies a delta if it chains onto the current seq. Deltas at or below the current seq are
   * replays (resume overlap, duplicate delivery) and are ignored. Anything else is a gap: the
   * caller must resync, and until the snapshot arrives later deltas are dropped too.
   */
  applyDelta(seq: bigint, prevSeq: bigint, patch: JsonObject): DeltaOutcome {
    if (seq <= this.seq) return 'duplicate';
    if (this.resyncing || prevSeq !== this.seq) return 'gap';
    this.state = mergeObjectPatch(this.state, patch);
    this.seq = seq;
    return 'applied';
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
