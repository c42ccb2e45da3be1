/**
 * Read/write scopes, compiled once per token so that a check on the hot path (subscribe, publish,
 * resume, an HTTP request) costs a Set lookup plus a walk over a short list of prefixes — never
 * a pattern parse or a regular expression. Deliveries are never checked: authorization happens
 * per subscription, not per delivered frame.
 *
 * Patterns (the `read` / `write` claims): an exact doc id, or a prefix ending in `*` (`room:*`;
 * `*` alone is every doc). `{sub}` stands for the token's `sub`; a pattern using it is dropped
 * (grants nothing) when `sub` is empty or contains `:` or `*`, since such a sub could reach into
 * a sibling's namespace (`room:{sub}:*` with sub `alice:x` would cover part of `room:alice:*`).
 * No claim, no access.
 *
 * Bounds: at most MAX_PATTERNS patterns per claim and MAX_PATTERN_LENGTH characters each (a token
 * over them is refused); prefixes covered by a shorter prefix are dropped when compiling.
 */

/** @replicant/protocol's PRESENCE_SUFFIX (auth does not depend on protocol) */
const PRESENCE_SUFFIX = '~presence';

export const MAX_PATTERNS = 256;
export const MAX_PATTERN_LENGTH = 512;

export class ScopeError extends Error {}

export class Scope {
  private constructor(
    private readonly all: boolean,
    private readonly exact: ReadonlySet<string>,
    /** sorted, none a prefix of another */
    private readonly prefixes: readonly string[],
  ) {}

  static readonly NONE = new Scope(false, new Set(), []);
  static readonly ALL = new Scope(true, new Set(), []);

  /** compiles a claim value (undefined = no access); throws ScopeError when it is malformed */
  static compile(claim: unknown, sub: string): Scope {
    if (claim === undefined || claim === null) return Scope.NONE;
    if (!Array.isArray(claim)) throw new ScopeError('read/write claims must be arrays of doc-id patterns');
    if (claim.length > MAX_PATTERNS) throw new ScopeError(`at most ${MAX_PATTERNS} patterns per claim`);
    const subUsable = sub !== '' && !sub.includes(':') && !sub.includes('*');
    const exact = new Set<string>();
    const prefixes: string[] = [];
    for (const p of claim) {
      if (typeof p !== 'string' || p.length === 0 || p.length > MAX_PATTERN_LENGTH) {
        throw new ScopeError(`patterns must be non-empty strings of at most ${MAX_PATTERN_LENGTH} characters`);
      }
      let pat = p;
      if (pat.includes('{sub}')) {
        if (!subUsable) continue;
        pat = pat.split('{sub}').join(sub);
      }
      if (pat.endsWith('*')) {
        const prefix = pat.slice(0, -1);
        if (prefix === '') return Scope.ALL;
        prefixes.push(prefix);
      } else {
        exact.add(pat);
      }
    }
    // drop prefixes (and exact ids) covered by a shorter prefix: sorted, a cover comes first
    prefixes.sort();
    const kept: string[] = [];
    for (const p of prefixes) if (!kept.some((k) => p.startsWith(k))) kept.push(p);
    for (const e of [...exact]) if (kept.some((k) => e.startsWith(k))) exact.delete(e);
    if (exact.size === 0 && kept.length === 0) return Scope.NONE;
    return new Scope(false, exact, kept);
  }

  /**
   * does this scope cover `doc`? (a Set lookup plus at most `prefixCount` startsWith). The
   * presence document `d~presence` is covered exactly when `d` is: whoever may read a doc may see
   * who is here (it is read-only, so a write scope never reaches it: origin refuses such writes).
   */
  allows(doc: string): boolean {
    if (this.all) return true;
    if (doc.endsWith(PRESENCE_SUFFIX)) doc = doc.slice(0, -PRESENCE_SUFFIX.length);
    if (this.exact.has(doc)) return true;
    const ps = this.prefixes;
    for (let i = 0; i < ps.length; i++) if (doc.startsWith(ps[i])) return true;
    return false;
  }

  get prefixCount(): number {
    return this.prefixes.length;
  }
}

/** who is on the other end of a connection or request, and what it may touch */
export interface Principal {
  sub: string;
  /** token expiry in ms since the epoch; undefined = no expiry (API keys, open mode) */
  expMs: number | undefined;
  /** the token's `iat` in ms since the epoch (server-API revocations); undefined = no iat / not a token */
  iatMs?: number;
  read: Scope;
  write: Scope;
  /** the token's claims (per-user views' `claim:<c>=<v>` rules read them); undefined for API keys and open mode */
  claims?: Readonly<Record<string, unknown>>;
}

/** full access: API keys, the cluster's own writes, and every request when auth is off */
export const FULL_ACCESS: Principal = Object.freeze({ sub: '', expMs: undefined, read: Scope.ALL, write: Scope.ALL });

/** the per-user-views reader (protocol's `Viewer`) of a principal: FULL_ACCESS sees every member */
export function viewerOf(p: Principal): { sub: string; claims: Readonly<Record<string, unknown>> | undefined; all: boolean } {
  return { sub: p.sub, claims: p.claims, all: p === FULL_ACCESS };
}
