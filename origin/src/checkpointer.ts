/**
 * Periodic snapshot checkpoints: every interval, the dirty documents and the materializer's
 * partition positions are captured at one instant and committed to the SnapshotStore, then those
 * documents are marked clean (unless they changed meanwhile). A restart replays from the committed
 * positions; ops already in a stored snapshot are ignored by DocState (seq <= current), so nothing
 * is lost or applied twice. With the default 200 ms interval, snapshots of active documents trail the
 * log head by well under a second.
 */
import type { Materializer } from './materializer.js';
import type { SnapshotStore } from '@replicant/stream';
import { checkpointLagSources, checkpointMetrics, type CheckpointLagSource } from './metrics.js';

export interface CheckpointerOptions {
  /** default 200 ms */
  intervalMs?: number;
}

export const DEFAULT_CHECKPOINT_INTERVAL_MS = 200;

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
    try {
      await this.store.commit(cap.snapshots, cap.positions);
    } catch (err) {
      this.metrics.errors.inc();
      if (!this.failing) console.error('checkpoint failed (will retry):', err);
      this.failing = true;
      throw err;
    }
    if (this.failing) console.error('checkpoint recovered');
    this.failing = false;
    this.lastCommitted = cap.positions;
    this.mat.markClean(cap);
    this.commits++;
    this.metrics.duration.observe((performance.now() - t0) / 1000);
    this.metrics.docs.inc(cap.snapshots.length);
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
