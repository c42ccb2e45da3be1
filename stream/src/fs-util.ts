/**
 * Small durable-file helpers shared by the file log and the file snapshot store: a file or a rename
 * is only durable once its data and its directory entry are fsynced. Files are written O_DSYNC
 * where the platform has it: each write returns once its data (and the size reaching it) is on
 * stable storage, as write + fdatasync, in one syscall (docs/benchmarks.md "Origin CPU per write").
 */
import { constants } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** fsyncs a directory so entries created or renamed in it survive a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** O_DSYNC where the platform has it; 0: callers fdatasync after writing */
export const DSYNC: number = constants.O_DSYNC ?? 0;

/**
 * Creates or truncates `path` and writes `data` durably (O_DSYNC, else write + fdatasync). The
 * directory entry is not synced: callers rename and fsync the directory.
 */
export async function writeFileDurable(path: string, data: Uint8Array): Promise<void> {
  const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | DSYNC, 0o666);
  try {
    await writeFully(fh, data, 0);
    if (DSYNC === 0) await fh.datasync();
  } finally {
    await fh.close();
  }
}

export async function writeFully(fh: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}

/** Reads exactly buf.length bytes at `position`; throws if the file ends first. */
export async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file at ${position + done}`);
    done += bytesRead;
  }
}

/**
 * Replaces `path` atomically: write a temp file, fsync it, rename over the target. The directory is
 * fsynced unless `syncDir` is false (callers batching several renames fsync the directory once).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, syncDir = true): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFileDurable(tmp, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  await rename(tmp, path);
  if (syncDir) await fsyncDir(dirname(path));
}
