/**
 * The embedded default SnapshotStore: each document's snapshot in two slot files under
 * `<dir>/snapshots/<hh>/` (hh = first byte of sha256(docId), so no directory grows huge and any
 * docId maps to a safe, case-insensitive-filesystem-proof name), `<hash>.s0` and `<hash>.s1`, plus
 * `<dir>/snapshots/covered.json`.
 *
 * A slot file is a header line `RSNAP1 <length> <crc32 hex>` then the snapshot's JSON (bytes past
 * `length` are left over from a longer earlier snapshot and ignored). A commit overwrites, in place
 * and O_DSYNC, the slot that does NOT hold the document's newest valid snapshot, so a crash in the
 * middle of that write tears only the older slot (its CRC fails and the other slot is read); no
 * temp file, rename or directory fsync per document (measured: a quarter of the CPU of the
 * temp-file-and-rename commit, docs/benchmarks.md "Origin CPU per write"). Only creating a slot
 * file fsyncs its directory. A slot file never shrinks: it holds at most the largest snapshot
 * written to it (each bounded by MAX_DOC_BYTES). Every snapshot is durable before covered.json is replaced: a crash
 * leaves covered offsets that are covered.
 *
 * Which slot is newest is known for up to `slotCacheEntries` documents (default 10 000, the most
 * recently committed; count bound, about 150 B each); for others a commit reads both slots first.
 * Only commits (one at a time) fill it, never reads, so it never goes stale. The most recently
 * written `openSlotFiles` slot files (default 256) stay open between commits, so a hot document's
 * checkpoint is one durable pwrite. A `<hash>.json` from before the slot files (whole-file
 * snapshots replaced by rename) is read while a document has no valid slot.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { FileHandle } from 'node:fs/promises';
import type { DocSnapshot } from './doc-state.js';
import type { SnapshotStore } from './snapshot-store.js';
import { decodeCovered, decodeSnapshot, encodeCovered, encodeSnapshot, mergeCovered } from './snapshot-codec.js';
import { DSYNC, fsyncDir, writeFileAtomic, writeFully } from './fs-util.js';
import { forEachLimit } from './limit.js';

export interface FileSnapshotStoreOptions {
  /** data directory; the store lives in `<dir>/snapshots/` */
  dir: string;
  /** file operations in flight at once during a commit (default 16) */
  concurrency?: number;
  /** documents whose newest slot is remembered (default 10 000); others cost a commit two reads */
  slotCacheEntries?: number;
  /** slot files kept open between commits, most recently written (default 256); others are opened per write */
  openSlotFiles?: number;
}

export const DEFAULT_SLOT_CACHE_ENTRIES = 10_000;
export const DEFAULT_OPEN_SLOT_FILES = 256;
const SLOT_MAGIC = 'RSNAP1';
/** a slot file's header line is at most this long */
const MAX_HEADER = 64;
/** slot files are written in place (no O_TRUNC), created when missing */
const SLOT_FLAGS = constants.O_WRONLY | constants.O_CREAT | DSYNC;

/** what a commit knows of a document's slot files */
interface SlotState {
  /** the slot holding the newest valid snapshot, or -1 when neither does */
  newest: -1 | 0 | 1;
  /** bit i set: slot file i exists (writing a missing one creates it and needs a directory fsync) */
  exists: number;
}

interface SlotRead {
  /** the decoded snapshot, undefined when the slot is missing or invalid (torn, corrupt) */
  snap?: DocSnapshot;
  exists: boolean;
}

/** header line + JSON: the bytes of one slot file */
export function encodeSlot(s: DocSnapshot): Buffer {
  const body = Buffer.from(encodeSnapshot(s), 'utf8');
  const header = Buffer.from(`${SLOT_MAGIC} ${body.length} ${crc32(body).toString(16)}\n`, 'latin1');
  return Buffer.concat([header, body]);
}

/** the snapshot in a slot file's bytes, or undefined when they are not a complete, intact slot */
export function decodeSlot(buf: Buffer, docId: string): DocSnapshot | undefined {
  const nl = buf.subarray(0, MAX_HEADER).indexOf(10);
  if (nl < 0) return undefined;
  const m = /^RSNAP1 (\d{1,10}) ([0-9a-f]{1,8})$/.exec(buf.toString('latin1', 0, nl));
  if (!m) return undefined;
  const len = Number(m[1]);
  if (nl + 1 + len > buf.length) return undefined;
  const body = buf.subarray(nl + 1, nl + 1 + len);
  if (crc32(body) !== parseInt(m[2], 16)) return undefined;
  const s = decodeSnapshot(body.toString('utf8'));
  if (s.doc !== docId) throw new Error(`snapshot file for ${docId} holds ${s.doc}`);
  return s;
}


export class FileSnapshotStore implements SnapshotStore {
  private readonly root: string;
  private readonly coveredPath: string;
  private readonly knownDirs = new Set<string>();
  /** hash -> slot state, least recently committed first; at most slotCacheEntries */
  private readonly slots = new Map<string, SlotState>();
  /** path -> open slot file, least recently written first; at most openSlotFiles between commits */
  private readonly handles = new Map<string, FileHandle>();
  /** directories holding slot files created since their last fsync */
  private readonly unsyncedDirs = new Set<string>();
  /** commits run one at a time (a commit's slot choice relies on the one before it) */
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    dir: string,
    private readonly offsets: Map<number, bigint>,
    private readonly concurrency: number,
    private readonly slotCacheEntries: number,
    private readonly openSlotFiles: number,
  ) {
    this.root = join(dir, 'snapshots');
    this.coveredPath = join(this.root, 'covered.json');
  }

  static async open(opts: FileSnapshotStoreOptions): Promise<FileSnapshotStore> {
    const root = join(opts.dir, 'snapshots');
    await mkdir(root, { recursive: true });
    let offsets = new Map<number, bigint>();
    try {
      offsets = decodeCovered(await readFile(join(root, 'covered.json'), 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return new FileSnapshotStore(
      opts.dir,
      offsets,
      opts.concurrency ?? 16,
      Math.max(0, opts.slotCacheEntries ?? DEFAULT_SLOT_CACHE_ENTRIES),
      Math.max(0, opts.openSlotFiles ?? DEFAULT_OPEN_SLOT_FILES),
    );
  }

  private pathOf(docId: string): { hash: string; dir: string; base: string } {
    const hash = createHash('sha256').update(docId).digest('hex');
    const dir = join(this.root, hash.slice(0, 2));
    return { hash, dir, base: join(dir, hash) };
  }

  private async readSlot(path: string, docId: string): Promise<SlotRead> {
    let buf: Buffer;
    try {
      buf = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false };
      throw err;
    }
    return { snap: decodeSlot(buf, docId), exists: true };
  }

  private async readSlots(base: string, docId: string): Promise<[SlotRead, SlotRead]> {
    return Promise.all([this.readSlot(`${base}.s0`, docId), this.readSlot(`${base}.s1`, docId)]);
  }

  /** the newest valid slot of two reads (slot 0 on a tie: the same seq is the same snapshot) */
  private static newest(r: [SlotRead, SlotRead]): -1 | 0 | 1 {
    const [a, b] = r;
    if (a.snap && b.snap) return b.snap.seq > a.snap.seq ? 1 : 0;
    return a.snap ? 0 : b.snap ? 1 : -1;
  }

  get(docId: string): Promise<DocSnapshot | undefined> {
    return this.read(docId, false);
  }

  private async read(docId: string, again: boolean): Promise<DocSnapshot | undefined> {
    const { base } = this.pathOf(docId);
    const r = await this.readSlots(base, docId);
    const i = FileSnapshotStore.newest(r);
    if (i !== -1) return r[i].snap;
    let text: string;
    try {
      text = await readFile(`${base}.json`, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // both slots present and neither intact: a torn write only ever hits the older one, but a read
      // that spanned two commits of this doc saw each slot mid-write; once more after the commits
      if (r[0].exists && r[1].exists) {
        if (!again) {
          await this.chain;
          return this.read(docId, true);
        }
        throw new Error(`both snapshot slots of ${docId} are corrupt`);
      }
      return undefined;
    }
    const s = decodeSnapshot(text);
    if (s.doc !== docId) throw new Error(`snapshot file for ${docId} holds ${s.doc}`);
    return s;
  }

  commit(snapshots: DocSnapshot[], covered: Map<number, bigint>): Promise<void> {
    if (this.closed) return Promise.reject(new Error('snapshot store is closed'));
    const run = this.chain.then(() => this.commitNow(snapshots, covered));
    this.chain = run.catch(() => {});
    return run;
  }

  private async commitNow(snapshots: DocSnapshot[], covered: Map<number, bigint>): Promise<void> {
    // one write per document: if a batch holds a document twice, the newest snapshot wins
    const latest = new Map<string, DocSnapshot>();
    for (const s of snapshots) {
      const cur = latest.get(s.doc);
      if (cur === undefined || s.seq >= cur.seq) latest.set(s.doc, s);
    }
    try {
      await forEachLimit([...latest.values()], this.concurrency, (s) => this.writeSlot(s));
    } finally {
      await this.trimHandles(this.openSlotFiles);
    }
    // slot files created (by this commit or a failed one) are durable once their directories are fsynced
    const dirs = [...this.unsyncedDirs];
    await forEachLimit(dirs, this.concurrency, fsyncDir);
    for (const d of dirs) this.unsyncedDirs.delete(d);
    const next = new Map(this.offsets);
    mergeCovered(next, covered);
    if (covered.size > 0) await writeFileAtomic(this.coveredPath, encodeCovered(next));
    for (const [p, off] of next) this.offsets.set(p, off);
  }

  /** Writes `s` over the slot not holding the newest valid snapshot; notes a created file's directory. */
  private async writeSlot(s: DocSnapshot): Promise<void> {
    const { hash, dir, base } = this.pathOf(s.doc);
    let st = this.slots.get(hash);
    if (st === undefined) {
      const r = await this.readSlots(base, s.doc);
      st = { newest: FileSnapshotStore.newest(r), exists: (r[0].exists ? 1 : 0) | (r[1].exists ? 2 : 0) };
    } else {
      this.slots.delete(hash); // re-inserted below as the most recently committed, or dropped on failure
    }
    const target = st.newest === 0 ? 1 : 0;
    const data = encodeSlot(s);
    if ((st.exists & (1 << target)) === 0) {
      await this.ensureDir(dir);
      // before the file can exist: a creation whose write fails is still fsynced by a later commit
      this.unsyncedDirs.add(dir);
    }
    // a document is written once per commit, so no other write of this commit uses this handle
    const path = `${base}.s${target}`;
    let fh = this.handles.get(path);
    if (fh !== undefined) this.handles.delete(path);
    else fh = await open(path, SLOT_FLAGS, 0o666);
    try {
      await writeFully(fh, data, 0);
      if (DSYNC === 0) await fh.datasync();
    } catch (err) {
      await fh.close().catch(() => {});
      throw err;
    }
    this.handles.set(path, fh);
    // trimmed per write, not per commit: a commit of more documents than the fd limit must not
    // hold one file open per document (handles being written are out of the map, so at most
    // openSlotFiles + concurrency files are open)
    await this.trimHandles(this.openSlotFiles);
    if (this.slotCacheEntries === 0) return;
    this.slots.set(hash, { newest: target, exists: st.exists | (1 << target) });
    if (this.slots.size > this.slotCacheEntries) this.slots.delete(this.slots.keys().next().value as string);
  }

  /** closes the least recently written slot files over `keep` */
  private async trimHandles(keep: number): Promise<void> {
    while (this.handles.size > keep) {
      const [path, fh] = this.handles.entries().next().value as [string, FileHandle];
      this.handles.delete(path);
      await fh.close().catch((err: Error) => console.error(`snapshot store: closing ${path}: ${err.message}`));
    }
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    const created = await mkdir(dir, { recursive: true });
    if (created !== undefined) await fsyncDir(this.root);
    this.knownDirs.add(dir);
  }

  /** documents whose newest slot is remembered (tests, diagnostics) */
  get slotCacheSize(): number {
    return this.slots.size;
  }

  /** slot files open between commits (tests, diagnostics) */
  get openSlotFileCount(): number {
    return this.handles.size;
  }

  async covered(partition: number): Promise<bigint> {
    return this.offsets.get(partition) ?? 0n;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.chain;
    await this.trimHandles(0);
  }
}
