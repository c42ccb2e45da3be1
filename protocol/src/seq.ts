/**
 * seq values are unsigned 64-bit integers, carried as decimal strings in JSON and as uint64 in
 * protobuf. Internally they are bigint so nothing is lost past 2^53.
 */
export type Seq = bigint;

const MAX_U64 = (1n << 64n) - 1n;
const DECIMAL = /^(0|[1-9][0-9]{0,19})$/;

/** Parses a decimal seq string; undefined when it is not a valid unsigned 64-bit decimal. */
export function parseSeq(s: unknown): Seq | undefined {
  if (typeof s !== 'string' || !DECIMAL.test(s)) return undefined;
  const v = BigInt(s);
  return v <= MAX_U64 ? v : undefined;
}

/** A protobufjs uint64 value (Long-like or number) as bigint. */
export function longToSeq(v: { low: number; high: number } | number | null | undefined): Seq {
  if (v == null) return 0n;
  if (typeof v === 'number') return BigInt(v);
  return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
}

/** bigint as a LongBits-compatible object protobufjs' writer accepts without a Long allocation. */
export function seqToLong(v: Seq): { low: number; high: number; unsigned: boolean } {
  return { low: Number(v & 0xffffffffn) | 0, high: Number((v >> 32n) & 0xffffffffn) | 0, unsigned: true };
}
