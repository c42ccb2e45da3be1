/**
 * The value of one log record: an encoded `Op` (protocol/replicant.proto). The patch travels as the
 * writer's JSON text, so every reader parses the same bytes and fan-out never re-encodes it.
 */
import { ErrorCode, ProtocolError, isJsonObject, longToSeq, pb, utf8Encode } from '@replicant/protocol';
import type { JsonObject } from '@replicant/protocol';

export interface DecodedOp {
  patch: JsonObject;
  patchText: string;
  /** idempotency key, '' when none */
  key: string;
  tsMs: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function encodeOp(patchText: string, key: string, tsMs: number): Uint8Array {
  return pb.Op.encode({ patch: utf8Encode(patchText), key, tsMs: tsMs as any }).finish();
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
  let patch: unknown;
  try {
    patchText = utf8.decode(op.patch);
    patch = JSON.parse(patchText);
  } catch {
    return new ProtocolError(ErrorCode.BadPatch, 'op patch is not valid UTF-8 JSON');
  }
  if (!isJsonObject(patch)) return new ProtocolError(ErrorCode.BadPatch, 'op patch is not a JSON object');
  return { patch, patchText, key: op.key, tsMs: Number(longToSeq(op.tsMs as any)) };
}
