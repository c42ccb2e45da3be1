/**
 * Optimistic concurrency end to end: two SDK clients (one per subprotocol) race to publish with the
 * same `ifSeq` against `replicant dev`; exactly one wins, the other gets `conflict`, and every
 * reader (both writers' views, a third subscriber, GET) ends at the same state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, ReplicantError, type LiveDoc, type ReplicantClient } from '@replicant/sdk';
import { getDoc, post, startDevProcess, tempDir } from './harness.js';

function synced(c: ReplicantClient, doc: string): Promise<LiveDoc> {
  return new Promise((resolve) => {
    const s = c.subscribe(doc, (d) => {
      if (d.synced) resolve(s.doc);
    });
  });
}

/** resolves once the view reaches `seq` */
function at(c: ReplicantClient, doc: string, seq: bigint): Promise<LiveDoc> {
  return new Promise((resolve) => {
    const s = c.subscribe(doc, (d) => {
      if (d.seq >= seq) {
        s.unsubscribe();
        resolve(d);
      }
    });
  });
}

test('ifSeq: two clients racing on the same seq: one wins, the other gets conflict, all readers agree', async (t) => {
  const tmp = tempDir();
  const dev = await startDevProcess({ dataDir: tmp.dir });
  // one with a routing hint (`?affinity=` on the upgrade): the gateway serves it as any other
  const clients = [connect(dev.url, { protocol: 'binary' }), connect(dev.url, { protocol: 'json', affinity: 'room-1' }), connect(dev.url, { protocol: 'json' })];
  t.after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await dev.stop();
    tmp.cleanup();
  });
  const doc = 'race';
  const base = BigInt((await post(dev.url, doc, { counter: 0 })).body.seq);
  const views = await Promise.all(clients.map((c) => synced(c, doc)));
  for (let round = 0; round < 5; round++) {
    const seq = round === 0 ? base : views[0].seq;
    await Promise.all(clients.map((c) => at(c, doc, seq)));
    const counter = views[0].state.counter as number;
    // a read-modify-write counter: both read the same value at the same seq and write value + 1
    const results = await Promise.allSettled([
      clients[0].publish(doc, { counter: counter + 1, by: 'a' }, { ifSeq: seq }),
      clients[1].publish(doc, { counter: counter + 1, by: 'b' }, { ifSeq: seq }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1, `round ${round}: exactly one wins`);
    assert.equal(lost.length, 1);
    const err = (lost[0] as PromiseRejectedResult).reason;
    assert.ok(err instanceof ReplicantError && err.code === 'conflict', `the other gets conflict (${err})`);
    const winSeq = (won[0] as PromiseFulfilledResult<bigint>).value;
    const fin = await getDoc(dev.url, doc);
    assert.equal(fin.seq, String(winSeq));
    assert.equal(fin.state.counter, counter + 1, 'the counter moved by exactly one');
    const seen = await Promise.all(clients.map((c) => at(c, doc, winSeq)));
    for (const v of seen) {
      assert.deepEqual(v.state, fin.state, 'every reader sees the same result');
      assert.equal(v.pending, 0);
    }
  }
  // five rounds, one increment each: no lost update
  const fin = await getDoc(dev.url, doc);
  assert.equal(fin.state.counter, 5);
});
