/**
 * Admission control for WebSocket upgrades: a token bucket (`ADMISSION_RATE` tokens per second,
 * at most `ADMISSION_BURST` stored). An upgrade takes one token; without one it is refused with
 * HTTP 503 and `Retry-After` (whole seconds, as HTTP wants: the time until enough tokens for the
 * refused backlog, at least 1), so a reconnect storm is spread over time instead of costing every
 * handshake, snapshot and catch-up at once. The bucket is O(1) memory: two numbers.
 */
export class Admission {
  private tokens: number;
  private last: number;
  /** upgrades refused since start (metrics) */
  refused = 0;

  constructor(
    readonly rate: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(rate > 0) || !(burst >= 1)) throw new RangeError('admission rate must be > 0 and burst >= 1');
    this.tokens = burst;
    this.last = now();
  }

  /** takes a token: true = admit, false = refuse (then see retryAfterSec) */
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.refused++;
    return false;
  }

  /** seconds a refused client should wait: about the time to refill a burst's worth, >= 1 */
  retryAfterSec(): number {
    return Math.max(1, Math.ceil(Math.min(this.burst, this.rate) / this.rate));
  }
}
