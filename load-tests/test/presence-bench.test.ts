/**
 * The bench's presence phase end to end at tiny scale (bench-presence.ts, the code `npm run bench`
 * runs): members join and leave a doc's presence through real receiver processes while timed
 * watchers follow the count; every watcher sees every count, exactly, and the latencies are timed.
 * And the `presence` wire mode's count reading.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { presencePhase, presenceReport, type PresenceConfig, type PresenceResult } from '../src/bench-presence.js';
import { makeWire } from '../src/wire.js';

const TINY: PresenceConfig = { members: 20, watchers: 4, rate: 50, gateways: 2, trackEvery: 1, watcherReceivers: 2, settleS: 10, quietWaitS: 0, brokers: 1, partitions: 2 };

function assertExact(r: PresenceResult): void {
  assert.equal(r.error, undefined);
  assert.deepEqual(r.countAfterJoins, [TINY.members, TINY.members], JSON.stringify(r));
  assert.deepEqual(r.countAfterLeaves, [0, 0], JSON.stringify(r));
  assert.equal(r.tracked, TINY.watchers);
  assert.equal(r.missed, 0, 'every tracked watcher saw every join and leave reached');
  assert.equal(r.watcherCloses + r.watcherErrors, 0);
  assert.ok(r.latencyMs.p99 >= 0 && r.cpuMsPerEvent > 0, JSON.stringify(r));
}

test('presence phase, tiny, Centrifugo: watchers count every join and leave', async () => {
  const r = await presencePhase('centrifugo', TINY, 0);
  assertExact(r);
  assert.equal(r.gateways, 1);
  assert.match(presenceReport(TINY, [r]), /watcher latency p99 ms/);
});

test('presence phase, tiny, Replicant cluster (Kafka, redis, origin, fanout, 2 gateways): watchers of d~presence see every count, exactly', async () => {
  const r = await presencePhase('replicant', TINY, 8);
  assertExact(r);
  assert.equal(r.gateways, 2);
  assert.equal(r.perProcess.length, 4, 'origin, fanout and 2 gateways measured');
  assert.ok(r.backendsCpuS > 0, 'Kafka and redis measured apart');
});

test('presence wire mode: Replicant reads connections of d~presence, Centrifugo counts join/leave pushes', () => {
  const r = makeWire('replicant', 'room:a', 'presence');
  assert.deepEqual(r.open('tok'), ['{"type":"auth","token":"tok"}', '{"type":"subscribe","doc":"room:a~presence"}']);
  const snap = Buffer.from('{"type":"snapshot","doc":"room:a~presence","seq":"4","state":{"connections":3,"users":{}}}');
  assert.equal(r.parse(snap, { kind: 'other', t: NaN, n: NaN }).kind, 'snapshot');
  assert.equal(r.count(snap, 0), 3);
  assert.equal(r.count(Buffer.from('{"type":"delta","doc":"room:a~presence","seq":"5","prevSeq":"4","patch":{"connections":7}}'), 3), 7);
  // a delta that changed only users keeps the count
  assert.equal(r.count(Buffer.from('{"type":"delta","doc":"room:a~presence","seq":"6","prevSeq":"5","patch":{"users":{"x":null}}}'), 7), 7);
  assert.equal(r.count(Buffer.from('{"type":"snapshot","doc":"room:a~presence","seq":"0","state":{}}'), 7), 0, 'an empty presence doc has no one');

  const c = makeWire('centrifugo', 'room:a', 'presence');
  assert.deepEqual(c.open('tok'), ['{"id":1,"connect":{"token":"tok"}}']);
  const out = { kind: 'other' as const, t: NaN, n: NaN };
  assert.equal(c.parse(Buffer.from('{"id":1,"connect":{"client":"c"}}'), { ...out }).reply, '{"id":2,"subscribe":{"channel":"room:a","join_leave":true}}');
  assert.equal(c.count(Buffer.from('{"push":{"channel":"room:a","join":{"info":{"user":"m1","client":"c1"}}}}'), 2), 3);
  assert.equal(c.count(Buffer.from('{"push":{"channel":"room:a","leave":{"info":{"user":"m1","client":"c1"}}}}'), 3), 2);
  assert.equal(c.count(Buffer.from('{"push":{"channel":"room:a","pub":{"data":{}}}}'), 2), 2);
  assert.equal(c.count(Buffer.from('{}'), 2), 2, 'a ping (shorter than a push prefix) leaves the count');
  assert.equal(c.parse(Buffer.from('[1]'), { ...out }).kind, 'other', 'a message shorter than any prefix is other');
});
