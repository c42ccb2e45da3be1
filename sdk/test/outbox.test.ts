/**
 * The outbox and the optimistic view against a scripted gateway: write-ahead (stored before sent),
 * bounds, rebase on server moves, rejection, retries of overload answers, the send span, and
 * storage handed to the next client instance (what a reload or restart does).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSequencedKey, SEND_SPAN, type ClientFrame, type JsonObject } from '@replicant/protocol';
import { connect, fileStorage, memoryStorage, ReplicantError, type ClientOptions, type ReplicantClient, type OutboxStorage, type StoredOp } from '../src/index.js';
import { ScriptedServer, snapshot, delta, type Conn } from './scripted-server.js';
import { serverPerTest } from './per-test-server.js';

let server!: ScriptedServer;
const clients = serverPerTest((s) => (server = s));

function open(opts: ClientOptions = {}): ReplicantClient {
  const c = connect(server.url, { random: () => 0, protocol: 'json', window: 0, ...opts });
  clients.push(c);
  return c;
}

async function nextPublish(conn: Conn): Promise<Extract<ClientFrame, { type: 'publish' }>> {
  for (;;) {
    const f = await conn.frames.next();
    if (f.type === 'publish') return f;
  }
}

test('optimistic view: pending ops show at once, rebase on deltas, leave on ack once the server has them', async () => {
  const c = open();
  const views: { state: JsonObject; server: JsonObject; pending: number }[] = [];
  const sub = c.subscribe('v', (d) => views.push({ state: d.state, server: d.serverState, pending: d.pending }));
  const conn = await server.connections.next();
  assert.equal((await conn.frames.next()).type, 'subscribe');
  conn.send(snapshot('v', 10n, { a: 0, b: 0 }));
  await new Promise<void>((r) => c.on('snapshot', () => r()));
  const p1 = c.publish('v', { a: 1 });
  assert.deepEqual(sub.doc.state, { a: 1, b: 0 }, 'shown at once, before any ack');
  assert.equal(sub.doc.pending, 1);
  const f1 = await nextPublish(conn);
  assert.equal(parseSequencedKey(f1.id!)?.base, 10n, 'the key names the seq the client had seen');
  // someone else's write arrives first: the pending op is rebased on top of it
  conn.send(delta('v', 11n, 10n, { a: 5, b: 5 }));
  await new Promise<void>((r) => c.on('delta', () => r()));
  assert.deepEqual(sub.doc.serverState, { a: 5, b: 5 });
  assert.deepEqual(sub.doc.state, { a: 1, b: 5 });
  // ack before the delta carrying the op: it stays in the view (not pending) until seq 12 arrives
  conn.send({ type: 'ack', id: f1.id!, seq: 12n });
  assert.equal(await p1, 12n);
  assert.equal(sub.doc.pending, 0);
  assert.deepEqual(sub.doc.state, { a: 1, b: 5 });
  conn.send(delta('v', 12n, 11n, { a: 1 }));
  await new Promise<void>((r) => c.on('delta', () => r()));
  assert.deepEqual(sub.doc.state, { a: 1, b: 5 });
  assert.equal(sub.doc.state, sub.doc.serverState, 'nothing pending: the view is the server state');
  assert.ok(views.some((v) => v.pending === 1 && v.state.a === 1));
});

test('a rejected op (bad patch, forbidden, conflict) leaves the view and rejects; overload answers are retried', async () => {
  const c = open();
  const sub = c.subscribe('r', () => {});
  const conn = await server.connections.next();
  await conn.frames.next();
  conn.send(snapshot('r', 3n, { n: 0 }));
  await new Promise<void>((r) => c.on('snapshot', () => r()));
  const p = c.publish('r', { n: 1 }, { ifSeq: 3n });
  const q = c.publish('r', { m: 1 });
  const f = await nextPublish(conn);
  assert.equal(f.ifSeq, 3n);
  const g = await nextPublish(conn);
  assert.deepEqual(sub.doc.state, { n: 1, m: 1 });
  conn.send({ type: 'error', code: 'conflict', message: 'doc is not at seq 3', doc: 'r', id: f.id });
  await assert.rejects(p, (e: unknown) => e instanceof ReplicantError && e.code === 'conflict');
  assert.deepEqual(sub.doc.state, { n: 0, m: 1 }, 'the rejected op left the view; the other stays');
  // overload: the same op is sent again (same id) after a backoff delay, not rejected
  conn.send({ type: 'error', code: 'unavailable', message: 'busy', doc: 'r', id: g.id });
  const again = await nextPublish(conn);
  assert.equal(again.id, g.id);
  conn.send({ type: 'ack', id: g.id!, seq: 4n });
  assert.equal(await q, 4n);
});

test('bounds: over maxPendingPublishes or maxPendingBytes a publish rejects with outbox_full, nothing stored is dropped', async () => {
  const storage = memoryStorage();
  const dead = await ScriptedServer.start();
  const url = dead.url;
  await dead.stop();
  const c = connect(url, { storage, maxPendingPublishes: 3, maxPendingBytes: 32, random: () => 0.5, window: 0 });
  clients.push(c);
  const kept = [c.publish('b', { x: 1 }), c.publish('b', { y: 'abcdefghij' })];
  for (const p of kept) p.catch(() => {});
  await assert.rejects(c.publish('b', { z: 'a much longer patch than fits' }), { code: 'outbox_full' });
  const third = c.publish('b', { w: 1 });
  third.catch(() => {});
  await assert.rejects(c.publish('b', { v: 1 }), { code: 'outbox_full' });
  await c.persisted();
  assert.equal(c.pendingPublishes, 3);
  assert.deepEqual((await storage.load()).map((o) => o.patch), ['{"x":1}', '{"y":"abcdefghij"}', '{"w":1}']);
});

test('write-ahead: nothing is sent before storage has it; a restarted client re-sends stored ops with their ids', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const inner = memoryStorage();
  const slow: OutboxStorage = { ...inner, put: async (op: StoredOp) => { await gate; return inner.put(op); } };
  const c = open({ storage: slow });
  const conn = await server.connections.next();
  const p = c.publish('w', { a: 1 });
  p.catch(() => {});
  let sent = false;
  void nextPublish(conn).then(() => (sent = true));
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r)); // turns: only to show that nothing happens
  assert.equal(sent, false, 'not sent while the put is pending');
  release();
  await c.persisted();
  const stored = await inner.load();
  assert.equal(stored.length, 1);
  await c.close(); // the publish rejects with closed; the op stays stored
  await assert.rejects(p, { code: 'closed' });
  assert.equal((await inner.load()).length, 1);

  const c2 = open({ storage: inner });
  const conn2 = await (async () => {
    for (;;) {
      const k = await server.connections.next();
      if (k !== conn) return k;
    }
  })();
  await c2.loaded;
  assert.equal(c2.pendingPublishes, 1);
  const f = await nextPublish(conn2);
  assert.equal(f.id, stored[0].id);
  const drained = new Promise<void>((r) => c2.on('drained', () => r()));
  conn2.send({ type: 'ack', id: f.id!, seq: 9n });
  await drained;
  assert.deepEqual(await inner.load(), []);
});

test(`at most ${SEND_SPAN} ops are in flight; the rest follow as acks arrive, in order`, async () => {
  const c = open();
  const conn = await server.connections.next();
  const ps: Promise<bigint>[] = [];
  for (let i = 0; i < SEND_SPAN + 5; i++) ps.push(c.publish('s', { i }));
  const first: string[] = [];
  for (let i = 0; i < SEND_SPAN; i++) first.push((await nextPublish(conn)).patch);
  assert.equal(conn.frames.length, 0, 'the window is full');
  const ids: string[] = [];
  for (let i = 0; i < SEND_SPAN; i++) ids.push(JSON.parse(first[i]).i);
  assert.deepEqual(ids, [...Array(SEND_SPAN).keys()]);
  // acking the oldest frees one slot at a time
  assert.equal(parseSequencedKey((await memoryPeek(c))[0])?.n, 1);
  for (let i = 0; i < ps.length; i++) {
    const id = (await memoryPeek(c))[0];
    conn.send({ type: 'ack', id, seq: BigInt(100 + i) });
    await ps[i];
  }
  const rest: number[] = [];
  for (let i = 0; i < 5; i++) rest.push(JSON.parse((await nextPublish(conn)).patch).i);
  assert.deepEqual(rest, [SEND_SPAN, SEND_SPAN + 1, SEND_SPAN + 2, SEND_SPAN + 3, SEND_SPAN + 4]);
});

/** ids of the client's pending ops, oldest first */
async function memoryPeek(c: ReplicantClient): Promise<string[]> {
  return (c as unknown as { outbox: { entries(): { op: StoredOp }[] } }).outbox.entries().map((e) => e.op.id);
}

test('fileStorage: fsynced JSON lines, reloaded in order, torn tail ignored, compacted on open', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'replicant-outbox-'));
  try {
    const s = fileStorage(dir);
    const op = (i: number): StoredOp => ({ id: `~c.${i}.0`, doc: 'd', patch: `{"i":${i}}`, owner: 'c', n: i, t: 1000 + i });
    await Promise.all([1, 2, 3, 4].map((i) => s.put(op(i))));
    await s.remove('~c.2.0');
    await s.close();
    appendFileSync(join(dir, 'outbox.jsonl'), '{"put":{"id":"torn'); // a crash mid-append
    const s2 = fileStorage(dir);
    assert.deepEqual((await s2.load()).map((o) => o.n), [1, 3, 4]);
    const text = readFileSync(join(dir, 'outbox.jsonl'), 'utf8');
    assert.equal(text.split('\n').filter(Boolean).length, 3, 'rewritten with the live ops only');
    // at run time too: once deletions outnumber the live ops by 1000 the file is rewritten
    for (let i = 10; i < 1500; i++) {
      await s2.put(op(i));
      await s2.remove(`~c.${i}.0`);
    }
    const lines = readFileSync(join(dir, 'outbox.jsonl'), 'utf8').split('\n').filter(Boolean).length;
    assert.ok(lines <= 3 + 2 * 1001 + 2, `file stays bounded (${lines} lines for 3 live ops)`);
    assert.deepEqual((await s2.load()).map((o) => o.n), [1, 3, 4]);
    await s2.close();
    const s3 = fileStorage(dir);
    assert.deepEqual((await s3.load()).map((o) => o.n), [1, 3, 4]);
    await s3.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('internal errors are retried a few times, then the publish rejects and leaves the outbox', async () => {
  const c = open();
  const conn = await server.connections.next();
  const p = c.publish('i', { a: 1 });
  let sends = 0;
  for (;;) {
    const f = await nextPublish(conn);
    sends++;
    conn.send({ type: 'error', code: 'internal', message: 'boom', doc: 'i', id: f.id });
    if (sends === 6) break;
  }
  await assert.rejects(p, { code: 'internal' });
  assert.equal(sends, 6, 'sent once and retried 5 times');
  assert.equal(c.pendingPublishes, 0);
});
