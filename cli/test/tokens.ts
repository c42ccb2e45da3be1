/**
 * Test keys and tokens (jose), and a JWKS endpoint served by the test on 127.0.0.1.
 */
import { createServer, type Server } from 'node:http';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { exportJWK, SignJWT, type JWK } from 'jose';

export interface KeyPair {
  alg: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicPem: string;
  kid?: string;
}

export function keyPair(alg: 'RS256' | 'ES256', kid?: string): KeyPair {
  const { privateKey, publicKey } =
    alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { alg, privateKey, publicKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), kid };
}

export type Claims = Record<string, unknown>;

/** signs with an HS256 secret or a key pair; `exp`/`nbf` in claims are taken as given */
export async function sign(claims: Claims, key: string | KeyPair): Promise<string> {
  const jwt = new SignJWT(claims);
  if (typeof key === 'string') return jwt.setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(key));
  return jwt.setProtectedHeader(key.kid ? { alg: key.alg, kid: key.kid } : { alg: key.alg }).sign(key.privateKey);
}

export const nowSec = (): number => Math.floor(Date.now() / 1000);

/** an unsigned `alg: none` token */
export function algNone(claims: Claims): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
}

/** the same token with its signature's first character changed */
export function tamper(token: string): string {
  const i = token.lastIndexOf('.') + 1;
  return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
}

export interface JwksServer {
  url: string;
  /** replaces the served key set (rotation) */
  set(keys: KeyPair[]): Promise<void>;
  fetches: number;
  /** holds every response until release() (a verification that stays pending) */
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

/** `delayMs`: every response is sent this long after its request (a slow key server: a slow verifier) */
export async function serveJwks(keys: KeyPair[], opts: { delayMs?: number } = {}): Promise<JwksServer> {
  let body = '';
  const set = async (ks: KeyPair[]) => {
    const jwks: JWK[] = [];
    for (const k of ks) jwks.push({ ...(await exportJWK(k.publicKey)), kid: k.kid, alg: k.alg, use: 'sig' });
    body = JSON.stringify({ keys: jwks });
  };
  await set(keys);
  let held: (() => void)[] | undefined;
  const s: JwksServer = {
    url: '',
    set,
    fetches: 0,
    hold: () => {
      held ??= [];
    },
    release: () => {
      const h = held ?? [];
      held = undefined;
      for (const f of h) f();
    },
    close: () =>
      new Promise((r) => {
        held = undefined; // a test that failed while holding must not keep the server open
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
  const server: Server = createServer((_req, res) => {
    s.fetches++;
    const send = () => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    const answer = opts.delayMs ? () => void setTimeout(send, opts.delayMs) : send;
    if (held) held.push(answer);
    else answer();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  s.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/.well-known/jwks.json`;
  return s;
}
