/**
 * Helpers shared by the k6 scenarios (fanout.js, writes.js): plain functions, no k6 module, so the
 * same file loads under real k6 and under the repo's Node shim (load-tests/src/k6-shim.ts).
 * The JSDoc types are for the strict type-check (load-tests/k6/tsconfig.json); k6 ignores them.
 */

/** a decimal seq as the server prints it */
export const DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * JSON.parse that reports failure instead of throwing: { ok, value } or { ok: false, error }.
 * Takes a response body as k6 types it: null when bodies are discarded, binary for binary responses.
 * @param {string | ArrayBuffer | null} text
 * @returns {{ ok: true, value: any } | { ok: false, error: string }}
 */
export function parseJson(text) {
  if (typeof text !== 'string') return { ok: false, error: text === null ? 'no body' : 'binary body' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, error: String(e) };
  }
}

/**
 * a > b for unsigned decimal strings of any length
 * @param {string} a
 * @param {string} b
 */
export function seqGt(a, b) {
  return a.length !== b.length ? a.length > b.length : a > b;
}

/** @type {Record<string, number>} seconds per unit */
const UNIT = { ms: 0.001, s: 1, m: 60, h: 3600 };

/**
 * a k6 duration ("1m30s", "500ms") in seconds
 * @param {string} d
 */
export function seconds(d) {
  let s = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let m;
  while ((m = re.exec(d)) !== null) s += parseFloat(m[1]) * UNIT[m[2]];
  return s;
}
