/**
 * MAX_DOC_BYTES is decided in the fold with the bound the op's record carries (issue 17): an origin
 * with a small bound refuses a publish past it (WebSocket `error` `doc_too_large` with the publish
 * id), and every other reader of the log, a replica without any such setting and an origin
 * configured with a larger bound, folds the same records to the same state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as uWS from 'uWebSockets.js';
import WebSocket from 'ws';
import { MemoryLog, MemorySnapshotStore } from '@replicant/stream';
import { Origin, OriginError } from '@replicant/origin';
import { Replica } from '@replicant/fanout';
import { Gateway } from '../src/gateway.js';

test('a publish past MAX_DOC_BYTES gets error doc_too_large with its id; every reader of the log agrees whatever its own bound', async (t) => {
  const log = new MemoryLog({ partitions: 2 });
  const store = new MemorySnapshotStore();
  const origin = await Origin.start({ log, store, maxDocBytes: 4096 });
  const replica = await Replica.start({ log, store });
  const gateway = new Gateway({ upstream: replica, writer: origin });
  const app = uWS.App();
  gateway.attach(app);
  const port = await new Promise<number>((resolve) => app.listen('127.0.0.1', 0, (s) => resolve(uWS.us_socket_local_port(s as uWS.us_listen_socket))));
  t.after(async () => {
    await gateway.drain({ graceMs: 0 });
    app.close();
    await replica.close();
  });
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream`, ['replicant.v1.json']);
  const frames: any[] = [];
  let waiters: { pred: (f: any) => boolean; resolve: (f: any) => void }[] = [];
  ws.on('message', (d) => {
    const f = JSON.parse(d.toString());
    frames.push(f);
    waiters = waiters.filter((w) => (w.pred(f) ? (w.resolve(f), false) : true));
  });
  await once(ws, 'open');
  const next = (pred: (f: any) => boolean) => frames.find(pred) ?? new Promise<any>((resolve) => waiters.push({ pred, resolve }));
  ws.send(JSON.stringify({ type: 'subscribe', doc: 'd' }));
  await next((f) => f.type === 'snapshot');

  ws.send(JSON.stringify({ type: 'publish', doc: 'd', id: 'p1', patch: { a: 'x'.repeat(3000) } }));
  const ack = await next((f) => f.id === 'p1');
  assert.equal(ack.type, 'ack');
  ws.send(JSON.stringify({ type: 'publish', doc: 'd', id: 'p2', patch: { b: 'y'.repeat(2000) } }));
  const err = await next((f) => f.id === 'p2');
  assert.deepEqual([err.type, err.code, err.id], ['error', 'doc_too_large', 'p2']);
  await assert.rejects(origin.write('d', JSON.stringify({ c: 'z'.repeat(2000) })), (e: unknown) => {
    assert.ok(e instanceof OriginError);
    assert.equal(e.status, 413);
    assert.equal(e.code, 'doc_too_large');
    return true;
  });
  ws.send(JSON.stringify({ type: 'publish', doc: 'd', id: 'p3', patch: { small: 1 } }));
  const ack3 = await next((f) => f.id === 'p3');
  assert.equal(ack3.type, 'ack');
  await next((f) => f.type === 'delta' && f.seq === ack3.seq);
  const deltas = frames.filter((f) => f.type === 'delta');
  assert.deepEqual(deltas.map((f) => f.seq), [ack.seq, ack3.seq], 'the refused ops produced no delta');

  const read = await origin.read('d');
  assert.ok(Buffer.byteLength(JSON.stringify(read.state)) <= 4096);
  assert.deepEqual(replica.peek('d')!.state, read.state, 'the replica (no bound configured) folded the same');
  assert.equal(replica.peek('d')!.seq, read.seq);

  // another origin, configured with a much larger bound, replays the same records from scratch
  const again = await Origin.start({ log, store: new MemorySnapshotStore(), maxDocBytes: 1 << 20 });
  assert.deepEqual(await again.read('d'), read);
  ws.close();
  await again.close(); // closes the shared log too (close is idempotent)
  await origin.close();
});
