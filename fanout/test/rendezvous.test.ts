import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fmix32, fnv1a32, pickReplicas, rendezvousWeight } from '../src/rendezvous.js';
import type { ReplicaInfo } from '../src/registry.js';

function replica(id: string): ReplicaInfo {
  return { id, address: `${id}.local:7000`, partitions: [0], load: 0, updatedAt: 0 };
}

const DOCS = Array.from({ length: 10_000 }, (_, i) => `doc-${i}`);
const FIVE = ['replica-a', 'replica-b', 'replica-c', 'replica-d', 'replica-e'].map(replica);

function owners(candidates: ReplicaInfo[]): Map<string, string> {
  return new Map(DOCS.map((d) => [d, pickReplicas(d, candidates, 1)[0].id]));
}

test('hash functions: FNV-1a reference values, UTF-8 input, fmix32 is a finalizer', () => {
  // reference values of 32-bit FNV-1a
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  // non-ASCII is hashed as its UTF-8 bytes
  assert.equal(fnv1a32('é'), Math.imul(Math.imul(0x811c9dc5 ^ 0xc3, 0x01000193) ^ 0xa9, 0x01000193) >>> 0);
  assert.equal(fmix32(0), 0);
  assert.notEqual(fmix32(1), 1);
  const w = rendezvousWeight('doc-1', 'replica-a');
  assert.ok(Number.isInteger(w) && w >= 0 && w < 2 ** 32);
  assert.equal(rendezvousWeight('doc-1', 'replica-a'), w, 'stable');
});

test('deterministic and independent of candidate order; count gives distinct top-k, best first', () => {
  const shuffled = [FIVE[3], FIVE[0], FIVE[4], FIVE[2], FIVE[1]];
  for (const d of DOCS.slice(0, 500)) {
    const a = pickReplicas(d, FIVE, 3);
    assert.deepEqual(
      a.map((r) => r.id),
      pickReplicas(d, shuffled, 3).map((r) => r.id),
    );
    assert.equal(new Set(a.map((r) => r.id)).size, 3);
    assert.equal(a[0].id, pickReplicas(d, shuffled, 1)[0].id, 'top-1 is the head of top-k');
    assert.deepEqual(pickReplicas(d, FIVE, 2), a.slice(0, 2), 'top-k is a prefix of top-(k+1)');
    const weights = a.map((r) => rendezvousWeight(d, r.id));
    assert.ok(weights[0] >= weights[1] && weights[1] >= weights[2]);
  }
  assert.deepEqual(pickReplicas('d', [], 1), []);
  assert.deepEqual(pickReplicas('d', FIVE, 0), []);
  assert.equal(pickReplicas('d', FIVE, 99).length, 5);
  const input = [...FIVE];
  pickReplicas('d', input, 3);
  assert.deepEqual(input, FIVE, 'the input is not modified');
});

test('roughly uniform: 10,000 docs over 5 replicas, each within 10% of its share', () => {
  const counts = new Map<string, number>();
  for (const id of owners(FIVE).values()) counts.set(id, (counts.get(id) ?? 0) + 1);
  assert.equal(counts.size, 5);
  for (const [id, n] of counts) assert.ok(Math.abs(n - 2000) <= 200, `${id}: ${n} docs`);
  // top-2 (a hot doc on two replicas) is as even: each replica is in ~2/5 of the pairs
  const pairs = new Map<string, number>();
  for (const d of DOCS) for (const r of pickReplicas(d, FIVE, 2)) pairs.set(r.id, (pairs.get(r.id) ?? 0) + 1);
  for (const [id, n] of pairs) assert.ok(Math.abs(n - 4000) <= 300, `${id}: in ${n} top-2 sets`);
});

test('minimal movement: removing one of 5 replicas moves only its docs, spread over the other 4', () => {
  const before = owners(FIVE);
  const gone = 'replica-c';
  const after = owners(FIVE.filter((r) => r.id !== gone));
  const received = new Map<string, number>();
  let moved = 0;
  for (const d of DOCS) {
    const was = before.get(d)!;
    const now = after.get(d)!;
    if (was !== gone) {
      assert.equal(now, was, `${d} moved from ${was} although ${gone} left`);
    } else {
      moved++;
      received.set(now, (received.get(now) ?? 0) + 1);
    }
  }
  assert.ok(moved > 1500 && moved < 2500, `${moved} docs were on ${gone}`);
  assert.equal(received.size, 4);
  for (const [id, n] of received) assert.ok(Math.abs(n - moved / 4) <= moved * 0.1, `${id} took ${n} of ${moved}`);
  // each moved doc goes to its previous second choice
  for (const d of DOCS) {
    if (before.get(d) === gone) assert.equal(after.get(d), pickReplicas(d, FIVE, 2)[1].id);
  }
});

test('minimal movement: a new replica only takes docs, about 1/6 of them', () => {
  const before = owners(FIVE);
  const six = [...FIVE, replica('replica-f')];
  const after = owners(six);
  let taken = 0;
  for (const d of DOCS) {
    if (after.get(d) !== before.get(d)) {
      assert.equal(after.get(d), 'replica-f');
      taken++;
    }
  }
  assert.ok(Math.abs(taken - 10_000 / 6) <= 200, `${taken} docs moved to the new replica`);
});
