/**
 * Periodic snapshot checkpoints: every interval, the dirty documents and the materializer's
 * partition positions are captured at one instant and committed to the SnapshotStore, then those
 * documents are marked clean (unless they changed meanwhile). A restart replays from the committed
 * positions; ops already in a stored snapshot are ignored by DocState (seq <= current), so nothing
 * is lost or applied twice. With the default 200 ms interval, snapshots of active documents trail the
 * log head by well under a second.
 *
 * Isolation: one document whose snapshot cannot be written (the store refuses it, it cannot be
 * encoded) must not stop every partition. When a batch fails, its documents are committed one by
 * one; those that fail stay dirty, are counted (replicant_checkpoint_doc_failures_total, the gauge
 * replicant_checkpoint_failing_docs) and logged once by id, and their partition's covered offset is
 * held at the first record of theirs not in the store, so a restart (and log retention, which never
 * deletes past the covered offset) still replays it. Later checkpoints commit the others in a batch
 * without them and retry them alone. If no single document can be written either, the store itself
 * is failing: the checkpoint fails as a whole and is retried next interval. Kafka's time-based
 * retention does not honour covered offsets, so while any doc has failed for over LONG_FAILING_MS
 * (5 min) an error line says so, at most once a minute.
 */
import type { Capture, Materializer } from './materializer.js';
import type { SnapshotStore } from '@replicant/stream';
import { checkpointLagSources, checkpointMetrics, type CheckpointLagSource } from './metrics.js';

export interface CheckpointerOptions {
  /** default 200 ms */
  intervalMs?: number;
}

export const DEFAULT_CHECKPOINT_INTERVAL_MS = 200;
/** a doc failing to checkpoint for longer than this gets an error log line (at most once a minute) */
export const LONG_FAILING_MS = 5 * 60_000;

function samePositions(a: Map<number, bigint>, b: Map<number, bigint>): boolean {
  if (a.size !== b.size) return false;
  for (const [p, o] of a) if (b.get(p) !== o) return false;
  return true;
}

export class Checkpointer {
  private readonly metrics = checkpointMetrics();
  private readonly lagSource: CheckpointLagSource = { lag: () => this.lag() };
  private readonly intervalMs: number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private queued?: Promise<void>;
  private lastCommitted: Map<number, bigint>;
  private failing = false;
  /** documents whose snapshot could not be written, to the partition they hold back */
  private readonly failingDocs = new Map<string, number>();
  /** when each failing document first failed (ms), for the loud log below */
  private readonly failingSince = new Map<string, number>();
  private lastLoudLog = -Infinity;
  private closed = false;
  private abandoned = false;
  /** successful commits (tests, diagnostics) */
  commits = 0;

  constructor(
    private readonly mat: Materializer,
    private readonly store: SnapshotStore,
    opts: CheckpointerOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    // the materializer starts from the store's covered offsets, so nothing is due yet
    this.lastCommitted = mat.capture().positions;
  }

  start(): void {
    this.mat.setPressureHandler(() => this.checkpointNow());
    checkpointLagSources.add(this.lagSource);
    this.schedule();
  }

  /** per partition: log end minus the committed covered offset (scrape time) */
  private async lag(): Promise<Map<number, bigint>> {
    const out = new Map<number, bigint>();
    for (const [p, covered] of this.lastCommitted) {
      const end = await this.mat.logEnd(p);
      out.set(p, end > covered ? end - covered : 0n);
    }
    return out;
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.checkpointNow()
        .catch(() => {}) // counted and logged in runOnce; retried next interval
        .finally(() => this.schedule());
    }, this.intervalMs);
  }

  /**
   * Runs a checkpoint now. One runs at a time; calls made while one runs share a single follow-up
   * checkpoint, which captures everything applied before they were made.
   */
  checkpointNow(): Promise<void> {
    if (this.running) {
      this.queued ??= this.running
        .catch(() => {})
        .then(() => {
          this.queued = undefined;
          return this.checkpointNow();
        });
      return this.queued;
    }
    const run = this.runOnce().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async runOnce(): Promise<void> {
    const cap = this.mat.capture();
    if (cap.snapshots.length === 0 && samePositions(cap.positions, this.lastCommitted)) return;
    const t0 = performance.now();
    let failed: Set<number> | undefined;
    try {
      if (this.failingDocs.size === 0) {
        try {
          await this.store.commit(cap.snapshots, cap.positions);
        } catch (err) {
          if (cap.snapshots.length === 0) throw err;
          failed = await this.isolate(cap, err);
        }
      } else {
        failed = await this.isolate(cap, undefined);
      }
    } catch (err) {
      this.metrics.errors.inc();
      if (!this.failing) console.error('checkpoint failed (will retry):', err);
      this.failing = true;
      throw err;
    }
    if (this.failing) console.error('checkpoint recovered');
    this.failing = false;
    this.lastCommitted = failed ? this.held(cap, failed) : cap.positions;
    this.mat.markClean(cap, failed);
    this.commits++;
    this.metrics.duration.observe((performance.now() - t0) / 1000);
    this.metrics.docs.inc(cap.snapshots.length - (failed?.size ?? 0));
  }

  /** the capture's positions, each partition held at the first unwritten record of its failed docs */
  private held(cap: Capture, failed: ReadonlySet<number>): Map<number, bigint> {
    const positions = new Map(cap.positions);
    for (const i of failed) {
      const { partition, dirtySince } = cap.entries[i];
      const cur = positions.get(partition);
      if (cur !== undefined && dirtySince >= 0n && dirtySince < cur) positions.set(partition, dirtySince);
    }
    return positions;
  }

  /**
   * Commits the capture without the documents that fail: the ones known to fail are tried alone, the
   * rest in one batch (and, when that batch fails, now or as `batchErr`, one by one). Returns the
   * indexes that failed (with their errors). Throws, recording nothing, when the store itself is down: the commit of the
   * (held back) covered offsets is the proof that it is not, and after 8 failures without a single
   * write a commit of the covered offsets held back at every unwritten doc probes it (real I/O on
   * every store) before more documents are tried.
   */
  private async isolate(cap: Capture, batchErr: unknown): Promise<Set<number>> {
    const failed = new Map<number, unknown>();
    const suspects: number[] = [];
    const rest: number[] = [];
    cap.entries.forEach((e, i) => (this.failingDocs.has(e.doc) || batchErr !== undefined ? suspects : rest).push(i));
    let written = 0;
    if (rest.length > 0) {
      try {
        await this.store.commit(rest.map((i) => cap.snapshots[i]), new Map());
        written += rest.length;
      } catch {
        suspects.push(...rest); // a new failing doc among them: find it
      }
    }
    let probed = false;
    for (let k = 0; k < suspects.length; k++) {
      const i = suspects[k];
      if (written === 0 && failed.size === 8 && !probed) {
        probed = true;
        // A commit that does I/O on every store (an empty one returns at once on Redis and files):
        // the covered offsets held back at every doc not yet written, which is always safe to store
        // (covered offsets only advance). It throws when the store is down, not one doc refused.
        await this.store.commit([], this.held(cap, new Set([...failed.keys(), ...suspects.slice(k)])));
      }
      try {
        await this.store.commit([cap.snapshots[i]], new Map());
        written++;
      } catch (err) {
        failed.set(i, err);
      }
    }
    const indexes = new Set(failed.keys());
    // with every other snapshot stored: the covered offsets, held back where a doc failed
    await this.store.commit([], this.held(cap, indexes));
    this.noteFailures(cap, failed);
    return indexes;
  }

  private noteFailures(cap: Capture, failed: ReadonlyMap<number, unknown>): void {
    const now = new Map<string, number>();
    for (const [i, err] of failed) {
      const { doc, partition, dirtySince } = cap.entries[i];
      now.set(doc, partition);
      this.metrics.docFailures.inc();
      if (!this.failingDocs.has(doc)) {
        // the document id and the error's kind only: a store's message may name internal addresses
        const e = err as { name?: unknown; code?: unknown };
        const kind = `${typeof e?.name === 'string' ? e.name : 'Error'}${typeof e?.code === 'string' ? ` ${e.code}` : ''}`;
        console.error(
          `checkpoint: the snapshot of document ${JSON.stringify(doc)} could not be written (${kind}); ` +
            `partition ${partition} stays covered only up to offset ${dirtySince} until it can`,
        );
      }
    }
    // a failing doc stays dirty, so it is in every capture until it is written: `now` is the whole set
    this.failingDocs.clear();
    for (const [doc, p] of now) this.failingDocs.set(doc, p);
    this.metrics.failingDocs.set(this.failingDocs.size);
    // Kafka's time-based retention ignores covered offsets: a doc failing for long risks records
    // its partition's replay needs being deleted. Loud, at most once a minute.
    const t = Date.now();
    for (const doc of this.failingSince.keys()) if (!now.has(doc)) this.failingSince.delete(doc);
    let oldest = t;
    for (const doc of now.keys()) {
      if (!this.failingSince.has(doc)) this.failingSince.set(doc, t);
      oldest = Math.min(oldest, this.failingSince.get(doc)!);
    }
    if (now.size > 0 && t - oldest > LONG_FAILING_MS && t - this.lastLoudLog >= 60_000) {
      this.lastLoudLog = t;
      console.error(
        `checkpoint: ${now.size} document(s) have failed to checkpoint, the oldest for ${Math.round((t - oldest) / 60_000)} min; ` +
          `their partitions' covered offsets are held, and log retention by time (Kafka retention.ms) may delete records a restart needs`,
      );
    }
  }

  /**
   * Stops without a final checkpoint and waits for a running one to settle (the store lost its
   * contents: what this checkpointer would commit no longer matches what the store holds).
   */
  async abandon(): Promise<void> {
    this.closed = true;
    this.abandoned = true;
    checkpointLagSources.delete(this.lagSource);
    clearTimeout(this.timer);
    await Promise.allSettled([this.running, this.queued]);
  }

  /** Stops the timer and runs a final checkpoint (call after the materializer stopped applying). */
  async close(): Promise<void> {
    this.closed = true;
    checkpointLagSources.delete(this.lagSource);
    clearTimeout(this.timer);
    if (this.abandoned) return;
    await this.checkpointNow();
  }
}
