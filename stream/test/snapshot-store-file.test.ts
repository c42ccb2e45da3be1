/**
 * FileSnapshotStore's slot files: a commit overwrites the older of a document's two slots in place
 * (no temp file, rename or directory fsync once both exist), a torn write of that slot leaves the
 * newest snapshot readable, the slot cache is bounded, and pre-slot `<hash>.json` files are read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { DocSnapshot } from '../src/doc-state.js';
import { FileSnapshotStore, decodeSlot, encodeSlot } from '../src/snapshot-store-file.js';
import { encodeSnapshot } from '../src/snapshot-codec.js';
import { withTempDir } from '@replicant/testkit';

function snap(doc: string, seq: bigint, state: DocSnapshot['state']): DocSnapshot {
  return { doc, seq, state, keys: [] };
}

/** `<dir>/snapshots/<hh>/<hash>` of a document: its slot files are `.s0` and `.s1` */
function baseOf(dir: string, docId: string): string {
  const h = createHash('sha256').update(docId).digest('hex');
  return join(dir, 'snapshots', h.slice(0, 2), h);
}

async function slotSeq(dir: string, docId: string, slot: 0 | 1): Promise<bigint | undefined> {
  return decodeSlot(await readFile(`${baseOf(dir, docId)}.s${slot}`), docId)?.seq;
}

/** a crash in the middle of writing `slot`: its header is new, the rest of its bytes are not */
async function tear(dir: string, docId: string, slot: 0 | 1, next: DocSnapshot): Promise<void> {
  const data = encodeSlot(next);
  const fh = await open(`${baseOf(dir, docId)}.s${slot}`, 'r+');
  try {
    await fh.write(data, 0, Math.floor(data.length / 2), 0);
  } finally {
    await fh.close();
  }
}

test('FileSnapshotStore: once both slots exist a commit overwrites the older one in place, with no new file, rename or fsync', async () => {
  await withTempDir(async (dir) => {
    const store = await FileSnapshotStore.open({ dir });
    await store.commit([snap('d', 1n, { v: 1 })], new Map([[0, 1n]]));
    await store.commit([snap('d', 2n, { v: 2 })], new Map([[0, 2n]]));
    const base = baseOf(dir, 'd');
    const inodes = [(await stat(`${base}.s0`)).ino, (await stat(`${base}.s1`)).ino];
    // FileHandle's prototype, shared by every handle: count fsyncs (directories) and datasyncs
    const probe = await open(dir, 'r');
    const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void>; datasync: () => Promise<void> };
    await probe.close();
    const { sync, datasync } = proto;
    let syncs = 0;
    proto.sync = function (this: FileHandle) {
      syncs++;
      return sync.call(this);
    };
    proto.datasync = function (this: FileHandle) {
      syncs++;
      return datasync.call(this);
    };
    try {
      for (let seq = 3n; seq <= 6n; seq++) {
        // no covered offsets: covered.json (which is replaced by rename) is not rewritten
        await store.commit([snap('d', seq, { v: Number(seq) })], new Map());
        const newest = Number(seq % 2n === 1n ? 0 : 1) as 0 | 1;
        assert.equal(await slotSeq(dir, 'd', newest), seq, `commit ${seq} wrote slot ${newest}`);
        assert.equal(await slotSeq(dir, 'd', (1 - newest) as 0 | 1), seq - 1n, 'the previous snapshot is untouched');
      }
    } finally {
      proto.sync = sync;
      proto.datasync = datasync;
    }
    assert.equal(syncs, 0, 'no directory fsync and no fdatasync (the slot is written O_DSYNC)');
    assert.deepEqual([(await stat(`${base}.s0`)).ino, (await stat(`${base}.s1`)).ino], inodes, 'the same two files, written in place');
    assert.deepEqual((await store.get('d'))?.state, { v: 6 });
    await store.close();
  });
});

test('FileSnapshotStore: a torn write of the older slot leaves the newest snapshot; the next commit overwrites the torn slot, never the newest', async () => {
  await withTempDir(async (dir) => {
    const store = await FileSnapshotStore.open({ dir });
    await store.commit([snap('d', 1n, { v: 1 })], new Map([[0, 1n]]));
    await store.commit([snap('d', 2n, { v: 2 })], new Map([[0, 2n]]));
    await store.close();
    // crash while commit 3 was writing slot 0 (the older one); covered.json still says 2
    await tear(dir, 'd', 0, snap('d', 3n, { v: 3, pad: 'x'.repeat(500) }));
    const again = await FileSnapshotStore.open({ dir });
    assert.equal(await again.covered(0), 2n);
    assert.deepEqual(await again.get('d'), snap('d', 2n, { v: 2 }), 'the newest intact snapshot');
    // a fresh store knows no slots: it reads both before choosing, and writes the torn one
    await again.commit([snap('d', 3n, { v: 3 })], new Map([[0, 3n]]));
    assert.equal(await slotSeq(dir, 'd', 0), 3n);
    assert.equal(await slotSeq(dir, 'd', 1), 2n, 'the newest snapshot before the commit was not overwritten');
    assert.deepEqual((await again.get('d'))?.state, { v: 3 });
    await again.close();
    // both slots unreadable is corruption, not a missing document
    await tear(dir, 'd', 1, snap('d', 4n, { v: 4, pad: 'y'.repeat(500) }));
    await tear(dir, 'd', 0, snap('d', 5n, { v: 5, pad: 'z'.repeat(500) }));
    const third = await FileSnapshotStore.open({ dir });
    await assert.rejects(third.get('d'), /both snapshot slots of d are corrupt/);
    await third.close();
  });
});

test('FileSnapshotStore: the slot cache holds at most slotCacheEntries documents; a document it forgot keeps its newest slot', async () => {
  await withTempDir(async (dir) => {
    const store = await FileSnapshotStore.open({ dir, slotCacheEntries: 2 });
    const docs = ['a', 'b', 'c', 'd', 'e'];
    await store.commit(docs.map((d) => snap(d, 1n, { d })), new Map([[0, 1n]]));
    assert.equal(store.slotCacheSize, 2);
    await store.commit([snap('e', 2n, { d: 'e2' })], new Map([[0, 2n]]));
    await store.commit([snap('d', 2n, { d: 'd2' })], new Map([[0, 3n]]));
    assert.equal(store.slotCacheSize, 2);
    // 'a' was forgotten after the first commit: its next two commits go to slot 1, then slot 0
    await store.commit([snap('a', 2n, { d: 'a2' })], new Map([[0, 4n]]));
    assert.deepEqual([await slotSeq(dir, 'a', 0), await slotSeq(dir, 'a', 1)], [1n, 2n]);
    await store.commit([snap('b', 2n, { d: 'b2' })], new Map([[0, 5n]]));
    await store.commit([snap('c', 2n, { d: 'c2' })], new Map([[0, 6n]]));
    await store.commit([snap('a', 3n, { d: 'a3' })], new Map([[0, 7n]]));
    assert.deepEqual([await slotSeq(dir, 'a', 0), await slotSeq(dir, 'a', 1)], [3n, 2n]);
    assert.equal(store.slotCacheSize, 2);
    for (const d of docs) assert.ok((await store.get(d))!.seq >= 2n);
    await store.close();
  });
});

test('FileSnapshotStore: a <hash>.json from before the slot files is read until the document is committed again', async () => {
  await withTempDir(async (dir) => {
    const old = snap('legacy', 7n, { v: 'old' });
    await mkdir(join(baseOf(dir, 'legacy'), '..'), { recursive: true });
    await writeFile(`${baseOf(dir, 'legacy')}.json`, encodeSnapshot(old));
    const store = await FileSnapshotStore.open({ dir });
    assert.deepEqual(await store.get('legacy'), old);
    // a torn first slot write (no other slot): the old file still answers
    await store.commit([snap('legacy', 8n, { v: 'new' })], new Map([[0, 8n]]));
    assert.deepEqual((await store.get('legacy'))?.state, { v: 'new' });
    await tear(dir, 'legacy', 0, snap('legacy', 9n, { v: 'torn', pad: 'x'.repeat(500) }));
    assert.deepEqual(await store.get('legacy'), old);
    await store.close();
  });
});

/** paths of this process's open files (Linux /proc/self/fd) */
function openPaths(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      out.push(readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // closed meanwhile (the readdir's own fd)
    }
  }
  return out;
}

test('FileSnapshotStore keeps at most openSlotFiles slot files open between commits, the most recently written, and closes them on close', async () => {
  await withTempDir(async (dir) => {
    const store = await FileSnapshotStore.open({ dir, openSlotFiles: 3 });
    await store.commit([snap('a', 1n, {}), snap('b', 1n, {})], new Map([[0, 1n]]));
    await store.commit([snap('a', 2n, {}), snap('b', 2n, {})], new Map([[0, 2n]]));
    // a's and b's slot 1 were written last; one of the two slot 0 files was closed
    const slots = () => openPaths().filter((p) => p.startsWith(join(dir, 'snapshots')) && /\.s[01]$/.test(p));
    assert.equal(store.openSlotFileCount, 3);
    assert.equal(slots().length, 3);
    assert.ok(slots().includes(`${baseOf(dir, 'a')}.s1`) && slots().includes(`${baseOf(dir, 'b')}.s1`));
    // the open handle writes the next snapshot in place
    await store.commit([snap('a', 3n, { v: 3 })], new Map([[0, 3n]]));
    assert.deepEqual((await store.get('a'))?.state, { v: 3 });
    assert.equal(slots().length, 3);
    await store.close();
    assert.equal(store.openSlotFileCount, 0);
    assert.deepEqual(slots(), []);
  });
});

test('FileSnapshotStore: a commit of many documents never holds more than openSlotFiles + concurrency slot files open', async () => {
  await withTempDir(async (dir) => {
    const store = await FileSnapshotStore.open({ dir, openSlotFiles: 4, concurrency: 2 });
    const slots = () => openPaths().filter((p) => p.startsWith(join(dir, 'snapshots')) && /\.s[01]$/.test(p)).length;
    let most = 0;
    let done = false;
    const commit = store.commit(
      Array.from({ length: 60 }, (_, i) => snap(`many-${i}`, 1n, { i })),
      new Map([[0, 1n]]),
    ).finally(() => (done = true));
    // sample the process's open slot files while the commit runs
    while (!done) {
      most = Math.max(most, slots());
      await new Promise((r) => setImmediate(r));
    }
    await commit;
    assert.ok(most > 0, 'sampled during the commit');
    assert.ok(most <= 4 + 2, `at most openSlotFiles + concurrency open during the commit (saw ${most})`);
    assert.equal(store.openSlotFileCount, 4);
    await store.close();
  });
});

test('FileSnapshotStore: a slot file created by a commit that failed has its directory fsynced by the next commit', async () => {
  await withTempDir(async (dir) => {
    const store = await FileSnapshotStore.open({ dir });
    // two docs in different shard directories
    const other = ['y', 'z', 'w', 'v'].find((d) => baseOf(dir, d).split('/').at(-2) !== baseOf(dir, 'x').split('/').at(-2))!;
    const probe = await open(dir, 'r');
    const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void>; write: (...a: unknown[]) => Promise<unknown> };
    await probe.close();
    const { sync, write } = proto;
    proto.write = function (this: FileHandle) {
      return Promise.reject(new Error('EIO: injected'));
    };
    try {
      await assert.rejects(store.commit([snap('x', 1n, {})], new Map([[0, 1n]])), /injected/);
    } finally {
      proto.write = write;
    }
    assert.equal(await store.covered(0), 0n, 'a failed commit advances nothing');
    const synced: string[] = [];
    proto.sync = function (this: FileHandle) {
      synced.push(readlinkSync(`/proc/self/fd/${this.fd}`));
      return sync.call(this);
    };
    try {
      await store.commit([snap(other, 1n, {})], new Map([[0, 1n]]));
    } finally {
      proto.sync = sync;
    }
    assert.ok(synced.includes(join(baseOf(dir, 'x'), '..')), `x's directory fsynced (synced: ${synced.join(', ')})`);
    await store.commit([snap('x', 2n, { v: 2 })], new Map([[0, 2n]]));
    assert.deepEqual((await store.get('x'))?.state, { v: 2 });
    await store.close();
  });
});
