#!/usr/bin/env node
// The chat example's backend: issues tokens for the chat rooms, and uses Replicant's server API
// (an API key, never given to clients) for direct messages and kicking a user.
//
//   AUTH_JWT_SECRET=<same as the gateway's> REPLICANT_API_KEY=<one of API_KEYS> \
//   REPLICANT_URL=http://127.0.0.1:8080 node examples/chat/backend.mjs        (PORT, default 3001)
//
//   GET  /token?user=ann                 -> {"token"}: reads and writes chat:* (presence included)
//   POST /dm   {"from","to","text"}      -> POST /v1/messages {"to":{"sub"},"data":{"from","text"}}
//   POST /kick {"user"}                  -> POST /v1/users/{user}/disconnect {"reconnect":false}
//
// A real backend takes `user` / `from` from its own session, never from the request as here.
import { createServer } from 'node:http';
import { SignJWT } from 'jose';

const secret = process.env.AUTH_JWT_SECRET;
const apiKey = process.env.REPLICANT_API_KEY;
const base = (process.env.REPLICANT_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
if (!secret || secret.length < 16 || !apiKey) {
  console.error('chat backend: AUTH_JWT_SECRET (16+ characters) and REPLICANT_API_KEY must be set');
  process.exit(2);
}
const key = new TextEncoder().encode(secret);

const token = (user) =>
  new SignJWT({ read: ['chat:*'], write: ['chat:*'] }).setProtectedHeader({ alg: 'HS256' }).setSubject(user).setIssuedAt().setExpirationTime('600s').sign(key);

/** a server-API call with the API key; resolves with [status, body] */
async function api(path, body) {
  const r = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return [r.status, await r.text()];
}

async function readJson(req) {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 64 * 1024) throw new Error('body too large');
  }
  return JSON.parse(text);
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const reply = (status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
  try {
    if (req.method === 'GET' && url.pathname === '/token') {
      const user = url.searchParams.get('user');
      if (!user || !/^[a-z0-9_-]{1,32}$/i.test(user)) return reply(400, { error: 'user must be 1-32 letters, digits, _ or -' });
      return reply(200, { token: await token(user) });
    }
    if (req.method === 'POST' && url.pathname === '/dm') {
      const { from, to, text } = await readJson(req);
      return reply(...(await api('/v1/messages', { to: { sub: String(to) }, data: { from: String(from), text: String(text) } })));
    }
    if (req.method === 'POST' && url.pathname === '/kick') {
      const { user } = await readJson(req);
      return reply(...(await api(`/v1/users/${encodeURIComponent(String(user))}/disconnect`, { reconnect: false })));
    }
    reply(404, { error: 'not found' });
  } catch (err) {
    reply(400, { error: String(err.message ?? err) });
  }
});
server.listen(Number(process.env.PORT ?? 3001), '127.0.0.1', () => {
  console.log(`chat backend ready on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));
