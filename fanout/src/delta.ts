/**
 * One applied op as it travels from a replica to gateways and clients. Frames are encoded lazily,
 * once per subprotocol, and cached on the object: every gateway session of that subprotocol is sent
 * the very same bytes.
 */
import { encodeServerBinary, encodeServerJson, longToSeq, parsePatch, ProtocolError, seqToLong, type JsonObject, type replicant } from '@replicant/protocol';
import { encodeLinkFrame, LinkFrameError } from './link-codec.js';

export class Delta {
  private json: string | undefined;
  private bin: Uint8Array | undefined;
  private link: Buffer | undefined;

  constructor(
    readonly doc: string,
    readonly seq: bigint,
    readonly prevSeq: bigint,
    /** merge patch as compact JSON text, exactly as logged */
    readonly patch: string,
    /** the parsed patch, shared read-only by in-process consumers */
    readonly patchObj: JsonObject,
    /** wall-clock ms when origin accepted the write (end-to-end latency) */
    readonly tsMs: number,
  ) {}

  jsonFrame(): string {
    return (this.json ??= encodeServerJson({ type: 'delta', doc: this.doc, seq: this.seq, prevSeq: this.prevSeq, patch: this.patch }));
  }

  /** the length-prefixed LinkFrame a replica sends to every gateway link subscribed to the doc */
  linkFrame(): Buffer {
    return (this.link ??= encodeLinkFrame({ delta: deltaToLink(this) }));
  }

  binaryFrame(): Uint8Array {
    return (this.bin ??= encodeServerBinary({ type: 'delta', doc: this.doc, seq: this.seq, prevSeq: this.prevSeq, patch: this.patch }));
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
  return new Delta(d.doc!, longToSeq(d.seq), longToSeq(d.prevSeq), patch, obj, Number(longToSeq(d.tsMs)));
}

export function deltaToLink(d: Delta): replicant.v1.ILinkDelta {
  return {
    doc: d.doc,
    seq: seqToLong(d.seq),
    prevSeq: seqToLong(d.prevSeq),
    patch: Buffer.from(d.patch),
    tsMs: seqToLong(BigInt(d.tsMs)),
  };
}
