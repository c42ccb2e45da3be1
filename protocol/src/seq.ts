/**
 * seq values are unsigned 64-bit integers, carried as decimal strings in JSON and as uint64 in
 * protobuf. Internally they are bigint so nothing is lost past 2^53.
 */
import type { replicant } from './generated/replicant.js';

export type Seq = bigint;

const MAX_U64 = (1n << 64n) - 1n;
const DECIMAL = /^(0|[1-9][0-9]{0,19})$/;

/** Parses a decimal seq string; undefined when it is not a valid unsigned 64-bit decimal. */
export function parseSeq(s: unknown): Seq | undefined {
  if (typeof s !== 'string' || !DECIMAL.test(s)) return undefined;
  const v = BigInt(s);
  return v <= MAX_U64 ? v : undefined;
}

/** the Long type protobufjs' generated code declares for uint64 fields */
export type PbLong = NonNullable<replicant.v1.IDelta['seq']>;

/** A protobufjs uint64 value (Long or number) as bigint. Absent is 0. */
export function longToSeq(v: PbLong | { low: number; high: number } | number | null | undefined): Seq {
  if (v == null) return 0n;
  if (typeof v === 'number') return BigInt(v);
  return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
}

/**
 * bigint as the value of a protobufjs uint64 field. The one place the Long type is bent: protobufjs'
 * writer reads only `low`/`high` (LongBits.from), so a plain object does, without allocating a Long
 * per field; its type says Long so that callers need no cast.
 */
export function seqToLong(v: Seq): PbLong {
  const bits = { low: Number(v & 0xffffffffn) | 0, high: Number((v >> 32n) & 0xffffffffn) | 0, unsigned: true };
  return bits as unknown as PbLong;
}
