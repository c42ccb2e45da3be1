/**
 * Rendezvous (highest random weight) hashing: a doc goes to the candidates with the highest
 * weight(docId, replicaId). Every gateway computes the same answer from the same candidate set, in
 * any order; when a replica leaves, only the docs it held move (each to its next-highest replica),
 * and a new replica takes only the docs for which it scores highest. A hot doc is spread by taking
 * the top `count` replicas instead of the top one.
 *
 * The weight is FNV-1a (32-bit, over the UTF-8 bytes) of each id, combined and finished with the
 * murmur3 32-bit finalizer: fast, stable across processes and versions, and well mixed.
 */
import type { ReplicaInfo } from './registry.js';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const encoder = new TextEncoder();

/** FNV-1a, 32-bit, over the UTF-8 encoding of `s`. */
export function fnv1a32(s: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return fnv1a32Bytes(encoder.encode(s));
    h = Math.imul(h ^ c, FNV_PRIME);
  }
  return h >>> 0;
}

function fnv1a32Bytes(b: Uint8Array): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], FNV_PRIME);
  return h >>> 0;
}

/** murmur3's fmix32: a bijection on 32-bit values with full avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const replicaHashes = new Map<string, number>();

function replicaHash(id: string): number {
  let h = replicaHashes.get(id);
  if (h === undefined) {
    if (replicaHashes.size >= 4096) replicaHashes.clear(); // ids churn slowly; keep the cache bounded
    h = fmix32(fnv1a32(id) ^ 0x9e3779b9);
    replicaHashes.set(id, h);
  }
  return h;
}

function docHash(docId: string): number {
  return fmix32(fnv1a32(docId));
}

/** The weight of `replicaId` for `docId` (unsigned 32-bit). */
export function rendezvousWeight(docId: string, replicaId: string): number {
  return combine(docHash(docId), replicaHash(replicaId));
}

function combine(d: number, r: number): number {
  return fmix32((d ^ r) + Math.imul(r, 0x27d4eb2d));
}

/**
 * The `count` candidates with the highest weight for `docId`, best first (fewer if there are fewer
 * candidates). Ties (astronomically rare) go to the smaller id. The input is not modified.
 */
export function pickReplicas(docId: string, candidates: readonly ReplicaInfo[], count: number): ReplicaInfo[] {
  const n = Math.min(Math.floor(count), candidates.length);
  if (n <= 0) return [];
  const d = docHash(docId);
  if (n === 1) {
    let best = candidates[0];
    let bestW = combine(d, replicaHash(best.id));
    for (let i = 1; i < candidates.length; i++) {
      const c = candidates[i];
      const w = combine(d, replicaHash(c.id));
      if (w > bestW || (w === bestW && c.id < best.id)) {
        best = c;
        bestW = w;
      }
    }
    return [best];
  }
  return candidates
    .map((c) => ({ c, w: combine(d, replicaHash(c.id)) }))
    .sort((a, b) => b.w - a.w || (a.c.id < b.c.id ? -1 : a.c.id > b.c.id ? 1 : 0))
    .slice(0, n)
    .map((e) => e.c);
}
