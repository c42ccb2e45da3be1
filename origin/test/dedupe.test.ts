/**
 * Exactly once, durably: sequenced idempotency keys are recognised however many writes their doc
 * had since (per-writer high-water mark + window in the fold and the snapshots), the horizon of the
 * per-doc writer table answers `idempotency_expired`, and ifSeq / If-Match are decided in the fold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as uWS from 'uWebSockets.js';
import { DEDUPE_WINDOW, formatSequencedKey } from '@replicant/protocol';
import { DocState, FileLog, FileSnapshotStore, MemoryLog, MemorySnapshotStore, decodeSnapshot, encodeSnapshot } from '@replicant/stream';
import { withTempDir } from '@replicant/testkit';
import { Origin, OriginError } from '../src/origin.js';
import { registerOriginHttp } from '../src/http.js';

const key = (client: string, n: number, base = 0n) => formatSequencedKey(client, n, base);

test('a sequenced op re-sent after 5,000 other writes (300 other keyed ones) is not applied again', () => {
  const d = new DocState('d');
  let seq = 0n;
  const r1 = d.apply(++seq, { k: 'first' }, key('alice', 1), undefined, undefined);
  assert.equal(r1.applied, true);
  d.apply(++seq, { k: 'later' }, '', undefined, undefined);
  for (let i = 0; i < 5000; i++) {
    // other writers: plain keys (more than the 256-key window), another sequenced writer, no key
    const k = i < 300 ? `plain-${i}` : i % 2 === 0 ? key('bob', i) : '';
    assert.equal(d.apply(++seq, { i }, k, undefined, undefined).applied, true);
  }
  const again = d.apply(++seq, { k: 'first' }, key('alice', 1), undefined, undefined);
  assert.deepEqual(again, { applied: false, seq: 1n }, 'a duplicate, answered with a seq that includes it');
  assert.equal(d.state.k, 'later');
  // the plain-key window did forget its oldest keys: that is the horizon of unsequenced keys
  assert.equal(d.apply(++seq, { k: 'plain again' }, 'plain-0', undefined, undefined).applied, true);
});

test('the per-writer window: late ops inside it apply once, ops below it are duplicates', () => {
  const d = new DocState('d');
  let seq = 0n;
  assert.equal(d.apply(++seq, { a: 1 }, key('w', 1), undefined, undefined).applied, true);
  assert.equal(d.apply(++seq, { a: 3 }, key('w', 3), undefined, undefined).applied, true); // n=2 is late (reordered)
  assert.equal(d.apply(++seq, { b: 2 }, key('w', 2), undefined, undefined).applied, true);
  assert.equal(d.apply(++seq, { b: 'x' }, key('w', 2), undefined, undefined).applied, false);
  assert.equal(d.apply(++seq, { a: 'x' }, key('w', 3), undefined, undefined).applied, false);
  assert.deepEqual(d.state, { a: 3, b: 2 });
  const far = 3 + DEDUPE_WINDOW;
  assert.equal(d.apply(++seq, { c: 1 }, key('w', far), undefined, undefined).applied, true);
  // n=1..3 are now below the window: answered as duplicates (the SDK never sends that far apart)
  assert.deepEqual(d.apply(++seq, { a: 'x' }, key('w', 1), undefined, undefined), { applied: false, seq: seq - 1n });
  assert.deepEqual(d.state, { a: 3, b: 2, c: 1 });
});

test('past the writer-table horizon: an ambiguous re-send is idempotency_expired, a newer op applies', () => {
  const d = new DocState('d', 0n, {}, [], 256, [], 0n, 3); // room for 3 writers
  let seq = 0n;
  d.apply(++seq, { by: 'old' }, key('old', 1, 0n), undefined, undefined);
  for (const w of ['w1', 'w2', 'w3']) d.apply(++seq, { by: w }, key(w, 1, seq - 1n), undefined, undefined);
  assert.equal(d.horizon, 1n, 'the evicted writer had reached seq 1');
  const before = d.snapshot();
  const r = d.apply(++seq, { by: 'old' }, key('old', 1, 0n), undefined, undefined);
  assert.deepEqual(r, { applied: false, seq: before.seq, outcome: 'expired', changed: false });
  assert.deepEqual(d.state, before.state);
  // an op created after the writer saw seq >= horizon cannot have been applied before: it applies
  assert.equal(d.apply(++seq, { by: 'old again' }, key('old', 2, 1n), undefined, undefined).applied, true);
  // a brand-new writer that had seen the doc applies too
  assert.equal(d.apply(++seq, { by: 'new' }, key('new', 1, seq - 1n), undefined, undefined).applied, true);
});

test('ifSeq: applied only at that seq; a conflict is remembered and re-sends answer conflict again', () => {
  const d = new DocState('d');
  assert.equal(d.apply(5n, { v: 1 }, '', undefined, undefined).applied, true);
  assert.equal(d.apply(6n, { v: 2 }, key('a', 1), 5n, undefined).applied, true);
  const c = d.apply(7n, { v: 3 }, key('b', 1), 5n, undefined);
  assert.deepEqual(c, { applied: false, seq: 6n, outcome: 'conflict', changed: true });
  assert.equal(d.seq, 6n);
  // re-sent after the doc moved on to exactly the seq it asked for: still the same answer
  d.apply(8n, { w: 1 }, '', undefined, undefined);
  assert.equal(d.apply(9n, { v: 3 }, key('b', 1), 8n, undefined).applied, false);
  assert.equal(d.peek(key('b', 1))?.applied, false);
  assert.deepEqual(d.state, { v: 2, w: 1 });
  // unsequenced keys and no key take the same ifSeq rule
  assert.equal(d.apply(10n, { x: 1 }, 'plain', 7n, undefined).applied, false);
  assert.equal(d.apply(11n, { x: 1 }, '', 8n, undefined).applied, true);
});

test('snapshots carry the writer records and horizon: a reader restarted from one decides the same', () => {
  const ops: [bigint, object, string, bigint?][] = [];
  for (let i = 1; i <= 40; i++) ops.push([BigInt(i), { [`f${i % 7}`]: i }, key(`c${i % 6}`, i, BigInt(i - 1)), i % 5 === 0 ? BigInt(i - 2) : undefined]);
  const replay = [...ops, ...ops.slice(10, 30).map(([s, p, k, ifs]): [bigint, object, string, bigint?] => [s + 100n, p, k, ifs])];
  const a = new DocState('d', 0n, {}, [], 256, [], 0n, 4);
  for (const [s, p, k, ifs] of replay.slice(0, 25)) a.apply(s, p as any, k, ifs, undefined);
  const snap = decodeSnapshot(encodeSnapshot(a.snapshot()));
  assert.ok(snap.clients && snap.clients.length === 4 && snap.horizon! > 0n);
  const b = DocState.from(snap, 256, 4);
  const ra = replay.slice(25).map(([s, p, k, ifs]) => a.apply(s, p as any, k, ifs, undefined));
  const rb = replay.slice(25).map(([s, p, k, ifs]) => b.apply(s, p as any, k, ifs, undefined));
  assert.deepEqual(rb, ra);
  assert.deepEqual(b.snapshot(), a.snapshot());
  // snapshots of documents without sequenced writers keep their old shape
  assert.equal(encodeSnapshot(new DocState('p', 3n, { a: 1 }, [['k', 3n]]).snapshot()), '{"doc":"p","seq":"3","state":{"a":1},"keys":[["k","3"]]}');
});

test('origin: a sequenced write re-sent after 5,000 writes and a restart is answered, not applied', async () => {
  await withTempDir(async (dir) => {
    const open = async () => {
      const log = await FileLog.open({ dir: `${dir}/log`, partitions: 2 });
      const store = await FileSnapshotStore.open({ dir });
      return Origin.start({ log, store, checkpointIntervalMs: 50 });
    };
    let origin = await open();
    const k = key('offline-client', 7, 0n);
    const first = await origin.write('doc', '{"k":"first"}', k);
    await origin.write('doc', '{"k":"later"}');
    const writes: Promise<bigint>[] = [];
    for (let i = 0; i < 5000; i++) writes.push(origin.write('doc', JSON.stringify({ i }), i % 3 === 0 ? `other-${i}` : undefined));
    await Promise.all(writes);
    await origin.close();
    origin = await open(); // the doc now comes from its snapshot: the fold decides, not the in-memory fast path
    const seqBefore = (await origin.read('doc')).seq;
    assert.equal(await origin.write('doc', '{"k":"first"}', k), first);
    const after = await origin.read('doc');
    assert.equal(after.state.k, 'later');
    assert.equal(after.seq, seqBefore, 'the doc did not move');
    await origin.close();
  });
});

test('HTTP: If-Match decides in the fold (412 conflict), ETag names the seq, sequenced Idempotency-Key is durable', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const origin = await Origin.start({ log, store: new MemorySnapshotStore() });
  const app = uWS.App();
  registerOriginHttp(app, origin);
  const token = await new Promise<uWS.us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (t) => (t ? resolve(t) : reject(new Error('listen failed')))),
  );
  const url = `http://127.0.0.1:${uWS.us_socket_local_port(token)}/v1/docs/claim`;
  try {
    const post = async (body: object, headers: Record<string, string> = {}) => {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      return { status: r.status, json: (await r.json()) as any };
    };
    const g0 = await fetch(url);
    assert.equal(g0.headers.get('etag'), '"0"');
    // two writers race to claim the fresh doc at seq 0: exactly one wins
    const [a, b] = await Promise.all([post({ owner: 'a' }, { 'if-match': '"0"' }), post({ owner: 'b' }, { 'if-match': '"0"' })]);
    const statuses = [a.status, b.status].sort();
    assert.deepEqual(statuses, [200, 412]);
    const loser = a.status === 412 ? a : b;
    assert.equal(loser.json.error.code, 'conflict');
    const g = await fetch(url);
    const state = (await g.json()) as any;
    assert.equal(state.state.owner, a.status === 200 ? 'a' : 'b');
    assert.equal(g.headers.get('etag'), `"${state.seq}"`);
    assert.equal((await post({ x: 1 }, { 'if-match': 'W/"1"' })).status, 400);
    assert.equal((await post({ x: 1 }, { 'if-match': '*' })).status, 400);
    assert.equal((await post({ x: 1 }, { 'idempotency-key': '~not-sequenced' })).status, 400);

    const k = key('http-writer', 1, 0n);
    const w = await post({ once: true }, { 'idempotency-key': k });
    assert.equal(w.status, 200);
    for (let i = 0; i < 5000; i++) await origin.write('claim', JSON.stringify({ once: null, i }), `noise-${i}`);
    const again = await post({ once: true }, { 'idempotency-key': k });
    assert.deepEqual(again, { status: 200, json: { seq: w.json.seq } });
    assert.equal((await origin.read('claim')).state.once, undefined, 'not applied again');
    await assert.rejects(origin.write('claim', '{}', undefined, 1n), (e: unknown) => e instanceof OriginError && e.status === 412);
  } finally {
    uWS.us_listen_socket_close(token);
    app.close();
    await origin.close();
  }
});
