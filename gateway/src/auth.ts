/**
 * JWT verification for client connections (node:crypto, no dependency): HS256/384/512 with
 * AUTH_JWT_SECRET, RS256/384/512 and ES256/384/512 with AUTH_JWT_PUBLIC_KEY (PEM). `exp` and `nbf`
 * are enforced with a small clock skew. With neither configured, auth is disabled (dev default).
 */
import { createHmac, createPublicKey, timingSafeEqual, verify, type KeyObject } from 'node:crypto';

export interface AuthConfig {
  jwtSecret?: string;
  jwtPublicKey?: string;
  clockSkewSec?: number;
}

export interface Principal {
  sub: string;
  exp?: number;
}

export class AuthError extends Error {}

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

export class Authenticator {
  private readonly secret: Buffer | undefined;
  private readonly publicKey: KeyObject | undefined;
  private readonly skew: number;

  constructor(cfg: AuthConfig) {
    this.secret = cfg.jwtSecret ? Buffer.from(cfg.jwtSecret) : undefined;
    this.publicKey = cfg.jwtPublicKey ? createPublicKey(cfg.jwtPublicKey) : undefined;
    this.skew = cfg.clockSkewSec ?? 30;
  }

  get required(): boolean {
    return this.secret !== undefined || this.publicKey !== undefined;
  }

  /** Verifies a compact JWS; throws AuthError with a client-safe message. */
  verify(token: string, nowSec = Date.now() / 1000): Principal {
    const parts = token.split('.');
    if (parts.length !== 3) throw new AuthError('token is not a compact JWT');
    let header: { alg?: unknown };
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      throw new AuthError('token header or claims are not JSON');
    }
    if (typeof claims !== 'object' || claims === null) throw new AuthError('token claims are not an object');
    const alg = typeof header.alg === 'string' ? header.alg : '';
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    const sig = Buffer.from(parts[2], 'base64url');
    const hash = HASH[alg.slice(2)];
    let ok = false;
    if (alg.startsWith('HS') && hash && this.secret) {
      const mac = createHmac(hash, this.secret).update(signed).digest();
      ok = mac.length === sig.length && timingSafeEqual(mac, sig);
    } else if ((alg.startsWith('RS') || alg.startsWith('ES')) && hash && this.publicKey) {
      ok = verify(hash, signed, alg.startsWith('ES') ? { key: this.publicKey, dsaEncoding: 'ieee-p1363' } : this.publicKey, sig);
    } else {
      throw new AuthError(`token algorithm ${JSON.stringify(alg)} is not accepted`);
    }
    if (!ok) throw new AuthError('token signature is invalid');
    if (typeof claims.exp === 'number' && nowSec > claims.exp + this.skew) throw new AuthError('token expired');
    if (typeof claims.nbf === 'number' && nowSec + this.skew < claims.nbf) throw new AuthError('token not yet valid');
    return { sub: typeof claims.sub === 'string' ? claims.sub : '', exp: typeof claims.exp === 'number' ? claims.exp : undefined };
  }
}

/** Signs an HS256 token (tests, demo and tooling). */
export function signHs256(claims: Record<string, unknown>, secret: string): string {
  const h = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const c = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const s = createHmac('sha256', secret).update(`${h}.${c}`).digest('base64url');
  return `${h}.${c}.${s}`;
}
