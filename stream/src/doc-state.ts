/**
 * One materialized document and the deterministic rule for applying an op to it. Every reader of
 * the log (origin's materializer, fanout replicas) folds ops with this same code, so they compute
 * the same (seq, state) from the same records.
 */
import { applyMergePatch, type JsonObject } from '@replicant/protocol';

/** Persisted form of a document: state, seq, and the idempotency keys still in the window. */
export interface DocSnapshot {
  doc: string;
  seq: bigint;
  state: JsonObject;
  /** [idempotency key, seq it was applied at], oldest first, at most `keyWindow` entries */
  keys: [string, bigint][];
}

export const DEFAULT_KEY_WINDOW = 256;

export type ApplyResult = { applied: true; prevSeq: bigint } | { applied: false; seq: bigint };

export class DocState {
  /** key -> seq, in insertion order (Map keeps it) so the oldest key is evicted first */
  private keys: Map<string, bigint>;

  constructor(
    readonly doc: string,
    public seq: bigint = 0n,
    public state: JsonObject = {},
    keys: Iterable<[string, bigint]> = [],
    private readonly keyWindow = DEFAULT_KEY_WINDOW,
  ) {
    this.keys = new Map(keys);
  }

  static from(s: DocSnapshot, keyWindow = DEFAULT_KEY_WINDOW): DocState {
    return new DocState(s.doc, s.seq, structuredClone(s.state), s.keys, keyWindow);
  }

  /**
   * Applies the op stored at log position `seq` (offset + 1). Ops at or below the current seq were
   * already folded (replay overlap) and are ignored; an op whose idempotency key is in the window is
   * a duplicate and is skipped, reporting the seq it was first applied at.
   */
  apply(seq: bigint, patch: JsonObject, key: string): ApplyResult {
    if (seq <= this.seq) return { applied: false, seq: this.keys.get(key) ?? this.seq };
    if (key !== '') {
      const first = this.keys.get(key);
      if (first !== undefined) return { applied: false, seq: first };
      this.keys.set(key, seq);
      if (this.keys.size > this.keyWindow) this.keys.delete(this.keys.keys().next().value as string);
    }
    const prevSeq = this.seq;
    this.state = applyMergePatch(this.state, patch) as JsonObject;
    this.seq = seq;
    return { applied: true, prevSeq };
  }

  /** seq at which `key` was applied, if it is still in the window */
  keySeq(key: string): bigint | undefined {
    return this.keys.get(key);
  }

  snapshot(): DocSnapshot {
    return { doc: this.doc, seq: this.seq, state: structuredClone(this.state), keys: [...this.keys] };
  }
}
