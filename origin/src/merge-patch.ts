/**
 * JSON Merge Patch (RFC 7386). Every reader of the log folds ops with this function, so it must be
 * deterministic and must never let a patch object end up aliased inside the state: the state is
 * mutated in place on later ops (cheap for large documents), and callers may reuse their patch.
 */

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Sets an own property; `__proto__` from JSON.parse is an ordinary key and must stay one. */
function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

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

/**
 * Applies `patch` to `target` and returns the result. When both are objects, `target` is modified in
 * place and returned; nested patch objects are merged into fresh objects, so nothing in the result is
 * shared with `patch`. A non-object patch replaces the target (a copy of it is returned).
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return copyJson(patch);
  const out: Record<string, unknown> = isObject(target) ? target : {};
  for (const k of Object.keys(patch)) {
    const v = patch[k];
    if (v === null) {
      if (Object.hasOwn(out, k)) delete out[k];
    } else {
      // own-property check: never read an inherited member (e.g. "__proto__") as a merge target
      const cur = Object.hasOwn(out, k) ? out[k] : undefined;
      setOwn(out, k, applyMergePatch(cur, v));
    }
  }
  return out;
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
