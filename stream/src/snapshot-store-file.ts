/**
 * The embedded default SnapshotStore: one JSON file per document under `<dir>/snapshots/<hh>/`
 * (hh = first byte of sha256(docId), so no directory grows huge and any docId maps to a safe,
 * case-insensitive-filesystem-proof name) plus `<dir>/snapshots/covered.json`.
 *
 * A commit writes every snapshot atomically (temp file written O_DSYNC or fdatasynced, rename), fsyncs the touched
 * directories, and only then replaces covered.json: a crash leaves covered offsets that are covered.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { DocSnapshot } from './doc-state.js';
import type { SnapshotStore } from './snapshot-store.js';
import { decodeCovered, decodeSnapshot, encodeCovered, encodeSnapshot, mergeCovered } from './snapshot-codec.js';
import { fsyncDir, writeFileAtomic, writeFileDurable } from './fs-util.js';
import { forEachLimit } from './limit.js';

export interface FileSnapshotStoreOptions {
  /** data directory; the store lives in `<dir>/snapshots/` */
  dir: string;
  /** file operations in flight at once during a commit (default 16) */
  concurrency?: number;
}


export class FileSnapshotStore implements SnapshotStore {
  private readonly root: string;
  private readonly coveredPath: string;
  private readonly knownDirs = new Set<string>();
  /** commits run one at a time (temp file names are per document) */
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    dir: string,
    private readonly offsets: Map<number, bigint>,
    private readonly concurrency: number,
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
    return new FileSnapshotStore(opts.dir, offsets, opts.concurrency ?? 16);
  }

  private pathOf(docId: string): { dir: string; file: string } {
    const h = createHash('sha256').update(docId).digest('hex');
    const dir = join(this.root, h.slice(0, 2));
    return { dir, file: join(dir, `${h}.json`) };
  }

  async get(docId: string): Promise<DocSnapshot | undefined> {
    let text: string;
    try {
      text = await readFile(this.pathOf(docId).file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
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
    // one file per document: if a batch holds a document twice, the newest snapshot wins
    const latest = new Map<string, DocSnapshot>();
    for (const s of snapshots) {
      const cur = latest.get(s.doc);
      if (cur === undefined || s.seq >= cur.seq) latest.set(s.doc, s);
    }
    const dirs = new Set<string>();
    await forEachLimit([...latest.values()], this.concurrency, async (s) => {
      const { dir, file } = this.pathOf(s.doc);
      await this.ensureDir(dir);
      dirs.add(dir);
      const tmp = `${file}.tmp`;
      await writeFileDurable(tmp, Buffer.from(encodeSnapshot(s), 'utf8'));
      await rename(tmp, file);
    });
    // the renames are durable once their directories are fsynced
    await forEachLimit([...dirs], this.concurrency, fsyncDir);
    const next = new Map(this.offsets);
    mergeCovered(next, covered);
    if (covered.size > 0) await writeFileAtomic(this.coveredPath, encodeCovered(next));
    for (const [p, off] of next) this.offsets.set(p, off);
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    const created = await mkdir(dir, { recursive: true });
    if (created !== undefined) await fsyncDir(this.root);
    this.knownDirs.add(dir);
  }

  async covered(partition: number): Promise<bigint> {
    return this.offsets.get(partition) ?? 0n;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.chain;
  }
}
