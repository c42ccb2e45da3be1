/**
 * Retry delays, the one implementation for every tier: exponential growth from `initialMs`,
 * capped at `maxMs`, with a jitter mode:
 *  - `full` (default): random(0, window). Spreads a fleet that lost the same server over the whole
 *    window instead of returning in synchronized waves (the SDK's reconnects, AWS "full jitter").
 *  - `equal`: window/2 + random(0, window/2). Never retries at once (server reconnects to Redis).
 *  - `none`: the window itself. One process retrying one backend, whose log line says the delay.
 * window = min(maxMs, initialMs * 2^attempt).
 */
export type Jitter = 'full' | 'equal' | 'none';

export interface BackoffOptions {
  /** base of the exponential window, ms (default 250) */
  initialMs?: number;
  /** cap of the window, ms (default 15000) */
  maxMs?: number;
  /** default `full` */
  jitter?: Jitter;
}

export const DEFAULT_BACKOFF_INITIAL_MS = 250;
export const DEFAULT_BACKOFF_MAX_MS = 15_000;

/** The delay for retry number `attempt` (0-based) given a uniform random value `r` in [0, 1). */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, jitter: Jitter, r: number): number {
  // 2^attempt is capped so the product stays finite for very long outages.
  const window = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 52));
  if (jitter === 'none') return window;
  if (jitter === 'equal') return Math.floor(window / 2 + (r * window) / 2);
  return Math.floor(r * window);
}

/** full-jitter delay (kept for the SDK's public API) */
export function fullJitterDelay(attempt: number, initialMs: number, maxMs: number, r: number): number {
  return backoffDelay(attempt, initialMs, maxMs, 'full', r);
}

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly jitter: Jitter;
  private attempt = 0;

  constructor(opts: BackoffOptions = {}, private readonly random: () => number = Math.random) {
    this.initialMs = Math.max(0, opts.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS);
    this.maxMs = Math.max(this.initialMs, opts.maxMs ?? DEFAULT_BACKOFF_MAX_MS);
    this.jitter = opts.jitter ?? 'full';
  }

  /** Number of consecutive failed attempts so far. */
  get attempts(): number {
    return this.attempt;
  }

  /** Delay before the next attempt; each call widens the window for the one after. */
  next(): number {
    return backoffDelay(this.attempt++, this.initialMs, this.maxMs, this.jitter, this.random());
  }

  /** Called once an attempt succeeded (or a connection proved healthy): the next failure starts short again. */
  reset(): void {
    this.attempt = 0;
  }
}
