/**
 * The seam between a gateway and the replica tier: per-document subscriptions that deliver a base
 * (snapshot + the history the replica retains) and then ordered deltas.
 *
 * Implementations: the in-process Replica (replica.ts) for the embedded default; a multiplexed
 * link client to remote replicas for cluster mode.
 */
import type { JsonObject } from '@replicant/protocol';
import type { Delta } from './delta.js';

export interface UpstreamListener {
  /**
   * A (re)base for `doc`: the state at `seq`, plus the retained deltas ending at `seq` (oldest
   * first, possibly empty) so the receiver can serve resumes and detect whether it can continue
   * without a snapshot. Sent on subscribe and whenever the upstream had to resync.
   */
  onBase(doc: string, seq: bigint, state: JsonObject, history: Delta[]): void;
  /** the next delta of `doc`; `delta.prevSeq` equals the previous base/delta seq */
  onDelta(delta: Delta): void;
  /** the subscription failed (e.g. the doc could not be loaded); the listener is dropped */
  onError(doc: string, code: string, message: string): void;
}

export interface Upstream {
  subscribe(doc: string, listener: UpstreamListener): void;
  unsubscribe(doc: string, listener: UpstreamListener): void;
}
