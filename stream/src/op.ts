/**
 * The value of one log record: an encoded `Op` (protocol/replicant.proto). The patch travels as the
 * writer's JSON text, so every reader parses the same bytes and fan-out never re-encodes it.
 * `maxDocBytes` is the MAX_DOC_BYTES of the origin that appended it: the fold decides the size
 * bound with it, so readers configured differently still agree (doc-state.ts).
 */
import { ErrorCode, ProtocolError, longToSeq, parsePatch, pb, seqToLong, utf8Encode } from '@replicant/protocol';
import type { JsonObject } from '@replicant/protocol';

export interface DecodedOp {
  patch: JsonObject;
  patchText: string;
  /** idempotency key, '' when none */
  key: string;
  tsMs: number;
  /** optimistic concurrency: apply only if the doc is at this seq (absent when the op has none) */
  ifSeq?: bigint;
  /** the writer's MAX_DOC_BYTES (absent in records written before the bound: unbounded) */
  maxDocBytes?: number;
  /** `patch` is the whole new state (Kafka ingest upsert/Debezium): the fold replaces the state with it */
  replace?: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function encodeOp(patchText: string, key: string, tsMs: number, ifSeq?: bigint, maxDocBytes?: number, replace?: boolean): Uint8Array {
  return pb.Op.encode({
    patch: utf8Encode(patchText),
    key,
    tsMs: seqToLong(BigInt(tsMs)),
    ...(ifSeq !== undefined ? { ifSeq: seqToLong(ifSeq) } : {}),
    ...(maxDocBytes !== undefined ? { maxDocBytes: seqToLong(BigInt(maxDocBytes)) } : {}),
    ...(replace ? { replace: true } : {}),
  }).finish();
}

/** Decodes a log record value; a ProtocolError (never a throw) when it is not a valid Op. */
export function decodeOp(bytes: Uint8Array): DecodedOp | ProtocolError {
  let op: InstanceType<typeof pb.Op>;
  try {
    op = pb.Op.decode(bytes);
  } catch {
    return new ProtocolError(ErrorCode.BadFrame, 'record value is not a valid Op');
  }
  let patchText: string;
  try {
    patchText = utf8.decode(op.patch);
  } catch {
    return new ProtocolError(ErrorCode.BadPatch, 'op patch is not valid UTF-8');
  }
  // the same depth/size bound as every other entry point: a record written around the origin
  // (straight into Kafka) must not overflow the materializer's fold
  const patch = parsePatch(patchText);
  if (patch instanceof ProtocolError) return patch;
  const d: DecodedOp = { patch, patchText, key: op.key, tsMs: Number(longToSeq(op.tsMs)) };
  if (op.ifSeq != null) d.ifSeq = longToSeq(op.ifSeq);
  if (op.maxDocBytes != null) d.maxDocBytes = Number(longToSeq(op.maxDocBytes));
  if (op.replace) d.replace = true;
  return d;
}
