/**
 * One applied op as it travels from a replica to gateways and clients. Frames are encoded lazily,
 * once per subprotocol, and cached on the object: every gateway session of that subprotocol is sent
 * the very same bytes.
 */
import { composeMergePatch, encodeServerBinary, encodeServerJson, longToSeq, parsePatch, ProtocolError, seqToLong, sseEventText, type JsonObject, type replicant, type SseDataEvent } from '@replicant/protocol';
import { encodeLinkFrame, LinkFrameError } from './link-codec.js';

export class Delta {
  private json: string | undefined;
  private bin: Uint8Array | undefined;
  private link: Buffer | undefined;
  private sse: SseDataEvent | undefined;

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
    /** ops this delta covers (> 1 when coalesced) */
    readonly ops = 1,
  ) {}

  jsonFrame(): string {
    return (this.json ??= encodeServerJson({ type: 'delta', doc: this.doc, seq: this.seq, prevSeq: this.prevSeq, patch: this.patch }));
  }

  /** the length-prefixed LinkFrame a replica sends to every gateway link subscribed to the doc */
  linkFrame(): Buffer {
    return (this.link ??= encodeLinkFrame({ delta: deltaToLink(this) }));
  }

  /** the SSE event (the JSON frame's very text) every SSE subscriber gets, before its own `id:` */
  sseFrame(): SseDataEvent {
    return (this.sse ??= { doc: this.doc, seq: this.seq.toString(), text: sseEventText('delta', this.jsonFrame()) });
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

/**
 * Coalescing: a chained run of deltas (each `prevSeq` = the previous `seq`) as as few deltas as
 * the exact composition allows: one delta from the run's first `prevSeq` to its last `seq` when
 * every patch composes, else the run is split where composition would change the result (see
 * composeMergePatch). A single delta is returned as is (its cached frames are reused). `max`
 * bounds the number of output deltas: past it the result is undefined (the caller sends a
 * snapshot instead). The composed delta carries the newest op's timestamp.
 */
export function coalesceDeltas(run: readonly Delta[], max = Infinity): Delta[] | undefined {
  if (run.length <= 1) return run.length <= max ? (run as Delta[]) : undefined;
  const out: Delta[] = [];
  let start = 0;
  let acc: JsonObject = run[0].patchObj;
  const close = (end: number): boolean => {
    out.push(end === start ? run[start] : composed(run, start, end, acc));
    return out.length <= max;
  };
  for (let i = 1; i < run.length; i++) {
    const c = composeMergePatch(acc, run[i].patchObj);
    if (c !== undefined) {
      acc = c;
      continue;
    }
    if (!close(i - 1)) return undefined;
    start = i;
    acc = run[i].patchObj;
  }
  return close(run.length - 1) ? out : undefined;
}

function composed(run: readonly Delta[], start: number, end: number, patch: JsonObject): Delta {
  let ops = 0;
  for (let i = start; i <= end; i++) ops += run[i].ops;
  const first = run[start];
  const last = run[end];
  return new Delta(first.doc, last.seq, first.prevSeq, JSON.stringify(patch), patch, last.tsMs, ops);
}
