/**
 * The origin's write path and read API, independent of transport: validate, append durably, wait
 * until the op is folded, answer with the seq. Bounded in-flight writes and reads; over a bound, or
 * when the log sheds, callers get 503 `unavailable` with Retry-After instead of queueing.
 */
import { ErrorCode, MAX_ID_LENGTH, isJsonObject, isValidDocId } from '@replicant/protocol';
import type { JsonObject } from '@replicant/protocol';
import type { AppendResult, StreamLog } from './stream-log.js';
import type { SnapshotStore } from './snapshot-store.js';
import { Materializer } from './materializer.js';
import { Checkpointer, DEFAULT_CHECKPOINT_INTERVAL_MS } from './checkpointer.js';
import { encodeOp } from './op.js';
import { originInflight, originWriteLatency, originWrites } from './metrics.js';

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
}

/** A failed origin call, ready to become an HTTP error: `{"error":{"code","message"}}` with `status`. */
export class OriginError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    readonly retryAfterSec?: number,
  ) {
    super(message);
    this.name = 'OriginError';
  }
}

function unavailable(message: string, retryAfterSec = 1): OriginError {
  return new OriginError(ErrorCode.Unavailable, 503, message, retryAfterSec);
}

/** Maps failures of the log / materializer to OriginErrors: 'unavailable' -> 503, else 500/413. */
function toOriginError(err: unknown): OriginError {
  if (err instanceof OriginError) return err;
  const e = err as { code?: unknown; message?: unknown; retryAfterSec?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (e?.code === ErrorCode.Unavailable) {
    return unavailable(message, typeof e.retryAfterSec === 'number' ? e.retryAfterSec : 1);
  }
  if (err instanceof RangeError) return new OriginError(ErrorCode.PayloadTooLarge, 413, message);
  console.error('origin: internal error:', err);
  return new OriginError(ErrorCode.Internal, 500, 'internal error');
}

export class Origin {
  private inflightWrites = 0;
  private inflightReads = 0;
  private closed = false;
  private closing?: Promise<void>;
  private drained?: () => void;
  private readonly maxInflightWrites: number;
  private readonly maxInflightReads: number;

  private constructor(
    readonly log: StreamLog,
    readonly store: SnapshotStore,
    readonly materializer: Materializer,
    private readonly checkpointer: Checkpointer,
    opts: OriginOptions,
  ) {
    this.maxInflightWrites = opts.maxInflightWrites ?? 10_000;
    this.maxInflightReads = opts.maxInflightReads ?? 10_000;
  }

  /** Replays the log from the last checkpoint (until caught up with the log end), then serves. */
  static async start(opts: OriginOptions): Promise<Origin> {
    const maxInflightWrites = opts.maxInflightWrites ?? 10_000;
    const materializer = await Materializer.start({
      log: opts.log,
      store: opts.store,
      keyWindow: opts.keyWindow,
      docCacheSize: opts.docCacheSize,
      maxDirtyDocs: opts.maxDirtyDocs,
      maxWaiters: maxInflightWrites,
    });
    const checkpointer = new Checkpointer(materializer, opts.store, {
      intervalMs: opts.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS,
    });
    checkpointer.start();
    return new Origin(opts.log, opts.store, materializer, checkpointer, opts);
  }

  /** writes appended or waiting to be applied */
  get inflight(): number {
    return this.inflightWrites;
  }

  /**
   * Appends a merge patch to a document and resolves, once the op is durable and applied, with the
   * document's seq after it. A repeated idempotency key resolves with the seq of the first write.
   */
  async write(docId: string, patchText: string, idempotencyKey?: string): Promise<bigint> {
    if (this.closed) throw unavailable('origin is shutting down');
    if (!isValidDocId(docId)) throw new OriginError(ErrorCode.BadDocId, 400, 'invalid document id');
    const key = idempotencyKey ?? '';
    if (key.length > MAX_ID_LENGTH) {
      throw new OriginError(ErrorCode.BadRequest, 400, `idempotency key longer than ${MAX_ID_LENGTH} characters`);
    }
    let patch: unknown;
    try {
      patch = JSON.parse(patchText);
    } catch {
      throw new OriginError(ErrorCode.BadPatch, 400, 'patch is not valid JSON');
    }
    if (!isJsonObject(patch)) throw new OriginError(ErrorCode.BadPatch, 400, 'patch must be a JSON object (RFC 7386 merge patch)');
    if (key !== '') {
      // already applied (hence durable): answer without appending a duplicate
      const seq = this.materializer.peekKeySeq(docId, key);
      if (seq !== undefined) {
        originWrites.inc({ result: 'duplicate' });
        return seq;
      }
    }
    if (this.inflightWrites >= this.maxInflightWrites) {
      originWrites.inc({ result: 'shed' });
      throw unavailable('too many writes in flight');
    }
    this.inflightWrites++;
    originInflight.inc();
    const t0 = performance.now();
    try {
      // canonical text: every reader (and every client of the fan-out) parses exactly these bytes
      const value = encodeOp(JSON.stringify(patch), key, Date.now());
      let r: AppendResult;
      try {
        r = await this.log.append(docId, value);
      } catch (err) {
        throw toOriginError(err);
      }
      let seq: bigint;
      try {
        seq = await this.materializer.waitApplied(r.partition, r.offset);
      } catch (err) {
        throw toOriginError(err);
      }
      originWrites.inc({ result: 'ok' });
      originWriteLatency.observe((performance.now() - t0) / 1000);
      return seq;
    } catch (err) {
      originWrites.inc({ result: (err as OriginError).code ?? 'error' });
      throw err;
    } finally {
      this.inflightWrites--;
      originInflight.dec();
      if (this.inflightWrites === 0) this.drained?.();
    }
  }

  /** The document as of every acknowledged write; never-written documents are seq 0, {}. */
  async read(docId: string): Promise<{ seq: bigint; state: JsonObject }> {
    return this.reading(docId, async () => {
      const s = await this.materializer.read(docId);
      return { seq: s.seq, state: s.state };
    });
  }

  /** Like read, with the state already serialized (no copy of the live document). */
  async readJson(docId: string): Promise<{ seq: bigint; stateJson: string }> {
    return this.reading(docId, () =>
      this.materializer.withDoc(docId, (d) => ({ seq: d.seq, stateJson: JSON.stringify(d.state) })),
    );
  }

  private async reading<T>(docId: string, fn: () => Promise<T>): Promise<T> {
    if (!isValidDocId(docId)) throw new OriginError(ErrorCode.BadDocId, 400, 'invalid document id');
    if (this.inflightReads >= this.maxInflightReads) throw unavailable('too many reads in flight');
    this.inflightReads++;
    try {
      return await fn();
    } catch (err) {
      throw toOriginError(err);
    } finally {
      this.inflightReads--;
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
    this.closing ??= (async () => {
      if (this.inflightWrites > 0) await new Promise<void>((r) => (this.drained = r));
      await this.materializer.close();
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
