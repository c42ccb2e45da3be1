/**
 * The librdkafka mock cluster harness, driven by kafkajs as the Kafka backend will drive it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { Admin, Producer } from 'kafkajs';
import { kafkaMockBinary, startKafkaMock } from '../src/kafka-mock.js';
import type { KafkaMock } from '../src/kafka-mock.js';

const execFileP = promisify(execFile);

describe('kafka mock cluster', () => {
  let mock: KafkaMock;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;

  before(async () => {
    mock = await startKafkaMock({ brokers: 3, topics: [{ name: 'tk', partitions: 3 }] });
    kafka = new Kafka({
      clientId: 'testkit',
      brokers: mock.bootstraps,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 500,
      retry: { retries: 2, initialRetryTime: 50, maxRetryTime: 200 },
    });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ idempotent: false, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
  });

  after(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
    await mock?.stop();
  });

  test('starts 3 brokers and prints their bootstrap addresses', async () => {
    assert.equal(mock.bootstraps.length, 3);
    for (const b of mock.bootstraps) assert.match(b, /^[\w.-]+:\d+$/);
    const cluster = await admin.describeCluster();
    assert.deepEqual(cluster.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
    const meta = await admin.fetchTopicMetadata({ topics: ['tk'] });
    assert.equal(meta.topics[0].partitions.length, 3);
  });

  test('a kafkajs producer writes to a harness-created topic and a consumer group reads it back', async () => {
    const sent: string[] = [];
    for (let p = 0; p < 3; p++) {
      const messages = Array.from({ length: 4 }, (_, i) => ({ key: `k${p}`, value: `v${p}.${i}`, partition: p }));
      const [meta] = await producer.send({ topic: 'tk', acks: -1, messages });
      assert.equal(meta.partition, p);
      assert.equal(meta.baseOffset, '0');
      sent.push(...messages.map((m) => m.value));
    }
    const offsets = await admin.fetchTopicOffsets('tk');
    assert.deepEqual(offsets.map((o) => [o.partition, o.high]).sort(), [
      [0, '4'],
      [1, '4'],
      [2, '4'],
    ]);

    const consumer = kafka.consumer({ groupId: 'testkit-group', maxWaitTimeInMs: 50 });
    const received: string[] = [];
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: ['tk'], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          assert.equal(String(message.key), `k${partition}`);
          received.push(String(message.value));
          if (received.length === sent.length) done();
        },
      });
      await all;
    } finally {
      await consumer.disconnect();
    }
    assert.deepEqual([...received].sort(), [...sent].sort());
    // per partition, in offset order
    for (let p = 0; p < 3; p++) {
      assert.deepEqual(
        received.filter((v) => v.startsWith(`v${p}.`)),
        sent.filter((v) => v.startsWith(`v${p}.`)),
      );
    }
  });

  test('broker down/up round trip: the partitions it leads refuse writes until it is up again', async () => {
    const meta = await admin.fetchTopicMetadata({ topics: ['tk'] });
    const leader = meta.topics[0].partitions.find((p) => p.partitionId === 0)!.leader;
    await mock.brokerDown(leader);
    await assert.rejects(producer.send({ topic: 'tk', acks: -1, messages: [{ key: 'x', value: 'down', partition: 0 }] }));
    await mock.brokerUp(leader);
    const [r] = await producer.send({ topic: 'tk', acks: -1, messages: [{ key: 'x', value: 'up', partition: 0 }] });
    assert.equal(r.errorCode, 0);
  });

  test('createTopic and setLeader', async () => {
    await mock.createTopic('tk2', 5);
    assert.ok((await admin.listTopics()).includes('tk2'));
    const meta = await admin.fetchTopicMetadata({ topics: ['tk2'] });
    assert.equal(meta.topics[0].partitions.length, 5);
    const current = meta.topics[0].partitions.find((p) => p.partitionId === 2)!.leader;
    const next = (current % 3) + 1;
    await mock.setLeader('tk2', 2, next);
    const after = await admin.fetchTopicMetadata({ topics: ['tk2'] });
    assert.equal(after.topics[0].partitions.find((p) => p.partitionId === 2)!.leader, next);
  });

  test('a bad command is answered with an error, and the mock carries on', async () => {
    await assert.rejects(mock.brokerDown(42), /kafka mock: error/);
    await assert.rejects(mock.createTopic('bad name', 1), RangeError);
    await mock.brokerUp(1);
  });
});

test('stop() ends the process; later commands reject', async () => {
  const mock = await startKafkaMock({ brokers: 1 });
  assert.equal(mock.bootstraps.length, 1);
  await mock.stop();
  await mock.stop(); // idempotent
  await assert.rejects(mock.brokerDown(1), /exited/);
});

test('the binary is compiled once and several processes can compile it at the same time', async () => {
  const bin = await kafkaMockBinary();
  assert.equal(await kafkaMockBinary(), bin);
  // three fresh processes compiling into an empty cache directory concurrently
  const dir = await mkdtemp(join(tmpdir(), 'replicant-kafka-mock-race-'));
  try {
    const moduleUrl = new URL('../src/kafka-mock.js', import.meta.url).href;
    const script = `import(${JSON.stringify(moduleUrl)}).then(async (m) => console.log(await m.kafkaMockBinary()))`;
    const runs = await Promise.all(
      [0, 1, 2].map(() => execFileP(process.execPath, ['-e', script], { env: { ...process.env, TMPDIR: dir } })),
    );
    const paths = runs.map((r) => r.stdout.trim());
    assert.equal(new Set(paths).size, 1);
    assert.ok(paths[0].startsWith(dir));
    // the binary works: a one-broker cluster from the freshly compiled file
    const run = spawnSync(paths[0], ['1'], { input: '', timeout: 10_000, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout.trim(), /^[\w.-]+:\d+$/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
