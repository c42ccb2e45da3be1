/**
 * Paces calls of the `token` function (connects and in-band refreshes), so a token source that
 * keeps returning tokens already past their `exp` (accepted by the server within its clock skew,
 * then answered `token_expired` at once) cannot drive a tight refresh loop: two calls are at least
 * MIN_REFRESH_INTERVAL_MS apart, and after each call that returned an already-expired token the
 * gap grows (exponential backoff, equal jitter, capped at the client's backoff maxMs). A token with
 * a later exp resets it. State: two numbers.
 */
import { backoffDelay } from '@replicant/protocol';

/** least time between two calls of the token function for in-band refreshes */
export const MIN_REFRESH_INTERVAL_MS = 1000;

export class RefreshPacer {
  private lastAt = -Infinity;
  /** consecutive calls that returned a token already past exp */
  private stale = 0;

  constructor(
    private readonly maxMs: number,
    private readonly random: () => number,
  ) {}

  /** ms to wait before the next call */
  waitMs(now: number): number {
    const gap =
      this.stale === 0
        ? MIN_REFRESH_INTERVAL_MS
        : Math.max(MIN_REFRESH_INTERVAL_MS, backoffDelay(this.stale, MIN_REFRESH_INTERVAL_MS, Math.max(this.maxMs, MIN_REFRESH_INTERVAL_MS), 'equal', this.random()));
    return Math.max(0, this.lastAt + gap - now);
  }

  /** a call starts now */
  started(now: number): void {
    this.lastAt = now;
  }

  /** the token a call returned, by its exp (ms; undefined when it has none or it is unreadable) */
  got(expMs: number | undefined, now: number): void {
    if (expMs !== undefined && expMs <= now) this.stale++;
    else this.stale = 0;
  }
}
