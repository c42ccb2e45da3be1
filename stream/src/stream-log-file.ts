/**
 * The embedded default StreamLog: append-only segment files per partition, made durable by group
 * commit (one durable write covers every append queued while the previous one ran).
 *
 * Durability: the active segment is opened with O_DSYNC, so a batch's write returns only once its
 * bytes (and the file size that reaches them) are on stable storage, as write + fdatasync would
 * give, in one syscall and one thread-pool round trip instead of two (measured: docs/benchmarks.md
 * "Origin CPU per write"). Where the platform has no O_DSYNC, a write is followed by fdatasync.
 *
 * Layout: `<dir>/meta.json` (partition count) and `<dir>/p<N>/<20-digit base offset>.log`.
 * Record framing (big-endian): payload length u32 | CRC32(payload) u32 | payload, where
 * payload = offset u64 | key length u16 | key (UTF-8 docId) | value (encoded Op).
 * On open, the last segment of each partition is scanned and a torn or corrupt tail (a crash in the
 * middle of an unacknowledged write) is truncated; appends continue after the last valid record.
 *
 * Retention (`retention`): whole sealed segments are deleted, oldest first, while a partition's
 * sealed segments exceed `bytes` (so a partition holds at most `bytes` plus its active segment) or
 * a segment's last write is older than `ms`; never a segment holding an offset at or past
 * `safeBefore(partition)` (the offset every snapshot covers) or that an open tail has yet to deliver.
 * It runs after every segment roll and on a timer. A read below the first retained offset is an
 * error, never a silent gap; readers start at covered offsets, and a resume older than what the
 * replica keeps gets a snapshot.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, readdir, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { BaseLog, RECORD_OVERHEAD } from './stream-log-base.js';
import type { LogBounds, QueuedRecord } from './stream-log-base.js';
import type { LogRecord } from './stream-log.js';
import { DSYNC, fsyncDir, readFully, writeFileAtomic, writeFully } from './fs-util.js';

export interface FileLogOptions extends LogBounds {
  dir: string;
  /** partition count: used when creating the log, checked against meta.json when opening one */
  partitions?: number;
  /** a segment rolls when the next record would take it past this size (default 64 MiB) */
  segmentBytes?: number;
  /** one sparse index entry (offset -> file position) per this many bytes of segment (default 4 KiB) */
  indexIntervalBytes?: number;
  retention?: FileLogRetention;
}

export interface FileLogRetention {
  /** per partition: sealed segments are deleted while they exceed this many bytes (0 / absent: no bound) */
  bytes?: number;
  /** sealed segments whose last write is older than this are deleted (0 / absent: no bound) */
  ms?: number;
  /** first offset that must be kept in `partition`: the offset every snapshot covers */
  safeBefore(partition: number): Promise<bigint> | bigint;
}

export const DEFAULT_FILE_LOG_PARTITIONS = 8;
const META_FILE = 'meta.json';
const SEGMENT_RE = /^(\d{20})\.log$/;
/** the active segment: read/write ('r+'), every write durable on return */
const ACTIVE_FLAGS = constants.O_RDWR | DSYNC;
/** a new active segment: created, never opened over an existing file ('wx+') */
const NEW_ACTIVE_FLAGS = constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | DSYNC;
const HEADER = 8; // payload length + crc
const PAYLOAD_FIXED = 10; // offset + key length
/** larger payload lengths are corruption, whatever the configured record limit was when written */
const MAX_PAYLOAD = 1 << 30;
const CHUNK = 1 << 20;

function segmentName(base: bigint): string {
  return `${base.toString().padStart(20, '0')}.log`;
}

/** Sparse index of one segment: record (offset - base) -> file position, ascending. */
interface SparseIndex {
  rel: number[];
  pos: number[];
  lastPos: number;
}

interface Segment {
  readonly base: bigint;
  readonly path: string;
  /** bytes written */
  size: number;
  /** bytes covered by an fsync; reads never go past it */
  durableSize: number;
  index?: SparseIndex;
  indexing?: Promise<SparseIndex>;
}

interface PartitionFiles {
  readonly dir: string;
  /** oldest first; replaced (never spliced) when retention drops segments, so a read in progress keeps its view */
  segments: Segment[];
  /** write handle of the active (last) segment, opened O_DSYNC (ACTIVE_FLAGS) */
  fh: FileHandle;
}

type Parsed =
  | { kind: 'record'; len: number; offset: bigint; keyLen: number }
  | { kind: 'incomplete'; need: number }
  | { kind: 'corrupt'; reason: string };

/** Validates the record at `at` (length bounds and CRC) without decoding key or value. */
function parseAt(buf: Buffer, at: number): Parsed {
  if (buf.length - at < HEADER) return { kind: 'incomplete', need: HEADER };
  const len = buf.readUInt32BE(at);
  if (len < PAYLOAD_FIXED || len > MAX_PAYLOAD) return { kind: 'corrupt', reason: `bad record length ${len}` };
  if (buf.length - at < HEADER + len) return { kind: 'incomplete', need: HEADER + len };
  const payload = buf.subarray(at + HEADER, at + HEADER + len);
  if (crc32(payload) !== buf.readUInt32BE(at + 4)) return { kind: 'corrupt', reason: 'CRC mismatch' };
  const keyLen = payload.readUInt16BE(8);
  if (PAYLOAD_FIXED + keyLen > len) return { kind: 'corrupt', reason: 'bad key length' };
  return { kind: 'record', len: HEADER + len, offset: payload.readBigUInt64BE(0), keyLen };
}

function encodeRecord(buf: Buffer, at: number, r: QueuedRecord): void {
  buf.writeUInt32BE(r.size - HEADER, at);
  buf.writeBigUInt64BE(r.offset, at + HEADER);
  buf.writeUInt16BE(r.keyBytes, at + HEADER + 8);
  buf.write(r.key, at + RECORD_OVERHEAD, 'utf8');
  buf.set(r.value, at + RECORD_OVERHEAD + r.keyBytes);
  buf.writeUInt32BE(crc32(buf.subarray(at + HEADER, at + r.size)), at + 4);
}

function newIndex(): SparseIndex {
  return { rel: [], pos: [], lastPos: 0 };
}

interface ScanResult {
  /** bytes of valid records from the start of the segment */
  validSize: number;
  /** offset after the last valid record */
  next: bigint;
  problem?: string;
}

/**
 * Walks a segment's records in order, checking framing, CRC and offset continuity; stops at the
 * first record that is torn, corrupt or out of sequence.
 */
async function scanSegment(
  fh: FileHandle,
  size: number,
  base: bigint,
  visit: (offset: bigint, pos: number) => void,
): Promise<ScanResult> {
  let pos = 0;
  let next = base;
  let want = CHUNK;
  while (pos < size) {
    const n = Math.min(want, size - pos);
    const buf = Buffer.allocUnsafe(n);
    await readFully(fh, buf, pos);
    let at = 0;
    let need = 0;
    for (;;) {
      const r = parseAt(buf, at);
      if (r.kind === 'incomplete') {
        need = r.need;
        break;
      }
      if (r.kind === 'corrupt') return { validSize: pos + at, next, problem: r.reason };
      if (r.offset !== next) return { validSize: pos + at, next, problem: `offset ${r.offset}, expected ${next}` };
      visit(r.offset, pos + at);
      next++;
      at += r.len;
    }
    pos += at;
    if (at === 0) {
      if (need > size - pos) return { validSize: pos, next, problem: 'torn record at end of segment' };
      want = Math.max(CHUNK, need);
    } else {
      want = CHUNK;
    }
  }
  return { validSize: pos, next };
}

async function readMeta(dir: string, requested: number | undefined): Promise<number> {
  const path = join(dir, META_FILE);
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== undefined) {
    const meta = JSON.parse(text) as { partitions?: unknown };
    const n = meta.partitions;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new Error(`${path}: invalid partition count`);
    if (requested !== undefined && requested !== n) {
      throw new Error(
        `file log at ${dir} has ${n} partitions but was opened with ${requested}: ` +
          'changing the partition count would move documents to other partitions',
      );
    }
    return n;
  }
  const n = requested ?? DEFAULT_FILE_LOG_PARTITIONS;
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new RangeError('partitions must be an integer in [1, 100000]');
  for (let p = 0; p < n; p++) await mkdir(join(dir, `p${p}`), { recursive: true });
  await fsyncDir(dir);
  // written last: a log without meta.json is an unfinished creation and is created again
  await writeFileAtomic(path, `${JSON.stringify({ version: 1, partitions: n })}\n`);
  return n;
}

export class FileLog extends BaseLog {
  private retaining: Promise<void> = Promise.resolve();
  private retentionTimer: NodeJS.Timeout | undefined;
  private deletedSegments = 0;

  private constructor(
    readonly dir: string,
    private readonly files: PartitionFiles[],
    ends: bigint[],
    private readonly segmentBytes: number,
    private readonly indexInterval: number,
    bounds: LogBounds,
    private readonly retention: FileLogRetention | undefined,
  ) {
    super('file', files.length, ends, bounds);
    if (retention?.ms) {
      // time-based retention also applies to partitions nobody writes to
      this.retentionTimer = setInterval(() => void this.enforceRetention(), Math.min(60_000, Math.max(1000, retention.ms / 10)));
      this.retentionTimer.unref();
    }
  }

  static async open(opts: FileLogOptions): Promise<FileLog> {
    const segmentBytes = opts.segmentBytes ?? 64 * 1024 * 1024;
    const indexInterval = opts.indexIntervalBytes ?? 4096;
    await mkdir(opts.dir, { recursive: true });
    const partitions = await readMeta(opts.dir, opts.partitions);
    const files: PartitionFiles[] = [];
    const ends: bigint[] = [];
    try {
      for (let p = 0; p < partitions; p++) {
        const { files: f, end } = await FileLog.recoverPartition(join(opts.dir, `p${p}`), indexInterval);
        files.push(f);
        ends.push(end);
      }
    } catch (err) {
      await Promise.all(files.map((f) => f.fh.close()));
      throw err;
    }
    const log = new FileLog(opts.dir, files, ends, segmentBytes, indexInterval, opts, opts.retention);
    if (opts.retention) void log.enforceRetention();
    return log;
  }

  private static async recoverPartition(
    dir: string,
    indexInterval: number,
  ): Promise<{ files: PartitionFiles; end: bigint }> {
    await mkdir(dir, { recursive: true });
    const names = (await readdir(dir)).filter((n) => SEGMENT_RE.test(n)).sort(); // zero-padded: lexical = numeric
    const segments: Segment[] = [];
    for (const n of names) {
      const path = join(dir, n);
      const { size } = await stat(path);
      segments.push({ base: BigInt(n.slice(0, 20)), path, size, durableSize: size });
    }
    if (segments.length === 0) {
      const path = join(dir, segmentName(0n));
      await (await open(path, 'wx+')).close();
      await fsyncDir(dir);
      segments.push({ base: 0n, path, size: 0, durableSize: 0 });
    }
    const last = segments[segments.length - 1];
    const fh = await open(last.path, ACTIVE_FLAGS);
    try {
      const index = newIndex();
      const scan = await scanSegment(fh, last.size, last.base, (offset, pos) =>
        indexAdd(index, indexInterval, Number(offset - last.base), pos),
      );
      if (scan.validSize < last.size) {
        console.warn(
          `file log: truncating ${last.path} from ${last.size} to ${scan.validSize} bytes (${scan.problem ?? 'invalid tail'})`,
        );
        await fh.truncate(scan.validSize);
        await fh.datasync();
        last.size = last.durableSize = scan.validSize;
      }
      last.index = index;
      return { files: { dir, segments, fh }, end: scan.next };
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  protected async persist(partition: number, batch: readonly QueuedRecord[]): Promise<void> {
    const fp = this.files[partition];
    let i = 0;
    while (i < batch.length) {
      let seg = fp.segments[fp.segments.length - 1];
      if (seg.size > 0 && seg.size + batch[i].size > this.segmentBytes) seg = await this.roll(fp, batch[i].offset);
      // as many records as fit in this segment (always at least one)
      let j = i;
      let bytes = 0;
      do {
        bytes += batch[j].size;
        j++;
      } while (j < batch.length && seg.size + bytes + batch[j].size <= this.segmentBytes);
      const buf = Buffer.allocUnsafe(bytes);
      const index = seg.index ?? (seg.index = newIndex());
      let at = 0;
      for (let k = i; k < j; k++) {
        const r = batch[k];
        encodeRecord(buf, at, r);
        indexAdd(index, this.indexInterval, Number(r.offset - seg.base), seg.size + at);
        at += r.size;
      }
      // durable on return with O_DSYNC: one syscall for the write and its sync
      await writeFully(fp.fh, buf, seg.size);
      seg.size += bytes;
      if (DSYNC === 0) await fp.fh.datasync();
      this.countFsync();
      seg.durableSize = seg.size;
      i = j;
    }
  }

  /** Starts a new segment at `base`; the previous one was fsynced by the write that filled it. */
  private async roll(fp: PartitionFiles, base: bigint): Promise<Segment> {
    await fp.fh.close();
    const path = join(fp.dir, segmentName(base));
    fp.fh = await open(path, NEW_ACTIVE_FLAGS, 0o666);
    await fsyncDir(fp.dir);
    this.countFsync();
    const seg: Segment = { base, path, size: 0, durableSize: 0, index: newIndex() };
    fp.segments.push(seg);
    if (this.retention) void this.enforceRetention();
    return seg;
  }

  /**
   * Deletes the sealed segments retention allows (see the module header); one pass at a time.
   * Resolves when this pass is done; failures are logged and retried by the next pass.
   */
  enforceRetention(): Promise<void> {
    const r = this.retention;
    if (!r) return Promise.resolve();
    this.retaining = this.retaining.then(async () => {
      for (let p = 0; p < this.files.length; p++) {
        try {
          await this.retainPartition(p, r);
        } catch (err) {
          console.error(`file log: retention of partition ${p} failed (${(err as Error).message}); retried at the next roll`);
        }
      }
    });
    return this.retaining;
  }

  private async retainPartition(p: number, r: FileLogRetention): Promise<void> {
    const fp = this.files[p];
    if (fp.segments.length < 2) return;
    let safe = await r.safeBefore(p);
    const low = this.tailLowWater(p);
    if (low !== undefined && low < safe) safe = low;
    let sealed = 0;
    for (let i = 0; i < fp.segments.length - 1; i++) sealed += fp.segments[i].size;
    const now = Date.now();
    let drop = 0;
    // segments[drop] is deletable when everything in it is below `safe` (the next segment starts at or before it)
    while (drop < fp.segments.length - 1 && fp.segments[drop + 1].base <= safe) {
      const seg = fp.segments[drop];
      const overBytes = r.bytes !== undefined && r.bytes > 0 && sealed > r.bytes;
      const overAge = r.ms !== undefined && r.ms > 0 && now - (await stat(seg.path)).mtimeMs > r.ms;
      if (!overBytes && !overAge) break;
      sealed -= seg.size;
      drop++;
    }
    if (drop === 0) return;
    const gone = fp.segments.slice(0, drop);
    fp.segments = fp.segments.slice(drop);
    for (const seg of gone) {
      await unlink(seg.path);
      this.deletedSegments++;
    }
    await fsyncDir(fp.dir);
  }

  /** the first offset still stored in `partition` */
  startOffset(partition: number): bigint {
    return this.files[partition].segments[0].base;
  }

  /** StreamLog.logStart: the first offset still stored in `partition` */
  logStart(partition: number): Promise<bigint> {
    return Promise.resolve(this.startOffset(partition));
  }

  /** segments deleted by retention since open */
  get retentionDeletes(): number {
    return this.deletedSegments;
  }

  /** The sparse index of a sealed segment from before this open is built on its first read. */
  private segmentIndex(seg: Segment): Promise<SparseIndex> {
    if (seg.index) return Promise.resolve(seg.index);
    seg.indexing ??= (async () => {
      const fh = await open(seg.path, 'r');
      try {
        const index = newIndex();
        const scan = await scanSegment(fh, seg.durableSize, seg.base, (offset, pos) =>
          indexAdd(index, this.indexInterval, Number(offset - seg.base), pos),
        );
        if (scan.problem) throw new Error(`file log: ${seg.path} is corrupt at byte ${scan.validSize}: ${scan.problem}`);
        seg.index = index;
        return index;
      } finally {
        seg.indexing = undefined;
        await fh.close();
      }
    })();
    return seg.indexing;
  }

  protected async readStored(
    partition: number,
    from: bigint,
    maxRecords: number,
    maxBytes: number,
    end: bigint,
  ): Promise<LogRecord[]> {
    const segments = this.files[partition].segments;
    if (from < segments[0].base) {
      throw new RangeError(`file log: offset ${from} of partition ${partition} was deleted by retention (the log starts at ${segments[0].base})`);
    }
    const out: LogRecord[] = [];
    let bytes = 0;
    let cursor = from;
    // last segment whose base <= from
    let lo = 0;
    let hi = segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segments[mid].base <= from) lo = mid;
      else hi = mid - 1;
    }
    for (let si = lo; si < segments.length && out.length < maxRecords && bytes < maxBytes && cursor < end; si++) {
      const seg = segments[si];
      if (seg.base > cursor) cursor = seg.base;
      const limit = seg.durableSize;
      const index = await this.segmentIndex(seg);
      let pos = indexLookup(index, Number(cursor - seg.base));
      const fh = await open(seg.path, 'r');
      try {
        let want = CHUNK;
        while (pos < limit && out.length < maxRecords && bytes < maxBytes && cursor < end) {
          const buf = Buffer.allocUnsafe(Math.min(want, limit - pos));
          await readFully(fh, buf, pos);
          let at = 0;
          let need = 0;
          while (out.length < maxRecords && bytes < maxBytes) {
            const r = parseAt(buf, at);
            if (r.kind === 'incomplete') {
              need = r.need;
              break;
            }
            if (r.kind === 'corrupt') throw new Error(`file log: ${seg.path} is corrupt at byte ${pos + at}: ${r.reason}`);
            if (r.offset >= end) {
              cursor = end;
              break;
            }
            if (r.offset >= cursor) {
              const k = at + RECORD_OVERHEAD;
              out.push({
                partition,
                offset: r.offset,
                key: buf.toString('utf8', k, k + r.keyLen),
                // a copy, so a delivered record does not pin the whole read chunk
                value: new Uint8Array(buf.subarray(k + r.keyLen, at + r.len)),
              });
              bytes += r.len;
              cursor = r.offset + 1n;
            }
            at += r.len;
          }
          if (at === 0 && need > limit - pos) throw new Error(`file log: ${seg.path} ends inside a record at byte ${pos}`);
          pos += at;
          want = at === 0 ? Math.max(CHUNK, need) : CHUNK;
        }
      } finally {
        await fh.close();
      }
    }
    return out;
  }

  protected async closeStorage(): Promise<void> {
    clearInterval(this.retentionTimer);
    await this.retaining;
    await Promise.all(this.files.map((f) => f.fh.close()));
  }

  /** segment files of a partition (base offsets), for tests and operations */
  segmentBases(partition: number): bigint[] {
    return this.files[partition].segments.map((s) => s.base);
  }
}

function indexAdd(index: SparseIndex, interval: number, rel: number, pos: number): void {
  if (index.rel.length === 0 || pos - index.lastPos >= interval) {
    index.rel.push(rel);
    index.pos.push(pos);
    index.lastPos = pos;
  }
}

/** file position of the last indexed record at or before `rel` (0 when none) */
function indexLookup(index: SparseIndex, rel: number): number {
  let lo = 0;
  let hi = index.rel.length - 1;
  let best = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (index.rel[mid] <= rel) {
      best = index.pos[mid];
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}
