/**
 * Framing of the gateway <-> replica link: each LinkFrame (protocol/replicant.proto) is preceded
 * by its length as a 4-byte big-endian integer. The reader collects chunks and yields whole
 * frames; a frame over the bound is a protocol error (the connection is dropped, never buffered).
 * It knows nothing of `Delta` (delta.ts converts to and from LinkDelta), so imports point one way.
 */
import { pb } from '@replicant/protocol';
import type { replicant } from '@replicant/protocol';

export type LinkFrame = replicant.v1.LinkFrame;
export type ILinkFrame = replicant.v1.ILinkFrame;

/** default bound on one link frame (a snapshot of a large doc plus its history) */
export const MAX_LINK_FRAME_BYTES = 64 * 1024 * 1024;

export function encodeLinkFrame(f: ILinkFrame): Buffer {
  const body = pb.LinkFrame.encode(f).finish();
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, 4);
  return out;
}

export class LinkFrameError extends Error {}

const EMPTY = Buffer.alloc(0);

/**
 * Reassembles length-prefixed frames from socket chunks in time linear in the bytes received:
 * chunks are kept as they arrive and a frame spanning several of them is copied exactly once, when
 * its last byte is in (`copiedBytes` counts those copies); a frame inside one chunk is decoded in
 * place. Buffered bytes stay below 4 + the frame bound: a length prefix over the bound throws
 * before its body is read. Each chunk is released as soon as its last byte is consumed, so the
 * bytes held (`retained`) stay below 4 + the frame bound + one chunk. A zero-length frame (a
 * LinkFrame with no oneof set, which no peer sends) is a protocol error. The bound can be lowered
 * (`maxFrameBytes`), e.g. before a handshake.
 */
export class LinkFrameReader {
  /** received chunks from index `first` on are unconsumed; `head` bytes of that one are consumed;
   * slots before `first` hold EMPTY (released) until the array is compacted */
  private chunks: Buffer[] = [];
  private first = 0;
  private head = 0;
  private bytes = 0;
  /** bytes copied to join frames that spanned chunks (linearity accounting; tests, metrics) */
  copiedBytes = 0;

  constructor(public maxFrameBytes = MAX_LINK_FRAME_BYTES) {}

  /** feeds a chunk; returns the complete frames it finished, or throws LinkFrameError */
  push(chunk: Buffer): LinkFrame[] {
    if (chunk.length === 0) return [];
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    const out: LinkFrame[] = [];
    while (this.bytes >= 4) {
      const len = this.peekLength();
      if (len > this.maxFrameBytes) throw new LinkFrameError(`link frame of ${len} bytes exceeds ${this.maxFrameBytes}`);
      if (len === 0) throw new LinkFrameError('empty link frame (no frame field set)');
      if (this.bytes - 4 < len) break;
      this.skip(4);
      const body = this.take(len);
      try {
        out.push(pb.LinkFrame.decode(body));
      } catch (err) {
        throw new LinkFrameError(`undecodable link frame: ${(err as Error).message}`);
      }
    }
    return out;
  }

  /** the 4-byte big-endian length at the read position (which may span chunks) */
  private peekLength(): number {
    const first = this.chunks[this.first];
    if (first.length - this.head >= 4) return first.readUInt32BE(this.head);
    let v = 0;
    let n = 0;
    for (let c = this.first, i = this.head; n < 4; c++, i = 0) {
      const b = this.chunks[c];
      for (; i < b.length && n < 4; i++, n++) v = v * 256 + b[i];
    }
    return v;
  }

  private skip(n: number): void {
    this.bytes -= n;
    while (n > 0) {
      const left = this.chunks[this.first].length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.head = 0;
      // release the consumed chunk now; the array itself is compacted once at least half of it is
      // released slots (Array#shift per chunk would be quadratic)
      this.chunks[this.first] = EMPTY;
      if (++this.first === this.chunks.length) {
        this.chunks = [];
        this.first = 0;
      } else if (this.first >= 64 && this.first * 2 > this.chunks.length) {
        this.chunks = this.chunks.slice(this.first);
        this.first = 0;
      }
    }
  }

  /** the next n bytes: a view when they lie in one chunk, else one copy of exactly n bytes */
  private take(n: number): Uint8Array {
    if (n === 0) return EMPTY;
    const first = this.chunks[this.first];
    if (first.length - this.head >= n) {
      const view = first.subarray(this.head, this.head + n);
      this.skip(n);
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const b = this.chunks[this.first];
      const m = Math.min(n - filled, b.length - this.head);
      b.copy(out, filled, this.head, this.head + m);
      filled += m;
      this.skip(m);
    }
    this.copiedBytes += n;
    return out;
  }

  /** bytes received and not yet returned as frames */
  get buffered(): number {
    return this.bytes;
  }

  /** bytes of the chunks still referenced (unconsumed bytes plus the consumed head of the first);
   * O(chunks held), for tests and diagnostics */
  get retained(): number {
    let sum = 0;
    for (const c of this.chunks) sum += c.length;
    return sum;
  }
}
