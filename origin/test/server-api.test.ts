/**
 * The server API's revocation list at its bound: past `maxRevocations` subs a new sub is refused
 * with 429 `too_many_revocations` (an existing sub may still be revoked again), and entries whose
 * `before` is older than REVOCATION_TTL_S are pruned by the next revocation, making room. The
 * control doc itself is not reachable through the document API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as uWS from 'uWebSockets.js';
import { MemoryLog, MemorySnapshotStore } from '@replicant/stream';
import { CONTROL_DOC, REVOCATION_TTL_S } from '@replicant/protocol';
import { Origin } from '../src/origin.js';
import { registerOriginHttp } from '../src/http.js';
import { registerServerApi, RevocationView } from '../src/server-api.js';

async function start(maxRevocations: number) {
  const log = new MemoryLog({ partitions: 2 });
  const origin = await Origin.start({ log, store: new MemorySnapshotStore() });
  const app = uWS.App();
  registerOriginHttp(app, origin);
  registerServerApi(app, origin, { maxRevocations });
  const token = await new Promise<uWS.us_listen_socket>((resolve, reject) => app.listen('127.0.0.1', 0, (t) => (t ? resolve(t) : reject(new Error('listen failed')))));
  const url = `http://127.0.0.1:${uWS.us_socket_local_port(token)}`;
  return {
    url,
    origin,
    revoke: async (sub: string, before: number) => {
      const r = await fetch(`${url}/v1/revocations`, { method: 'POST', body: JSON.stringify({ sub, before }) });
      return { status: r.status, body: (await r.json()) as any };
    },
    stop: async () => {
      uWS.us_listen_socket_close(token);
      app.close();
      await origin.close();
    },
  };
}

test('the revocation list is bounded: 429 past it, expired entries pruned to make room', async (t) => {
  const s = await start(3);
  t.after(() => s.stop());
  const now = Math.floor(Date.now() / 1000);
  const old = now - REVOCATION_TTL_S - 60;
  assert.equal((await s.revoke('a', old)).status, 200);
  assert.equal((await s.revoke('b', now)).status, 200);
  assert.equal((await s.revoke('c', now)).status, 200);
  // full with a, b, c; a has expired and is pruned by this revocation: room for d
  assert.deepEqual(await s.revoke('d', now), { status: 200, body: { sub: 'd', before: now } });
  const full = await s.revoke('e', now);
  assert.equal(full.status, 429);
  assert.equal(full.body.error.code, 'too_many_revocations');
  // a sub already listed can be revoked again
  assert.equal((await s.revoke('b', now + 5)).status, 200);
  const { state } = await s.origin.readReserved(CONTROL_DOC);
  assert.deepEqual(state.revocations, { b: now + 5, c: now, d: now });
});

test('the control doc cannot be read or written through the document API', async (t) => {
  const s = await start(3);
  t.after(() => s.stop());
  const get = await fetch(`${s.url}/v1/docs/${encodeURIComponent(CONTROL_DOC)}`);
  assert.equal(get.status, 400);
  assert.equal(((await get.json()) as any).error.code, 'bad_doc_id');
  const post = await fetch(`${s.url}/v1/docs/${encodeURIComponent(CONTROL_DOC)}`, { method: 'POST', body: '{"revocations":null}' });
  assert.equal(post.status, 400);
});

test('Idempotency-Key on messages and disconnect: a retry appends nothing new and answers the same id', async (t) => {
  const s = await start(3);
  t.after(() => s.stop());
  const post = async (path: string, body: unknown, key?: string) => {
    const r = await fetch(`${s.url}${path}`, { method: 'POST', headers: key === undefined ? {} : { 'idempotency-key': key }, body: JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as any };
  };
  const msg = { to: { sub: 'alice' }, data: { n: 1 } };
  const first = await post('/v1/messages', msg, 'retry-1');
  assert.equal(first.status, 200);
  const seq1 = (await s.origin.readReserved(CONTROL_DOC)).seq;
  const again = await post('/v1/messages', msg, 'retry-1'); // the backend's retry after a timeout
  assert.deepEqual(again, first, 'the same message id');
  assert.equal((await s.origin.readReserved(CONTROL_DOC)).seq, seq1, 'the retry is not a second command');
  const other = await post('/v1/messages', msg, 'retry-2');
  assert.notEqual(other.body.id, first.body.id);
  const seq2 = (await s.origin.readReserved(CONTROL_DOC)).seq;
  assert.ok(seq2 > seq1);
  // without a key every POST is a new message
  const a = await post('/v1/messages', msg);
  const b = await post('/v1/messages', msg);
  assert.notEqual(a.body.id, b.body.id);
  const seq3 = (await s.origin.readReserved(CONTROL_DOC)).seq;
  // disconnect: the same key twice is one command; the key space is per route
  assert.equal((await post('/v1/users/alice/disconnect', { reconnect: false }, 'retry-1')).status, 200);
  const seq4 = (await s.origin.readReserved(CONTROL_DOC)).seq;
  assert.ok(seq4 > seq3, 'a message key does not swallow a disconnect with the same key');
  assert.equal((await post('/v1/users/alice/disconnect', { reconnect: false }, 'retry-1')).status, 200);
  assert.equal((await s.origin.readReserved(CONTROL_DOC)).seq, seq4);
  // the rules of POST /v1/docs
  const bad = await post('/v1/messages', msg, '~c.1.0');
  assert.deepEqual([bad.status, bad.body.error.code], [400, 'bad_request']);
  assert.equal((await post('/v1/messages', msg, 'k'.repeat(257))).status, 400);
});

test('RevocationView: a read in flight when a revocation invalidates the view is not taken as fresh', async (t) => {
  const origin = await Origin.start({ log: new MemoryLog({ partitions: 1 }), store: new MemorySnapshotStore() });
  t.after(() => origin.close());
  const view = new RevocationView(origin, 60_000);
  const read = origin.readReserved.bind(origin);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let first = true;
  origin.readReserved = async (doc: string) => {
    const out = await read(doc); // the list before the revocation
    if (first) {
      first = false;
      await gate;
    }
    return out;
  };
  const alice = { sub: 'alice', iatMs: Date.now() - 100_000 } as any;
  const stale = view.isRevoked(alice); // a check in flight, reading the old list
  await origin.writeReserved(CONTROL_DOC, JSON.stringify({ revocations: { alice: Math.floor(Date.now() / 1000) - 10 } }));
  view.invalidate();
  const after = view.isRevoked(alice); // began after the revocation: must see it
  release();
  assert.equal(await stale, false, 'the check that began before the revocation may answer the old list');
  assert.equal(await after, true);
  assert.equal(await view.isRevoked(alice), true, 'the old read did not stamp the old list as fresh');
});
