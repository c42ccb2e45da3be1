/**
 * JSON Merge Patch (RFC 7386): the one implementation every tier folds with, so the origin, the
 * replicas, the gateways and the SDK compute the same state. Two entry points, one rule:
 *
 *  - `applyMergePatch(target, patch)`: the fold of the log. `target` (when an object) is modified
 *    in place and returned (cheap for large documents); nothing in the result is shared with
 *    `patch` (arrays and objects from it are copied), so callers may reuse their patch.
 *  - `mergePatch(target, patch)`: the pure form for views that hand out states (the SDK's
 *    `LiveDoc.state`): `target` is never mutated, untouched subtrees are shared and touched
 *    objects are copied, so a holder of the previous state can compare by reference. The patch's
 *    values are shared, not copied.
 *
 * A `__proto__` key (JSON.parse makes it an ordinary key) stays an ordinary own key in both.
 */
import type { JsonObject } from './frames.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Sets an own data property; plain assignment of `__proto__` would change the prototype instead. */
function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

/** own member only: never read an inherited one (e.g. "__proto__") as a merge target */
const own = (o: Record<string, unknown>, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);

/** Deep copy of a JSON value (arrays and scalars from a patch are copied into the state, not shared). */
function copyJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copyJson);
  if (isObject(v)) {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v)) setOwn(o, k, copyJson(v[k]));
    return o;
  }
  return v;
}

/** MergePatch(target, patch), modifying an object `target` in place (see the module header). */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return copyJson(patch);
  const out: Record<string, unknown> = isObject(target) ? target : {};
  for (const k of Object.keys(patch)) {
    const v = patch[k];
    if (v === null) {
      if (Object.hasOwn(out, k)) delete out[k];
    } else setOwn(out, k, applyMergePatch(own(out, k), v));
  }
  return out;
}

/** MergePatch(target, patch) without mutating `target` (see the module header). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = {};
  if (isObject(target)) for (const k of Object.keys(target)) setOwn(out, k, target[k]);
  for (const k of Object.keys(patch)) {
    const v = patch[k];
    if (v === null) delete out[k];
    else setOwn(out, k, isObject(v) ? mergePatch(own(out, k), v) : v);
  }
  return out;
}

/** `mergePatch` for the case the protocol carries: an object patch on an object state. */
export function mergeObjectPatch(state: JsonObject, patch: JsonObject): JsonObject {
  return mergePatch(state, patch) as JsonObject;
}

/**
 * Exact composition of two merge patches: a patch `c` with apply(apply(s, a), b) === apply(s, c)
 * for EVERY state s, or undefined when no single merge patch can do that. Used to coalesce a run
 * of ops into one delta (gateway flushes, catch-up, replica links). Exactness is the whole point:
 * where `a` sets a key to a scalar/array or deletes it and `b` then patches that key with an
 * object, the result is b's object alone (the old value is gone), which a merge into an unknown
 * state cannot express, so the caller must split the run there. Neither argument is modified; the
 * result may share unmodified subtrees with them (patches are read-only once parsed).
 */
export function composeMergePatch(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(a)) setOwn(out, k, a[k]);
  for (const k of Object.keys(b)) {
    const bv = b[k];
    if (!isObject(bv) || !Object.hasOwn(a, k)) {
      setOwn(out, k, bv); // null deletes, a scalar/array replaces: whatever `a` did to k is moot
      continue;
    }
    const av = a[k];
    if (!isObject(av)) return undefined; // k was replaced or deleted, then merged into: not expressible
    const c = composeMergePatch(av, bv);
    if (c === undefined) return undefined;
    setOwn(out, k, c);
  }
  return out;
}

/** JSON value equality (key order ignored, as in every JSON reader) */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  if (!isObject(a) || !isObject(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
}

/** true when an object member somewhere in `v` is null (arrays are opaque to merge patches) */
function hasNullMember(v: unknown): boolean {
  if (!isObject(v)) return false;
  return Object.keys(v).some((k) => v[k] === null || hasNullMember(v[k]));
}

/**
 * The merge patch from state `from` to state `to`: applyMergePatch(from, p) equals `to`. Undefined
 * when no merge patch reaches `to` (an object member of it is null: merge patches delete those, so
 * no fold of them holds one). Unchanged members are left out; nothing in the result is shared with
 * either argument. Used where a receiver holds an older state and its history is gone (a
 * re-based upstream): one delta instead of a snapshot.
 */
export function diffMergePatch(from: Record<string, unknown>, to: Record<string, unknown>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(from)) if (!Object.hasOwn(to, k)) setOwn(out, k, null);
  for (const k of Object.keys(to)) {
    const tv = to[k];
    if (tv === null) return undefined;
    const fv = own(from, k);
    if (jsonEqual(fv, tv)) continue;
    if (isObject(tv) && isObject(fv)) {
      const sub = diffMergePatch(fv, tv);
      if (sub === undefined) return undefined;
      setOwn(out, k, sub);
    } else {
      if (hasNullMember(tv)) return undefined;
      setOwn(out, k, copyJson(tv)); // replaces whatever was there (an object patch onto a non-object starts from {})
    }
  }
  return out;
}

/**
 * A copy of `v` without null object members (recursively; arrays are kept as they are): the state
 * a merge patch can reach. Kafka ingest (upsert, Debezium rows with NULL columns) stores whole
 * states, and a merge patch can neither carry nor produce a null member.
 */
export function stripNullMembers(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const x = v[k];
    if (x === null) continue;
    setOwn(out, k, isObject(x) ? stripNullMembers(x) : x);
  }
  return out;
}
