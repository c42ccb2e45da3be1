/**
 * CORS on the gateway's public HTTP routes, for the SDK's SSE + HTTP transport on a page of another
 * origin: preflights (OPTIONS) of /v1/sse and /v1/docs/* allow the headers the SDK sends, and the
 * answers are readable (Access-Control-Allow-Origin: *, ETag and Retry-After exposed). The
 * credential is a bearer token, never a cookie, so `*` grants nothing the token does not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as uWS from 'uWebSockets.js';
import { MemoryLog, MemorySnapshotStore } from '@replicant/stream';
import { Origin } from '@replicant/origin';
import { Replica } from '@replicant/fanout';
import { Gateway } from '../src/gateway.js';
import { registerDocsHttp } from '../src/docs-http.js';

test('preflights allow the SDK headers; answers of /v1/docs and /v1/sse are readable cross-origin', async (t) => {
  // origin stand-in for the forward: answers a write with its seq and ETag
  const fakeOrigin = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', etag: '"7"' }).end('{"seq":"7"}'));
  });
  fakeOrigin.listen(0, '127.0.0.1');
  await once(fakeOrigin, 'listening');
  const log = new MemoryLog({ partitions: 1 });
  const store = new MemorySnapshotStore();
  const origin = await Origin.start({ log, store });
  const replica = await Replica.start({ log, store });
  const gateway = new Gateway({ upstream: replica, writer: origin });
  const app = uWS.App();
  gateway.attach(app);
  registerDocsHttp(app, { originUrl: `http://127.0.0.1:${(fakeOrigin.address() as AddressInfo).port}` });
  const port = await new Promise<number>((resolve) => app.listen('127.0.0.1', 0, (l) => resolve(uWS.us_socket_local_port(l as uWS.us_listen_socket))));
  t.after(async () => {
    await gateway.drain({ graceMs: 0 });
    app.close();
    fakeOrigin.close();
    await replica.close();
    await origin.close();
  });
  const base = `http://127.0.0.1:${port}`;
  for (const [path, method] of [
    ['/v1/sse?doc=a', 'GET'],
    ['/v1/docs/a', 'POST'],
  ] as const) {
    const pre = await fetch(base + path, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': method, 'access-control-request-headers': 'authorization,last-event-id,idempotency-key,if-match,content-type' },
    });
    assert.equal(pre.status, 204, path);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', new RegExp(method));
    const allowed = (pre.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const h of ['authorization', 'last-event-id', 'idempotency-key', 'if-match', 'content-type']) assert.ok(allowed.includes(h), `${path} allows ${h}`);
  }
  const w = await fetch(`${base}/v1/docs/a`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://app.example' }, body: '{"x":1}' });
  assert.equal(w.status, 200);
  assert.equal(w.headers.get('access-control-allow-origin'), '*');
  assert.match(w.headers.get('access-control-expose-headers') ?? '', /ETag/);
  const refused = await fetch(`${base}/v1/sse?doc=bad%20id`, { headers: { accept: 'text/event-stream' } });
  assert.equal(refused.status, 400);
  assert.equal(refused.headers.get('access-control-allow-origin'), '*', 'a refusal is readable too');
  const stream = await fetch(`${base}/v1/sse?doc=a`, { headers: { accept: 'text/event-stream' } });
  assert.equal(stream.status, 200);
  assert.equal(stream.headers.get('access-control-allow-origin'), '*');
  await stream.body?.cancel();
});
