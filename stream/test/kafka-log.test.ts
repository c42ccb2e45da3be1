/**
 * KafkaLog against a real Apache Kafka cluster (3 KRaft nodes from the test kit), with the
 * idempotent producer on (the default). One cluster for the whole file, since JVM startup is the
 * slow part; each test uses its own topic. Broker faults are real: SIGKILL + restart, SIGSTOP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Kafka, logLevel } from 'kafkajs';
import { startKafka, type KafkaCluster } from '@replicant/testkit';
import { KafkaLog, topicConfig } from '../src/kafka/kafka-log.js';
import type { KafkaLogOptions } from '../src/kafka/kafka-log.js';
import { LogUnavailableError } from '../src/stream-log.js';
import type { AppendResult, LogRecord, Tail } from '../src/stream-log.js';
import { partitionForKey } from '../src/murmur2.js';
import { deferred } from '@replicant/testkit';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A doc id that lands in `partition` of `partitions`. */
function docIn(partition: number, partitions: number, salt = ''): string {
  for (let i = 0; ; i++) if (partitionForKey(`d${salt}${i}`, partitions) === partition) return `d${salt}${i}`;
}

let cluster: KafkaCluster;
before(async () => {
  cluster = await startKafka({ nodes: 3 });
});
after(async () => {
  await cluster?.stop();
});

let topics = 0;
async function newTopic(c: KafkaCluster, partitions = 4): Promise<string> {
  const name = `t${++topics}`;
  await c.createTopic(name, { partitions });
  return name;
}

/** Options for the tests: short waits and retries (the idempotent producer stays on, the default). */
function options(c: KafkaCluster, topic: string, extra: Partial<KafkaLogOptions> = {}): KafkaLogOptions {
  return {
    brokers: c.bootstraps,
    topic,
    logLevel: 'nothing',
    connectTimeoutMs: 500,
    requestTimeoutMs: 3000,
    fetchMaxWaitMs: 50,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 500 },
    ...extra,
  };
}

/** Collects tail deliveries; `until(n)` resolves once n records arrived. */
class Collector {
  readonly records: LogRecord[] = [];
  calls = 0;
  private waiters: { n: number; resolve(): void }[] = [];
  readonly handler = (_p: number, recs: LogRecord[]) => {
    this.calls++;
    this.records.push(...recs);
    this.waiters = this.waiters.filter((w) => {
      if (this.records.length < w.n) return true;
      w.resolve();
      return false;
    });
  };
  until(n: number): Promise<void> {
    if (this.records.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
  of(partition: number): LogRecord[] {
    return this.records.filter((r) => r.partition === partition);
  }
}

function assertOffsetOrder(recs: LogRecord[]): void {
  for (let i = 1; i < recs.length; i++) assert.ok(recs[i].offset > recs[i - 1].offset, 'offsets increase');
}

describe('KafkaLog (3 real brokers)', () => {

  test('open: partition count from the topic metadata; clear errors for a missing topic or a wrong count', async () => {
    const topic = await newTopic(cluster, 4);
    const log = await KafkaLog.open(options(cluster, topic));
    try {
      assert.equal(log.partitions, 4);
      assert.equal(log.ready, true);
      const h = await log.health();
      assert.equal(h.ready, true);
      for (const id of ['a', 'doc-1', 'ünïcødé', 'x'.repeat(200)]) assert.equal(log.partitionOf(id), partitionForKey(id, 4));
    } finally {
      await log.close();
    }
    await assert.rejects(KafkaLog.open(options(cluster, 'no-such-topic')), /topic "no-such-topic" does not exist/);
    await assert.rejects(KafkaLog.open(options(cluster, topic, { partitions: 8 })), /has 4 partitions but the log was opened with 8/);
    const ok = await KafkaLog.open(options(cluster, topic, { partitions: 4 }));
    await ok.close();
  });

  test('open with createTopic: a missing topic is created through the admin API, or a clear error names brokers and topic', async () => {
    const created = await KafkaLog.open(options(cluster, 'to-create', { createTopic: { partitions: 4 } }));
    try {
      assert.equal(created.partitions, 4);
      assert.equal((await cluster.leaders('to-create')).size, 4);
      const admin = created.kafka.admin();
      await admin.connect();
      const md = await admin.fetchTopicMetadata({ topics: ['to-create'] });
      await admin.disconnect();
      for (const p of md.topics[0].partitions) assert.equal(p.replicas.length, 3, 'replication factor min(3, brokers)');
      await created.append('doc', bytes('x'));
    } finally {
      await created.close();
    }
    // a creation the cluster refuses (replication factor over the broker count): the error says what was tried where
    const brokers = cluster.bootstraps.join(',').replace(/[.]/g, '\\.');
    await assert.rejects(
      KafkaLog.open(options(cluster, 'not-creatable', { createTopic: { partitions: 2, replicationFactor: 5 } })),
      new RegExp(
        `^Error: kafka: topic "not-creatable" does not exist on brokers ${brokers} and creating it ` +
          '\\(2 partitions, replication factor 5, min\\.insync\\.replicas=2\\) failed: .+; create the topic, or allow this client CreateTopics$',
      ),
    );
    // once the topic exists, the same options open it (its own partition count is used)
    await cluster.createTopic('existing', { partitions: 3 });
    const log = await KafkaLog.open(options(cluster, 'existing', { createTopic: { partitions: 4 } }));
    try {
      assert.equal(log.partitions, 3);
    } finally {
      await log.close();
    }
  });

  test('append: per-partition offsets in arrival order, concurrent appends share produce requests', async () => {
    const topic = await newTopic(cluster, 4);
    const log = await KafkaLog.open(options(cluster, topic));
    try {
      const docs = Array.from({ length: 16 }, (_, i) => `doc${i}`);
      const calls: { doc: string; value: string; p: Promise<AppendResult> }[] = [];
      for (let i = 0; i < 400; i++) {
        const doc = docs[i % docs.length];
        const value = `${doc}#${i}`;
        calls.push({ doc, value, p: log.append(doc, bytes(value)) });
      }
      const results = await Promise.all(calls.map((c) => c.p));
      const next = [0n, 0n, 0n, 0n];
      results.forEach((r, i) => {
        assert.equal(r.partition, log.partitionOf(calls[i].doc));
        assert.equal(r.offset, next[r.partition]++, 'offsets follow the order of the append calls');
      });
      const s = log.stats();
      assert.equal(s.appends, 400);
      assert.ok(s.sends < s.appends / 10, `400 concurrent appends went out in ${s.sends} requests`);
      assert.equal(s.pendingAppends, 0);
      assert.equal(s.pendingBytes, 0);
      for (let p = 0; p < 4; p++) assert.equal(await log.endOffset(p), next[p]);
      // one more round: appends issued while a request is in flight join the next one
      const a = docIn(0, 4);
      const first = log.append(a, bytes('x0'));
      const rest = Array.from({ length: 50 }, (_, i) => log.append(a, bytes(`x${i + 1}`)));
      const before = log.stats().sends;
      await Promise.all([first, ...rest]);
      assert.ok(log.stats().sends - before <= 2);
      assert.deepEqual(
        (await Promise.all([first, ...rest])).map((r) => r.offset),
        Array.from({ length: 51 }, (_, i) => next[0] + BigInt(i)),
      );
    } finally {
      await log.close();
    }
  });

  test('endOffset: calls in one event-loop turn share one ListOffsets per leader; each covers every append acknowledged before it', async () => {
    const topic = await newTopic(cluster, 4);
    const log = await KafkaLog.open(options(cluster, topic));
    try {
      const acked = [0n, 0n, 0n, 0n];
      for (let i = 0; i < 40; i++) {
        const r = await log.append(docIn(i % 4, 4), bytes(`v${i}`));
        acked[r.partition] = r.offset + 1n;
      }
      const leaders = new Set((await cluster.leaders(topic)).values());
      const before = log.stats().endOffsetRequests;
      const ends = await Promise.all([0, 1, 2, 3].map((p) => log.endOffset(p)));
      assert.deepEqual(ends, acked);
      assert.equal(log.stats().endOffsetRequests - before, leaders.size, `one request per leader (${leaders.size}), not per partition`);
      // an append acknowledged just before the call is below the answer
      const r = await log.append(docIn(2, 4), bytes('last'));
      assert.equal(await log.endOffset(2), r.offset + 1n);
    } finally {
      await log.close();
    }
  });

  test('tail from given offsets: records in offset order per partition, then live ones; read() from the window and via the fallback reader', async () => {
    const topic = await newTopic(cluster, 4);
    const log = await KafkaLog.open(options(cluster, topic, { readerIdleMs: 60_000 }));
    let tail: Tail | undefined;
    try {
      const written = new Map<string, AppendResult>(); // value -> where it went
      const write = async (n: number, tag: string) => {
        const rs = await Promise.all(
          Array.from({ length: n }, (_, i) => {
            const doc = `doc${i % 12}`;
            const value = `${tag}${i}:${doc}`;
            return log.append(doc, bytes(value)).then((r) => written.set(value, r));
          }),
        );
        return rs.length;
      };
      await write(120, 'old');
      const ends = await Promise.all([0, 1, 2, 3].map((p) => log.endOffset(p)));
      assert.equal(ends.reduce((a, b) => a + b, 0n), 120n);
      assert.ok(ends.every((e) => e >= 5n));

      const c = new Collector();
      // partitions 0..2 from offset 3; partition 3 is not tailed
      tail = await log.tail(c.handler, { partitions: [0, 1, 2], from: () => 3n, maxBatchRecords: 7 });
      const expectOld = Number(ends[0] + ends[1] + ends[2]) - 9;
      await c.until(expectOld);
      await write(60, 'live');
      const endsAfter = await Promise.all([0, 1, 2, 3].map((p) => log.endOffset(p)));
      const expectAll = Number(endsAfter[0] + endsAfter[1] + endsAfter[2]) - 9;
      await c.until(expectAll);
      assert.equal(c.records.length, expectAll);
      assert.ok(c.calls >= Math.ceil(expectAll / 7));
      assert.ok(c.records.every((r) => r.partition !== 3));
      for (let p = 0; p < 3; p++) {
        const recs = c.of(p);
        assertOffsetOrder(recs);
        assert.deepEqual(
          recs.map((r) => r.offset),
          Array.from({ length: Number(endsAfter[p]) - 3 }, (_, i) => BigInt(i + 3)),
        );
        for (const r of recs) {
          const w = written.get(text(r.value))!;
          assert.ok(w, 'every delivered record was written');
          assert.deepEqual(w, { partition: p, offset: r.offset }, 'the acknowledged offset is the log position (seq - 1)');
          assert.ok(text(r.value).endsWith(`:${r.key}`), 'key = docId');
          assert.equal(log.partitionOf(r.key), p);
        }
      }

      // read(): served from the window the tail filled...
      const w0 = log.windowRange(0);
      assert.equal(w0.start, 3n);
      assert.equal(w0.end, endsAfter[0]);
      const fromWindow = await log.read(0, 5n, 4);
      assert.deepEqual(
        fromWindow.map((r) => r.offset),
        [5n, 6n, 7n, 8n],
      );
      assert.equal(log.stats().windowReads, 1);
      assert.equal(log.stats().fallbackReads, 0);
      assert.deepEqual(await log.read(0, endsAfter[0], 10), [], 'empty at the end of the log');

      // ...and by the fallback reader before the window (offsets 0..2) and on the untailed partition
      const joins = log.stats().groupJoins;
      const old = await log.read(0, 0n, 100);
      assert.ok(old.length >= 1 && old.length <= 100);
      assert.deepEqual(
        old.map((r) => r.offset),
        Array.from({ length: old.length }, (_, i) => BigInt(i)),
      );
      for (const r of old) assert.deepEqual(written.get(text(r.value)), { partition: 0, offset: r.offset });
      const p3 = await log.read(3, 2n, 3);
      assert.deepEqual(
        p3.map((r) => r.offset),
        [2n, 3n, 4n],
      );
      for (const r of p3) assert.deepEqual(written.get(text(r.value)), { partition: 3, offset: r.offset });
      // concurrent fallback reads of different partitions, and of the same one
      const [a, b, b2] = await Promise.all([log.read(3, 0n, 2), log.read(1, 0n, 2), log.read(1, 1n, 1)]);
      assert.deepEqual(
        [a, b, b2].map((rs) => rs.map((r) => `${r.partition}@${r.offset}`)),
        [['3@0', '3@1'], ['1@0', '1@1'], ['1@1']],
      );
      assert.equal(log.stats().fallbackReads, 5);
      assert.equal(log.stats().groupJoins, joins + 1, 'one reader serves every fallback read');
      await assert.rejects(log.read(4, 0n, 1), RangeError);
    } finally {
      await tail?.close();
      await log.close();
    }
  });

  test('tail backpressure: a blocked handler pauses its partition at the bound; nothing buffers without bound', async () => {
    const topic = await newTopic(cluster, 4);
    const tailBufferBytes = 4096;
    const fetchMaxBytesPerPartition = 2048;
    const maxRequestBytes = 1024;
    const log = await KafkaLog.open(
      options(cluster, topic, { tailBufferBytes, fetchMaxBytesPerPartition, maxRequestBytes, recentBytesPerPartition: 16 * 1024 }),
    );
    let tail: Tail | undefined;
    try {
      const doc = docIn(1, 4);
      const value = (i: number) => bytes(`${i}:`.padEnd(200, '.'));
      const total = 400; // ~90 KB: over 20 times the bound
      await Promise.all(Array.from({ length: total }, (_, i) => log.append(doc, value(i))));
      assert.equal(await log.endOffset(1), BigInt(total));

      const gate = deferred();
      const seen: LogRecord[] = [];
      const all = deferred();
      let inHandler = 0;
      const paused = once(log.events, 'pause');
      tail = await log.tail(
        async (_p, recs) => {
          assert.equal(inHandler++, 0, 'one handler call at a time');
          await gate.promise;
          seen.push(...recs);
          inHandler--;
          if (seen.length >= total) all.resolve();
        },
        { partitions: [1], from: () => 0n, maxBatchRecords: 16 },
      );
      const [pausedPartition, queuedAtPause] = (await paused) as [number, number];
      assert.equal(pausedPartition, 1);
      assert.ok(queuedAtPause > tailBufferBytes);
      // the consumer keeps running fetch rounds while the partition is paused: the queue stays put
      const queued = log.stats().maxTailQueuedBytes;
      for (let i = 0; i < 5; i++) await once(log.events, 'fetch');
      assert.equal(log.stats().maxTailQueuedBytes, queued, 'no more records queued while paused');
      const bound = tailBufferBytes + fetchMaxBytesPerPartition + maxRequestBytes;
      assert.ok(queued <= bound, `queued ${queued} bytes, bound ${bound}`);
      assert.ok(log.windowRange(1).bytes <= 16 * 1024, 'the recent window is bounded too');
      assert.ok(log.windowRange(1).end < BigInt(total), 'the tail did not fetch everything while blocked');

      const resumed = once(log.events, 'resume');
      gate.resolve();
      await resumed;
      await all.promise;
      assert.deepEqual(
        seen.map((r) => r.offset),
        Array.from({ length: total }, (_, i) => BigInt(i)),
      );
      assert.deepEqual(
        seen.map((r) => text(r.value)),
        Array.from({ length: total }, (_, i) => text(value(i))),
      );
      const s = log.stats();
      assert.ok(s.tailPauses >= 1);
      assert.ok(s.maxTailQueuedBytes <= bound, `max queued ${s.maxTailQueuedBytes} bytes, bound ${bound}`);
    } finally {
      await tail?.close();
      await log.close();
    }
  });

  test('transaction markers: a foreign transactional producer\'s commit marker is not delivered, and onPosition moves the tail to the log end', async () => {
    const topic = await newTopic(cluster, 1);
    const log = await KafkaLog.open(options(cluster, topic));
    const kafka = new Kafka({ brokers: cluster.bootstraps, logLevel: logLevel.NOTHING });
    const txp = kafka.producer({ transactionalId: `tx-${topic}`, idempotent: true, maxInFlightRequests: 1 });
    const c = new Collector();
    const positions: bigint[] = [];
    let tail: Tail | undefined;
    try {
      await log.append('d0', bytes('ours'));
      await txp.connect();
      const tx = await txp.transaction();
      await tx.send({ topic, messages: [{ key: 'foreign', value: 'theirs' }] });
      await tx.commit(); // offsets: 0 ours, 1 theirs, 2 the commit marker
      // the coordinator writes the marker after commit() returns; the last stable offset then passes it
      let end = await log.endOffset(0);
      for (const deadline = performance.now() + 10_000; end < 3n && performance.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 50));
        end = await log.endOffset(0);
      }
      assert.equal(end, 3n);
      const reached = deferred();
      tail = await log.tail(c.handler, {
        from: () => 0n,
        onPosition: (_p, next) => {
          positions.push(next);
          if (next >= end) reached.resolve();
        },
      });
      const gaveUp = setTimeout(() => reached.reject(new Error(`the tail's position stayed below the end ${end}: reported ${positions.join(',') || 'nothing'}`)), 15_000);
      await reached.promise.finally(() => clearTimeout(gaveUp));
      assert.deepEqual(c.records.map((r) => [r.offset, text(r.value)]), [[0n, 'ours'], [1n, 'theirs']], 'data records only');
      assert.deepEqual(positions, [3n], 'reported once everything before the marker was handled');
    } finally {
      await tail?.close();
      await txp.disconnect().catch(() => {});
      await log.close();
    }
  });

  test('a failing handler gets the same batch again (at-least-once), in order', async () => {
    const topic = await newTopic(cluster, 2);
    const log = await KafkaLog.open(options(cluster, topic));
    let tail: Tail | undefined;
    try {
      const doc = docIn(0, 2);
      for (let i = 0; i < 5; i++) await log.append(doc, bytes(`v${i}`));
      const errors: unknown[] = [];
      const got: string[] = [];
      const done = deferred();
      let failures = 1;
      tail = await log.tail(
        (_p, recs) => {
          if (failures-- > 0) throw new Error('handler failed');
          got.push(...recs.map((r) => text(r.value)));
          if (got.length === 5) done.resolve();
        },
        { partitions: [0], from: () => 0n, onError: (err) => errors.push(err) },
      );
      await done.promise;
      assert.deepEqual(got, ['v0', 'v1', 'v2', 'v3', 'v4']);
      assert.equal(errors.length, 1);
    } finally {
      await tail?.close();
      await log.close();
    }
  });

  test('bounds: appends over the in-flight count or bytes reject at once with LogUnavailableError', async () => {
    const topic = await newTopic(cluster, 4);
    const log = await KafkaLog.open(options(cluster, topic, { maxInflightAppends: 5, maxInflightBytes: 4096, maxRecordBytes: 2000 }));
    try {
      const calls = Array.from({ length: 12 }, (_, i) => log.append(`d${i}`, bytes(`v${i}`)));
      const settled = await Promise.allSettled(calls);
      assert.equal(settled.filter((s) => s.status === 'fulfilled').length, 5);
      const rejected = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      assert.equal(rejected.length, 7);
      for (const r of rejected) {
        assert.ok(r.reason instanceof LogUnavailableError);
        assert.equal(r.reason.code, 'unavailable');
        assert.ok(r.reason.retryAfterSec >= 1);
      }
      assert.equal(log.stats().shedAppends, 7);
      // bytes: two records of 1900 bytes fit, the third does not
      const big = new Uint8Array(1900);
      const byBytes = await Promise.allSettled([log.append('a', big), log.append('b', big), log.append('c', big)]);
      assert.deepEqual(
        byBytes.map((s) => s.status),
        ['fulfilled', 'fulfilled', 'rejected'],
      );
      // after the acknowledgements the bound is free again
      assert.equal(log.stats().pendingAppends, 0);
      await log.append('again', bytes('ok'));
      await assert.rejects(log.append('huge', new Uint8Array(2001)), RangeError);
    } finally {
      await log.close();
    }
    await assert.rejects(log.append('late', bytes('x')), LogUnavailableError);
    await assert.rejects(log.tail(() => {}), LogUnavailableError);
  });

  test('close() waits for accepted appends to be acknowledged', async () => {
    const topic = await newTopic(cluster, 4);
    const log = await KafkaLog.open(options(cluster, topic));
    const pending = Array.from({ length: 30 }, (_, i) => log.append(`c${i}`, bytes(`v${i}`)));
    await log.close();
    const results = await Promise.all(pending);
    assert.equal(results.length, 30);
    assert.equal(log.ready, false);
  });
});

describe('KafkaLog with broker faults (SIGKILL + restart, SIGSTOP)', () => {
  test('a leader killed and restarted under load: every acknowledged append is in the log once, in order', async (t) => {
    const topic = await newTopic(cluster, 4);
    const leaders = await cluster.leaders(topic);
    const victim = leaders.get(0)!;
    const victimParts = new Set([...leaders].filter(([, l]) => l === victim).map(([p]) => p));
    const log = await KafkaLog.open(options(cluster, topic));
    const live = new Collector();
    let liveTail: Tail | undefined;
    let afterTail: Tail | undefined;
    try {
      liveTail = await log.tail(live.handler, { from: () => 0n });
      // 8 writers, 2 docs per partition, each waits for its append before the next (like a client);
      // a writer pauses when its doc has `cap` acknowledged appends, so each phase is bounded
      const docs = [0, 1, 2, 3].flatMap((p) => [docIn(p, 4, 'a'), docIn(p, 4, 'b')]);
      const victimDocs = docs.filter((d) => victimParts.has(log.partitionOf(d)));
      const acked = new Map<string, { value: string; at: AppendResult }[]>(docs.map((d) => [d, []]));
      let rejected = 0;
      let stop = false;
      let cap = 20;
      let capRaised = deferred();
      const raiseCap = (n: number) => {
        cap = n;
        const d = capRaised;
        capRaised = deferred();
        d.resolve();
      };
      let waiters: { until(): boolean; resolve(): void }[] = [];
      const check = () => (waiters = waiters.filter((w) => (w.until() ? (w.resolve(), false) : true)));
      /** resolves on the acknowledgement that makes `until` true */
      const whenAcked = (until: () => boolean) =>
        new Promise<void>((resolve) => (until() ? resolve() : waiters.push({ until, resolve })));
      const ackedAtLeast = (ds: string[], n: number) => whenAcked(() => ds.every((d) => acked.get(d)!.length >= n));
      const writers = docs.map(async (doc) => {
        const list = acked.get(doc)!;
        for (let i = 0; ; i++) {
          while (list.length >= cap && !stop) await capRaised.promise;
          if (stop) return;
          const value = `${doc}:${i}`;
          try {
            list.push({ value, at: await log.append(doc, bytes(value)) });
            check();
          } catch (err) {
            assert.ok(err instanceof LogUnavailableError, String(err));
            assert.equal(err.code, 'unavailable');
            rejected++;
          }
        }
      });
      const failedSends: number[] = [];
      log.events.on('send-error', (p: number) => failedSends.push(p));

      await ackedAtLeast(docs, 20);
      await cluster.kill9(victim);
      raiseCap(60);
      // the victim's partitions fail over to in-sync replicas and take writes again while it is down
      await ackedAtLeast(docs, 60);
      const during = await cluster.leaders(topic);
      for (const p of victimParts) assert.notEqual(during.get(p), victim, `partition ${p} moved off the killed broker`);
      await cluster.restart(victim);
      raiseCap(100);
      await ackedAtLeast(docs, 100);
      stop = true;
      raiseCap(Number.POSITIVE_INFINITY);
      await Promise.all(writers);
      assert.ok(failedSends.every((p) => victimParts.has(p)), `failed sends only on the victim's partitions: ${failedSends}`);
      assert.ok(victimDocs.every((d) => acked.get(d)!.length >= 100));
      assert.equal((await log.health()).ready, true);
      assert.equal(log.ready, true);

      const ends = await log.endOffsets();
      const total = Number(ends.reduce((a, b) => a + b, 0n));
      // a fresh tail from the beginning, after the fact
      const after = new Collector();
      afterTail = await log.tail(after.handler, { from: () => 0n });
      await after.until(total);
      await live.until(total);
      for (let p = 0; p < 4; p++) {
        const recs = after.of(p);
        assert.deepEqual(
          recs.map((r) => r.offset),
          Array.from({ length: Number(ends[p]) }, (_, i) => BigInt(i)),
          'no gap, no duplicate delivery',
        );
        // the tail that ran through the fault delivered exactly the same records
        assert.deepEqual(
          live.of(p).map((r) => `${r.offset}:${text(r.value)}`),
          recs.map((r) => `${r.offset}:${text(r.value)}`),
        );
      }
      const copies = new Map<string, number>();
      for (const r of after.records) copies.set(text(r.value), (copies.get(text(r.value)) ?? 0) + 1);
      for (const doc of docs) {
        const p = log.partitionOf(doc);
        const recs = after.of(p);
        let prev = -1n;
        for (const a of acked.get(doc)!) {
          assert.equal(a.at.partition, p);
          assert.equal(text(recs[Number(a.at.offset)].value), a.value, `acknowledged ${a.value} is at ${p}@${a.at.offset}`);
          assert.ok(a.at.offset > prev, 'acknowledged appends of a doc are in acknowledgement order');
          prev = a.at.offset;
          // the idempotent producer: its retries leave no second copy of an acknowledged append
          assert.equal(copies.get(a.value), 1, `${a.value} appears ${copies.get(a.value)} times`);
        }
      }
      assert.equal(after.records.length, total);
      assert.ok(total >= docs.length * 100);
      t.diagnostic(`${rejected} appends rejected during the failover (each a LogUnavailableError), sends failed on partitions [${failedSends}]`);
    } finally {
      await liveTail?.close();
      await afterTail?.close();
      await log.close();
    }
  });

  test('endOffset follows a SIGKILLed leader to the new one, still covering every acknowledged append', async () => {
    const topic = await newTopic(cluster, 2);
    const victim = (await cluster.leaders(topic)).get(0)!;
    const log = await KafkaLog.open(options(cluster, topic, { endOffsetRetryMs: 20_000 }));
    try {
      const doc = docIn(0, 2);
      let last = 0n;
      for (let i = 0; i < 20; i++) last = (await log.append(doc, bytes(`v${i}`))).offset + 1n;
      assert.equal(await log.endOffset(0), last);
      await cluster.kill9(victim);
      // asked while the partition fails over: answered by the new leader once it knows the end
      const end = await log.endOffset(0);
      assert.ok(end >= last, `end offset ${end} after failover covers the ${last} acknowledged appends`);
      assert.notEqual((await cluster.leaders(topic)).get(0), victim);
    } finally {
      await log.close();
      await cluster.restart(victim);
    }
  });

  test('endOffset of a stalled (SIGSTOPped) leader rejects within endOffsetRetryMs, not kafkajs\' 30 s requestTimeout; other leaders answer meanwhile', async () => {
    const topic = await newTopic(cluster, 6);
    const leaders = await cluster.leaders(topic);
    const victim = leaders.get(0)!;
    const other = [...leaders].find(([, l]) => l !== victim)?.[0];
    assert.ok(other !== undefined, 'some partition has another leader');
    const log = await KafkaLog.open(options(cluster, topic, { endOffsetRetryMs: 3000, requestTimeoutMs: 30_000 }));
    try {
      await log.append(docIn(0, 6), bytes('before'));
      assert.equal(await log.endOffset(0), 1n); // connected, leaders known
      await cluster.pause(victim);
      try {
        const t0 = performance.now();
        const stalled = log.endOffset(0);
        stalled.catch(() => {});
        assert.equal(await log.endOffset(other), 0n, 'a partition led elsewhere still answers');
        await assert.rejects(stalled, LogUnavailableError);
        const took = performance.now() - t0;
        assert.ok(took < 3000 + 1500, `rejected after ${Math.round(took)} ms`);
      } finally {
        cluster.resume(victim);
      }
    } finally {
      await log.close();
    }
  });

  test('close() while an end-offset call is connecting leaves no socket open', async () => {
    const topic = await newTopic(cluster, 2);
    const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const baseline = sockets();
    const log = await KafkaLog.open(options(cluster, topic));
    const pending = log.endOffset(0); // its flush connects a Cluster of its own on the next turn
    pending.catch(() => {});
    await new Promise((r) => setImmediate(r)); // the flush has started connecting
    await log.close();
    await assert.rejects(pending);
    // sockets close asynchronously: wait (bounded) for the count to come back to the baseline
    const deadline = performance.now() + 3000;
    while (sockets() > baseline && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(sockets(), baseline, 'every socket the log opened is closed');
  });

  test('a stalled (SIGSTOPped) leader: appends to it fail with LogUnavailableError, readiness comes back after SIGCONT without a write', async () => {
    const topic = await newTopic(cluster, 2);
    const victim = (await cluster.leaders(topic)).get(0)!;
    const log = await KafkaLog.open(
      options(cluster, topic, { readyProbeIntervalMs: 0, requestTimeoutMs: 1000, retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 200 } }),
    );
    try {
      await log.append(docIn(0, 2), bytes('before')); // the producer knows the leaders
      await cluster.pause(victim);
      try {
        await assert.rejects(log.append(docIn(0, 2), bytes('x')), LogUnavailableError);
        const probed = once(log.events, 'probe');
        assert.equal(log.ready, false); // starts a probe, which fails while the leader is stalled
        assert.deepEqual(await probed, [false]);
      } finally {
        cluster.resume(victim);
      }
      let ok = false;
      while (!ok) {
        const probed = once(log.events, 'probe');
        assert.equal(log.ready, false); // still failed: starts another probe...
        [ok] = (await probed) as [boolean];
      }
      assert.equal(log.ready, true, '...whose success clears the failure');
      assert.equal((await log.health()).ready, true);
      await log.append(docIn(0, 2), bytes('after'));
    } finally {
      cluster.resume(victim);
      await log.close();
    }
  });
});

test('topicConfig: min.insync.replicas min(2, RF) unless given; retention only when set', () => {
  assert.deepEqual(topicConfig({ partitions: 8 }, 3), [{ name: 'min.insync.replicas', value: '2' }]);
  assert.deepEqual(topicConfig({ partitions: 8 }, 1), [{ name: 'min.insync.replicas', value: '1' }]);
  assert.deepEqual(topicConfig({ partitions: 8, minInsyncReplicas: 3, retentionBytes: 1024, retentionMs: 60_000 }, 5), [
    { name: 'min.insync.replicas', value: '3' },
    { name: 'retention.bytes', value: '1024' },
    { name: 'retention.ms', value: '60000' },
  ]);
  assert.deepEqual(topicConfig({ partitions: 8, retentionBytes: 0, retentionMs: 0 }, 2), [{ name: 'min.insync.replicas', value: '2' }]);
});
