import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Delta } from '../src/delta.js';
import { deltaCost, HistoryBudget, HistoryRing } from '../src/history-ring.js';

const d = (prev: bigint, seq: bigint) => new Delta('doc', seq, prev, '{}', {}, 0);

function chain(ring: HistoryRing, seqs: bigint[]): void {
  for (let i = 1; i < seqs.length; i++) ring.push(d(seqs[i - 1], seqs[i]));
}

test('since() returns exactly the deltas after a known seq', () => {
  const r = new HistoryRing(10);
  chain(r, [0n, 3n, 7n, 8n, 20n]);
  assert.deepEqual(r.since(7n, 20n)!.map((x) => x.seq), [8n, 20n]);
  assert.deepEqual(r.since(0n, 20n)!.map((x) => x.seq), [3n, 7n, 8n, 20n]);
  assert.deepEqual(r.since(20n, 20n), []);
});

test('since() refuses seqs it cannot prove continuity from', () => {
  const r = new HistoryRing(10);
  chain(r, [5n, 9n, 12n]);
  assert.equal(r.since(6n, 12n), undefined, 'not a seq of the doc');
  assert.equal(r.since(4n, 12n), undefined, 'older than the ring');
  assert.equal(r.since(13n, 12n), undefined, 'from the future');
  assert.equal(new HistoryRing(4).since(1n, 2n), undefined, 'empty ring');
});

test('the ring is bounded: pushing past capacity drops the oldest', () => {
  const r = new HistoryRing(3);
  chain(r, [0n, 1n, 2n, 3n, 4n, 5n]);
  assert.equal(r.size, 3);
  assert.deepEqual(r.all().map((x) => x.seq), [3n, 4n, 5n]);
  assert.equal(r.since(1n, 5n), undefined, 'evicted history needs a snapshot');
  assert.deepEqual(r.since(2n, 5n)!.map((x) => x.seq), [3n, 4n, 5n]);
  const z = new HistoryRing(0);
  z.push(d(0n, 1n));
  assert.equal(z.size, 0);
});

test('a delta encodes each subprotocol frame once and reuses the bytes', () => {
  const x = new Delta('doc-1', 10n, 4n, '{"a":1}', { a: 1 }, 0);
  const j = x.jsonFrame();
  assert.equal(j, '{"type":"delta","doc":"doc-1","seq":"10","prevSeq":"4","patch":{"a":1}}');
  assert.equal(x.jsonFrame(), j);
  assert.equal(x.binaryFrame(), x.binaryFrame(), 'same Uint8Array instance');
});

const big = (prev: bigint, seq: bigint, n: number) => new Delta('doc', seq, prev, JSON.stringify({ p: 'x'.repeat(n) }), {}, 0);

test('HISTORY_BYTES: a ring keeps at most maxBytes of deltas, dropping the oldest; resumes below it need a snapshot', () => {
  const one = deltaCost(big(0n, 1n, 1000));
  const r = new HistoryRing(1024, 3 * one);
  for (let i = 0; i < 10; i++) r.push(big(BigInt(i), BigInt(i + 1), 1000));
  assert.equal(r.size, 3);
  assert.equal(r.bytes, 3 * one);
  assert.deepEqual(r.all().map((x) => x.seq), [8n, 9n, 10n]);
  assert.equal(r.since(6n, 10n), undefined);
  assert.deepEqual(r.since(7n, 10n)!.map((x) => x.seq), [8n, 9n, 10n]);
  // a delta larger than the bound cannot be kept, and nothing older is usable without it
  r.push(big(10n, 11n, 4000));
  assert.equal(r.size, 0);
  assert.equal(r.bytes, 0);
  assert.equal(r.since(10n, 11n), undefined, 'a snapshot, never a gap');
  r.push(big(11n, 12n, 1000));
  assert.deepEqual(r.since(11n, 12n)!.map((x) => x.seq), [12n]);
});

test('HISTORY_BUDGET_BYTES: rings share a budget; the least recently used lose history first, idle rings before active ones', () => {
  const one = deltaCost(big(0n, 1n, 1000));
  const budget = new HistoryBudget(10 * one);
  const rings = Array.from({ length: 4 }, () => new HistoryRing(1024, Infinity, budget));
  const seqs = [0n, 0n, 0n, 0n];
  const push = (i: number) => {
    rings[i].push(big(seqs[i], seqs[i] + 1n, 1000));
    seqs[i]++;
  };
  for (let k = 0; k < 3; k++) for (let i = 0; i < 3; i++) push(i); // 9 deltas: rings 0,1,2 hold 3 each
  assert.equal(budget.used, 9 * one);
  rings[1].setIdle(true);
  rings[0].since(seqs[0] - 1n, seqs[0]); // a read makes ring 0 the most recently used
  push(3);
  push(3); // 11 > 10: the idle ring 1 goes first, although ring 2 was used less recently
  assert.equal(budget.used, 10 * one);
  assert.equal(rings[1].size, 2);
  assert.equal(rings[2].size, 3);
  for (let k = 0; k < 2; k++) push(3); // ring 1 is emptied before an active ring loses anything
  assert.equal(rings[1].size, 0);
  assert.equal(rings[2].size, 3);
  push(3); // now the least recently used active ring: ring 2 (ring 0 was read after it)
  assert.equal(rings[2].size, 2);
  assert.equal(rings[0].size, 3);
  assert.equal(budget.used, 10 * one);
  assert.equal(budget.used, rings.reduce((a, r) => a + r.bytes, 0), 'the budget is the sum of its rings');
  // every ring still serves its newest deltas as an unbroken chain
  for (let i = 0; i < 4; i++) {
    const all = rings[i].all();
    for (let k = 1; k < all.length; k++) assert.equal(all[k].prevSeq, all[k - 1].seq);
    if (all.length > 0) assert.equal(all.at(-1)!.seq, seqs[i]);
  }
  // clearing gives the bytes back
  for (const r of rings) r.clear();
  assert.equal(budget.used, 0);
});
