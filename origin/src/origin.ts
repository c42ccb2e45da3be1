/**
 * The origin's write path and read API, independent of transport: validate, append durably, wait
 * until the op is folded, answer with the seq. Bounded in-flight writes and reads; over a bound, or
 * when the log sheds, callers get 503 `unavailable` with Retry-After instead of queueing.
 *
 * When the snapshot store reports that it lost its contents (SnapshotStore.onLoss: a Redis restarted
 * without persistence, flushed, or restored from an older dump), the materialized view can no longer
 * trust it (a document evicted from memory would reload from a snapshot that is gone, and advancing
 * covered offsets would hide history that is no longer stored). The origin then rebuilds: it drops
 * its materializer and checkpointer, adopts what the store now holds, and replays the log from the
 * store's covered offsets (0 after a total loss) with a new materializer, exactly as a restart would.
 * Meanwhile new writes and reads answer 503 with Retry-After; writes already appended are answered
 * by the rebuilt view.
 */
import {
  Backoff,
  ErrorCode,
  MAX_ID_LENGTH,
  ProtocolError,
  diffMergePatch,
  isMalformedSequencedKey,
  isPresenceDoc,
  isValidDocId,
  parsePatch,
  PRESENCE_READ_ONLY,
  type JsonObject,
  type View,
} from '@replicant/protocol';
import { encodeOp, type AppendResult, type StreamLog, type SnapshotStore } from '@replicant/stream';
import { Materializer, MaterializerError } from './materializer.js';
import { Checkpointer, DEFAULT_CHECKPOINT_INTERVAL_MS } from './checkpointer.js';
import { originMetrics } from './metrics.js';
import { OriginError, unavailable } from './errors.js';
import { ReadBarrier } from './read-barrier.js';
import { History, type HistoryPage } from './history.js';

export { OriginError } from './errors.js';

export interface OriginOptions {
  log: StreamLog;
  store: SnapshotStore;
  /** default 200 ms */
  checkpointIntervalMs?: number;
  /** writes appended or waiting to be applied at once; over it writes answer 503 (default 10 000) */
  maxInflightWrites?: number;
  /** reads in flight at once (they may load documents from the store); over it 503 (default 10 000) */
  maxInflightReads?: number;
  /** idempotency keys remembered per document (default 256) */
  keyWindow?: number;
  /** clean documents cached in memory (default 10 000) */
  docCacheSize?: number;
  /** dirty documents over which applying waits for a checkpoint (default 100 000) */
  maxDirtyDocs?: number;
  /** a linearizable read not past the read barrier in this time answers 503 (default 5000) */
  readBarrierTimeoutMs?: number;
  /**
   * MAX_DOC_BYTES: written into every op this origin appends, so the fold of every reader rejects
   * an op that would grow a document's state as JSON past it (413 doc_too_large). Default 16 MiB;
   * 1 KiB .. MAX_MAX_DOC_BYTES (32 MiB: a link base, the state plus its history, must fit the
   * 64 MiB link frame), else Origin.start throws.
   */
  maxDocBytes?: number;
}

export const DEFAULT_READ_BARRIER_TIMEOUT_MS = 5000;
export const DEFAULT_MAX_DOC_BYTES = 16 * 1024 * 1024;
/** the largest MAX_DOC_BYTES (cli/src/config.ts caps the setting at the same value) */
export const MAX_MAX_DOC_BYTES = 32 * 1024 * 1024;
/** a restore whose If-Match-free write met a concurrent write is recomputed this many times before 412 */
export const RESTORE_ATTEMPTS = 3;

/** one record of a Kafka ingest round (ingest.ts): an op for a document, keyed for exactly-once */
export interface IngestOp {
  docId: string;
  /** canonical JSON text of a merge patch, or with `replace` of the whole new state */
  patchText: string;
  /** a sequenced idempotency key (`~<client>.<n>.<base>`) */
  key: string;
  replace: boolean;
}

/**
 * The fold's verdict on an ingested op: `ok` applied, `duplicate` applied before (a re-delivery),
 * `doc_too_large` not applied (MAX_DOC_BYTES, or a record the log refuses), `expired` not applied
 * (past the dedupe horizon), `error` unknown (the view was dropped; the op is in the log).
 */
export type IngestOutcome = 'ok' | 'duplicate' | 'doc_too_large' | 'expired' | 'error';

export interface IngestRound {
  /** resolves once every op is durable (or refused by the log as too large); rejects when an append failed */
  durable: Promise<void>;
  /** per op, once applied (after `durable`; ops whose append failed are `error`) */
  outcomes: Promise<IngestOutcome[]>;
}

/** how a read is served: `barrier` (linearizable, the default) or `local` (this origin's view as it is) */
export interface ReadOptions {
  local?: boolean;
}

/** what clients are told when the log is unavailable; the cause goes to the log (below) */
export const LOG_UNAVAILABLE_MESSAGE = 'the stream log is unavailable; retry';
let lastLogUnavailable = 0;
let suppressedLogUnavailable = 0;

/**
 * A log failure's message may name internal addresses (a broker's host:port, a Redis URL, a file
 * path): it is logged, at most once a second (a failing log fails every write), never sent.
 */
function logUnavailable(message: string): void {
  const now = Date.now();
  if (now - lastLogUnavailable < 1000) {
    suppressedLogUnavailable++;
    return;
  }
  const more = suppressedLogUnavailable > 0 ? ` (and ${suppressedLogUnavailable} more since the last report)` : '';
  suppressedLogUnavailable = 0;
  lastLogUnavailable = now;
  console.error(`origin: write refused, the stream log is unavailable: ${message}${more}`);
}

/** Maps failures of the log / materializer to OriginErrors: 'unavailable' -> 503, else 500/413. */
function toOriginError(err: unknown): OriginError {
  if (err instanceof OriginError) return err;
  const e = err as { code?: unknown; message?: unknown; retryAfterSec?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (e?.code === ErrorCode.Unavailable) {
    logUnavailable(message);
    return unavailable(LOG_UNAVAILABLE_MESSAGE, typeof e.retryAfterSec === 'number' ? e.retryAfterSec : 1);
  }
  if (e?.code === ErrorCode.Conflict) return new OriginError(ErrorCode.Conflict, 412, message);
  if (e?.code === ErrorCode.IdempotencyExpired) return new OriginError(ErrorCode.IdempotencyExpired, 409, message);
  if (e?.code === ErrorCode.DocTooLarge) return new OriginError(ErrorCode.DocTooLarge, 413, message);
  if (err instanceof RangeError) return new OriginError(ErrorCode.PayloadTooLarge, 413, message);
  console.error('origin: internal error:', err);
  return new OriginError(ErrorCode.Internal, 500, 'internal error');
}

export class Origin {
  private readonly metrics = originMetrics();
  private inflightWrites = 0;
  private inflightReads = 0;
  private closed = false;
  private closing?: Promise<void>;
  private drained?: () => void;
  /** ingest rounds waiting for room under maxInflightWrites (writeRoom) */
  private roomWaiters: { n: number; resolve: () => void }[] = [];
  readonly maxInflightWrites: number;
  private readonly maxInflightReads: number;
  /** linearizable reads wait here (read-barrier.ts) */
  readonly barrier: ReadBarrier;
  /** the documents' past, read from the log (history.ts) */
  private readonly past: History;
  /** set while the materialized view is rebuilt after a snapshot-store loss; resolves when done */
  private rebuilding?: Promise<void>;
  /** the view being built (at start or in a rebuild): a loss reported meanwhile aborts it */
  private attempt?: AbortController;
  /** completed rebuilds (tests, diagnostics) */
  rebuilds = 0;
  // both set by buildView() before start() returns
  private mat!: Materializer;
  private checkpointer!: Checkpointer;

  private constructor(
    readonly log: StreamLog,
    readonly store: SnapshotStore,
    private readonly opts: OriginOptions,
  ) {
    this.maxInflightWrites = opts.maxInflightWrites ?? 10_000;
    this.maxInflightReads = opts.maxInflightReads ?? 10_000;
    this.barrier = new ReadBarrier(
      {
        endOffset: (p) => this.log.endOffset(p),
        position: (p) => this.mat.position(p),
        reached: (p, offset) => this.mat.waitPosition(p, offset),
      },
      opts.readBarrierTimeoutMs ?? DEFAULT_READ_BARRIER_TIMEOUT_MS,
    );
    this.past = new History(opts.log, opts.store, opts.keyWindow);
  }

  /** Replays the log from the last checkpoint (until caught up with the log end), then serves. */
  static async start(opts: OriginOptions): Promise<Origin> {
    const m = opts.maxDocBytes;
    if (m !== undefined && !(Number.isInteger(m) && m >= 1024 && m <= MAX_MAX_DOC_BYTES)) {
      throw new RangeError(`maxDocBytes must be an integer from 1024 to ${MAX_MAX_DOC_BYTES}, got ${m}`);
    }
    const origin = new Origin(opts.log, opts.store, opts);
    // before the first view: a loss noticed while it catches up starts it over
    opts.store.onLoss?.((err) => origin.onStoreLoss(err));
    await origin.buildView();
    return origin;
  }

  /**
   * A materializer caught up from the store's covered offsets, and its running checkpointer. A loss
   * reported while it is built aborts it; it then starts over from what the store holds by then.
   */
  private async buildView(): Promise<void> {
    for (;;) {
      const ac = new AbortController();
      this.attempt = ac;
      try {
        const materializer = await Materializer.start({
          log: this.opts.log,
          store: this.opts.store,
          keyWindow: this.opts.keyWindow,
          docCacheSize: this.opts.docCacheSize,
          maxDirtyDocs: this.opts.maxDirtyDocs,
          maxWaiters: this.opts.maxInflightWrites ?? 10_000,
          signal: ac.signal,
        });
        if (ac.signal.aborted) {
          await materializer.close();
          throw ac.signal.reason;
        }
        const checkpointer = new Checkpointer(materializer, this.opts.store, {
          intervalMs: this.opts.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS,
        });
        checkpointer.start();
        this.mat = materializer;
        this.checkpointer = checkpointer;
        return;
      } catch (err) {
        if (!ac.signal.aborted || this.closed) throw err;
        console.error(`origin: ${(ac.signal.reason as Error).message}; starting the materialized view over`);
        await this.store.adopt?.();
      } finally {
        if (this.attempt === ac) this.attempt = undefined;
      }
    }
  }

  /** the current materialized view (replaced by a rebuild) */
  get materializer(): Materializer {
    return this.mat;
  }

  /** writes appended or waiting to be applied */
  get inflight(): number {
    return this.inflightWrites;
  }

  /** true while the view is being rebuilt after a snapshot-store loss */
  get isRebuilding(): boolean {
    return this.rebuilding !== undefined;
  }

  /** resolves once no rebuild is running (at once when none is) */
  async whenServing(): Promise<void> {
    while (this.rebuilding) await this.rebuilding;
  }

  private onStoreLoss(err: Error): void {
    if (this.closed) return;
    if (this.attempt) {
      // a view is being built on contents that just changed again: start it over
      this.attempt.abort(err);
      return;
    }
    if (this.rebuilding) return; // about to adopt() the current contents anyway
    // synchronous: from here on no read or new write uses the old view
    this.rebuilding = this.rebuild(err).finally(() => {
      this.rebuilding = undefined;
    });
  }

  private async rebuild(cause: Error): Promise<void> {
    console.error(
      `origin: ${cause.message}; rebuilding the materialized view from the log ` +
        '(writes and reads answer 503 until it has caught up)',
    );
    const t0 = performance.now();
    await this.checkpointer.abandon();
    await this.mat.close();
    const backoff = new Backoff({ initialMs: 250, maxMs: 10_000, jitter: 'none' });
    for (;;) {
      if (this.closed) return;
      try {
        await this.store.adopt?.();
        await this.buildView();
        if (this.closed) return; // close() closes the new view
        this.rebuilds++;
        this.metrics.rebuilds.inc();
        console.error(`origin: materialized view rebuilt from the log in ${Math.round(performance.now() - t0)} ms`);
        return;
      } catch (err) {
        if (this.closed) return;
        const delay = backoff.next();
        console.error(`origin: rebuilding the materialized view failed (${(err as Error).message}); retrying in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private checkServing(): void {
    if (this.rebuilding) {
      throw unavailable('origin is rebuilding its materialized view from the log (the snapshot store lost its checkpoints)', 2);
    }
  }

  /** the seq of the op appended at (partition, offset), from whichever view is current when it is applied */
  private async applied(partition: number, offset: bigint): Promise<bigint> {
    for (;;) {
      if (this.rebuilding) await this.rebuilding;
      const m = this.mat;
      try {
        return await m.waitApplied(partition, offset);
      } catch (err) {
        // the view was dropped while waiting: the rebuilt one applies the same record
        if (this.closed || (m === this.mat && !this.rebuilding)) throw err;
      }
    }
  }

  /**
   * Appends a merge patch to a document and resolves, once the op is durable and applied, with the
   * document's seq after it. A repeated idempotency key resolves with the seq of the first write.
   * With `ifSeq` the op is applied only if the document is at that seq when the op is folded, else
   * the write fails with 412 `conflict` (decided in the fold, so every reader agrees).
   */
  async write(docId: string, patchText: string, idempotencyKey?: string, ifSeq?: bigint): Promise<bigint> {
    if (this.closed) throw unavailable('origin is shutting down');
    if (!isValidDocId(docId)) throw new OriginError(ErrorCode.BadDocId, 400, 'invalid document id');
    if (isPresenceDoc(docId)) throw new OriginError(ErrorCode.BadRequest, 400, PRESENCE_READ_ONLY);
    this.checkServing();
    const key = idempotencyKey ?? '';
    if (key.length > MAX_ID_LENGTH) {
      throw new OriginError(ErrorCode.BadRequest, 400, `idempotency key longer than ${MAX_ID_LENGTH} characters`);
    }
    if (isMalformedSequencedKey(key)) {
      throw new OriginError(ErrorCode.BadRequest, 400, 'idempotency keys starting with ~ are sequenced keys: ~<client>.<n>.<base>');
    }
    // depth/size bounded (protocol/patch-bounds.ts) before JSON.stringify below can overflow
    const patch = parsePatch(patchText);
    if (patch instanceof ProtocolError) throw new OriginError(ErrorCode.BadPatch, 400, patch.message);
    if (key !== '') {
      // already applied (hence durable): answer without appending a duplicate
      const known = this.mat.peekDecided(docId, key);
      if (known instanceof MaterializerError) throw toOriginError(known);
      if (known !== undefined) {
        this.metrics.writes.inc({ result: 'duplicate' });
        return known;
      }
    }
    if (this.inflightWrites >= this.maxInflightWrites) {
      this.metrics.writes.inc({ result: 'shed' });
      throw unavailable('too many writes in flight');
    }
    this.inflightWrites++;
    this.metrics.inflight.inc();
    const t0 = performance.now();
    try {
      // canonical text: every reader (and every client of the fan-out) parses exactly these bytes
      const value = encodeOp(JSON.stringify(patch), key, Date.now(), ifSeq, this.opts.maxDocBytes ?? DEFAULT_MAX_DOC_BYTES);
      let r: AppendResult;
      try {
        r = await this.log.append(docId, value);
      } catch (err) {
        throw toOriginError(err);
      }
      let seq: bigint;
      try {
        seq = await this.applied(r.partition, r.offset);
      } catch (err) {
        throw toOriginError(err);
      }
      this.metrics.writes.inc({ result: 'ok' });
      this.metrics.writeLatency.observe((performance.now() - t0) / 1000);
      return seq;
    } catch (err) {
      this.metrics.writes.inc({ result: (err as OriginError).code ?? 'error' });
      throw err;
    } finally {
      this.inflightWrites--;
      this.metrics.inflight.dec();
      if (this.inflightWrites === 0) this.drained?.();
      if (this.roomWaiters.length > 0) this.wakeRoom();
    }
  }

  /**
   * Resolves once `n` more writes fit under maxInflightWrites (at once when they do; when nothing
   * is in flight any n fits): the Kafka ingest's backpressure (ingest.ts). Waiters are served in
   * order; close() releases them (the round they start then fails as unavailable).
   */
  writeRoom(n: number): Promise<void> {
    if (this.closed || (this.roomWaiters.length === 0 && this.fits(n))) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push({ n, resolve }));
  }

  /** true when `n` more writes fit under maxInflightWrites now (and nobody waits before them) */
  hasWriteRoom(n: number): boolean {
    return this.roomWaiters.length === 0 && this.fits(n);
  }

  private fits(n: number): boolean {
    return this.inflightWrites === 0 || this.inflightWrites + n <= this.maxInflightWrites;
  }

  private wakeRoom(): void {
    while (this.roomWaiters.length > 0 && (this.closed || this.fits(this.roomWaiters[0].n))) this.roomWaiters.shift()!.resolve();
  }

  /**
   * One round of the Kafka ingest (ingest.ts): appends every op, in order, synchronously (so the
   * ops of one document land in its partition in this order), counted as writes in flight until
   * applied. `durable` rejects when an append failed: the log (stream-log.ts; the Kafka appender
   * also fails what queued behind a failed request) then holds, per document, a prefix of the
   * round's ops, which is what lets the sequenced keys' high-water mark dedupe the retry exactly.
   * A record the log refuses as too large (RangeError) is not a failure: its outcome is doc_too_large.
   */
  ingest(ops: readonly IngestOp[]): IngestRound {
    if (this.closed || this.rebuilding) {
      const e = unavailable(this.closed ? 'origin is shutting down' : 'origin is rebuilding its materialized view');
      const durable = Promise.reject(e);
      durable.catch(() => {});
      return { durable, outcomes: Promise.resolve(ops.map(() => 'error' as const)) };
    }
    const n = ops.length;
    this.inflightWrites += n;
    this.metrics.inflight.inc(n);
    const now = Date.now();
    const maxDocBytes = this.opts.maxDocBytes ?? DEFAULT_MAX_DOC_BYTES;
    const appends: Promise<AppendResult | 'too_large'>[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const op = ops[i];
      appends[i] = this.log.append(op.docId, encodeOp(op.patchText, op.key, now, undefined, maxDocBytes, op.replace)).catch((err: unknown) => {
        if (err instanceof RangeError) return 'too_large' as const;
        throw err;
      });
    }
    const settled = Promise.allSettled(appends);
    const durable = settled.then((rs) => {
      for (const r of rs) if (r.status === 'rejected') throw toOriginError(r.reason);
    });
    durable.catch(() => {});
    const outcomes = settled
      .then((rs) =>
        Promise.all(
          rs.map(async (r): Promise<IngestOutcome> => {
            if (r.status === 'rejected') return 'error';
            if (r.value === 'too_large') return 'doc_too_large';
            try {
              const seq = await this.applied(r.value.partition, r.value.offset);
              return seq === r.value.offset + 1n ? 'ok' : 'duplicate';
            } catch (err) {
              const code = (err as { code?: unknown }).code;
              if (code === ErrorCode.DocTooLarge) return 'doc_too_large';
              if (code === ErrorCode.IdempotencyExpired) return 'expired';
              return 'error';
            }
          }),
        ),
      )
      .finally(() => {
        this.inflightWrites -= n;
        this.metrics.inflight.dec(n);
        if (this.inflightWrites === 0) this.drained?.();
        if (this.roomWaiters.length > 0) this.wakeRoom();
      });
    return { durable, outcomes };
  }

  /**
   * The document as of every write acknowledged (by any origin) before this call: the read waits
   * at the read barrier until this origin has applied the log up to an end offset asked after the
   * call. With `local` it skips the barrier: this origin's view now (monotonic, maybe behind).
   * Never-written documents are seq 0, {}.
   */
  async read(docId: string, opts?: ReadOptions): Promise<{ seq: bigint; state: JsonObject }> {
    return this.reading(docId, opts?.local ? 'local' : 'barrier', async () => {
      const s = await this.mat.read(docId);
      return { seq: s.seq, state: s.state };
    });
  }

  /** Like read, with the state already serialized (no copy of the live document). */
  async readJson(docId: string, opts?: ReadOptions): Promise<{ seq: bigint; stateJson: string }> {
    return this.reading(docId, opts?.local ? 'local' : 'barrier', () =>
      this.mat.withDoc(docId, (d) => ({ seq: d.seq, stateJson: JSON.stringify(d.state) })),
    );
  }

  /** Applied ops of `docId` with seq > `after`, oldest first (history.ts bounds a page); with `view`, that view's history. */
  history(docId: string, after: bigint, limit: number, signal?: AbortSignal, view?: View): Promise<HistoryPage> {
    return this.reading(docId, 'history', () => this.past.page(docId, after, limit, signal, view));
  }

  /** The document as of log position `at` (history.ts): the state a subscriber held at that seq. */
  stateAt(docId: string, at: bigint, signal?: AbortSignal): Promise<{ seq: bigint; state: JsonObject }> {
    return this.reading(docId, 'history', () => this.past.stateAt(docId, at, signal));
  }

  /**
   * Appends one merge patch that takes `docId` back to its state at `seq`, answered like a write.
   * The patch is the diff from the current (linearizable) state and is written with ifSeq = the
   * seq it was computed at, so it can never be applied on top of a state it was not computed for:
   * a concurrent write in between makes it a conflict, and the restore is recomputed (up to
   * RESTORE_ATTEMPTS times, then 412). With `ifSeq` from the caller (If-Match) it is written once,
   * conditional on that seq. An idempotency key dedupes like any write's.
   */
  async restore(docId: string, seq: bigint, idempotencyKey?: string, ifSeq?: bigint): Promise<bigint> {
    if (isPresenceDoc(docId)) throw new OriginError(ErrorCode.BadRequest, 400, PRESENCE_READ_ONLY);
    const target = await this.stateAt(docId, seq);
    for (let attempt = 1; ; attempt++) {
      const cur = await this.read(docId);
      const patch = diffMergePatch(cur.state, target.state);
      if (patch === undefined) throw new OriginError(ErrorCode.Internal, 500, 'no merge patch reaches that state');
      try {
        return await this.write(docId, JSON.stringify(patch), idempotencyKey, ifSeq ?? cur.seq);
      } catch (err) {
        if (ifSeq !== undefined || attempt >= RESTORE_ATTEMPTS || (err as OriginError).code !== ErrorCode.Conflict) throw err;
      }
    }
  }

  /** `mode`: `barrier` waits at the read barrier; `local` and `history` (reads of the log itself, bounded at its end offset) do not */
  private async reading<T>(docId: string, mode: 'barrier' | 'local' | 'history', fn: () => Promise<T>): Promise<T> {
    if (!isValidDocId(docId)) throw new OriginError(ErrorCode.BadDocId, 400, 'invalid document id');
    if (this.closed) throw unavailable('origin is shutting down');
    this.checkServing();
    if (this.inflightReads >= this.maxInflightReads) throw unavailable('too many reads in flight');
    this.inflightReads++;
    this.metrics.reads.inc({ read: mode });
    try {
      if (mode === 'barrier') {
        await this.barrier.wait(this.log.partitionOf(docId));
        // a view rebuilt meanwhile caught up to end offsets asked after this read arrived: it may serve
        this.checkServing();
      }
      return await fn();
    } catch (err) {
      throw toOriginError(err);
    } finally {
      this.inflightReads--;
    }
  }

  /**
   * The server API's control stream (protocol/control.ts): appends an op to a reserved document
   * (ids the public API refuses) and resolves with its seq once durable and applied. Counted and
   * bounded with the other writes.
   */
  async writeReserved(docId: string, patchText: string, idempotencyKey = ''): Promise<bigint> {
    if (this.closed) throw unavailable('origin is shutting down');
    this.checkServing();
    if (this.inflightWrites >= this.maxInflightWrites) throw unavailable('too many writes in flight');
    this.inflightWrites++;
    try {
      // a key's retry is dropped by the fold (the doc's key window), as for POST /v1/docs
      const r = await this.log.append(docId, encodeOp(patchText, idempotencyKey, Date.now())).catch((err: unknown) => {
        throw toOriginError(err);
      });
      return await this.applied(r.partition, r.offset).catch((err: unknown) => {
        throw toOriginError(err);
      });
    } finally {
      this.inflightWrites--;
      if (this.inflightWrites === 0) this.drained?.();
      if (this.roomWaiters.length > 0) this.wakeRoom();
    }
  }

  /** a reserved document's materialized state (this origin's view) */
  async readReserved(docId: string): Promise<{ seq: bigint; state: JsonObject }> {
    this.checkServing();
    try {
      const s = await this.mat.read(docId);
      return { seq: s.seq, state: s.state };
    } catch (err) {
      throw toOriginError(err);
    }
  }

  /** Runs a checkpoint now (tests, operations). */
  checkpoint(): Promise<void> {
    return this.checkpointer.checkpointNow();
  }

  /**
   * Stops accepting writes, waits for in-flight writes, stops applying, writes a final checkpoint,
   * then closes the log and the store.
   */
  close(): Promise<void> {
    this.closed = true;
    this.wakeRoom();
    this.barrier.close();
    // a view being rebuilt is abandoned: the writes waiting for it answer 503
    this.attempt?.abort(new Error('origin is closing'));
    this.closing ??= (async () => {
      if (this.inflightWrites > 0) await new Promise<void>((r) => (this.drained = r));
      await this.rebuilding;
      await this.mat.close();
      try {
        await this.checkpointer.close();
      } finally {
        await this.log.close();
        await this.store.close();
      }
    })();
    return this.closing;
  }
}
