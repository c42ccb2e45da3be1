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
 * - A delta is applied once: one at or below our seq is a duplicate and ignored. A delta whose
 *   prevSeq is not our seq means one was skipped (a missed revocation): it is not applied, and we
 *   resubscribe to force a re-base (which applies what its history still holds, and takes the
 *   revocation list from the state); deltas until that base are ignored.
 * - A subscription error (a replica shutting down), or a subscribe that throws, is retried with
 *   backoff (RETRY_MS doubling up to RETRY_MAX_MS): never an uncaught exception in a timer.
 * - `ready` is false until the first base is applied: until then the revocation list is empty,
 *   so a gateway reports not-ready (/readyz) rather than accept revoked tokens (fail closed), and
 *   a token verified meanwhile waits for the base (`whenReady`) before it is accepted.
 */
import { CONTROL_DOC, commandOf, revocationsOf, type JsonObject } from '@replicant/protocol';
import type { Delta, Upstream, UpstreamListener } from '@replicant/fanout';
import type { Connections } from './connections.js';

const RETRY_MS = 1000;
const RETRY_MAX_MS = 30_000;

export class ControlFollower implements UpstreamListener {
  private seq: bigint | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private retries = 0;
  /** a gap was seen: deltas are ignored until the re-base we asked for */
  private rebasing = false;
  /** settled by the first base (whenReady) */
  private readyWait: { promise: Promise<void>; resolve: () => void } | undefined;
  /** commands a re-base skipped (their deltas were no longer retained upstream) */
  lost = 0;
  /** deltas that did not follow our seq (each forced a re-base) */
  gaps = 0;

  constructor(
    private readonly upstream: Upstream,
    private readonly connections: Connections,
  ) {
    this.subscribe();
  }

  /** the seq of the control stream this gateway has applied (tests, stats) */
  get appliedSeq(): bigint | undefined {
    return this.seq;
  }

  /** the first base is applied: the revocation list is the control doc's (readiness) */
  get ready(): boolean {
    return this.seq !== undefined;
  }

  /** resolves once the first base is applied (at once when it is) */
  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    if (this.readyWait === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.readyWait = { promise, resolve };
    }
    return this.readyWait.promise;
  }

  private subscribe(): void {
    if (this.closed) return;
    try {
      this.upstream.subscribe(CONTROL_DOC, this);
    } catch {
      this.scheduleRetry(); // e.g. no replica link yet: try again, never throw out of a timer
    }
  }

  private scheduleRetry(): void {
    if (this.closed || this.retry) return;
    const ms = Math.min(RETRY_MAX_MS, RETRY_MS * 2 ** Math.min(this.retries++, 5));
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.subscribe();
    }, ms);
    this.retry.unref?.();
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
    this.rebasing = false;
    this.retries = 0;
    this.connections.resetRevocations(revocationsOf(state) ?? new Map());
    this.readyWait?.resolve();
    this.readyWait = undefined;
  }

  onDelta(d: Delta): void {
    if (this.rebasing) return;
    if (this.seq !== undefined && d.seq <= this.seq) return;
    if (this.seq !== undefined && d.prevSeq !== this.seq) {
      // a skipped delta may have been a revocation: never step over it, take a fresh base
      this.gaps++;
      this.rebasing = true;
      // after the upstream's delivery loop: it is not changed under its own iteration
      queueMicrotask(() => {
        if (this.closed) return;
        try {
          this.upstream.unsubscribe(CONTROL_DOC, this);
        } catch {
          // the subscription is gone either way
        }
        this.subscribe();
      });
      return;
    }
    this.seq = d.seq;
    this.applyPatch(d.patchObj);
  }

  onError(): void {
    this.scheduleRetry();
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
