/**
 * Small durable-file helpers shared by the file log and the file snapshot store: a file or a rename
 * is only durable once its data and its directory entry are fsynced.
 */
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
  const fh = await open(tmp, 'w');
  try {
    await writeFully(fh, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, 0);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  if (syncDir) await fsyncDir(dirname(path));
}
