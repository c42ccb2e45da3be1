/**
 * The Kafka appender's producer pool with in-memory producers (the kafkajs Producer seam): after a
 * failed request an idempotent producer is replaced by a fresh one for every partition it serves,
 * requests of other partitions still in flight on the old one finish there, and the old one is
 * disconnected only once they have. The interleaving with a real broker that makes this necessary
 * is in kafka-unresolved-send.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Producer, ProducerRecord, RecordMetadata } from 'kafkajs';
import { CompressionTypes } from 'kafkajs';
import { deferred, type Deferred } from '@replicant/testkit';
import { KafkaAppender, type KafkaAppenderOptions } from '../src/kafka/producer.js';
import { LogUnavailableError } from '../src/stream-log.js';

/** A producer whose requests are answered by the test, one deferred per send. */
class FakeProducer {
  static made = 0;
  readonly id = FakeProducer.made++;
  connects = 0;
  disconnected = false;
  readonly sends: { partition: number; values: string[]; answer: Deferred<RecordMetadata[]> }[] = [];
  async connect(): Promise<void> {
    this.connects++;
  }
  async disconnect(): Promise<void> {
    this.disconnected = true;
  }
  send(r: ProducerRecord): Promise<RecordMetadata[]> {
    assert.equal(this.disconnected, false, `producer ${this.id} used after its disconnect`);
    const partition = r.messages[0].partition!;
    const answer = deferred<RecordMetadata[]>();
    this.sends.push({ partition, values: r.messages.map((m) => String(m.value)), answer });
    return answer.promise;
  }
}

const ok = (partition: number, baseOffset: number): RecordMetadata[] => [
  { topicName: 't', partition, errorCode: 0, baseOffset: String(baseOffset) },
];

function appender(idempotent: boolean): { a: KafkaAppender; made: FakeProducer[]; events: EventEmitter } {
  const made: FakeProducer[] = [];
  const fresh = () => {
    const p = new FakeProducer();
    made.push(p);
    return p as unknown as Producer;
  };
  const first = fresh();
  const events = new EventEmitter();
  const o: KafkaAppenderOptions = {
    topic: 't',
    brokers: ['127.0.0.1:1'],
    partitions: 2,
    compression: CompressionTypes.None,
    maxInflightAppends: 100,
    maxInflightBytes: 1 << 20,
    maxRecordBytes: 1 << 16,
    maxRequestBytes: 1 << 20,
    lingerMs: 0,
    quiet: true,
    events,
    idempotent,
    newProducer: fresh,
  };
  // one producer for both partitions, as partitions p and p + n share producer p mod n
  return { a: new KafkaAppender([first], o), made, events };
}

const v = (s: string) => new TextEncoder().encode(s);

/** resolves once `p` has `n` requests */
async function requests(p: FakeProducer, n: number): Promise<void> {
  while (p.sends.length < n) await new Promise((r) => setImmediate(r));
}

/** one append to partition 0 whose request through `p` fails */
async function failOne(a: KafkaAppender, p: FakeProducer): Promise<void> {
  const pending = a.append(0, 'd0', v('a'));
  await requests(p, p.sends.length + 1);
  p.sends[p.sends.length - 1].answer.reject(new Error('Request timed out'));
  await assert.rejects(pending, LogUnavailableError);
}

test('a failed request replaces the idempotent producer; its other partitions finish on the old one, which then disconnects', async () => {
  const { a, made } = appender(true);
  const [old] = made;
  const a0 = a.append(0, 'd0', v('a'));
  const b1 = a.append(1, 'd1', v('b'));
  await requests(old, 2);
  // partition 0's request fails (it may have been written: kafkajs reuses its sequences next time)
  old.sends.find((s) => s.partition === 0)!.answer.reject(new Error('Request timed out'));
  await assert.rejects(a0, LogUnavailableError);
  assert.equal(made.length, 2, 'a fresh producer replaces the failed one');
  assert.equal(a.counts.producerResets, 1);
  assert.equal(old.disconnected, false, "partition 1's request is still in flight on it");

  // partition 0's next append goes through the fresh producer, connected first
  const c0 = a.append(0, 'd0', v('c'));
  const fresh = made[1];
  await requests(fresh, 1);
  assert.equal(fresh.connects, 1);
  assert.deepEqual(fresh.sends[0].values, ['c']);
  fresh.sends[0].answer.resolve(ok(0, 7));
  assert.deepEqual(await c0, { partition: 0, offset: 7n });

  // partition 1's request on the old producer succeeds; the old producer goes once idle
  old.sends.find((s) => s.partition === 1)!.answer.resolve(ok(1, 3));
  assert.deepEqual(await b1, { partition: 1, offset: 3n });
  assert.equal(old.disconnected, true);
  const d1 = a.append(1, 'd1', v('d'));
  await requests(fresh, 2);
  assert.equal(fresh.sends[1].partition, 1, 'partition 1 moved to the fresh producer too');
  fresh.sends[1].answer.resolve(ok(1, 4));
  assert.deepEqual(await d1, { partition: 1, offset: 4n });

  await a.close();
  assert.equal(fresh.disconnected, true, 'close() disconnects the current producers');
});

test('two requests failing on the same producer replace it once', async () => {
  const { a, made } = appender(true);
  const [old] = made;
  const a0 = a.append(0, 'd0', v('a'));
  const b1 = a.append(1, 'd1', v('b'));
  await requests(old, 2);
  old.sends[0].answer.reject(new Error('Connection closed'));
  old.sends[1].answer.reject(new Error('Connection closed'));
  await assert.rejects(a0, LogUnavailableError);
  await assert.rejects(b1, LogUnavailableError);
  assert.equal(made.length, 2);
  assert.equal(a.counts.producerResets, 1);
  assert.equal(old.disconnected, true);
  await a.close();
});

test('a fresh producer whose connect fails fails that append; the next append connects again', async () => {
  const { a, made } = appender(true);
  await failOne(a, made[0]);
  const fresh = made[1];
  let failConnect = true;
  fresh.connect = async () => {
    fresh.connects++;
    if (failConnect) throw new Error('connect ECONNREFUSED');
  };
  await assert.rejects(a.append(0, 'd0', v('b')), LogUnavailableError);
  assert.equal(fresh.sends.length, 0, 'nothing sent through an unconnected producer');
  assert.equal(made.length, 2, 'a failed connect sent nothing: no further replacement');
  failConnect = false;
  const c0 = a.append(0, 'd0', v('c'));
  await requests(fresh, 1);
  assert.equal(fresh.connects, 2);
  fresh.sends[0].answer.resolve(ok(0, 1));
  assert.deepEqual(await c0, { partition: 0, offset: 1n });
  await a.close();
});

test('without idempotence a failed request keeps its producer (no sequences to go stale)', async () => {
  const { a, made } = appender(false);
  await failOne(a, made[0]);
  const b0 = a.append(0, 'd0', v('b'));
  await requests(made[0], 2);
  made[0].sends[1].answer.resolve(ok(0, 1));
  assert.deepEqual(await b0, { partition: 0, offset: 1n });
  assert.equal(made.length, 1);
  assert.equal(a.counts.producerResets, 0);
  await a.close();
});

test("a failed request's error names no broker address (it reaches clients); the detail goes to the send-error event", async () => {
  const { a, made, events: emitter } = appender(false);
  const events: string[] = [];
  emitter.on('send-error', (_p: number, m: string) => events.push(m));
  const pending = a.append(0, 'd0', v('a'));
  await requests(made[0], 1);
  made[0].sends[0].answer.reject(new Error('Connection error: connect ECONNREFUSED 10.1.2.3:9092'));
  const err = await pending.then(
    () => assert.fail('the append should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof LogUnavailableError);
  assert.doesNotMatch(err.message, /10\.1\.2\.3|9092|127\.0\.0\.1:1/);
  assert.deepEqual(events, ['Connection error: connect ECONNREFUSED 10.1.2.3:9092']);
  await a.close();
});
