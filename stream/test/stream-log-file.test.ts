/**
 * FileLog specifics: persistence across reopen, torn-tail recovery, segment roll, sparse-index reads,
 * and the partition-count check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { appendFile, open, readFile, readdir, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { FileLog } from '../src/stream-log-file.js';
import type { LogRecord } from '../src/stream-log.js';
import { deferred, withTempDir } from '@replicant/testkit';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function appendN(log: FileLog, n: number, prefix = 'v', doc = 'doc'): Promise<void> {
  for (let i = 0; i < n; i++) await log.append(doc, bytes(`${prefix}${i}`));
}

async function lastSegment(dir: string, partition = 0): Promise<string> {
  const names = (await readdir(join(dir, `p${partition}`))).filter((n) => n.endsWith('.log')).sort();
  return join(dir, `p${partition}`, names[names.length - 1]);
}

test('records survive close and reopen; appends continue at the next offset', async () => {
  await withTempDir(async (dir) => {
    const log = await FileLog.open({ dir, partitions: 1 });
    await appendN(log, 5);
    await log.close();
    const again = await FileLog.open({ dir });
    assert.equal(again.partitions, 1);
    assert.equal(await again.endOffset(0), 5n);
    assert.equal((await again.append('doc', bytes('v5'))).offset, 5n);
    assert.deepEqual(
      (await again.read(0, 0n, 100)).map((r) => text(r.value)),
      ['v0', 'v1', 'v2', 'v3', 'v4', 'v5'],
    );
    await again.close();
    const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8'));
    assert.equal(meta.partitions, 1);
  });
});

test('opening with a different partition count is an error', async () => {
  await withTempDir(async (dir) => {
    await (await FileLog.open({ dir, partitions: 3 })).close();
    await assert.rejects(FileLog.open({ dir, partitions: 4 }), /has 3 partitions but was opened with 4/);
    const ok = await FileLog.open({ dir, partitions: 3 });
    await ok.close();
  });
});

for (const [what, damage] of [
  ['a partial record', (seg: string) => appendFile(seg, Buffer.from([0, 0, 0, 40, 1, 2, 3, 4, 0, 0]))],
  ['garbage bytes', (seg: string) => appendFile(seg, Buffer.from('this is not a record at all, just junk'))],
  ['a header claiming a huge length', (seg: string) => appendFile(seg, Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]))],
] as [string, (seg: string) => Promise<void>][]) {
  test(`recovery truncates a torn tail (${what}) and keeps every earlier record`, async () => {
    await withTempDir(async (dir) => {
      const log = await FileLog.open({ dir, partitions: 1 });
      await appendN(log, 10);
      await log.close();
      const seg = await lastSegment(dir);
      const goodSize = (await stat(seg)).size;
      await damage(seg);
      const warn = console.warn;
      console.warn = () => {};
      const again = await FileLog.open({ dir, partitions: 1 }).finally(() => (console.warn = warn));
      assert.equal((await stat(seg)).size, goodSize);
      assert.equal(await again.endOffset(0), 10n);
      assert.deepEqual(
        (await again.read(0, 0n, 100)).map((r) => text(r.value)),
        Array.from({ length: 10 }, (_, i) => `v${i}`),
      );
      assert.equal((await again.append('doc', bytes('new'))).offset, 10n);
      await again.close();
      const third = await FileLog.open({ dir, partitions: 1 });
      const all = await third.read(0, 0n, 100);
      assert.equal(all.length, 11);
      assert.equal(text(all[10].value), 'new');
      await third.close();
    });
  });
}

test('recovery truncates a last record whose CRC does not match', async () => {
  await withTempDir(async (dir) => {
    const log = await FileLog.open({ dir, partitions: 1 });
    await appendN(log, 3);
    await log.close();
    const seg = await lastSegment(dir);
    const buf = await readFile(seg);
    buf[buf.length - 1] ^= 0xff; // flip a byte of the last value
    await writeFile(seg, buf);
    const warn = console.warn;
    console.warn = () => {};
    const again = await FileLog.open({ dir, partitions: 1 }).finally(() => (console.warn = warn));
    assert.equal(await again.endOffset(0), 2n);
    assert.deepEqual((await again.read(0, 0n, 10)).map((r) => text(r.value)), ['v0', 'v1']);
    await again.close();
  });
});

test('a segment cut inside its first record recovers to an empty partition', async () => {
  await withTempDir(async (dir) => {
    const log = await FileLog.open({ dir, partitions: 1 });
    await appendN(log, 1);
    await log.close();
    const seg = await lastSegment(dir);
    await truncate(seg, 5);
    const warn = console.warn;
    console.warn = () => {};
    const again = await FileLog.open({ dir, partitions: 1 }).finally(() => (console.warn = warn));
    assert.equal(await again.endOffset(0), 0n);
    assert.equal((await again.append('doc', bytes('x'))).offset, 0n);
    await again.close();
  });
});

test('segments roll at the configured size; reads cross segments through the sparse index', async () => {
  await withTempDir(async (dir) => {
    // no in-memory window: every read goes to the files
    const opts = { dir, partitions: 1, segmentBytes: 300, indexIntervalBytes: 64, recentBytesPerPartition: 0 };
    const log = await FileLog.open(opts);
    await Promise.all(Array.from({ length: 40 }, (_, i) => log.append('doc', bytes(`value-${String(i).padStart(3, '0')}`))));
    const bases = log.segmentBases(0);
    assert.ok(bases.length > 3, `${bases.length} segments`);
    assert.equal(bases[0], 0n);
    for (const name of (await readdir(join(dir, 'p0'))).filter((n) => n.endsWith('.log'))) {
      assert.match(name, /^\d{20}\.log$/);
      assert.ok((await stat(join(dir, 'p0', name))).size <= 300);
    }
    const check = async (l: FileLog) => {
      for (const from of [0n, 1n, 7n, 13n, 25n, 39n]) {
        const recs = await l.read(0, from, 5);
        assert.deepEqual(
          recs.map((r) => r.offset),
          Array.from({ length: Math.min(5, 40 - Number(from)) }, (_, i) => from + BigInt(i)),
        );
        assert.equal(text(recs[0].value), `value-${String(from).padStart(3, '0')}`);
      }
      assert.equal((await l.read(0, 0n, 1000)).length, 40);
    };
    await check(log);
    await log.close();
    // after reopen, sealed segments are indexed lazily on first read
    const again = await FileLog.open(opts);
    assert.deepEqual(again.segmentBases(0), bases);
    await check(again);
    assert.equal((await again.append('doc', bytes('more'))).offset, 40n);
    await again.close();
  });
});

test('a tail catches up from the files in bounded batches after reopen', async () => {
  await withTempDir(async (dir) => {
    const opts = { dir, partitions: 2, segmentBytes: 1024, recentBytesPerPartition: 256 };
    const log = await FileLog.open(opts);
    const docs = ['alpha', 'beta', 'gamma', 'delta'];
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(docs[i % 4], bytes(`${i}`))));
    await log.close();
    const again = await FileLog.open(opts);
    const ends = [await again.endOffset(0), await again.endOffset(1)];
    const got: LogRecord[][] = [[], []];
    let maxBatch = 0;
    const done = deferred();
    const tail = await again.tail(
      (p, recs) => {
        got[p].push(...recs);
        maxBatch = Math.max(maxBatch, recs.length);
        if (BigInt(got[0].length) === ends[0] && BigInt(got[1].length) === ends[1]) done.resolve();
      },
      { from: () => 0n, maxBatchRecords: 16 },
    );
    await done.promise;
    assert.ok(maxBatch <= 16);
    for (const p of [0, 1]) {
      assert.deepEqual(
        got[p].map((r) => r.offset),
        Array.from({ length: Number(ends[p]) }, (_, i) => BigInt(i)),
      );
    }
    // per-document order is the append order
    const values = [...got[0], ...got[1]].filter((r) => r.key === 'alpha').map((r) => Number(text(r.value)));
    assert.deepEqual(values, [...values].sort((a, b) => a - b));
    await tail.close();
    await again.close();
  });
});

test('retention deletes whole sealed segments by bytes, never past safeBefore nor an open tail', async () => {
  await withTempDir(async (dir) => {
    let safe = 0n;
    const log = await FileLog.open({
      dir,
      partitions: 1,
      segmentBytes: 256,
      recentBytesPerPartition: 0,
      retention: { bytes: 512, safeBefore: () => safe },
    });
    const value = 'x'.repeat(40); // 40 + 3 (key) + 18 framing = 61 bytes: 4 records a segment
    for (let i = 0; i < 40; i++) await log.append('doc', bytes(value));
    await log.enforceRetention();
    // nothing is covered by a snapshot yet: every segment stays
    assert.equal(log.startOffset(0), 0n);
    const all = log.segmentBases(0).length;
    assert.equal(all, 10);

    // covered up to offset 22: segments wholly below it may go, but only down to the byte bound
    safe = 22n;
    await log.enforceRetention();
    assert.deepEqual(log.segmentBases(0), [20n, 24n, 28n, 32n, 36n]);
    assert.equal(log.retentionDeletes, 5);
    const sizes = await Promise.all(log.segmentBases(0).slice(0, -1).map((b) => stat(join(dir, 'p0', `${b.toString().padStart(20, '0')}.log`))));
    assert.ok(sizes.reduce((a, s) => a + s.size, 0) > 512 - 256);
    await assert.rejects(log.read(0, 3n, 10), /offset 3 of partition 0 was deleted by retention \(the log starts at 20\)/);
    assert.equal((await log.read(0, 20n, 100)).length, 20);

    // an open tail still delivering offset 24 holds its segments, whatever the snapshots cover
    const got: bigint[] = [];
    const gate = deferred<void>();
    const tail = await log.tail(
      async (_p, recs) => {
        got.push(...recs.map((r) => r.offset));
        await gate.promise;
      },
      { from: () => 24n, maxBatchRecords: 1 },
    );
    safe = 40n;
    for (let i = 0; i < 12; i++) await log.append('doc', bytes(value));
    await log.enforceRetention();
    assert.equal(log.startOffset(0), 24n, 'the tail at 24 keeps segment 24');
    gate.resolve();
    await tail.close();
    await log.enforceRetention();
    assert.ok(log.startOffset(0) > 24n);
    await log.close();

    // reopened: the log starts at the first retained segment and reads from there
    const again = await FileLog.open({ dir });
    assert.equal(again.startOffset(0), log.startOffset(0));
    assert.equal(await again.endOffset(0), 52n);
    await again.close();
  });
});

test('retention by age deletes sealed segments whose last write is older than ms', async () => {
  await withTempDir(async (dir) => {
    const log = await FileLog.open({ dir, partitions: 1, segmentBytes: 128, retention: { ms: 60_000, safeBefore: () => 1000n } });
    for (let i = 0; i < 12; i++) await log.append('doc', bytes('y'.repeat(40)));
    await log.enforceRetention();
    assert.equal(log.startOffset(0), 0n, 'young segments stay');
    // age the two oldest segments by moving their mtime back two minutes
    const old = new Date(Date.now() - 120_000);
    const [b0, b1] = log.segmentBases(0);
    for (const b of [b0, b1]) await utimes(join(dir, 'p0', `${b.toString().padStart(20, '0')}.log`), old, old);
    await log.enforceRetention();
    assert.equal(log.startOffset(0), log.segmentBases(0)[0]);
    assert.equal(log.retentionDeletes, 2);
    await log.close();
  });
});

test('an append batch is one O_DSYNC write: the active segment, also after a roll, is opened O_DSYNC and no fdatasync follows', async () => {
  await withTempDir(async (dir) => {
    // FileHandle's prototype, shared by every handle: count datasync calls, note the fds written
    const probe = await open(dir, 'r');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void>; write: (...a: unknown[]) => Promise<unknown> };
    await probe.close();
    const { datasync, write } = proto;
    let datasyncs = 0;
    const written = new Set<number>();
    proto.datasync = function (this: FileHandle) {
      datasyncs++;
      return datasync.call(this);
    };
    proto.write = function (this: FileHandle, ...a: unknown[]) {
      written.add(this.fd);
      return write.apply(this, a);
    };
    try {
      const log = await FileLog.open({ dir, partitions: 1, segmentBytes: 256 });
      const before = log.stats().fsyncs;
      datasyncs = 0; // creating the log fsyncs meta.json
      await appendN(log, 20, 'a-value-long-enough-to-roll-'); // 20 batches, several segments
      assert.ok((await readdir(join(dir, 'p0'))).length > 2, 'the segment rolled');
      assert.ok(log.stats().fsyncs - before >= 20, 'each batch counts as a durability step');
      // on Linux /proc/self/fdinfo shows each written fd's open flags (octal): all carry O_DSYNC
      const flagsOf = async (fd: number) => parseInt(/flags:\s+([0-7]+)/.exec(await readFile(`/proc/self/fdinfo/${fd}`, 'utf8'))![1], 8);
      const active = [...written].filter((fd) => fd >= 0);
      assert.ok(active.length > 0);
      const last = active[active.length - 1]; // the handle of the current active segment (older ones are closed)
      assert.equal((await flagsOf(last)) & constants.O_DSYNC, constants.O_DSYNC, 'the active segment is opened O_DSYNC');
      assert.equal(datasyncs, 0, 'no fdatasync after an O_DSYNC write');
      await log.close();
      const again = await FileLog.open({ dir });
      assert.equal((await again.read(0, 0n, 100)).length, 20, 'every acknowledged append is there after reopen');
      await again.close();
    } finally {
      proto.datasync = datasync;
      proto.write = write;
    }
  });
});

test('appends issued in one event-loop turn share one durable write per partition (group commit starts on the next turn)', async () => {
  await withTempDir(async (dir) => {
    const log = await FileLog.open({ dir, partitions: 4 });
    try {
      // docs spread over every partition; 16 appends in one synchronous burst, as one poll's requests
      const docs = Array.from({ length: 16 }, (_, i) => `doc-${i}`);
      const touched = new Set(docs.map((d) => log.partitionOf(d)));
      assert.equal(touched.size, 4, 'the burst covers every partition');
      const before = log.stats().fsyncs;
      const results = await Promise.all(docs.map((d, i) => log.append(d, bytes(`v${i}`))));
      assert.equal(log.stats().fsyncs - before, touched.size, 'one durable write per partition for the whole burst');
      // and the next burst, after the first was acknowledged, again one per partition
      const again = await Promise.all(docs.map((d, i) => log.append(d, bytes(`w${i}`))));
      assert.equal(log.stats().fsyncs - before, 2 * touched.size);
      for (const [i, r] of [...results, ...again].entries()) {
        const [rec] = await log.read(r.partition, r.offset, 1);
        assert.equal(text(rec.value), i < 16 ? `v${i}` : `w${i - 16}`);
      }
    } finally {
      await log.close();
    }
  });
});
