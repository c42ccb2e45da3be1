/**
 * The StreamLog contract, run against every implementation: in-memory, file, and KafkaLog on a
 * real 3-broker Kafka cluster (started once for the file, a fresh topic per test).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogBounds } from '../src/stream-log-base.js';
import { MemoryLog } from '../src/stream-log-memory.js';
import { FileLog } from '../src/stream-log-file.js';
import type { LogRecord, StreamLog } from '../src/stream-log.js';
import { KafkaLog } from '../src/kafka/kafka-log.js';
import { partitionForKey } from '../src/murmur2.js';
import { deferred, startKafka, turns, type KafkaCluster } from '@replicant/testkit';

/** what the contract reads of a log's counters, the same for every implementation */
interface LogCounts {
  appends: number;
  /** durability steps: fsyncs (file, memory) or produce requests acknowledged by all replicas (Kafka) */
  commits: number;
  pendingAppends: number;
  pendingBytes: number;
}

interface Opened {
  log: StreamLog;
  counts(): LogCounts;
  cleanup(): Promise<void>;
}

let kafka: Promise<KafkaCluster> | undefined;
let topics = 0;
after(async () => {
  await (await kafka)?.stop();
});

const IMPLS: [string, (partitions: number, bounds?: LogBounds) => Promise<Opened>][] = [
  [
    'MemoryLog',
    async (partitions, bounds = {}) => {
      const log = new MemoryLog({ partitions, ...bounds });
      return { log,
        counts: () => ({ ...log.stats(), commits: log.stats().fsyncs }), cleanup: async () => {} };
    },
  ],
  [
    'FileLog',
    async (partitions, bounds = {}) => {
      const dir = await mkdtemp(join(tmpdir(), 'replicant-log-'));
      const log = await FileLog.open({ dir, partitions, ...bounds });
      return {
        log,
        counts: () => ({ ...log.stats(), commits: log.stats().fsyncs }),
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  ],
  [
    'KafkaLog',
    async (partitions, bounds = {}) => {
      kafka ??= startKafka({ nodes: 3 });
      const cluster = await kafka;
      const topic = `contract-${++topics}`;
      await cluster.createTopic(topic, { partitions });
      const log = await KafkaLog.open({
        brokers: cluster.bootstraps,
        topic,
        logLevel: 'nothing',
        fetchMaxWaitMs: 50,
        maxInflightAppends: bounds.maxPendingAppends,
        maxInflightBytes: bounds.maxPendingBytes,
        maxRecordBytes: bounds.maxRecordBytes,
      });
      return { log,
        counts: () => ({ ...log.stats(), commits: log.stats().sends }), cleanup: async () => {} };
    },
  ],
];

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A doc id that lands in `partition` of `partitions`. */
function docIn(partition: number, partitions: number, salt = ''): string {
  for (let i = 0; ; i++) if (partitionForKey(`d${salt}${i}`, partitions) === partition) return `d${salt}${i}`;
}

for (const [name, open] of IMPLS) {
  describe(`${name} (StreamLog contract)`, () => {
    test('offsets are assigned per partition in arrival order; read returns durable records in order', async () => {
      const { log, cleanup } = await open(2);
      try {
        const a = docIn(0, 2);
        const b = docIn(1, 2);
        assert.equal(log.partitionOf(a), 0);
        assert.equal(log.partitionOf(b), 1);
        const results = await Promise.all([
          log.append(a, bytes('a0')),
          log.append(b, bytes('b0')),
          log.append(a, bytes('a1')),
          log.append(a, bytes('a2')),
        ]);
        assert.deepEqual(
          results.map((r) => [r.partition, r.offset]),
          [
            [0, 0n],
            [1, 0n],
            [0, 1n],
            [0, 2n],
          ],
        );
        assert.equal(await log.endOffset(0), 3n);
        assert.equal(await log.endOffset(1), 1n);
        const recs = await log.read(0, 0n, 10);
        assert.deepEqual(
          recs.map((r) => [r.partition, r.offset, r.key, text(r.value)]),
          [
            [0, 0n, a, 'a0'],
            [0, 1n, a, 'a1'],
            [0, 2n, a, 'a2'],
          ],
        );
        assert.deepEqual((await log.read(0, 1n, 1)).map((r) => r.offset), [1n]);
        assert.deepEqual(await log.read(0, 3n, 10), []);
        assert.deepEqual(await log.read(1, 5n, 10), []);
        await assert.rejects(log.read(2, 0n, 1), RangeError);
      } finally {
        await log.close();
        await cleanup();
      }
    });

    test('tail delivers from the given offsets, in order, then new records; default start is the end', async () => {
      const { log, cleanup } = await open(2);
      try {
        const a = docIn(0, 2);
        const b = docIn(1, 2);
        for (let i = 0; i < 5; i++) await log.append(a, bytes(`a${i}`));
        await log.append(b, bytes('b0'));
        const got: LogRecord[] = [];
        const batchSizes: number[] = [];
        const done = deferred();
        const tail = await log.tail(
          (_p, recs) => {
            got.push(...recs);
            batchSizes.push(recs.length);
            if (got.length === 6) done.resolve();
          },
          { from: (p) => (p === 0 ? 2n : 0n), maxBatchRecords: 2 },
        );
        const fromEnd: LogRecord[] = [];
        const endDone = deferred();
        const tail2 = await log.tail((_p, recs) => {
          fromEnd.push(...recs);
          if (fromEnd.length === 2) endDone.resolve();
        });
        await Promise.all([log.append(a, bytes('a5')), log.append(b, bytes('b1'))]);
        await Promise.all([done.promise, endDone.promise]);
        const p0 = got.filter((r) => r.partition === 0).map((r) => text(r.value));
        const p1 = got.filter((r) => r.partition === 1).map((r) => text(r.value));
        assert.deepEqual(p0, ['a2', 'a3', 'a4', 'a5']);
        assert.deepEqual(p1, ['b0', 'b1']);
        assert.ok(batchSizes.every((n) => n <= 2));
        assert.deepEqual(fromEnd.map((r) => text(r.value)).sort(), ['a5', 'b1']);
        await tail.close();
        await tail2.close();
        // after close nothing more is delivered
        const before = got.length;
        await log.append(a, bytes('a6'));
        await turns();
        assert.equal(got.length, before);
      } finally {
        await log.close();
        await cleanup();
      }
    });

    test('a pending handler promise holds back further deliveries (backpressure)', async () => {
      const { log, cleanup } = await open(1);
      try {
        const gate = deferred();
        const first = deferred();
        const calls: number[] = [];
        const all = deferred();
        const tail = await log.tail(
          async (_p, recs) => {
            calls.push(recs.length);
            if (calls.length === 1) {
              first.resolve();
              await gate.promise;
            }
            if (calls.reduce((s, n) => s + n, 0) === 10) all.resolve();
          },
          { from: () => 0n, maxBatchRecords: 1 },
        );
        const appends = Array.from({ length: 10 }, (_, i) => log.append('doc', bytes(`v${i}`)));
        await Promise.all(appends);
        await first.promise;
        await turns();
        assert.equal(calls.length, 1, 'no delivery while the handler is pending');
        gate.resolve();
        await all.promise;
        assert.equal(calls.length, 10);
        await tail.close();
      } finally {
        await log.close();
        await cleanup();
      }
    });

    test('a failing handler gets the same batch again', async () => {
      const { log, cleanup } = await open(1);
      try {
        const batches: bigint[][] = [];
        const errors: unknown[] = [];
        const done = deferred();
        const tail = await log.tail(
          (_p, recs) => {
            batches.push(recs.map((r) => r.offset));
            if (batches.length === 1) throw new Error('boom');
            if (batches.flat().includes(2n)) done.resolve();
          },
          { from: () => 0n, onError: (e) => errors.push(e) },
        );
        await Promise.all([log.append('x', bytes('0')), log.append('x', bytes('1')), log.append('x', bytes('2'))]);
        await done.promise;
        assert.equal(errors.length, 1);
        assert.equal(batches[0][0], 0n);
        assert.deepEqual(batches[1].slice(0, batches[0].length), batches[0], 'the failed batch is delivered again');
        await tail.close();
      } finally {
        await log.close();
        await cleanup();
      }
    });

    test('concurrent appends share fsyncs (group commit)', async () => {
      const { log, counts, cleanup } = await open(1);
      try {
        const before = counts().commits;
        const n = 200;
        const results = await Promise.all(Array.from({ length: n }, (_, i) => log.append('doc', bytes(`value-${i}`))));
        assert.deepEqual(
          results.map((r) => r.offset),
          Array.from({ length: n }, (_, i) => BigInt(i)),
        );
        const fsyncs = counts().commits - before;
        assert.ok(fsyncs >= 1 && fsyncs < n, `${fsyncs} durability steps for ${n} appends`);
        assert.equal(counts().appends, n);
        const recs = await log.read(0, 0n, 1000);
        assert.deepEqual(
          recs.map((r) => text(r.value)),
          results.map((_, i) => `value-${i}`),
        );
      } finally {
        await log.close();
        await cleanup();
      }
    });

    test('over the pending-appends bound, appends reject with code unavailable', async () => {
      const { log, counts, cleanup } = await open(1, { maxPendingAppends: 4 });
      try {
        const settled = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => log.append('doc', bytes(`${i}`))));
        const ok = settled.filter((s) => s.status === 'fulfilled');
        const shed = settled.filter((s) => s.status === 'rejected') as PromiseRejectedResult[];
        assert.equal(ok.length, 4);
        assert.equal(shed.length, 6);
        for (const s of shed) assert.equal((s.reason as { code: string }).code, 'unavailable');
        // shed appends took no offset; the log keeps working once the pending ones are durable
        assert.equal(counts().pendingAppends, 0);
        assert.equal((await log.append('doc', bytes('later'))).offset, 4n);
      } finally {
        await log.close();
        await cleanup();
      }
    });

    test('over the pending-bytes bound, appends reject with code unavailable', async () => {
      const { log, counts, cleanup } = await open(1, { maxPendingBytes: 300 });
      try {
        const v = new Uint8Array(100);
        const settled = await Promise.allSettled(Array.from({ length: 5 }, () => log.append('doc', v)));
        // each record frames to 100 + 3 + 18 = 121 bytes: two fit under 300 bytes
        assert.deepEqual(
          settled.map((s) => s.status),
          ['fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected'],
        );
        assert.equal(counts().pendingBytes, 0);
      } finally {
        await log.close();
        await cleanup();
      }
    });

    test('oversized records are refused', async () => {
      const { log, cleanup } = await open(1, { maxRecordBytes: 10 });
      try {
        await assert.rejects(log.append('doc', new Uint8Array(11)), RangeError);
        assert.equal((await log.append('doc', new Uint8Array(10))).offset, 0n);
      } finally {
        await log.close();
        await cleanup();
      }
    });

    test('close drains accepted appends; later appends reject with unavailable', async () => {
      const { log, cleanup } = await open(1);
      try {
        const pending = Array.from({ length: 20 }, (_, i) => log.append('doc', bytes(`${i}`)));
        const closed = log.close();
        await assert.rejects(log.append('doc', bytes('late')), (e: { code?: string }) => e.code === 'unavailable');
        const results = await Promise.all(pending);
        assert.equal(results[19].offset, 19n);
        await closed;
      } finally {
        await log.close();
        await cleanup();
      }
    });
  });
}

describe('MemoryLog specifics', () => {
  test('only durable records are visible: held durability hides appends from reads, tails and endOffset', async () => {
    const log = new MemoryLog({ partitions: 1 });
    const got: LogRecord[] = [];
    const delivered = deferred();
    const tail = await log.tail((_p, recs) => {
      got.push(...recs);
      delivered.resolve();
    });
    log.pauseDurability();
    let acked = false;
    const a = log.append('doc', bytes('x')).then((r) => {
      acked = true;
      return r;
    });
    await turns();
    assert.equal(acked, false);
    assert.equal(await log.endOffset(0), 0n);
    assert.deepEqual(await log.read(0, 0n, 10), []);
    assert.equal(got.length, 0);
    log.resumeDurability();
    assert.equal((await a).offset, 0n);
    await delivered.promise;
    assert.equal(got.length, 1);
    await tail.close();
    await log.close();
  });

  test('a failed sync rejects its batch with unavailable and stops the log', async () => {
    const log = new MemoryLog({ partitions: 1 });
    log.failNextSync(new Error('disk on fire'));
    await assert.rejects(log.append('doc', bytes('x')), (e: { code?: string }) => e.code === 'unavailable');
    await assert.rejects(log.append('doc', bytes('y')), /failed/);
    assert.equal(log.stats().pendingAppends, 0);
    await log.close();
  });
});
