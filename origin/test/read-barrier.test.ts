/**
 * The read barrier (origin/src/read-barrier.ts): the batching rule (a read that arrives while an
 * end-offset request is in flight waits for the NEXT one), waiting for the materializer, timeouts
 * (503), `?read=local` skipping it, and a stale read between two origins on one log that the barrier
 * prevents.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as uWS from 'uWebSockets.js';
import { MemoryLog, MemorySnapshotStore, type DocSnapshot, type SnapshotStore } from '@replicant/stream';
import { deferred, turns, type Deferred } from '@replicant/testkit';
import { ReadBarrier, type BarrierSource } from '../src/read-barrier.js';
import { Origin, OriginError } from '../src/origin.js';
import { registerOriginHttp } from '../src/http.js';

/** a source whose end-offset requests and materializer progress the test drives by hand */
class ManualSource implements BarrierSource {
  readonly requests: { partition: number; answer: Deferred<bigint> }[] = [];
  pos = 0n;
  private progress = deferred();

  private requested?: Deferred;
  endOffset(partition: number): Promise<bigint> {
    const answer = deferred<bigint>();
    this.requests.push({ partition, answer });
    this.requested?.resolve();
    this.requested = undefined;
    return answer.promise;
  }
  /** resolves when the next end-offset request is made */
  nextRequest(): Promise<void> {
    return (this.requested ??= deferred()).promise;
  }
  position(): bigint {
    return this.pos;
  }
  async reached(_p: number, offset: bigint): Promise<void> {
    while (this.pos < offset) await this.progress.promise;
  }
  advance(to: bigint): void {
    this.pos = to;
    const p = this.progress;
    this.progress = deferred();
    p.resolve();
  }
}

/** settles-or-not of a promise, observed without waiting for it */
function track(p: Promise<void>): { state: 'pending' | 'ok' | OriginError } {
  const t: { state: 'pending' | 'ok' | OriginError } = { state: 'pending' };
  p.then(
    () => (t.state = 'ok'),
    (e: OriginError) => (t.state = e),
  );
  return t;
}

test('batching: a read arriving while a request is in flight waits for the next request, and one request serves many reads', async () => {
  const src = new ManualSource();
  src.pos = 100n;
  const b = new ReadBarrier(src, 60_000);
  const a = track(b.wait(0));
  assert.equal(src.requests.length, 1, 'the first read sends a request at once');
  const later = [track(b.wait(0)), track(b.wait(0)), track(b.wait(0))];
  assert.equal(src.requests.length, 1, 'reads arriving while it is in flight send nothing yet');
  // another partition has its own rounds
  const other = track(b.wait(1));
  assert.equal(src.requests.length, 2);
  assert.equal(src.requests[1].partition, 1);

  src.requests[0].answer.resolve(7n);
  await turns();
  assert.equal(a.state, 'ok', 'the read that arrived before the request is served by it');
  for (const r of later) assert.equal(r.state, 'pending', 'reads that arrived during the request are NOT served by its answer');
  assert.equal(src.requests.length, 3, 'the next request went out as soon as the first completed');
  assert.equal(src.requests[2].partition, 0);

  src.requests[2].answer.resolve(9n);
  await turns();
  for (const r of later) assert.equal(r.state, 'ok', 'one request served all three');
  assert.equal(other.state, 'pending');
  src.requests[1].answer.resolve(1n);
  await turns();
  assert.equal(other.state, 'ok');
  assert.equal(b.requests, 3);
  assert.equal(src.requests.length, 3, 'nothing in flight, nothing sent');
  b.close();
});

test('a read waits until the materializer has applied every record below the end offset', async () => {
  const src = new ManualSource();
  src.pos = 10n;
  const b = new ReadBarrier(src, 60_000);
  const r1 = track(b.wait(0));
  src.requests[0].answer.resolve(12n);
  const r2 = track(b.wait(0));
  await turns();
  assert.equal(r1.state, 'pending', 'applied up to 10, the end is 12');
  src.requests[1].answer.resolve(15n);
  src.advance(11n);
  await turns();
  assert.equal(r1.state, 'pending', 'offset 11 is not applied yet');
  src.advance(12n);
  await turns();
  assert.equal(r1.state, 'ok', 'every record below 12 applied');
  assert.equal(r2.state, 'pending');
  src.advance(15n);
  await turns();
  assert.equal(r2.state, 'ok');
  b.close();
});

test('timeout: a read not past the barrier within timeoutMs is a 503 unavailable; reads that gave up send no request', async () => {
  const src = new ManualSource();
  const b = new ReadBarrier(src, 50);
  const first = b.wait(0);
  const second = b.wait(0); // joins the next round, which cannot go out while the first is stuck
  const isUnavailable = (e: unknown) =>
    e instanceof OriginError && e.status === 503 && e.code === 'unavailable' && /within 50 ms/.test(e.message) && e.retryAfterSec === 1;
  await assert.rejects(first, isUnavailable);
  await assert.rejects(second, isUnavailable);
  // the stuck round was given up after 50 ms: the next one went out (with `second`, still
  // waiting then), and once it is answered with no reads left nothing more is sent
  assert.equal(src.requests.length, 2);
  src.requests[1].answer.resolve(0n);
  src.requests[0].answer.resolve(0n);
  await turns();
  assert.equal(src.requests.length, 2, 'no reads left: no request');
  // answered but never applied: also a timeout
  const third = b.wait(0);
  src.requests[2].answer.resolve(5n);
  await assert.rejects(third, isUnavailable);
  b.close();
});

test('an end-offset request that never answers is abandoned after timeoutMs: the next round goes out, reads on the partition are served again', async () => {
  const src = new ManualSource();
  src.pos = 4n;
  const b = new ReadBarrier(src, 50);
  const first = b.wait(0); // its request (a stalled leader) never answers
  await assert.rejects(first, (e: unknown) => e instanceof OriginError && e.status === 503);
  // arrives after the request went out: joins the next round
  const second = track(b.wait(0));
  assert.equal(src.requests.length, 1);
  // the next request (sent when the stuck round is given up) or second's own timeout, whichever first
  await Promise.race([src.nextRequest(), b.wait(0).catch(() => {})]);
  assert.equal(src.requests.length, 2, 'a next request went out');
  assert.equal(second.state, 'pending', 'the next round went out once the stuck one was given up, before its reads timed out');
  src.requests[1].answer.resolve(4n);
  await turns();
  assert.equal(second.state, 'ok');
  // the abandoned request's late answer changes nothing
  src.requests[0].answer.resolve(1000n);
  await turns();
  const third = track(b.wait(0));
  assert.equal(src.requests.length, 3, 'nothing in flight: a new read sends a new request');
  src.requests[2].answer.resolve(4n);
  await turns();
  assert.equal(third.state, 'ok');
  b.close();
});

test('a failed end-offset request answers its reads 503 and the next round still goes out', async () => {
  const src = new ManualSource();
  src.pos = 3n;
  const b = new ReadBarrier(src, 60_000);
  const a = b.wait(0);
  const c = track(b.wait(0));
  src.requests[0].answer.reject(new Error('broker 127.0.0.1:9092 unreachable'));
  await assert.rejects(a, (e: unknown) => e instanceof OriginError && e.status === 503 && !/127\.0\.0\.1/.test(e.message));
  assert.equal(src.requests.length, 2);
  src.requests[1].answer.resolve(3n);
  await turns();
  assert.equal(c.state, 'ok');
  b.close();
});

/** a snapshot store whose get() of the documents in `held` waits until released (a slow origin's fold) */
class HoldingStore implements SnapshotStore {
  readonly inner = new MemorySnapshotStore();
  readonly held = new Set<string>();
  private gate = deferred();
  async get(docId: string): Promise<DocSnapshot | undefined> {
    while (this.held.has(docId)) await this.gate.promise;
    return this.inner.get(docId);
  }
  release(): void {
    this.held.clear();
    const g = this.gate;
    this.gate = deferred();
    g.resolve();
  }
  commit(s: DocSnapshot[], c: Map<number, bigint>): Promise<void> {
    return this.inner.commit(s, c);
  }
  covered(p: number): Promise<bigint> {
    return this.inner.covered(p);
  }
  async close(): Promise<void> {}
}

test('two origins on one log: a write acknowledged by one is read by the other (barrier), while ?read=local may be stale', async () => {
  const log = new MemoryLog({ partitions: 1 });
  const slowStore = new HoldingStore();
  const a = await Origin.start({ log, store: new MemorySnapshotStore() });
  const b = await Origin.start({ log, store: slowStore, readBarrierTimeoutMs: 200 });
  try {
    // origin b falls behind: its fold waits on loading `blocker`, the record before the write
    slowStore.held.add('blocker');
    await a.write('blocker', '{"x":1}');
    const seq = await a.write('d', '{"v":1}');
    const local = await b.read('d', { local: true });
    assert.equal(local.seq, 0n, 'read=local on the lagging origin is stale: it does not have the acknowledged write');
    const linear = track(b.read('d').then(() => {}));
    const linearValue = b.read('d');
    await turns();
    assert.equal(linear.state, 'pending', 'the barrier holds the read until b has applied the log end');
    slowStore.release();
    assert.deepEqual(await linearValue, { seq, state: { v: 1 } });

    // b stays behind past READ_BARRIER_TIMEOUT_MS: 503, while read=local still answers
    slowStore.held.add('blocker2');
    await a.write('blocker2', '{"x":2}');
    const seq2 = await a.write('d', '{"v":2}');
    await assert.rejects(b.read('d'), (e: unknown) => e instanceof OriginError && e.status === 503 && e.code === 'unavailable');
    assert.equal((await b.read('d', { local: true })).seq, seq, 'read=local answers the view it has');
    slowStore.release();
    assert.equal((await b.read('d')).seq, seq2);
  } finally {
    slowStore.release();
    await b.close();
    await a.close();
  }
});

/** a MemoryLog whose endOffset can be held (a broker that does not answer ListOffsets) */
class HeldEndLog extends MemoryLog {
  hold?: Promise<void>;
  override async endOffset(p: number): Promise<bigint> {
    if (this.hold) await this.hold;
    return super.endOffset(p);
  }
}

test('HTTP: GET waits at the barrier (503 + Retry-After past the timeout), ?read=local skips it, other read values are 400', async () => {
  const log = new HeldEndLog({ partitions: 2 });
  const origin = await Origin.start({ log, store: new MemorySnapshotStore(), readBarrierTimeoutMs: 100 });
  const app = uWS.App();
  registerOriginHttp(app, origin);
  const token = await new Promise<uWS.us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (t) => (t ? resolve(t) : reject(new Error('listen failed')))),
  );
  const url = `http://127.0.0.1:${uWS.us_socket_local_port(token)}/v1/docs/d`;
  const gate = deferred();
  try {
    const seq = await origin.write('d', '{"a":1}');
    let r = await fetch(url);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { seq: String(seq), state: { a: 1 } });

    log.hold = gate.promise;
    r = await fetch(url);
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), '1');
    const body = (await r.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'unavailable');
    assert.match(body.error.message, /100 ms/);

    r = await fetch(`${url}?read=local`);
    assert.equal(r.status, 200, 'read=local needs no end offset');
    assert.deepEqual(await r.json(), { seq: String(seq), state: { a: 1 } });
    assert.equal(r.headers.get('etag'), `"${seq}"`);

    r = await fetch(`${url}?read=linearizable`);
    assert.equal(r.status, 400);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'bad_request');
  } finally {
    gate.resolve();
    log.hold = undefined;
    uWS.us_listen_socket_close(token);
    app.close();
    await origin.close();
  }
});
