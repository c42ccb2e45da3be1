/**
 * The origin's error type: a failed origin call, ready to become an HTTP error response
 * (`{"error":{"code","message"}}` with `status`, and Retry-After for 503).
 */
import { ErrorCode } from '@replicant/protocol';

/** A failed origin call, ready to become an HTTP error: `{"error":{"code","message"}}` with `status`. */
export class OriginError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    readonly retryAfterSec?: number,
  ) {
    super(message);
    this.name = 'OriginError';
  }
}

export function unavailable(message: string, retryAfterSec = 1): OriginError {
  return new OriginError(ErrorCode.Unavailable, 503, message, retryAfterSec);
}

