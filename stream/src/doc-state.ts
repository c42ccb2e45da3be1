/**
 * One materialized document and the deterministic rule for applying an op to it. Every reader of
 * the log (origin's materializer, fanout replicas) folds ops with this same code, so they compute
 * the same (seq, state) from the same records.
 *
 * Exactly once (docs/protocol.md, "Exactly once"): an op carries an idempotency key.
 * - A *sequenced* key `~<client>.<n>.<base>` (what the SDK sends) is deduplicated per writing
 *   client: the doc keeps, per client, the highest n decided and a bitmap of the DEDUPE_WINDOW n's
 *   below it, so a re-send is recognised however many writes other clients made meanwhile. The SDK
 *   never has ops more than SEND_SPAN (< DEDUPE_WINDOW) apart unacknowledged, so an n below the
 *   window was decided long ago. At most DEDUPE_CLIENTS_PER_DOC client records are kept, least
 *   recently written evicted first; `horizon` is the highest seq an evicted record had reached. An
 *   op from a client without a record whose `base` (the doc seq its writer had seen when it created
 *   the op) is below `horizon` may have been applied by a forgotten record: it is answered
 *   `idempotency_expired` and not applied. Otherwise it cannot have been applied and is.
 * - Any other key is remembered in a window of the last `keyWindow` keys per doc (default 256).
 * Optimistic concurrency: an op with `ifSeq` is applied only if the doc is at exactly that seq,
 * else it is a `conflict` (the state and seq do not move; the sequenced record remembers it).
 * Size bound (MAX_DOC_BYTES, docs/architecture.md "Size bounds"): `bytes` is the UTF-8 size of the
 * state as JSON, kept incrementally (doc-size.ts: cost proportional to what a patch touches). An op
 * carrying a bound (`maxBytes`, written into the record by the origin that appended it, so every
 * reader decides with the writer's bound whatever its own configuration) whose result would be
 * larger than the bound, and larger than the state already is, is not applied: outcome `too_large`.
 * Nothing of it is remembered (neither its key nor a dedupe bit), so a re-send is decided afresh;
 * it is never applied twice because only an applied op is recorded. Records without a bound
 * (written before it existed) are unbounded, as they were when written.
 * Replace ops (Kafka ingest `upsert` / `debezium`, origin/src/ingest.ts): the op's patch is the
 * whole new state. The fold turns it into the merge patch from the state it meets to that state
 * (diffMergePatch), decided here so every reader agrees whatever was written in between, and then
 * applies it like any op; `ApplyResult.patch` hands that merge patch to readers that forward deltas.
 * Bounds: keyWindow keys and DEDUPE_CLIENTS_PER_DOC records of O(1) size per document.
 */
import { applyMergePatch, DEDUPE_WINDOW, diffMergePatch, parseSequencedKey, stripNullMembers, type JsonObject, type SequencedKey } from '@replicant/protocol';
import { jsonSize, mergeSizeDelta } from './doc-size.js';

/** Dedupe record of one sequenced writer: n's decided up to `hwm`, and the doc seq it reached. */
export interface ClientRecord {
  /** highest n decided */
  hwm: number;
  /** bit i set: n = hwm - i was decided (applied or rejected); bit 0 is hwm itself */
  decided: bigint;
  /** bit i set: n = hwm - i was rejected as a conflict */
  rejected: bigint;
  /** doc seq after this writer's latest decided op: the state there includes all its applied ops */
  lastSeq: bigint;
}

/** Persisted form of a document: state, seq, and the idempotency keys still in the window. */
export interface DocSnapshot {
  doc: string;
  seq: bigint;
  state: JsonObject;
  /** [idempotency key, seq it was applied at], oldest first, at most `keyWindow` entries */
  keys: [string, bigint][];
  /** sequenced writers' dedupe records, least recently written first (absent when none) */
  clients?: [string, ClientRecord][];
  /** highest lastSeq of an evicted client record (absent when none was evicted) */
  horizon?: bigint;
}

export const DEFAULT_KEY_WINDOW = 256;
/** sequenced writers remembered per document; every reader must use the same value */
export const DEDUPE_CLIENTS_PER_DOC = 1024;

const WINDOW_MASK = (1n << BigInt(DEDUPE_WINDOW)) - 1n;

export type ApplyResult =
  /** `patch`: for a replace op, the merge patch it was applied as (what a delta must carry) */
  | { applied: true; prevSeq: bigint; patch?: JsonObject }
  /** a duplicate: `seq` is a seq whose state includes the first application */
  | { applied: false; seq: bigint; outcome?: undefined }
  /**
   * not applied: ifSeq did not match (`conflict`), past the dedupe horizon (`expired`), or the
   * result would be over the op's size bound (`too_large`)
   */
  | { applied: false; seq: bigint; outcome: 'conflict' | 'expired' | 'too_large'; changed: boolean };

/** the UTF-8 size of a state as JSON; Infinity when it cannot even be serialized (V8's string limit) */
function initialBytes(state: JsonObject): number {
  try {
    return jsonSize(state);
  } catch {
    return Infinity;
  }
}

export class DocState {
  /** key -> seq, in insertion order (Map keeps it) so the oldest key is evicted first */
  private keys: Map<string, bigint>;
  /** client -> record, in order of last decision (the first is the least recently written) */
  private clients: Map<string, ClientRecord>;
  horizon: bigint;
  /** UTF-8 bytes of JSON.stringify(state), maintained by every applied op */
  bytes: number;

  constructor(
    readonly doc: string,
    public seq: bigint = 0n,
    public state: JsonObject = {},
    keys: Iterable<[string, bigint]> = [],
    private readonly keyWindow = DEFAULT_KEY_WINDOW,
    clients: Iterable<[string, ClientRecord]> = [],
    horizon = 0n,
    private readonly maxClients = DEDUPE_CLIENTS_PER_DOC,
  ) {
    this.keys = new Map(keys);
    this.clients = new Map(clients);
    this.horizon = horizon;
    this.bytes = initialBytes(state);
  }

  static from(s: DocSnapshot, keyWindow = DEFAULT_KEY_WINDOW, maxClients = DEDUPE_CLIENTS_PER_DOC): DocState {
    const clients = (s.clients ?? []).map(([c, r]): [string, ClientRecord] => [c, { ...r }]);
    return new DocState(s.doc, s.seq, structuredClone(s.state), s.keys, keyWindow, clients, s.horizon ?? 0n, maxClients);
  }

  /**
   * Applies the op stored at log position `seq` (offset + 1). Ops at or below the current seq were
   * already folded (replay overlap) and are ignored; an op whose idempotency key is known is a
   * duplicate and is skipped, reporting a seq whose state includes its first application.
   * `maxBytes` is the op's size bound (its record's `max_doc_bytes`; undefined: unbounded). It and
   * `ifSeq` are required parameters so every reader of the log (materializer, replicas, history)
   * must pass the record's values: a reader that forgets the bound folds a different document.
   * `replace` (the record's flag): `patch` is the whole new state (see the module header).
   */
  apply(seq: bigint, patch: JsonObject, key: string, ifSeq: bigint | undefined, maxBytes: number | undefined, replace?: boolean): ApplyResult {
    if (replace && seq > this.seq) {
      // a null member is absent (no merge patch holds one); origin's ingest strips them already
      const diff = diffMergePatch(this.state, patch) ?? diffMergePatch(this.state, stripNullMembers(patch))!;
      const r = this.apply(seq, diff as JsonObject, key, ifSeq, maxBytes);
      if (r.applied) r.patch = diff as JsonObject;
      return r;
    }
    const sk = key === '' ? undefined : parseSequencedKey(key);
    if (seq <= this.seq) {
      const known = sk ? this.decidedOf(sk) : undefined;
      if (known) return known;
      return { applied: false, seq: sk ? this.seq : (this.keys.get(key) ?? this.seq) };
    }
    if (sk) return this.applySequenced(seq, patch, sk, ifSeq, maxBytes);
    if (key !== '') {
      const first = this.keys.get(key);
      if (first !== undefined) return { applied: false, seq: first };
    }
    if (ifSeq !== undefined && ifSeq !== this.seq) return { applied: false, seq: this.seq, outcome: 'conflict', changed: false };
    const grown = this.sizeAfter(patch, maxBytes);
    if (grown < 0) return { applied: false, seq: this.seq, outcome: 'too_large', changed: false };
    if (key !== '') {
      this.keys.set(key, seq);
      if (this.keys.size > this.keyWindow) this.keys.delete(this.keys.keys().next().value as string);
    }
    return this.fold(seq, patch, grown);
  }

  /**
   * The state's size after `patch`, or -1 when that is over `maxBytes` and larger than now (an op
   * that does not grow an oversized doc, e.g. one loaded from before the bound, is still applied).
   */
  private sizeAfter(patch: JsonObject, maxBytes: number | undefined): number {
    const after = this.bytes + mergeSizeDelta(this.state, patch);
    return maxBytes !== undefined && after > maxBytes && after > this.bytes ? -1 : after;
  }

  private fold(seq: bigint, patch: JsonObject, bytes: number): ApplyResult {
    const prevSeq = this.seq;
    this.state = applyMergePatch(this.state, patch) as JsonObject;
    this.seq = seq;
    this.bytes = bytes;
    return { applied: true, prevSeq };
  }

  /** The answer for an already decided sequenced op, or undefined when it is new. */
  private decidedOf(sk: SequencedKey): ApplyResult | undefined {
    const r = this.clients.get(sk.client);
    if (r === undefined) {
      if (this.horizon > 0n && sk.base < this.horizon) return { applied: false, seq: this.seq, outcome: 'expired', changed: false };
      return undefined;
    }
    if (sk.n > r.hwm) return undefined;
    const d = r.hwm - sk.n;
    // below the window: decided long ago (the SDK's send span is narrower than the window)
    if (d >= DEDUPE_WINDOW) return { applied: false, seq: r.lastSeq };
    const bit = 1n << BigInt(d);
    if ((r.decided & bit) === 0n) return undefined;
    if ((r.rejected & bit) !== 0n) return { applied: false, seq: this.seq, outcome: 'conflict', changed: false };
    return { applied: false, seq: r.lastSeq };
  }

  private applySequenced(seq: bigint, patch: JsonObject, sk: SequencedKey, ifSeq: bigint | undefined, maxBytes: number | undefined): ApplyResult {
    const known = this.decidedOf(sk);
    if (known) return known;
    const conflict = ifSeq !== undefined && ifSeq !== this.seq;
    // too large: not decided (no bit set), so a re-send is judged again against the doc as it is then
    const grown = conflict ? 0 : this.sizeAfter(patch, maxBytes);
    if (grown < 0) return { applied: false, seq: this.seq, outcome: 'too_large', changed: false };
    let r = this.clients.get(sk.client);
    if (r === undefined) {
      r = { hwm: sk.n, decided: 0n, rejected: 0n, lastSeq: 0n };
    } else {
      this.clients.delete(sk.client); // re-inserted below: most recently written last
      if (sk.n > r.hwm) {
        const shift = BigInt(Math.min(sk.n - r.hwm, DEDUPE_WINDOW));
        r.decided = (r.decided << shift) & WINDOW_MASK;
        r.rejected = (r.rejected << shift) & WINDOW_MASK;
        r.hwm = sk.n;
      }
    }
    const bit = 1n << BigInt(r.hwm - sk.n);
    r.decided |= bit;
    let result: ApplyResult;
    if (conflict) {
      r.rejected |= bit;
      result = { applied: false, seq: this.seq, outcome: 'conflict', changed: true };
    } else {
      result = this.fold(seq, patch, grown);
    }
    r.lastSeq = this.seq;
    this.clients.set(sk.client, r);
    if (this.clients.size > this.maxClients) {
      const [oldest, rec] = this.clients.entries().next().value as [string, ClientRecord];
      this.clients.delete(oldest);
      if (rec.lastSeq > this.horizon) this.horizon = rec.lastSeq;
    }
    return result;
  }

  /** In-memory answer for a key without folding anything: a duplicate's seq, a rejection, or undefined. */
  peek(key: string): ApplyResult | undefined {
    const sk = parseSequencedKey(key);
    if (sk) return this.decidedOf(sk);
    const s = this.keys.get(key);
    return s === undefined ? undefined : { applied: false, seq: s };
  }

  /** seq at which `key` was applied, if it is still in the window */
  keySeq(key: string): bigint | undefined {
    const r = this.peek(key);
    return r && !r.applied && r.outcome === undefined ? r.seq : undefined;
  }

  snapshot(): DocSnapshot {
    const s: DocSnapshot = { doc: this.doc, seq: this.seq, state: structuredClone(this.state), keys: [...this.keys] };
    if (this.clients.size > 0) s.clients = [...this.clients].map(([c, r]) => [c, { ...r }]);
    if (this.horizon > 0n) s.horizon = this.horizon;
    return s;
  }
}
