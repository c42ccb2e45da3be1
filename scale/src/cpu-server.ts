/**
 * A process's CPU in the simulator: one core, a steady background load (the model's steady state
 * for that process) and a FIFO queue of extra work. Work submitted at `now` completes when the
 * queue ahead of it has drained at the core's spare rate (1 − background). The queue has no bound
 * here on purpose: it is the event loop's backlog, and the simulator reports how long it grows
 * (queueing delay) instead of dropping work the real process would also have to do.
 */
export class CpuServer {
  /** simulated ms at which the queued work is done */
  busyUntil = 0;
  /** CPU-µs submitted since the last tick (demand, counted on arrival) */
  workInTick = 0;
  /** CPU-µs submitted over the whole run */
  workTotal = 0;
  alive = true;

  constructor(
    readonly id: number,
    /** cores used by the steady state, 0..1 */
    public background: number,
  ) {}

  /** queues `us` CPU-µs at `now` (ms); returns the ms at which it is done */
  serve(now: number, us: number): number {
    const spare = Math.max(0.05, 1 - this.background);
    const start = Math.max(now, this.busyUntil);
    this.busyUntil = start + us / spare / 1000;
    this.workInTick += us;
    this.workTotal += us;
    return this.busyUntil;
  }

  /** queueing delay a frame arriving now would see, ms */
  delay(now: number): number {
    return Math.max(0, this.busyUntil - now);
  }
}
