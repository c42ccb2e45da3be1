/**
 * The real Kafka cluster of the test kit (3 KRaft nodes), driven by kafkajs as the stream log
 * drives it: topic creation through the admin API, the idempotent producer with acks=-1, and the
 * real process faults (SIGKILL + restart, SIGSTOP + SIGCONT) with no acknowledged record lost.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Producer } from 'kafkajs';
import { startKafka, type KafkaCluster } from '../src/kafka.js';

/** every record of `topic` from the start, as `partition:value` strings, once `expected` arrived */
async function readAll(kafka: Kafka, topic: string, expected: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: `read-${topic}-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const seen: string[] = [];
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.push(`${partition}:${message.value!.toString()}`);
        if (seen.length === expected) resolve();
      },
    });
  });
  await consumer.disconnect();
  return seen;
}

describe('real Kafka cluster (3 KRaft nodes)', () => {
  let cluster: KafkaCluster;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;

  before(async () => {
    cluster = await startKafka({ nodes: 3 });
    kafka = new Kafka({ clientId: 'testkit-test', brokers: cluster.bootstraps, logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ idempotent: true });
    await producer.connect();
  });
  after(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
    await cluster?.stop();
  });

  test('three brokers on distinct 127.0.0.1 ports; topics are created through the admin API', async () => {
    assert.equal(cluster.bootstraps.length, 3);
    assert.equal(new Set(cluster.nodes.flatMap((n) => [n.port, n.controllerPort])).size, 6);
    for (const b of cluster.bootstraps) assert.match(b, /^127\.0\.0\.1:\d+$/);
    const d = await admin.describeCluster();
    assert.deepEqual(d.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);

    await cluster.createTopic('tk.basic', { partitions: 3 });
    const meta = await admin.fetchTopicMetadata({ topics: ['tk.basic'] });
    assert.equal(meta.topics[0].partitions.length, 3);
    for (const p of meta.topics[0].partitions) assert.equal(p.replicas.length, 3, 'replication factor 3');
    await assert.rejects(cluster.createTopic('tk.basic', { partitions: 3 }), /already exists/);

    // kafkajs' own CreateTopics works too (the librdkafka mock could not serve it)
    assert.equal(await admin.createTopics({ topics: [{ topic: 'tk.admin', numPartitions: 2 }], waitForLeaders: true }), true);
    assert.equal((await cluster.leaders('tk.admin')).size, 2);
  });

  test('a leader SIGKILLed mid-stream and restarted: every acknowledged record is there', async () => {
    const topic = 'tk.kill';
    await cluster.createTopic(topic, { partitions: 3 });
    const victim = (await cluster.leaders(topic)).get(0)!;
    const acked: string[] = [];
    for (let i = 0; i < 300; i++) {
      if (i === 100) {
        await cluster.kill9(victim);
        assert.equal(cluster.nodes[victim - 1].state, 'stopped');
      }
      if (i === 200) {
        await cluster.restart(victim);
        assert.equal(cluster.nodes[victim - 1].state, 'running');
      }
      // kafkajs retries through the leader change; acks=-1: on every in-sync replica when acknowledged
      await producer.send({ topic, acks: -1, messages: [{ value: `v${i}`, partition: i % 3 }] });
      acked.push(`${i % 3}:v${i}`);
    }
    assert.notEqual((await cluster.leaders(topic)).get(0), -1);
    const seen = await readAll(kafka, topic, acked.length);
    // the idempotent producer: no duplicates from its retries, and nothing acknowledged is missing
    assert.deepEqual([...seen].sort(), [...acked].sort());
  });

  test('a SIGSTOPped node stalls its partitions, the others carry on; SIGCONT completes the stalled writes', async () => {
    const topic = 'tk.stop';
    await cluster.createTopic(topic, { partitions: 6 });
    const leaders = await cluster.leaders(topic);
    const victim = leaders.get(0)!;
    const elsewhere = [...leaders].find(([, l]) => l !== victim)![0];
    const pid = cluster.nodes[victim - 1].pid!;
    // the producer learns the topic's leaders first (a metadata request to a stalled node would hang)
    for (let p = 0; p < 6; p++) await producer.send({ topic, acks: -1, messages: [{ value: `warm${p}`, partition: p }] });
    await cluster.pause(victim);
    let stalled: Promise<unknown> | undefined;
    try {
      assert.equal(cluster.nodes[victim - 1].state, 'paused');
      assert.match(readFileSync(`/proc/${pid}/stat`, 'utf8'), /^\d+ \([^)]*\) T /, 'the process is stopped');
      let done = false;
      stalled = producer.send({ topic, acks: -1, messages: [{ value: 'stalled', partition: 0 }] }).then(() => (done = true));
      // a partition led by a running node takes writes while the stalled one holds partition 0
      for (let i = 0; i < 20; i++) await producer.send({ topic, acks: -1, messages: [{ value: `s${i}`, partition: elsewhere }] });
      assert.equal(done, false, 'the write to the stalled leader is still waiting');
    } finally {
      cluster.resume(victim);
    }
    assert.equal(cluster.nodes[victim - 1].state, 'running');
    await stalled;
    const seen = await readAll(kafka, topic, 27);
    assert.equal(new Set(seen).size, 27);
    assert.ok(seen.includes('0:stalled'));
  });

  test('stop() ends every node and removes the data', async () => {
    const other = await startKafka({ nodes: 1, heapMb: 256 });
    const pid = other.nodes[0].pid!;
    assert.ok(existsSync(`/proc/${pid}`));
    await other.createTopic('tk.single', { partitions: 1 });
    await other.stop();
    assert.equal(existsSync(`/proc/${pid}`), false);
    assert.equal(other.nodes[0].state, 'stopped');
    await other.stop(); // idempotent
  });
});
