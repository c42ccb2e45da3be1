/**
 * `fileStorage(dir)`: the Node outbox storage. An append-only file of JSON lines (`{"put":op}`,
 * `{"del":id}`), fsynced before `put` resolves; writes issued together share one fsync. On open,
 * and whenever deletions outnumber live ops by COMPACT_SLACK, the file is rewritten with only the
 * live ops (write a temp file, fsync, rename, fsync the directory), so its size stays bounded by
 * the outbox's own bound. A torn last line (crash mid-append) is ignored: its put never resolved.
 *
 * One client process at a time per directory (it is not locked against a second process).
 * node:fs is imported lazily, so the browser bundle never touches it.
 */
import { compareStored, isStoredOp, type OutboxStorage, type StoredOp } from './storage.js';

const FILE = 'outbox.jsonl';
const COMPACT_SLACK = 1000;

type Fs = typeof import('node:fs/promises');
type FileHandle = Awaited<ReturnType<Fs['open']>>;

export function fileStorage(dir: string): OutboxStorage {
  let opened: Promise<{ fs: Fs; path: string; fh: FileHandle }> | undefined;
  const live = new Map<string, StoredOp>();
  let dead = 0;
  let queue: { line: string; resolve: () => void; reject: (e: unknown) => void }[] = [];
  let writing: Promise<void> | undefined;

  const open = () =>
    (opened ??= (async () => {
      const fs = await import('node:fs/promises');
      const { join } = await import('node:path');
      await fs.mkdir(dir, { recursive: true });
      const path = join(dir, FILE);
      let text = '';
      try {
        text = await fs.readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      for (const line of text.split('\n')) {
        if (line === '') continue;
        let r: { put?: unknown; del?: unknown };
        try {
          r = JSON.parse(line);
        } catch {
          continue; // torn tail
        }
        if (isStoredOp(r.put)) live.set(r.put.id, r.put);
        else if (typeof r.del === 'string') live.delete(r.del);
      }
      const fh = await rewrite(fs, path);
      return { fs, path, fh };
    })());

  /** writes the live ops to a fresh file and makes it the outbox file; returns it open for appends */
  const rewrite = async (fs: Fs, path: string): Promise<FileHandle> => {
    const tmp = `${path}.tmp`;
    const t = await fs.open(tmp, 'w');
    try {
      const body = [...live.values()].sort(compareStored).map((op) => JSON.stringify({ put: op }) + '\n').join('');
      await t.writeFile(body, 'utf8');
      await t.sync();
    } finally {
      await t.close();
    }
    await fs.rename(tmp, path);
    const d = await fs.open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
    dead = 0;
    return fs.open(path, 'a');
  };

  const flush = async (): Promise<void> => {
    const f = await open();
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        await f.fh.appendFile(batch.map((b) => b.line).join(''), 'utf8');
        await f.fh.sync();
        if (dead > live.size + COMPACT_SLACK) {
          await f.fh.close();
          f.fh = await rewrite(f.fs, f.path);
        }
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
  };

  const kick = (): void => {
    writing ??= flush().finally(() => {
      writing = undefined;
      if (queue.length > 0) kick(); // queued after the loop's last check
    });
  };
  const write = (line: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      queue.push({ line, resolve, reject });
      kick();
    });

  return {
    async load() {
      await open();
      return [...live.values()].map((o) => ({ ...o })).sort(compareStored);
    },
    async put(op) {
      await open();
      live.set(op.id, { ...op });
      return write(JSON.stringify({ put: op }) + '\n');
    },
    async remove(id) {
      await open();
      if (!live.delete(id)) return;
      dead++;
      return write(JSON.stringify({ del: id }) + '\n');
    },
    async close() {
      if (!opened) return;
      await writing;
      const f = await opened;
      await f.fh.close();
      opened = undefined;
      live.clear();
    },
  };
}
