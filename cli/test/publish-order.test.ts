/**
 * Per-document write order end to end (docs/protocol.md "Ordering"): an SDK client publishing
 * several ops to one field of one doc, through an in-process gateway whose writer refuses some of
 * them with a transient error (an origin 503), ends at its LAST published value; every op is
 * applied exactly once, and the ack seqs follow publish order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as uWS from 'uWebSockets.js';
import { MemoryLog, MemorySnapshotStore } from '@replicant/stream';
import { Origin } from '@replicant/origin';
import { Replica } from '@replicant/fanout';
import { Gateway, type Writer } from '@replicant/gateway';
import { connect } from '@replicant/sdk';

async function setup(refuse: (id: string | undefined, call: number) => boolean) {
  const log = new MemoryLog({ partitions: 2 });
  const store = new MemorySnapshotStore();
  const origin = await Origin.start({ log, store });
  const replica = await Replica.start({ log, store });
  const applied: string[] = [];
  const calls = new Map<string, number>();
  const writer: Writer = {
    async write(doc, patch, id, ifSeq) {
      const n = (calls.get(id ?? '') ?? 0) + 1;
      calls.set(id ?? '', n);
      if (refuse(id, n)) throw Object.assign(new Error('origin answered 503'), { code: 'unavailable' });
      const seq = await origin.write(doc, patch, id, ifSeq);
      applied.push(id ?? '');
      return seq;
    },
  };
  const gateway = new Gateway({ upstream: replica, writer });
  const app = uWS.App();
  gateway.attach(app);
  const port = await new Promise<number>((resolve) =>
    app.listen('127.0.0.1', 0, (t) => resolve(uWS.us_socket_local_port(t as uWS.us_listen_socket))),
  );
  return {
    origin,
    applied,
    url: `ws://127.0.0.1:${port}`,
    async close() {
      await gateway.drain({ graceMs: 0 });
      app.close();
      await replica.close();
      await origin.close();
    },
  };
}

test('an op refused by the origin (503) while later ops of its doc are in flight is still applied before them: the last published value wins, each op once', async (t) => {
  const ids: string[] = [];
  // the 1st op's first attempt and the 5th op's first two are refused
  const s = await setup((id, call) => (id === ids[0] && call === 1) || (id === ids[4] && call <= 2));
  const c = connect(s.url, { protocol: 'json', backoff: { initialMs: 20, maxMs: 100 } });
  t.after(async () => {
    await c.close();
    await s.close();
  });
  await new Promise<void>((resolve) => c.on('status', (e) => e.status === 'open' && resolve()));
  const n = 12;
  const acks: Promise<bigint>[] = [];
  for (let i = 1; i <= n; i++) {
    const id = `op-${i}`;
    ids.push(id);
    acks.push(c.publish('doc', { title: i }, { id }));
  }
  const seqs = await Promise.all(acks);
  for (let i = 1; i < n; i++) assert.ok(seqs[i] > seqs[i - 1], `op ${i + 1} acked after op ${i}: ${seqs.join(',')}`);
  const { seq, state } = await s.origin.read('doc');
  assert.deepEqual(state, { title: n }, 'the last published value wins');
  assert.equal(seq, BigInt(n), 'each op applied once');
  assert.deepEqual(s.applied, ids, 'applied in publish order, each once');
});
