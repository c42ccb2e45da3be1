/**
 * Framing of the gateway <-> replica link: each LinkFrame (protocol/replicant.proto) is preceded
 * by its length as a 4-byte big-endian integer. The reader accumulates chunks and yields whole
 * frames; a frame over the bound is a protocol error (the connection is dropped, never buffered).
 */
import { longToSeq, parsePatch, pb, ProtocolError, seqToLong } from '@replicant/protocol';
import type { replicant } from '@replicant/protocol';
import { Delta } from './delta.js';

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

export class LinkFrameReader {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly maxFrameBytes = MAX_LINK_FRAME_BYTES) {}

  /** feeds a chunk; returns the complete frames it finished, or throws LinkFrameError */
  push(chunk: Buffer): LinkFrame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: LinkFrame[] = [];
    let off = 0;
    while (this.buf.length - off >= 4) {
      const len = this.buf.readUInt32BE(off);
      if (len > this.maxFrameBytes) throw new LinkFrameError(`link frame of ${len} bytes exceeds ${this.maxFrameBytes}`);
      if (this.buf.length - off - 4 < len) break;
      try {
        out.push(pb.LinkFrame.decode(this.buf.subarray(off + 4, off + 4 + len)));
      } catch (err) {
        throw new LinkFrameError(`undecodable link frame: ${(err as Error).message}`);
      }
      off += 4 + len;
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
    return out;
  }

  get buffered(): number {
    return this.buf.length;
  }
}

const utf8 = new TextDecoder();

/**
 * a LinkDelta message as the Delta the gateway's listeners consume; throws LinkFrameError when
 * its patch is not a JSON object within the protocol's bounds (the link is then dropped)
 */
export function deltaFromLink(d: replicant.v1.ILinkDelta): Delta {
  const patch = utf8.decode(d.patch!);
  const obj = parsePatch(patch);
  if (obj instanceof ProtocolError) throw new LinkFrameError(`delta of ${String(d.doc)}: ${obj.message}`);
  return new Delta(d.doc!, longToSeq(d.seq as any), longToSeq(d.prevSeq as any), patch, obj, Number(longToSeq(d.tsMs as any)));
}

export function deltaToLink(d: Delta): replicant.v1.ILinkDelta {
  return {
    doc: d.doc,
    seq: seqToLong(d.seq) as any,
    prevSeq: seqToLong(d.prevSeq) as any,
    patch: Buffer.from(d.patch),
    tsMs: seqToLong(BigInt(d.tsMs)) as any,
  };
}
