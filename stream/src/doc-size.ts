/**
 * The UTF-8 size of a document's state as JSON (`Buffer.byteLength(JSON.stringify(state))`),
 * tracked incrementally: `mergeSizeDelta(target, patch)` is how many bytes applying the merge patch
 * to `target` adds (negative: removes), computed WITHOUT modifying `target` and without serializing
 * it. Its cost is proportional to what the patch touches: the patch itself, plus the members it
 * replaces or deletes (their old values are measured) and, when a patch removes members of an
 * object, at most (removed - added + 1) of that object's keys (to tell whether it ends up empty).
 * MAX_DOC_BYTES is decided with it in the fold (doc-state.ts), before anything is applied.
 *
 * JSON of an object with n members: 2 (`{}`) + Σ (key JSON + 1 for `:` + value JSON) + (n - 1) commas.
 */

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** UTF-8 bytes of a JSON value's serialization (lone surrogates are escaped by JSON.stringify) */
export function jsonSize(v: unknown): number {
  return Buffer.byteLength(JSON.stringify(v), 'utf8');
}

/** true when `o` has more than `n` own enumerable keys (looks at most n + 1 of them) */
function hasMoreThan(o: Record<string, unknown>, n: number): boolean {
  if (n < 0) return true;
  let i = 0;
  for (const k in o) {
    if (!Object.hasOwn(o, k)) continue;
    if (++i > n) return true;
  }
  return false;
}

/** bytes of `"key":` */
const memberOverhead = (k: string): number => jsonSize(k) + 1;

/**
 * jsonSize(applyMergePatch(target, patch)) - jsonSize(target) for an object `target` and an object
 * `patch`, without modifying either (see the module header).
 */
export function mergeSizeDelta(target: Record<string, unknown>, patch: Record<string, unknown>): number {
  let delta = 0;
  let added = 0;
  let removed = 0;
  for (const k of Object.keys(patch)) {
    const v = patch[k];
    const exists = Object.hasOwn(target, k);
    if (v === null) {
      if (exists) {
        delta -= memberOverhead(k) + jsonSize(target[k]);
        removed++;
      }
      continue;
    }
    const old = exists ? target[k] : undefined;
    let after: number; // size of the member's new value, or a delta when merged into an object
    if (isObject(v)) {
      if (exists && isObject(old)) {
        delta += mergeSizeDelta(old, v);
        continue;
      }
      after = 2 + mergeSizeDelta({}, v); // a patch object onto a non-object starts from {}
    } else {
      after = jsonSize(v);
    }
    if (exists) delta += after - jsonSize(old);
    else {
      delta += memberOverhead(k) + after;
      added++;
    }
  }
  // commas: n0 members before, n1 = n0 + added - removed after
  if (added === 0 && removed === 0) return delta;
  const nonEmptyBefore = removed > 0 || hasMoreThan(target, 0);
  if (!nonEmptyBefore) return delta + Math.max(0, added - 1);
  const emptyAfter = removed - added >= 0 && !hasMoreThan(target, removed - added);
  return delta + added - removed + (emptyAfter ? 1 : 0);
}
