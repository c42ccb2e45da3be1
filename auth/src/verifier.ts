/**
 * Token verification with `jose`: HS256/384/512 with AUTH_JWT_SECRET, RS*, PS*, ES*, EdDSA with
 * AUTH_JWT_PUBLIC_KEY (PEM), or a remote key set at AUTH_JWKS_URL (cached, refetched on an unknown
 * `kid` so keys can rotate). Optional AUTH_ISSUER, AUTH_AUDIENCE; `exp`/`nbf` checked with
 * AUTH_CLOCK_SKEW_S of tolerance (default 30).
 *
 * Algorithms are pinned to the key that verifies them: an HS* header is only ever checked against
 * the shared secret, an asymmetric one only against the public key / key set, and only the
 * algorithms that key type supports. `alg: none` is never accepted (jose refuses unsecured JWTs),
 * and an HS256 token "signed" with the RSA public key as its secret finds no secret to verify with.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AuthError } from './errors.js';
import { Scope, ScopeError, type Principal } from './scopes.js';

export interface AuthConfig {
  /** AUTH_JWT_SECRET: HMAC secret (HS256/384/512) */
  jwtSecret?: string;
  /** AUTH_JWT_PUBLIC_KEY: PEM public key (RSA, RSA-PSS, EC P-256/384/521, Ed25519) */
  jwtPublicKey?: string;
  /** AUTH_JWKS_URL: remote JSON Web Key Set */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** AUTH_CLOCK_SKEW_S (default 30) */
  clockSkewSec?: number;
  /** how long a fetched key set is trusted before it is refetched (default 10 min) */
  jwksCacheMaxAgeMs?: number;
  /** least time between two fetches of the key set, e.g. on unknown kids (default 5 s) */
  jwksCooldownMs?: number;
}

const HS = ['HS256', 'HS384', 'HS512'];
const RSA = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const ASYMMETRIC = [...RSA, 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/** the algorithms a public key may verify, by its type (and curve) */
export function algorithmsForKey(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return RSA;
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      const alg = curve === 'prime256v1' ? 'ES256' : curve === 'secp384r1' ? 'ES384' : curve === 'secp521r1' ? 'ES512' : undefined;
      if (!alg) throw new Error(`EC public key on unsupported curve ${String(curve)}`);
      return [alg];
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      throw new Error(`unsupported public key type ${String(key.asymmetricKeyType)}`);
  }
}

export class TokenVerifier {
  private readonly secret: Uint8Array | undefined;
  private readonly publicKey: KeyObject | undefined;
  private readonly publicAlgs: Set<string>;
  private readonly jwks: JWTVerifyGetKey | undefined;
  private readonly algorithms: string[];
  private readonly getKey: JWTVerifyGetKey;
  private readonly options: { issuer?: string; audience?: string; clockTolerance: number; algorithms: string[] };

  constructor(cfg: AuthConfig) {
    this.secret = cfg.jwtSecret ? new TextEncoder().encode(cfg.jwtSecret) : undefined;
    this.publicKey = cfg.jwtPublicKey ? createPublicKey(cfg.jwtPublicKey) : undefined;
    if (this.publicKey && this.publicKey.type !== 'public') throw new Error('AUTH_JWT_PUBLIC_KEY must be a public key');
    this.publicAlgs = new Set(this.publicKey ? algorithmsForKey(this.publicKey) : []);
    this.jwks = cfg.jwksUrl
      ? createRemoteJWKSet(new URL(cfg.jwksUrl), {
          cacheMaxAge: cfg.jwksCacheMaxAgeMs ?? 600_000,
          cooldownDuration: cfg.jwksCooldownMs ?? 5000,
          timeoutDuration: 5000,
        })
      : undefined;
    this.algorithms = [...new Set([...(this.secret ? HS : []), ...this.publicAlgs, ...(this.jwks ? ASYMMETRIC : [])])];
    // the key is chosen by the header's algorithm family, so each key only verifies its own kind
    this.getKey = async (header, token) => {
      const alg = header.alg ?? '';
      if (HS.includes(alg)) {
        if (this.secret) return this.secret;
      } else if (this.publicAlgs.has(alg)) {
        return this.publicKey!;
      } else if (this.jwks && ASYMMETRIC.includes(alg)) {
        return this.jwks(header, token);
      }
      throw new errors.JOSEAlgNotAllowed(`"alg" (Algorithm) Header Parameter value not allowed`);
    };
    this.options = { issuer: cfg.issuer, audience: cfg.audience, clockTolerance: cfg.clockSkewSec ?? 30, algorithms: this.algorithms };
  }

  /** is any key configured (else auth is off) */
  get required(): boolean {
    return this.algorithms.length > 0;
  }

  /** verifies a compact JWT and compiles its scopes; throws AuthError with a client-safe message */
  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.getKey, this.options));
    } catch (err) {
      throw toAuthError(err);
    }
    const sub = typeof payload.sub === 'string' ? payload.sub : '';
    try {
      return {
        sub,
        expMs: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
        iatMs: typeof payload.iat === 'number' ? payload.iat * 1000 : undefined,
        read: Scope.compile(payload.read, sub),
        write: Scope.compile(payload.write, sub),
        claims: Object.freeze({ ...payload }),
      };
    } catch (err) {
      if (err instanceof ScopeError) throw new AuthError('unauthorized', `token scopes are malformed: ${err.message}`);
      throw err;
    }
  }
}

function toAuthError(err: unknown): AuthError {
  if (err instanceof errors.JWTExpired) return new AuthError('token_expired', 'token expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    const claim = err.claim;
    if (claim === 'nbf') return new AuthError('unauthorized', 'token not yet valid');
    if (claim === 'iss') return new AuthError('unauthorized', 'token issuer not accepted');
    if (claim === 'aud') return new AuthError('unauthorized', 'token audience not accepted');
    return new AuthError('unauthorized', `token claim ${claim} is invalid`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return new AuthError('unauthorized', 'token algorithm not accepted');
  if (err instanceof errors.JWSSignatureVerificationFailed) return new AuthError('unauthorized', 'token signature is invalid');
  if (err instanceof errors.JWKSNoMatchingKey) return new AuthError('unauthorized', 'no key in the key set matches the token');
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return new AuthError('unauthorized', 'key set unavailable');
  if (err instanceof errors.JOSEError) return new AuthError('unauthorized', 'token is malformed or not accepted');
  return new AuthError('unauthorized', 'token could not be verified');
}
