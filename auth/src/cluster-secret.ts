/**
 * CLUSTER_SECRET: how processes of one cluster recognise each other without ever sending the
 * secret.
 *
 * Links (gateway -> replica, TCP): challenge-response. The replica sends a random 32-byte nonce;
 * the gateway answers with its own nonce and HMAC-SHA256(secret, "replicant-link-v1 gateway" |
 * replica nonce | gateway nonce); the replica checks it and answers with the same MAC for role
 * "replica", which the gateway checks. Fresh nonces on both sides make a recorded exchange
 * useless on another connection.
 *
 * Writes (gateway -> origin, HTTP): `Authorization: ReplicantCluster <ms>.<mac>` with mac =
 * HMAC-SHA256(secret, "replicant-http-v1" | ms | method | path | idempotency key | SHA-256(body)).
 * The origin accepts it within CLUSTER_REQUEST_WINDOW_MS of its clock; a replay inside the window
 * can only repeat the same body under the same idempotency key, which the origin dedupes.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const NONCE_BYTES = 32;
export const CLUSTER_AUTH_SCHEME = 'ReplicantCluster';
/** accepted age (either direction) of a signed gateway -> origin request */
export const CLUSTER_REQUEST_WINDOW_MS = 60_000;

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

/** the MAC one side of a link sends for the two nonces */
export function linkProof(secret: string, role: 'gateway' | 'replica', replicaNonce: Uint8Array, gatewayNonce: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`replicant-link-v1 ${role}\0`).update(replicaNonce).update(gatewayNonce).digest();
}

/** constant-time comparison of a received MAC with the expected one */
export function proofMatches(expected: Buffer, got: Uint8Array | null | undefined): boolean {
  return !!got && got.length === expected.length && timingSafeEqual(expected, got);
}

function requestMac(secret: string, ms: string, method: string, path: string, key: string, body: Uint8Array | string): string {
  const bodyHash = createHash('sha256').update(body).digest('hex');
  return createHmac('sha256', secret).update(`replicant-http-v1\n${ms}\n${method.toUpperCase()}\n${path}\n${key}\n${bodyHash}`).digest('base64url');
}

/** the Authorization header value for a gateway -> origin request */
export function signClusterRequest(secret: string, method: string, path: string, key: string, body: Uint8Array | string, nowMs = Date.now()): string {
  const ms = String(Math.floor(nowMs));
  return `${CLUSTER_AUTH_SCHEME} ${ms}.${requestMac(secret, ms, method, path, key, body)}`;
}

/** is `authorization` a cluster signature at all (then it must verify; no other credential applies) */
export function isClusterAuth(authorization: string): boolean {
  return authorization.startsWith(`${CLUSTER_AUTH_SCHEME} `);
}

/** checks a cluster signature over the request */
export function verifyClusterRequest(
  secret: string,
  authorization: string,
  method: string,
  path: string,
  key: string,
  body: Uint8Array | string,
  nowMs = Date.now(),
): boolean {
  const m = /^ReplicantCluster (\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(authorization);
  if (!m) return false;
  if (Math.abs(nowMs - Number(m[1])) > CLUSTER_REQUEST_WINDOW_MS) return false;
  const expected = Buffer.from(requestMac(secret, m[1], method, path, key, body));
  const got = Buffer.from(m[2]);
  return got.length === expected.length && timingSafeEqual(expected, got);
}
