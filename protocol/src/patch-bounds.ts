/**
 * The one bound on patches, used at every point a patch enters a process: WebSocket frames on
 * both subprotocols, the HTTP write API, gateway<->replica link frames and records read back
 * from the stream log.
 *
 * Why: V8's JSON.parse is iterative and accepts any nesting, but JSON.stringify, the merge-patch
 * fold and every other recursive walk overflow the stack (RangeError) somewhere past a few
 * thousand levels. A patch deeper than MAX_PATCH_DEPTH, or larger than the caller's byte bound,
 * is refused as `bad_patch` before anything recursive touches it.
 *
 * Bounds: nesting depth <= MAX_PATCH_DEPTH (objects and arrays, the patch object itself is depth
 * 1); size <= the caller's `maxBytes` (UTF-16 code units of the text, default MAX_PATCH_BYTES).
 * The depth walk is iterative with an explicit stack of at most MAX_PATCH_DEPTH entries per level
 * visited, so checking costs O(nodes) time and O(depth) extra memory.
 */
import { ErrorCode, ProtocolError } from './errors.js';
import type { JsonObject } from './frames.js';

/** deepest accepted nesting of objects/arrays in a patch (or a state read back from a link) */
export const MAX_PATCH_DEPTH = 64;
/** default size bound on one patch's JSON text */
export const MAX_PATCH_BYTES = 64 * 1024 * 1024;

function isObj(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The nesting depth of a parsed JSON value, or MAX_PATCH_DEPTH + 1 as soon as it is known to be
 * deeper (the walk stops there).
 */
export function jsonDepth(value: unknown, limit = MAX_PATCH_DEPTH): number {
  if (typeof value !== 'object' || value === null) return 0;
  // explicit stack of [container, depth]: no recursion, so no RangeError whatever the input
  const stack: unknown[] = [value];
  const depths: number[] = [1];
  let max = 1;
  while (stack.length > 0) {
    const v = stack.pop()!;
    const d = depths.pop()!;
    if (d > max) {
      max = d;
      if (max > limit) return max;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const c = v[i];
        if (typeof c === 'object' && c !== null) {
          stack.push(c);
          depths.push(d + 1);
        }
      }
    } else {
      const o = v as Record<string, unknown>;
      for (const k in o) {
        const c = o[k];
        if (typeof c === 'object' && c !== null) {
          stack.push(c);
          depths.push(d + 1);
        }
      }
    }
  }
  return max;
}

/**
 * Checks an already-parsed patch: a JSON object no deeper than MAX_PATCH_DEPTH. Returns the
 * ProtocolError (`bad_patch`) to answer with, or undefined when the patch is acceptable.
 */
export function checkPatch(patch: unknown, doc?: string, id?: string): ProtocolError | undefined {
  if (!isObj(patch)) return new ProtocolError(ErrorCode.BadPatch, 'patch must be a JSON object (RFC 7386 merge patch)', doc, id);
  if (jsonDepth(patch) > MAX_PATCH_DEPTH) {
    return new ProtocolError(ErrorCode.BadPatch, `patch is nested deeper than ${MAX_PATCH_DEPTH} levels`, doc, id);
  }
  return undefined;
}

/**
 * Parses and checks patch text (HTTP bodies, binary frames, log records, link frames). Never
 * throws: a ProtocolError (`bad_patch`) for text over `maxBytes`, invalid JSON, a non-object or a
 * patch nested deeper than MAX_PATCH_DEPTH.
 */
export function parsePatch(text: string, maxBytes = MAX_PATCH_BYTES, doc?: string, id?: string): JsonObject | ProtocolError {
  if (text.length > maxBytes) return new ProtocolError(ErrorCode.BadPatch, `patch larger than ${maxBytes} bytes`, doc, id);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return new ProtocolError(ErrorCode.BadPatch, 'patch is not valid JSON', doc, id);
  }
  return checkPatch(v, doc, id) ?? (v as JsonObject);
}
