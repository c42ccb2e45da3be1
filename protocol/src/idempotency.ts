/**
 * Sequenced idempotency keys, `~<client>.<n>.<base>`: the form the SDK gives its publishes and any
 * HTTP writer may use. `client` names one writer (1-64 of [A-Za-z0-9_-]), `n` counts its ops
 * (1, 2, ...), `base` is the doc seq the writer had seen when it created the op (0 when unknown).
 * The origin deduplicates them per writer with a high-water mark and a window of DEDUPE_WINDOW n's
 * (docs/protocol.md, "Exactly once"); keys starting with `~` that do not parse are refused.
 */

/** n's remembered below a sequenced writer's highest, per document */
export const DEDUPE_WINDOW = 64;
/** a writer keeps its unacknowledged ops within this many n's of each other (< DEDUPE_WINDOW) */
export const SEND_SPAN = 32;

export interface SequencedKey {
  client: string;
  n: number;
  base: bigint;
}

const SEQUENCED_KEY = /^~([A-Za-z0-9_-]{1,64})\.([1-9][0-9]{0,15})\.(0|[1-9][0-9]{0,19})$/;

/** The parts of a sequenced key; undefined for any other key. */
export function parseSequencedKey(key: string): SequencedKey | undefined {
  if (key.charCodeAt(0) !== 126 /* ~ */) return undefined;
  const m = SEQUENCED_KEY.exec(key);
  if (!m) return undefined;
  const n = Number(m[2]);
  const base = BigInt(m[3]);
  return Number.isSafeInteger(n) && base < 1n << 64n ? { client: m[1], n, base } : undefined;
}

export function formatSequencedKey(client: string, n: number, base: bigint): string {
  return `~${client}.${n}.${base}`;
}

/** true for keys in the reserved `~` namespace that do not parse */
export function isMalformedSequencedKey(key: string): boolean {
  return key.charCodeAt(0) === 126 && parseSequencedKey(key) === undefined;
}
