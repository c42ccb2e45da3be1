/**
 * The security settings of a process as the objects its parts take: the token verifier's config,
 * the HTTP authenticator (JWT or API_KEYS), and the uWS app (SSLApp with TLS_CERT_FILE +
 * TLS_KEY_FILE). One place, so dev and the cluster roles cannot drift apart.
 */
import * as uWS from 'uWebSockets.js';
import { ApiKeys, HttpAuthenticator, TokenVerifier, type AuthConfig } from '@replicant/auth';
import type { Config } from './config.js';

export function authConfig(cfg: Config): AuthConfig {
  return {
    jwtSecret: cfg.jwtSecret,
    jwtPublicKey: cfg.jwtPublicKey,
    jwksUrl: cfg.jwksUrl,
    issuer: cfg.authIssuer,
    audience: cfg.authAudience,
    clockSkewSec: cfg.authClockSkewSec,
  };
}

export function httpAuthenticator(cfg: Config): HttpAuthenticator {
  return new HttpAuthenticator(new TokenVerifier(authConfig(cfg)), new ApiKeys(cfg.apiKeys));
}

/** is any client credential configured */
export function clientAuthOn(cfg: Config): boolean {
  return cfg.jwtSecret !== undefined || cfg.jwtPublicKey !== undefined || cfg.jwksUrl !== undefined || cfg.apiKeys.length > 0;
}

export function isTls(cfg: Config): boolean {
  return cfg.tlsCertFile !== undefined;
}

/** the main listener's app: wss/https with TLS_CERT_FILE + TLS_KEY_FILE, else plain */
export function makeApp(cfg: Config): uWS.TemplatedApp {
  return isTls(cfg) ? uWS.SSLApp({ cert_file_name: cfg.tlsCertFile, key_file_name: cfg.tlsKeyFile }) : uWS.App();
}

/** the one warning line of a process that serves clients without auth */
export function warnIfOpen(cfg: Config): void {
  if (!clientAuthOn(cfg)) {
    console.warn(
      `replicant ${cfg.mode}: WARNING: auth is off — anyone who can reach this port may read and write every document (set AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY, AUTH_JWKS_URL or API_KEYS; docs/security.md)`,
    );
  }
}
