import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Delta } from '../src/delta.js';
import { HistoryRing } from '../src/history-ring.js';

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
