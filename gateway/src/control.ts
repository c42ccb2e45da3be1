/**
 * Follows the control stream (protocol/control.ts): the gateway subscribes to CONTROL_DOC through
 * the same Upstream as any document (the in-process Replica in dev, the replica links in a
 * cluster), so commands are ordered by the log, survive restarts, and need no new connection.
 *
 * - A base (the first subscription, a failover, a collapsed link backlog) sets the revocation list
 *   from the doc's state. Its history deltas after the seq we hold are applied as commands (a
 *   failover that resumes loses nothing); on the first base there is no such seq, so old commands
 *   are never replayed. A base whose history does not reach back to our seq lost the commands in
 *   between: they are counted (`lost`), the revocations are still exact (they are state).
 * - A delta is applied once: one at or below our seq is a duplicate and ignored.
 * - A subscription error (a replica shutting down) is retried after RETRY_MS.
 */
import { CONTROL_DOC, commandOf, revocationsOf, type JsonObject } from '@replicant/protocol';
import type { Delta, Upstream, UpstreamListener } from '@replicant/fanout';
import type { Connections } from './connections.js';

const RETRY_MS = 1000;

export class ControlFollower implements UpstreamListener {
  private seq: bigint | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  /** commands a re-base skipped (their deltas were no longer retained upstream) */
  lost = 0;

  constructor(
    private readonly upstream: Upstream,
    private readonly connections: Connections,
  ) {
    upstream.subscribe(CONTROL_DOC, this);
  }

  /** the seq of the control stream this gateway has applied (tests, stats) */
  get appliedSeq(): bigint | undefined {
    return this.seq;
  }

  onBase(_doc: string, seq: bigint, state: JsonObject, history: Delta[]): void {
    const held = this.seq;
    if (held !== undefined && seq <= held) return; // behind us: keep our position
    if (held !== undefined) {
      let next = held;
      for (const d of history) {
        if (d.seq <= next) continue;
        if (d.prevSeq !== next) break; // the history does not reach back to us
        this.applyPatch(d.patchObj);
        next = d.seq;
      }
      if (next !== seq) this.lost++;
    }
    this.seq = seq;
    this.connections.resetRevocations(revocationsOf(state) ?? new Map());
  }

  onDelta(d: Delta): void {
    if (this.seq !== undefined && d.seq <= this.seq) return;
    this.seq = d.seq;
    this.applyPatch(d.patchObj);
  }

  onError(): void {
    if (this.closed) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (!this.closed) this.upstream.subscribe(CONTROL_DOC, this);
    }, RETRY_MS);
  }

  private applyPatch(patch: JsonObject): void {
    const rev = revocationsOf(patch);
    if (rev) this.connections.applyRevocations(rev);
    const c = commandOf(patch);
    if (c) this.connections.apply(c);
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.upstream.unsubscribe(CONTROL_DOC, this);
  }
}
