/**
 * The origin's materialized view: tails every partition from the store's covered offsets and folds
 * ops into documents with DocState, so writes can answer with the seq their op produced and reads
 * see every acknowledged write.
 *
 * Memory: documents changed since the last checkpoint (dirty) stay in memory until a checkpoint has
 * stored them; clean documents sit in a bounded LRU and are reloaded from the store on demand (the
 * tail waits for such loads: backpressure). Too many dirty documents make the tail wait for a
 * checkpoint. Pending waitApplied calls are bounded.
 */
import { ErrorCode, ProtocolError } from '@replicant/protocol';
import {
  DEFAULT_KEY_WINDOW,
  DocState,
  decodeOp,
  forEachLimit,
  type DocSnapshot,
  type LogRecord,
  type StreamLog,
  type Tail,
  type SnapshotStore,
} from '@replicant/stream';
import { originMetrics } from './metrics.js';

export interface MaterializerOptions {
  log: StreamLog;
  store: SnapshotStore;
  /** idempotency keys remembered per document (default 256) */
  keyWindow?: number;
  /** clean documents kept in memory, least recently used evicted first (default 10 000) */
  docCacheSize?: number;
  /** most pending waitApplied calls; over it waitApplied rejects with code 'unavailable' (default 10 000) */
  maxWaiters?: number;
  /** dirty documents over which the tail waits for a checkpoint before applying more (default 100 000) */
  maxDirtyDocs?: number;
  /** store loads in flight while a batch is prepared (default 16) */
  loadConcurrency?: number;
  /** results of skipped (duplicate) ops remembered for waiters that arrive late (default 65 536) */
  skipMemory?: number;
  /** wait, during start, until every partition is applied up to the log end seen at start (default true) */
  catchUp?: boolean;
  /** aborting it closes the materializer; a start() still catching up rejects */
  signal?: AbortSignal;
}

/** An error carrying an ErrorCode; 'unavailable' means "retry later". */
export class MaterializerError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MaterializerError';
  }
}

interface Entry {
  readonly state: DocState;
  /** bumped by every applied op; a checkpoint marks the doc clean only if it is unchanged since capture */
  version: number;
  /**
   * offset of the first record that changed the doc since it was last clean (-1 while clean): a
   * partition's covered offset must not pass it while the doc's snapshot is not stored
   */
  dirtySince: bigint;
}

interface Waiter {
  resolve(seq: bigint): void;
  reject(err: unknown): void;
}

/** Dirty documents and partition positions captured at one instant, for one checkpoint. */
export interface Capture {
  snapshots: DocSnapshot[];
  /** partition -> next offset to apply: every op below it is reflected in the store after the commit */
  positions: Map<number, bigint>;
  /** per snapshot (same index): its partition and the offset of its first record not in the store */
  readonly entries: ReadonlyArray<{ doc: string; entry: Entry; version: number; partition: number; dirtySince: bigint }>;
}

// results of ops that did not advance the doc, as stored in `skips` and handed to waiters
const INVALID_OP = -1n;
const CONFLICT_OP = -2n;
const EXPIRED_OP = -3n;
const TOO_LARGE_OP = -4n;

function failureOf(result: bigint): MaterializerError | undefined {
  if (result === INVALID_OP) return new MaterializerError(ErrorCode.Internal, 'op at this offset is invalid');
  if (result === CONFLICT_OP) return new MaterializerError(ErrorCode.Conflict, 'ifSeq does not match the document seq');
  if (result === EXPIRED_OP) {
    return new MaterializerError(
      ErrorCode.IdempotencyExpired,
      'this op is older than the dedupe horizon of its document and may have been applied before; it was not applied now',
    );
  }
  if (result === TOO_LARGE_OP) {
    return new MaterializerError(ErrorCode.DocTooLarge, 'the document would be larger than MAX_DOC_BYTES; the op was not applied');
  }
  return undefined;
}

const OUTCOME_RESULT = { conflict: CONFLICT_OP, expired: EXPIRED_OP, too_large: TOO_LARGE_OP } as const;

export class Materializer {
  private readonly metrics = originMetrics();
  readonly partitions: number;
  private readonly log: StreamLog;
  private readonly store: SnapshotStore;
  private readonly keyWindow: number;
  private readonly docCacheSize: number;
  private readonly maxWaiters: number;
  private readonly maxDirtyDocs: number;
  private readonly loadConcurrency: number;
  private readonly skipMemory: number;
  private readonly dirty = new Map<string, Entry>();
  /** insertion order = recency: the first entry is the least recently used */
  private readonly clean = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<Entry>>();
  private readonly positions: bigint[];
  private readonly waiters: Map<bigint, Waiter[]>[];
  private waiterCount = 0;
  /** `${partition}/${offset}` -> seq reported for a skipped op (or INVALID_OP), oldest first */
  private readonly skips = new Map<string, bigint>();
  private progress?: { promise: Promise<void>; resolve: () => void };
  private pressure?: () => Promise<void>;
  private tail?: Tail;
  private closed = false;

  private constructor(opts: MaterializerOptions) {
    this.log = opts.log;
    this.store = opts.store;
    this.partitions = opts.log.partitions;
    this.keyWindow = opts.keyWindow ?? DEFAULT_KEY_WINDOW;
    this.docCacheSize = Math.max(0, opts.docCacheSize ?? 10_000);
    this.maxWaiters = opts.maxWaiters ?? 10_000;
    this.maxDirtyDocs = opts.maxDirtyDocs ?? 100_000;
    this.loadConcurrency = Math.max(1, opts.loadConcurrency ?? 16);
    this.skipMemory = opts.skipMemory ?? 65_536;
    this.positions = new Array<bigint>(this.partitions).fill(0n);
    this.waiters = Array.from({ length: this.partitions }, () => new Map());
  }

  static async start(opts: MaterializerOptions): Promise<Materializer> {
    const m = new Materializer(opts);
    const signal = opts.signal;
    const onAbort = () => void m.close();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (signal?.aborted) throw signal.reason;
      for (let p = 0; p < m.partitions; p++) m.positions[p] = await m.store.covered(p);
      const targets = await Promise.all(m.positions.map((_, p) => m.log.endOffset(p)));
      const tail = await m.log.tail((p, recs) => m.applyBatch(p, recs), {
        from: (p) => m.positions[p],
        onError: (err, p) => console.error(`materializer: applying partition ${p} failed, retrying:`, err),
        // offsets that are not data records (a transaction's markers): nothing to fold, but the
        // position must pass them or the read barrier (and catch-up) would wait for them forever
        onPosition: (p, next) => m.skipTo(p, next),
      });
      m.tail = tail;
      if (m.closed) {
        // aborted while the tail started: close() ran before there was a tail to close
        await tail.close();
        throw new MaterializerError(ErrorCode.Unavailable, 'materializer is closed');
      }
      if (opts.catchUp ?? true) await m.waitPositions(targets);
    } catch (err) {
      await m.close();
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return m;
  }

  /** Called when too many documents are dirty; resolves once a checkpoint has cleaned some. */
  setPressureHandler(fn: () => Promise<void>): void {
    this.pressure = fn;
  }

  /** the log's end offset of `partition` (lag metrics) */
  logEnd(partition: number): Promise<bigint> {
    return this.log.endOffset(partition);
  }

  /** next offset to apply, per partition */
  position(partition: number): bigint {
    return this.positions[partition];
  }

  /** Resolves once every partition p has been applied up to targets[p] (exclusive). */
  async waitPositions(targets: readonly bigint[]): Promise<void> {
    while (targets.some((t, p) => this.positions[p] < t)) await this.nextProgress();
  }

  /** Resolves once `partition` has been applied up to `target` (exclusive): the read barrier's wait. */
  async waitPosition(partition: number, target: bigint): Promise<void> {
    while (this.positions[partition] < target) await this.nextProgress();
  }

  /** the next advance of any position (one shared promise for every waiter); rejects once closed */
  private nextProgress(): Promise<void> {
    if (this.closed) return Promise.reject(new MaterializerError(ErrorCode.Unavailable, 'materializer is closed'));
    this.progress ??= (() => {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      return { promise, resolve };
    })();
    return this.progress.promise;
  }

  private skipTo(partition: number, next: bigint): void {
    if (next <= this.positions[partition]) return;
    this.positions[partition] = next;
    this.signalProgress();
  }

  private signalProgress(): void {
    const p = this.progress;
    this.progress = undefined;
    p?.resolve();
  }

  private async applyBatch(partition: number, records: LogRecord[]): Promise<void> {
    // first sight of a document loads it from the store; the tail waits (backpressure)
    const missing = new Set<string>();
    for (const r of records) {
      if (r.offset >= this.positions[partition] && !this.dirty.has(r.key) && !this.clean.has(r.key)) missing.add(r.key);
    }
    if (missing.size > 0) await forEachLimit([...missing], this.loadConcurrency, (d) => this.entry(d));
    for (const rec of records) {
      if (rec.offset < this.positions[partition]) continue; // redelivered after a failed batch
      const e = this.lookup(rec.key) ?? (await this.entry(rec.key));
      const seq = rec.offset + 1n;
      const op = decodeOp(rec.value);
      let result: bigint;
      if (op instanceof ProtocolError) {
        console.warn(`materializer: skipping invalid op at ${partition}/${rec.offset} (${rec.key}): ${op.message}`);
        this.metrics.opsApplied.inc({ result: 'invalid' });
        result = INVALID_OP;
        this.rememberSkip(partition, rec.offset, result);
      } else {
        const r = e.state.apply(seq, op.patch, op.key, op.ifSeq, op.maxDocBytes, op.replace);
        if (r.applied) {
          this.markDirty(rec.key, e, rec.offset);
          this.metrics.opsApplied.inc({ result: 'applied' });
          result = seq;
        } else if (r.outcome !== undefined) {
          if (r.changed) this.markDirty(rec.key, e, rec.offset); // the rejection is in the dedupe record
          this.metrics.opsApplied.inc({ result: r.outcome });
          result = OUTCOME_RESULT[r.outcome];
          this.rememberSkip(partition, rec.offset, result);
        } else {
          this.metrics.opsApplied.inc({ result: 'skipped' });
          result = r.seq;
          this.rememberSkip(partition, rec.offset, result);
        }
      }
      this.positions[partition] = seq;
      this.settle(partition, rec.offset, result);
    }
    this.signalProgress();
    while (this.dirty.size > this.maxDirtyDocs && this.pressure && !this.closed) {
      try {
        await this.pressure();
      } catch {
        await new Promise((r) => setTimeout(r, 100)); // checkpoint failed: retry after a pause
      }
    }
  }

  private rememberSkip(partition: number, offset: bigint, seq: bigint): void {
    this.skips.set(`${partition}/${offset}`, seq);
    if (this.skips.size > this.skipMemory) this.skips.delete(this.skips.keys().next().value as string);
  }

  private settle(partition: number, offset: bigint, result: bigint): void {
    const ws = this.waiters[partition].get(offset);
    if (ws === undefined) return;
    this.waiters[partition].delete(offset);
    this.waiterCount -= ws.length;
    const failure = failureOf(result);
    for (const w of ws) {
      if (failure) w.reject(failure);
      else w.resolve(result);
    }
  }

  /**
   * The doc's seq after the op at (partition, offset) was folded: offset + 1 when it was applied, the
   * seq of the first application when it was skipped as a duplicate idempotency key.
   */
  waitApplied(partition: number, offset: bigint): Promise<bigint> {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitions) {
      return Promise.reject(new RangeError(`partition ${partition} out of range`));
    }
    if (offset < this.positions[partition]) {
      const s = this.skips.get(`${partition}/${offset}`);
      const failure = s === undefined ? undefined : failureOf(s);
      if (failure) return Promise.reject(failure);
      return Promise.resolve(s ?? offset + 1n);
    }
    if (this.closed) return Promise.reject(new MaterializerError(ErrorCode.Unavailable, 'materializer is closed'));
    if (this.waiterCount >= this.maxWaiters) {
      return Promise.reject(new MaterializerError(ErrorCode.Unavailable, 'too many writes waiting to be applied'));
    }
    return new Promise<bigint>((resolve, reject) => {
      const m = this.waiters[partition];
      const ws = m.get(offset);
      if (ws) ws.push({ resolve, reject });
      else m.set(offset, [{ resolve, reject }]);
      this.waiterCount++;
    });
  }

  /** In-memory only: the seq at which `key` was applied to `docId`, if both are known. */
  peekKeySeq(docId: string, key: string): bigint | undefined {
    return (this.dirty.get(docId) ?? this.clean.get(docId))?.state.keySeq(key);
  }

  /**
   * In-memory only: how an op with `key` was already decided for `docId` (its seq, or a
   * MaterializerError for a conflict / expired op), undefined when unknown here.
   */
  peekDecided(docId: string, key: string): bigint | MaterializerError | undefined {
    const r = (this.dirty.get(docId) ?? this.clean.get(docId))?.state.peek(key);
    if (r === undefined || r.applied) return undefined;
    if (r.outcome === undefined) return r.seq;
    return failureOf(OUTCOME_RESULT[r.outcome]);
  }

  /** The document as of every op applied so far (a copy). Never-written documents: seq 0, {}. */
  async read(docId: string): Promise<DocSnapshot> {
    return (await this.entry(docId)).state.snapshot();
  }

  /** Runs `fn` on the live document without copying it; `fn` must not keep or modify the state. */
  async withDoc<T>(docId: string, fn: (doc: DocState) => T): Promise<T> {
    return fn((await this.entry(docId)).state);
  }

  private lookup(docId: string): Entry | undefined {
    const d = this.dirty.get(docId);
    if (d) return d;
    const c = this.clean.get(docId);
    if (c) {
      this.clean.delete(docId);
      this.clean.set(docId, c);
    }
    return c;
  }

  /** The in-memory entry, loading it from the store on first sight (one load per doc at a time). */
  private entry(docId: string): Promise<Entry> {
    const e = this.lookup(docId);
    if (e) return Promise.resolve(e);
    let l = this.loading.get(docId);
    if (l === undefined) {
      l = (async () => {
        try {
          const snap = await this.store.get(docId);
          const loaded: Entry = {
            state: snap ? DocState.from(snap, this.keyWindow) : new DocState(docId, 0n, {}, [], this.keyWindow),
            version: 0,
            dirtySince: -1n,
          };
          this.addClean(docId, loaded);
          return loaded;
        } finally {
          this.loading.delete(docId);
        }
      })();
      this.loading.set(docId, l);
    }
    return l;
  }

  private addClean(docId: string, e: Entry): void {
    this.clean.set(docId, e);
    while (this.clean.size > this.docCacheSize) this.clean.delete(this.clean.keys().next().value as string);
  }

  private markDirty(docId: string, e: Entry, offset: bigint): void {
    e.version++;
    if (e.dirtySince < 0n) e.dirtySince = offset;
    if (this.clean.get(docId) === e) this.clean.delete(docId);
    this.dirty.set(docId, e);
  }

  get dirtyCount(): number {
    return this.dirty.size;
  }

  get cachedCount(): number {
    return this.dirty.size + this.clean.size;
  }

  /** Snapshots of every dirty document and the positions they reflect, taken at the same instant. */
  capture(): Capture {
    const snapshots: DocSnapshot[] = [];
    const entries: { doc: string; entry: Entry; version: number; partition: number; dirtySince: bigint }[] = [];
    for (const [doc, entry] of this.dirty) {
      snapshots.push(entry.state.snapshot());
      entries.push({ doc, entry, version: entry.version, partition: this.log.partitionOf(doc), dirtySince: entry.dirtySince });
    }
    return { snapshots, positions: new Map(this.positions.map((o, p) => [p, o])), entries };
  }

  /**
   * After a capture was committed: its documents are clean unless they changed since (or their
   * snapshot could not be written: `failed` holds their indexes in the capture).
   */
  markClean(c: Capture, failed?: ReadonlySet<number>): void {
    c.entries.forEach(({ doc, entry, version }, i) => {
      if (failed?.has(i)) return;
      if (this.dirty.get(doc) === entry && entry.version === version) {
        this.dirty.delete(doc);
        entry.dirtySince = -1n;
        this.addClean(doc, entry);
      }
    });
  }

  /** Stops applying; pending waiters reject with 'unavailable'. Documents stay readable. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.signalProgress();
    await this.tail?.close();
    const err = new MaterializerError(ErrorCode.Unavailable, 'materializer is closed');
    for (const m of this.waiters) {
      for (const ws of m.values()) for (const w of ws) w.reject(err);
      m.clear();
    }
    this.waiterCount = 0;
  }
}
