/**
 * Reconnect delays: exponential backoff with full jitter (delay = random(0, min(max, initial * 2^n))).
 * Full jitter spreads a fleet of clients that lost the same gateway over the whole window instead
 * of having them return in synchronized waves.
 */
export interface BackoffOptions {
  /** base of the exponential window, ms (default 250) */
  initialMs?: number;
  /** cap of the window, ms (default 15000) */
  maxMs?: number;
}

export const DEFAULT_BACKOFF_INITIAL_MS = 250;
export const DEFAULT_BACKOFF_MAX_MS = 15_000;

/** The delay for retry number `attempt` (0-based) given a uniform random value in [0, 1). */
export function fullJitterDelay(attempt: number, initialMs: number, maxMs: number, r: number): number {
  // 2^attempt is capped so the product stays finite for very long outages.
  const window = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 52));
  return Math.floor(r * window);
}

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  private attempt = 0;

  constructor(opts: BackoffOptions = {}, private readonly random: () => number = Math.random) {
    this.initialMs = Math.max(0, opts.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS);
    this.maxMs = Math.max(this.initialMs, opts.maxMs ?? DEFAULT_BACKOFF_MAX_MS);
  }

  /** Number of consecutive failed attempts so far. */
  get attempts(): number {
    return this.attempt;
  }

  /** Delay before the next attempt; each call widens the window for the one after. */
  next(): number {
    return fullJitterDelay(this.attempt++, this.initialMs, this.maxMs, this.random());
  }

  /** Called once a connection proved healthy, so the next outage starts from a short delay again. */
  reset(): void {
    this.attempt = 0;
  }
}
