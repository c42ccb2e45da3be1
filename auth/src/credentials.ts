/**
 * HTTP credentials: `Authorization: Bearer <token>` where the token is a JWT (same claims as on
 * the WebSocket) or one of API_KEYS (full access, for backends). Keys are held as SHA-256
 * digests and compared in constant time against every configured key (no early exit), so the
 * time taken says nothing about which key, or how much of one, matched. Neither keys nor tokens
 * are ever put in an error message or a log line.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { AuthError } from './errors.js';
import { FULL_ACCESS, type Principal } from './scopes.js';
import type { TokenVerifier } from './verifier.js';

export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.filter((k) => k.length > 0).map(digest);
  }

  get size(): number {
    return this.digests.length;
  }

  /** constant-time membership test */
  matches(candidate: string): boolean {
    const d = digest(candidate);
    let ok = false;
    for (const k of this.digests) ok = timingSafeEqual(k, d) || ok;
    return ok;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** the Bearer credential of an Authorization header value, or undefined */
export function bearerToken(header: string): string | undefined {
  const m = /^Bearer[ \t]+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

export class HttpAuthenticator {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly apiKeys: ApiKeys,
  ) {}

  /** is any client credential configured (else every request has full access) */
  get required(): boolean {
    return this.verifier.required || this.apiKeys.size > 0;
  }

  /** the principal of an `Authorization` header value; throws AuthError (401) */
  async authenticate(authorization: string): Promise<Principal> {
    if (!this.required) return FULL_ACCESS;
    if (authorization === '') throw new AuthError('unauthorized', 'missing Authorization: Bearer <token or API key>');
    const token = bearerToken(authorization);
    if (token === undefined) throw new AuthError('unauthorized', 'Authorization must be "Bearer <token or API key>"');
    if (this.apiKeys.size > 0 && this.apiKeys.matches(token)) return FULL_ACCESS;
    if (!this.verifier.required) throw new AuthError('unauthorized', 'invalid API key');
    return this.verifier.verify(token);
  }
}
