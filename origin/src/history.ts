/**
 * A document's past, read from the log: history pages (`GET /v1/docs/{id}/history`), the state as
 * of a seq (`GET /v1/docs/{id}?at=<seq>`), and the state a restore goes back to.
 *
 * The fold decides: records are folded with the same DocState.apply the materializer and the
 * replicas use (dedupe, ifSeq conflicts, invalid records skipped), so an op appears in history
 * exactly when it changed the document for every subscriber, and the state at seq s is the state a
 * subscriber held at s.
 *
 * Where a read starts (the base): the doc's records are interleaved with other docs' in its
 * partition, and the snapshot store keeps only the latest snapshot. So:
 *   - target at or above the stored snapshot's seq: start from the snapshot, at offset snap.seq
 *     (cost: the partition's records since the doc's last checkpoint, up to the target);
 *   - else, when the log still starts at offset 0: from an empty doc at offset 0 (cost: the
 *     partition's records up to the target — O(partition), the general case);
 *   - else (retention deleted the start) the state before the snapshot is gone: 410
 *     `history_expired` naming the oldest seq available (the snapshot's). A doc without a snapshot
 *     had no op below the log start, so it is folded from there.
 *   Both need the checkpoints to cover the log start (file-log retention never deletes past them);
 *   when Kafka retention ran ahead of them, the read is 503 until the next checkpoint.
 * A record that retention deleted while a read ran (file log: RangeError; Kafka: the log start
 * moved past the base during the scan) starts the read over from a fresh base (at most 3 times in
 * all, then 410): never a silent gap.
 *
 * Per-user views: a page read through a View (a JWT caller of a doc with VIEWS_FILE rules) is that
 * view's history, the chain its live subscribers get: each op's patch projected against the state
 * before it (the view's own copy of the projected state, folded along), an op that changes nothing
 * the view can see left out, and `prevSeq` the seq of the view's previous op in the page (the first
 * op's: the doc's seq at `after`, what `?at=<after>` answers). So the view's `stateAt(s)` plus its
 * ops after `s` fold to its `stateAt` of any later seq, and the chain is gap-free across pages
 * (`next` is the last op's seq). `limit` and the byte bound count the view's ops and projected
 * text; the scan bounds are the same.
 *
 * Bounds per request: at most HISTORY_MAX_SCAN_RECORDS records of the partition are read (past it
 * 422 `history_scan_limit`), READ_BATCH records at a time (one batch in memory); a page holds at
 * most HISTORY_MAX_LIMIT ops and HISTORY_PAGE_MAX_BYTES of patch text (at least one op); at most
 * HISTORY_MAX_CONCURRENT reads run at once per origin (over it 503 with Retry-After). Scans stop at
 * the partition's end offset asked when the request arrived, so they terminate under writes.
 * Between batches a read stops when its HTTP request was aborted (its slot is free at once) and
 * when it ran past HISTORY_TIME_BUDGET_MS (503 `unavailable`): slow reads cannot hold every slot.
 */
import { applyMergePatch, ErrorCode, isEmptyPatch, ProtocolError, type JsonObject, type View } from '@replicant/protocol';
import { DEFAULT_KEY_WINDOW, DocState, decodeOp, type SnapshotStore, type StreamLog } from '@replicant/stream';
import { OriginError, unavailable } from './errors.js';

/** most ops per history page (`limit` is capped to it) */
export const HISTORY_MAX_LIMIT = 1000;
/** most patch bytes per history page (a page holds at least one op, whatever its size) */
export const HISTORY_PAGE_MAX_BYTES = 1024 * 1024;
/** most log records one history / at / restore request reads */
export const HISTORY_MAX_SCAN_RECORDS = 2_000_000;
/** history reads running at once per origin */
export const HISTORY_MAX_CONCURRENT = 4;
/** the time one history / at / restore read may take before it is stopped (503) */
export const HISTORY_TIME_BUDGET_MS = 10_000;
/** records per log read */
const READ_BATCH = 1024;

export interface HistoryOp {
  seq: bigint;
  prevSeq: bigint;
  /** the op's merge patch, as the JSON text stored in the log */
  patchText: string;
  /** the writer's append time, ms since the epoch */
  tsMs: number;
}

export interface HistoryPage {
  ops: HistoryOp[];
  /** pass as `after` for the next page; null when the page reached the log's end */
  next: bigint | null;
}

/** 410 history_expired, naming the oldest seq whose state is still available */
export class HistoryExpiredError extends OriginError {
  constructor(readonly oldest: bigint) {
    super(ErrorCode.HistoryExpired, 410, `history before seq ${oldest} is no longer in the log (retention); the oldest seq available is ${oldest}`);
  }
}

/** retention deleted records a read needed while it ran: the read starts over from a fresh base */
class LogMoved extends Error {}
/** reads started over after LogMoved, in all, before 410 */
const MOVED_ATTEMPTS = 3;

/**
 * What a scan does past the base: `base` once with the doc as of the base (before any later op is
 * folded), then `op` with each applied op and the merge patch it applied; returning false stops it.
 */
interface Visit {
  base?(state: JsonObject, seq: bigint): void;
  op(op: HistoryOp, patch: JsonObject): boolean;
}

/** when a read stops early: its request was aborted, or its time budget ran out */
interface Limits {
  signal: AbortSignal | undefined;
  deadline: number;
}

export class History {
  private running = 0;

  constructor(
    private readonly log: StreamLog,
    private readonly store: SnapshotStore,
    private readonly keyWindow = DEFAULT_KEY_WINDOW,
    private readonly maxScanRecords = HISTORY_MAX_SCAN_RECORDS,
    private readonly budgetMs = HISTORY_TIME_BUDGET_MS,
  ) {}

  /**
   * Applied ops with seq > `after`, in order: at most `limit` (≤ HISTORY_MAX_LIMIT) and
   * HISTORY_PAGE_MAX_BYTES. With `view` (not the whole doc): that view's history (module header).
   */
  page(docId: string, after: bigint, limit: number, signal?: AbortSignal, view?: View): Promise<HistoryPage> {
    const max = Math.max(1, Math.min(HISTORY_MAX_LIMIT, Math.floor(limit)));
    return this.bounded(docId, signal, async (limits) => {
      const ops: HistoryOp[] = [];
      let bytes = 0;
      let full = false;
      /** false when the op does not fit the page (it is then the next page's first) */
      const add = (op: HistoryOp): boolean => {
        const size = op.patchText.length;
        if (ops.length > 0 && bytes + size > HISTORY_PAGE_MAX_BYTES) {
          full = true;
          return false;
        }
        ops.push(op);
        bytes += size;
        if (ops.length >= max) full = true;
        return true;
      };
      let visit: Visit;
      if (view === undefined || view.all) {
        visit = { op: (op) => add(op) && !full };
      } else {
        // the view's projected state as of the last op folded, an independent copy (the fold
        // mutates the doc's state in place, and projections share its subtrees)
        let seen: JsonObject = {};
        let last = 0n;
        visit = {
          base: (state, seq) => {
            seen = JSON.parse(JSON.stringify(view.projectState(state))) as JsonObject;
            last = seq;
          },
          op: (op, patch) => {
            const projected = view.projectPatch(patch, seen);
            if (isEmptyPatch(projected)) return true; // nothing this view can see: not in its history
            if (!add({ seq: op.seq, prevSeq: last, patchText: JSON.stringify(projected), tsMs: op.tsMs })) return false;
            applyMergePatch(seen, projected);
            last = op.seq;
            return !full;
          },
        };
      }
      await this.scan(docId, after, undefined, limits, visit);
      return { ops, next: full ? ops[ops.length - 1].seq : null };
    });
  }

  /**
   * The document as of log position `at`: every applied op with seq ≤ at folded (positions past
   * the log's end when asked: as of that end). `seq` is the doc's seq there (≤ at).
   */
  stateAt(docId: string, at: bigint, signal?: AbortSignal): Promise<{ seq: bigint; state: JsonObject }> {
    return this.bounded(docId, signal, async (limits) => {
      const d = await this.scan(docId, at, at, limits, undefined);
      return { seq: d.seq, state: d.state };
    });
  }

  /**
   * Runs `fn` (one read, from its base) within the concurrency bound. Retention that deleted records
   * while it ran (LogMoved) starts it over from a fresh base, at most MOVED_ATTEMPTS times in all;
   * then it is 410 naming the oldest seq available by then.
   */
  private async bounded<T>(docId: string, signal: AbortSignal | undefined, fn: (limits: Limits) => Promise<T>): Promise<T> {
    if (this.running >= HISTORY_MAX_CONCURRENT) throw unavailable(`more than ${HISTORY_MAX_CONCURRENT} history reads in flight`);
    this.running++;
    const limits: Limits = { signal, deadline: Date.now() + this.budgetMs };
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await fn(limits);
        } catch (err) {
          if (!(err instanceof LogMoved)) throw err;
          if (attempt >= MOVED_ATTEMPTS) throw new HistoryExpiredError((await this.store.get(docId))?.seq ?? 0n);
        }
      }
    } finally {
      this.running--;
    }
  }

  /** The doc folded from its base (module header) up to `base` (inclusive) and then, visiting, up to `until` / the end. */
  private async scan(docId: string, base: bigint, until: bigint | undefined, limits: Limits, visit: Visit | undefined): Promise<DocState> {
    const p = this.log.partitionOf(docId);
    const end = await this.log.endOffset(p);
    const start = (await this.log.logStart?.(p)) ?? 0n;
    // Past a moved log start only the snapshot tells what came before, and only when the
    // checkpoints cover the start (a reader that sees covered offset C finds every doc at least as
    // new as C: no op of the doc lies between its snapshot and C). The file log never deletes past
    // them; Kafka retention / DeleteRecords may: then wait for the next checkpoint.
    if (start > 0n && (await this.store.covered(p)) < start) {
      throw unavailable('the log start moved past the last checkpoint; retry once it is checkpointed', 1);
    }
    const snap = await this.store.get(docId);
    let doc: DocState;
    let from: bigint;
    let fromLogStart = false;
    if (snap && snap.seq <= base) {
      doc = DocState.from(snap, this.keyWindow);
      from = snap.seq > start ? snap.seq : start;
    } else if (start === 0n || !snap) {
      doc = new DocState(docId, 0n, {}, [], this.keyWindow);
      from = start;
      fromLogStart = true;
    } else {
      throw new HistoryExpiredError(snap.seq);
    }
    let scanned = 0;
    let cursor = from;
    let based = false; // visit.base was called
    scan: while (cursor < end) {
      if (limits.signal?.aborted) throw unavailable('history read stopped: the request was aborted');
      if (Date.now() > limits.deadline) throw unavailable(`history read took longer than ${this.budgetMs} ms; retry later or ask for a later seq`, 1);
      const want = end - cursor < BigInt(READ_BATCH) ? Number(end - cursor) : READ_BATCH;
      let recs;
      try {
        recs = await this.log.read(p, cursor, want);
      } catch (err) {
        // file log: the segment was deleted by retention after the base was chosen
        if (err instanceof RangeError) throw new LogMoved();
        throw err;
      }
      if (recs.length === 0) break;
      for (const rec of recs) {
        if (rec.offset >= end) break scan;
        cursor = rec.offset + 1n;
        if (++scanned > this.maxScanRecords) {
          throw new OriginError(
            ErrorCode.HistoryScanLimit,
            422,
            `reading this history needs more than ${this.maxScanRecords} log records; ask for a later seq`,
          );
        }
        if (rec.key !== docId) continue;
        const seq = rec.offset + 1n;
        if (until !== undefined && seq > until) break scan;
        if (seq > base && !based) {
          based = true;
          visit?.base?.(doc.state, doc.seq);
        }
        const op = decodeOp(rec.value);
        if (op instanceof ProtocolError) continue; // the materializer skips it too
        const r = doc.apply(seq, op.patch, op.key, op.ifSeq, op.maxDocBytes, op.replace); // the bound the materializer folded it with
        // a replace op (Kafka ingest) is shown as the merge patch the fold applied it as
        const patchText = r.applied && r.patch ? JSON.stringify(r.patch) : op.patchText;
        if (r.applied && seq > base && visit && !visit.op({ seq, prevSeq: r.prevSeq, patchText, tsMs: op.tsMs }, r.patch ?? op.patch)) break scan;
      }
    }
    // Kafka's read skips to the log start silently: a start that moved past the base while the scan
    // ran may have hidden records of this doc
    if (fromLogStart && this.log.logStart && (await this.log.logStart(p)) > from) throw new LogMoved();
    return doc;
  }
}
