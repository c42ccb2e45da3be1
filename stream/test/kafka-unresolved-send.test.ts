/**
 * Regression: a produce request that kafkajs gave up on but that the broker wrote anyway (an
 * unresolved send) must not make a later append resolve with somebody else's offset.
 *
 * kafkajs' idempotent producer rolls a partition's sequence number back when a request fails
 * (sendMessages.js), so the next request of that partition reuses the failed request's sequence
 * range. When the failed request was written after all (the broker was only slow: SIGSTOP, GC,
 * load) and the next one has as many records, the broker takes it for a retry of the written one:
 * it answers success with the earlier batch's offsets and discards the new records. The append then
 * resolves with an offset holding another record, and origin acknowledges a write that is not in
 * the log (kafka-faults.test.ts saw it under load: an acknowledged write missing from GET).
 *
 * One real broker (no other replica to fail over to, and a broker session timeout far above the
 * stall), so the interleaving is forced: the stalled broker holds the request in its socket, kafkajs
 * times out twice (request + retry) and the append rejects; SIGCONT lets the broker write it; the
 * next append of the same size must land at an offset of its own.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startKafka, type KafkaCluster } from '@replicant/testkit';
import { KafkaLog } from '../src/kafka/kafka-log.js';
import { LogUnavailableError } from '../src/stream-log.js';
import type { LogRecord } from '../src/stream-log.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

let kafka: KafkaCluster;
before(async () => {
  // one node: the stall cannot end in a failover (the controller is stalled with it, and would not
  // fence the broker within the session timeout anyway)
  kafka = await startKafka({ nodes: 1, config: { 'broker.session.timeout.ms': 60_000 } });
});
after(async () => {
  await kafka?.stop();
});

async function readAll(log: KafkaLog, partition: number): Promise<LogRecord[]> {
  const end = await log.endOffset(partition);
  const out: LogRecord[] = [];
  for (let from = 0n; from < end; ) {
    const recs = await log.read(partition, from, 1000);
    if (recs.length === 0) break;
    out.push(...recs);
    from = recs[recs.length - 1].offset + 1n;
  }
  return out;
}

test('an append refused after its request timed out, but written by the broker, does not swallow the next append', async () => {
  await kafka.createTopic('unresolved', { partitions: 1 });
  const log = await KafkaLog.open({
    brokers: kafka.bootstraps,
    topic: 'unresolved',
    logLevel: 'nothing',
    connectTimeoutMs: 500,
    // the stalled request and its one retry time out quickly: the append rejects within ~1 s
    requestTimeoutMs: 500,
    retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 200 },
  });
  try {
    const first = await log.append('doc', bytes('first')); // producer id and metadata in place
    assert.equal(first.offset, 0n);
    await kafka.pause(1);
    try {
      await assert.rejects(log.append('doc', bytes('refused')), LogUnavailableError);
    } finally {
      kafka.resume(1);
    }
    // one record, like the refused request: the same sequence range if it were reused
    const next = await log.append('doc', bytes('next'));
    const then = await log.append('doc', bytes('then'));

    const recs = await readAll(log, 0);
    const values = recs.map((r) => `${r.offset}:${text(r.value)}`);
    // the precondition of the interleaving: the refused append was written after all
    assert.ok(
      recs.some((r) => text(r.value) === 'refused'),
      `the stalled broker wrote the refused append once resumed: ${values.join(' ')}`,
    );
    const at = (o: bigint) => recs.find((r) => r.offset === o);
    assert.equal(text(at(next.offset)?.value ?? bytes('<none>')), 'next', `"next" acknowledged at ${next.offset}: ${values.join(' ')}`);
    assert.equal(text(at(then.offset)?.value ?? bytes('<none>')), 'then', `"then" acknowledged at ${then.offset}: ${values.join(' ')}`);
    assert.ok(next.offset > first.offset && then.offset > next.offset, 'acknowledged in log order');
    for (const v of ['first', 'next', 'then']) {
      assert.equal(recs.filter((r) => text(r.value) === v).length, 1, `${v} is in the log once: ${values.join(' ')}`);
    }
    assert.equal(log.stats().producerResets, 1, 'the producer of the failed request was replaced once');
  } finally {
    kafka.resume(1);
    await log.close();
  }
});

test('appends queued behind a failed request fail with it: an acknowledged append implies every earlier one of its partition was acknowledged (the Kafka ingest relies on it)', async () => {
  await kafka.createTopic('behind', { partitions: 1 });
  const log = await KafkaLog.open({
    brokers: kafka.bootstraps,
    topic: 'behind',
    logLevel: 'nothing',
    connectTimeoutMs: 500,
    requestTimeoutMs: 500,
    retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 200 },
  });
  try {
    await log.append('doc', bytes('first'));
    await kafka.pause(1);
    const failed = log.append('doc', bytes('in-flight'));
    // the request of `failed` is on its way (the send loop starts after one event-loop turn)
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const behind = log.append('doc', bytes('queued-behind'));
    const behindSettled = behind.then(
      () => 'acknowledged',
      (e: unknown) => (e instanceof LogUnavailableError ? 'rejected' : `failed: ${String(e)}`),
    );
    // the broker answers again as soon as the first request has failed: what queued behind it
    // could now be written, but must not be acknowledged out of order with the failed one
    await assert.rejects(failed.finally(() => kafka.resume(1)), LogUnavailableError);
    assert.equal(await behindSettled, 'rejected');
    const after = await log.append('doc', bytes('after'));
    assert.ok(after.offset > 0n, 'the log stays usable');
  } finally {
    kafka.resume(1);
    await log.close();
  }
});
