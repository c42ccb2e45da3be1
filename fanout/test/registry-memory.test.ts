import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryRegistry, MemoryRegistryHub } from '../src/registry-memory.js';
import { replicasForPartition } from '../src/registry.js';

const A = { id: 'a', address: '10.0.0.1:7000', partitions: [1, 0, 1], load: 3 };
const B = { id: 'b', address: '10.0.0.2:7000', partitions: [2], load: 0 };

test('register, list (sorted, normalized), update, deregister, onChange', async () => {
  const reg = new MemoryRegistry();
  await reg.start();
  let changes = 0;
  const off = reg.onChange(() => changes++);
  assert.deepEqual(reg.list(), []);
  const t0 = Date.now();
  await reg.register(B);
  await reg.register(A);
  assert.equal(changes, 2);
  const list = reg.list();
  assert.deepEqual(
    list.map((r) => r.id),
    ['a', 'b'],
  );
  assert.deepEqual(list[0].partitions, [0, 1], 'partitions sorted and de-duplicated');
  assert.ok(list[0].updatedAt >= t0);
  assert.ok(Object.isFrozen(list[0]));
  assert.deepEqual(
    replicasForPartition(list, 2).map((r) => r.id),
    ['b'],
  );

  // a load-only update is visible without a notification; an address change notifies
  await reg.register({ ...A, load: 9 });
  assert.equal(changes, 2);
  assert.equal(reg.list()[0].load, 9);
  await reg.register({ ...A, address: '10.0.0.9:7000' });
  assert.equal(changes, 3);

  await reg.deregister('a');
  assert.equal(changes, 4);
  assert.deepEqual(
    reg.list().map((r) => r.id),
    ['b'],
  );
  await reg.deregister('nope');
  assert.equal(changes, 4);
  off();
  await reg.deregister('b');
  assert.equal(changes, 4, 'unsubscribed');
  await reg.close();
});

test('registries sharing a hub see each other; close deregisters only its own replicas', async () => {
  const hub = new MemoryRegistryHub();
  const replicaSide = new MemoryRegistry({ hub });
  const otherReplica = new MemoryRegistry({ hub });
  const gateway = new MemoryRegistry({ hub });
  const seen: string[][] = [];
  gateway.onChange(() => seen.push(gateway.list().map((r) => r.id)));
  await replicaSide.register(A);
  await otherReplica.register(B);
  assert.deepEqual(seen, [['a'], ['a', 'b']]);
  await replicaSide.close();
  assert.deepEqual(seen.at(-1), ['b']);
  await assert.rejects(replicaSide.register(A), /closed/);
  await gateway.close();
  await otherReplica.register({ ...B, address: '10.0.0.3:7000' });
  assert.equal(seen.length, 3, 'a closed registry is not notified');
  await otherReplica.close();
  assert.deepEqual(hub.list(), []);
});

test('invalid registrations are rejected; a throwing listener does not break the others', async () => {
  const reg = new MemoryRegistry();
  await assert.rejects(reg.register({ ...A, id: '' }), /replica id/);
  await assert.rejects(reg.register({ ...A, address: 'nohost' }), /host:port/);
  await assert.rejects(reg.register({ ...A, partitions: [-1] }), /partitions/);
  await assert.rejects(reg.register({ ...A, load: Number.NaN }), /load/);
  const err = console.error;
  const logged: unknown[] = [];
  console.error = (...a: unknown[]) => logged.push(a);
  let called = false;
  try {
    reg.onChange(() => {
      throw new Error('listener bug');
    });
    reg.onChange(() => (called = true));
    await reg.register(A);
  } finally {
    console.error = err;
  }
  assert.equal(called, true);
  assert.equal(logged.length, 1);
  await reg.close();
});
