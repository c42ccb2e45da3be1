#!/usr/bin/env node
// A backend that issues short-lived, scoped Replicant tokens to its own (already authenticated)
// users, signed with `jose`. The gateway verifies them with the same AUTH_JWT_SECRET.
//
//   AUTH_JWT_SECRET=<at least 16 chars> node examples/token-backend/server.mjs   (PORT, default 3000)
//   curl -s 'http://127.0.0.1:3000/token?user=alice'
//   -> {"token":"eyJ...","expiresIn":600}
//
// Claims (DESIGN.md, Security): `sub` is the user; `read` / `write` list doc-id patterns, an exact id or
// a prefix ending in `*`, where `{sub}` stands for the user. Here every user reads the shared
// `lobby` doc and reads and writes the docs under `user:<sub>:`. Replace the `user` query parameter
// with your own session check: whoever can call this endpoint gets a token for that user.
import { createServer } from 'node:http';
import { SignJWT } from 'jose';

const secret = process.env.AUTH_JWT_SECRET;
if (!secret || secret.length < 16) {
  console.error('token-backend: AUTH_JWT_SECRET must be set (at least 16 characters)');
  process.exit(2);
}
const key = new TextEncoder().encode(secret);
const TTL_S = 600;

/** a token for `user`: read lobby and their own docs, write only their own */
export async function issueToken(user) {
  return new SignJWT({ read: ['lobby', 'user:{sub}:*'], write: ['user:{sub}:*'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(user)
    .setIssuedAt()
    .setExpirationTime(`${TTL_S}s`)
    .sign(key);
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const user = url.searchParams.get('user');
  if (req.method !== 'GET' || url.pathname !== '/token') {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    return;
  }
  if (!user || !/^[A-Za-z0-9._-]{1,64}$/.test(user)) {
    res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"user must be 1-64 of [A-Za-z0-9._-]"}');
    return;
  }
  const token = await issueToken(user);
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ token, expiresIn: TTL_S }));
});

const port = Number(process.env.PORT ?? 3000);
server.listen(port, process.env.HOST ?? '127.0.0.1', () => {
  const a = server.address();
  console.log(`token-backend ready on http://${a.address}:${a.port}/token?user=<name>`);
});
