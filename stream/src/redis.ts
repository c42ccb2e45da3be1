/**
 * Helpers shared by every ioredis client of the project (the snapshot store here, fanout's replica
 * registry): how a Redis URL appears in messages (never with its password) and the reconnect
 * backoff (capped, jittered, so a fleet reconnecting after a Redis restart does not stampede).
 */
import { backoffDelay } from '@replicant/protocol';

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

/** ioredis' retryStrategy: protocol's backoff from 50 ms with equal jitter (never at once). */
export function redisBackoff(maxDelayMs: number): (attempt: number) => number {
  return (attempt) => backoffDelay(attempt, 50, maxDelayMs, 'equal', Math.random());
}
