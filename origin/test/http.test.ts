import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import * as uWS from 'uWebSockets.js';
import { Origin } from '../src/origin.js';
import { registerOriginHttp } from '../src/http.js';
import type { OriginHttpOptions } from '../src/http.js';
import { MemoryLog, MemorySnapshotStore } from '@replicant/stream';
import { deferred } from '@replicant/testkit';

interface Server {
  url: string;
  port: number;
  origin: Origin;
  log: MemoryLog;
  stop(): Promise<void>;
}

async function start(
  httpOpts: OriginHttpOptions = {},
  originOpts: { maxInflightWrites?: number } = {},
): Promise<Server> {
  const log = new MemoryLog({ partitions: 2 });
  const origin = await Origin.start({ log, store: new MemorySnapshotStore(), ...originOpts });
  const app = uWS.App();
  registerOriginHttp(app, origin, httpOpts);
  const token = await new Promise<uWS.us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (t) => (t ? resolve(t) : reject(new Error('listen failed')))),
  );
  const port = uWS.us_socket_local_port(token);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    origin,
    log,
    stop: async () => {
      uWS.us_listen_socket_close(token);
      app.close();
      await origin.close();
    },
  };
}

async function post(s: Server, doc: string, body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}) {
  const res = await fetch(`${s.url}/v1/docs/${doc}`, {
    method: 'POST',
    headers: { 'content-type': 'application/merge-patch+json', ...headers },
    body,
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, any> };
}

async function get(s: Server, doc: string) {
  const res = await fetch(`${s.url}/v1/docs/${doc}`);
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, any> };
}

/** Sends raw bytes and returns the raw response (for requests fetch will not send). */
function raw(port: number, request: string | Buffer, endAfterWrite = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let out = '';
    sock.on('data', (d) => (out += d.toString('latin1')));
    sock.on('end', () => resolve(out));
    sock.on('close', () => resolve(out));
    sock.on('error', (e) => (out ? resolve(out) : reject(e)));
    if (endAfterWrite) sock.end(request);
    else sock.write(request);
  });
}

test('POST then GET: 200 with decimal seq strings and the merged state', async () => {
  const s = await start();
  try {
    const a = await post(s, 'doc-1', '{"a":1,"nested":{"x":1}}');
    assert.equal(a.status, 200);
    assert.equal(a.headers.get('content-type'), 'application/json');
    assert.match(a.json.seq, /^[1-9][0-9]*$/);
    const b = await post(s, 'doc-1', '{"nested":{"y":2},"a":null}', { 'content-type': 'application/json' });
    assert.equal(b.status, 200);
    assert.ok(BigInt(b.json.seq) > BigInt(a.json.seq));
    const g = await get(s, 'doc-1');
    assert.equal(g.status, 200);
    assert.deepEqual(g.json, { seq: b.json.seq, state: { nested: { x: 1, y: 2 } } });
    // a missing content type is accepted as JSON
    const none = await fetch(`${s.url}/v1/docs/doc-1`, { method: 'POST', body: new TextEncoder().encode('{"c":3}') });
    assert.equal(none.status, 200);
    // a charset parameter is fine
    assert.equal((await post(s, 'doc-1', '{"d":4}', { 'content-type': 'application/json; charset=utf-8' })).status, 200);
  } finally {
    await s.stop();
  }
});

test('GET of a never-written document: seq "0" and {}', async () => {
  const s = await start();
  try {
    const g = await get(s, 'never-written');
    assert.equal(g.status, 200);
    assert.deepEqual(g.json, { seq: '0', state: {} });
  } finally {
    await s.stop();
  }
});

test('percent-encoded document ids are decoded', async () => {
  const s = await start();
  try {
    const p = await post(s, encodeURIComponent('room:42'), '{"v":1}');
    assert.equal(p.status, 200);
    const g = await get(s, 'room:42');
    assert.deepEqual(g.json, { seq: p.json.seq, state: { v: 1 } });
  } finally {
    await s.stop();
  }
});

test('400 for a bad id, invalid JSON, a non-object patch and invalid UTF-8', async () => {
  const s = await start();
  try {
    for (const [doc, body, code] of [
      ['bad%20id', '{}', 'bad_doc_id'],
      ['-leading-dash', '{}', 'bad_doc_id'],
      ['ok', '{"a":', 'bad_patch'],
      ['ok', '[1,2]', 'bad_patch'],
      ['ok', '42', 'bad_patch'],
      ['ok', '', 'bad_patch'],
    ]) {
      const r = await post(s, doc, body);
      assert.equal(r.status, 400, `${doc} ${body}`);
      assert.equal(r.headers.get('content-type'), 'application/json');
      assert.equal(r.json.error.code, code);
      assert.equal(typeof r.json.error.message, 'string');
    }
    const bad = await post(s, 'ok', new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]));
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'bad_patch');
    const g = await get(s, 'bad%20id');
    assert.equal(g.status, 400);
    assert.equal(g.json.error.code, 'bad_doc_id');
    // nothing was written
    assert.deepEqual((await get(s, 'ok')).json, { seq: '0', state: {} });
  } finally {
    await s.stop();
  }
});

test('415 for other content types', async () => {
  const s = await start();
  try {
    const r = await post(s, 'doc', '{"a":1}', { 'content-type': 'text/plain' });
    assert.equal(r.status, 415);
    assert.equal(r.json.error.code, 'unsupported_media_type');
  } finally {
    await s.stop();
  }
});

test('413 for a body over the limit (declared or streamed); the server carries on', async () => {
  const s = await start({ maxBodyBytes: 1024 });
  try {
    const big = JSON.stringify({ pad: 'x'.repeat(2000) });
    const r = await post(s, 'doc', big);
    assert.equal(r.status, 413);
    assert.equal(r.json.error.code, 'payload_too_large');
    // chunked upload without a content length: the limit applies while streaming
    const chunked = await raw(
      s.port,
      `POST /v1/docs/doc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` +
        `400\r\n${'x'.repeat(0x400)}\r\n400\r\n${'x'.repeat(0x400)}\r\n0\r\n\r\n`,
    );
    assert.match(chunked, /^HTTP\/1\.1 413 /);
    assert.match(chunked, /"payload_too_large"/);
    // exactly at the limit is fine
    const atLimit = JSON.stringify({ pad: 'y'.repeat(1024 - 10) });
    assert.equal(Buffer.byteLength(atLimit), 1024);
    assert.equal((await post(s, 'doc', atLimit)).status, 200);
  } finally {
    await s.stop();
  }
});

test('fetch POSTing 2 MiB over a 1 MiB limit gets the 413 and its JSON body, not a reset', async () => {
  const s = await start({ maxBodyBytes: 1024 * 1024 });
  try {
    const body = new Uint8Array(2 * 1024 * 1024).fill(0x20); // declared length: the early-413 path
    const r = await post(s, 'doc', body);
    assert.equal(r.status, 413);
    assert.deepEqual(r.json, { error: { code: 'payload_too_large', message: 'body larger than 1048576 bytes' } });
    // streamed without a length (fetch sends a stream chunked): the limit is found while reading
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 32; i++) c.enqueue(new Uint8Array(64 * 1024).fill(0x20));
        c.close();
      },
    });
    const res = await fetch(`${s.url}/v1/docs/doc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'payload_too_large');
    assert.equal((await post(s, 'doc', '{"a":1}')).status, 200);
  } finally {
    await s.stop();
  }
});

test('an over-limit body past maxDiscardBytes is answered 413 at once and the connection closes', async () => {
  const s = await start({ maxBodyBytes: 1024, maxDiscardBytes: 4096 });
  try {
    // declares more than the discard bound: answered before any body byte is read
    const declared = await raw(s.port, `POST /v1/docs/doc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`);
    assert.match(declared, /^HTTP\/1\.1 413 /);
    assert.match(declared, /"payload_too_large"/);
    // within the discard bound: the whole body is read, then 413, and the connection stays usable
    const body = 'x'.repeat(3000);
    const two = await raw(
      s.port,
      `POST /v1/docs/doc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
        `GET /v1/docs/doc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    assert.match(two, /^HTTP\/1\.1 413 [^]*HTTP\/1\.1 200 [^]*"seq":"0"/);
  } finally {
    await s.stop();
  }
});

test('503 with Retry-After when request bodies would exceed the buffering bound', async () => {
  const s = await start({ maxBufferedBytes: 16 });
  try {
    const r = await post(s, 'doc', JSON.stringify({ a: 'more than sixteen bytes' }));
    assert.equal(r.status, 503);
    assert.equal(r.json.error.code, 'unavailable');
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    assert.equal((await post(s, 'doc', '{"a":1}')).status, 200);
  } finally {
    await s.stop();
  }
});

test('503 with Retry-After when too many writes are in flight', async () => {
  const s = await start({}, { maxInflightWrites: 1 });
  try {
    s.log.pauseDurability();
    const arrived = deferred();
    const write = s.origin.write.bind(s.origin);
    s.origin.write = (...args) => {
      const p = write(...args);
      arrived.resolve();
      return p;
    };
    const first = post(s, 'doc', '{"a":1}');
    await arrived.promise;
    assert.equal(s.origin.inflight, 1);
    const second = await post(s, 'doc', '{"a":2}');
    assert.equal(second.status, 503);
    assert.equal(second.json.error.code, 'unavailable');
    assert.ok(Number(second.headers.get('retry-after')) >= 1);
    s.log.resumeDurability();
    assert.equal((await first).status, 200);
  } finally {
    await s.stop();
  }
});

test('405 for other methods on a document', async () => {
  const s = await start();
  try {
    const res = await fetch(`${s.url}/v1/docs/doc`, { method: 'PUT', body: '{}' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, POST');
    assert.equal(((await res.json()) as any).error.code, 'method_not_allowed');
  } finally {
    await s.stop();
  }
});

test('Idempotency-Key: the same key twice gives the same seq and changes the state once', async () => {
  const s = await start();
  try {
    const a = await post(s, 'counter', '{"n":1}', { 'idempotency-key': 'op-1' });
    const b = await post(s, 'counter', '{"n":2}', { 'idempotency-key': 'op-1' });
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(b.json.seq, a.json.seq);
    assert.deepEqual((await get(s, 'counter')).json, { seq: a.json.seq, state: { n: 1 } });
    const c = await post(s, 'counter', '{"n":3}', { 'idempotency-key': 'op-2' });
    assert.ok(BigInt(c.json.seq) > BigInt(a.json.seq));
    assert.equal(s.log.stats().appends, 2);
  } finally {
    await s.stop();
  }
});

test('concurrent writes: every write acknowledged with a distinct seq, all merged', async () => {
  const s = await start();
  try {
    const n = 40;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => post(s, 'shared', JSON.stringify({ [`f${i}`]: i }))));
    assert.ok(results.every((r) => r.status === 200));
    const seqs = results.map((r) => BigInt(r.json.seq));
    assert.equal(new Set(seqs).size, n);
    const g = await get(s, 'shared');
    assert.equal(BigInt(g.json.seq), seqs.reduce((m, x) => (x > m ? x : m)));
    assert.equal(Object.keys(g.json.state).length, n);
  } finally {
    await s.stop();
  }
});

test('an aborted request does not take the server down', async () => {
  const s = await start();
  try {
    await raw(
      s.port,
      'POST /v1/docs/doc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":',
      true, // the client hangs up half-way through the body
    ).catch(() => '');
    assert.equal((await post(s, 'doc', '{"a":1}')).status, 200);
  } finally {
    await s.stop();
  }
});
