/**
 * Helpers shared by every ioredis client of the project (the snapshot store here, fanout's replica
 * registry): how a Redis URL appears in messages (never with its password) and the reconnect
 * backoff (capped, jittered, so a fleet reconnecting after a Redis restart does not stampede).
 */

/** The URL without its password, for messages. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '<invalid redis url>';
  }
}

/** Capped exponential backoff with jitter, for ioredis' retryStrategy. */
export function redisBackoff(maxDelayMs: number): (attempt: number) => number {
  return (attempt) => {
    const exp = Math.min(maxDelayMs, 50 * 2 ** Math.min(attempt, 16));
    return Math.round(exp / 2 + (Math.random() * exp) / 2);
  };
}
