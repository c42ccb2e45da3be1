/**
 * A token bucket (CLIENT_PUBLISH_RATE per connection: `rate` per second, burst `2 x rate`),
 * kept as two numbers on the session so the check allocates nothing.
 */
export interface Bucket {
  tokens: number;
  atMs: number;
}

export function newBucket(rate: number, nowMs: number): Bucket {
  return { tokens: rate * 2, atMs: nowMs };
}

/** takes one token; false when the bucket is empty (the caller answers `rate_limited`) */
export function takeToken(b: Bucket, rate: number, nowMs: number): boolean {
  const burst = rate * 2;
  const refill = ((nowMs - b.atMs) * rate) / 1000;
  b.tokens = Math.min(burst, b.tokens + (refill > 0 ? refill : 0));
  b.atMs = nowMs;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}
