/**
 * JSON Merge Patch (RFC 7386). The sdk carries its own copy so it never depends on origin; the rule
 * is the same one every server tier folds with, so a client computes the same state as the origin.
 *
 * The target is never mutated: untouched subtrees are shared and touched objects are copied, so a
 * listener holding the previous state keeps a consistent value and can compare by reference.
 */
import type { JsonObject } from '@replicant/protocol';

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Assigns an own data property; plain assignment of `__proto__` would change the prototype instead. */
function setOwn(o: JsonObject, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    o[key] = value;
  }
}

/** Returns MergePatch(target, patch) per RFC 7386 section 2. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: JsonObject = {};
  if (isObject(target)) for (const k of Object.keys(target)) setOwn(result, k, target[k]);
  for (const k of Object.keys(patch)) {
    const v = patch[k];
    if (v === null) delete result[k];
    else setOwn(result, k, isObject(v) ? mergePatch(Object.hasOwn(result, k) ? result[k] : undefined, v) : v);
  }
  return result;
}

/** Applies a merge patch that is a JSON object (the only kind the protocol carries) to a state. */
export function applyMergePatch(state: JsonObject, patch: JsonObject): JsonObject {
  return mergePatch(state, patch) as JsonObject;
}
