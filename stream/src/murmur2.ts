/**
 * Kafka's default partitioner: murmur2 (seed 0x9747b28c) over the UTF-8 key bytes, made positive
 * with `& 0x7fffffff`, modulo the partition count. It matches the Java client and kafkajs'
 * DefaultPartitioner exactly, so a document keeps its partition when the file log is swapped for Kafka.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's `Utils.murmur2(byte[])`, as a signed 32-bit integer like Java's int. */
export function murmur2(data: Uint8Array | string): number {
  const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const len = b.length;
  let h = (SEED ^ len) | 0;
  const len4 = len & ~3;
  for (let i = 0; i < len4; i += 4) {
    let k = b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // the tail bytes, as Java's fall-through switch over (length % 4)
  const rest = len & 3;
  if (rest === 3) h ^= b[len4 + 2] << 16;
  if (rest >= 2) h ^= b[len4 + 1] << 8;
  if (rest >= 1) {
    h ^= b[len4];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not Math.abs). */
export function toPositive(h: number): number {
  return h & 0x7fffffff;
}

/** Partition of a key, as Kafka's default partitioner computes it for a keyed record. */
export function partitionForKey(key: string, partitions: number): number {
  return toPositive(murmur2(key)) % partitions;
}
