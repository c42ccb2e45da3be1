/**
 * Per-user views (DESIGN.md "Per-user views"): privacy rules over a document's members, and the
 * pure projections every tier uses (gateway frames, origin's GET, the writer check).
 *
 * Rules (`VIEWS_FILE`): `{"views":[{"docs":"game:*","private":{"/hands/{sub}":"owner", ...}}]}`.
 * A key is an RFC 6901 pointer; a segment may be `*` (any member name) or `{sub}`
 * (any name; the rule `owner` makes the member visible to the reader whose `sub` equals it). A
 * rule is `owner` (its key holds `{sub}` exactly once), `claim:<c>=<v>` (the reader's claim `c` is
 * the string `v` or an array containing it) or `nobody`. A member is visible when every rule
 * matching its path (or an ancestor's) allows it; everything no rule matches is visible. Arrays
 * are values, as in merge patches: a rule does not reach inside one (so a patch replacing an array
 * never removes a hidden member, and the writer check needs no state). `docs` is an exact doc id or a prefix ending in `*`;
 * the first entry whose `docs` matches applies. Presence docs (`d~presence`) are matched only by
 * entries naming presence docs (`<prefix>*~presence`, or an exact `…~presence` id).
 *
 * Invariants (property-tested in protocol/test/views.test.ts, for every view):
 *  - projectState(applyMergePatch(s, p)) equals applyMergePatch(projectState(s), projectPatch(p, s)).
 *  - projectPatch(p, s) is `{}` when the patch touches nothing the view can see (`isEmptyPatch`), so
 *    such a delta need not be sent to the view (re-setting a visible member to an equal value counts
 *    as a change). Without `s` the projected patch keeps empty objects
 *    (it may then be a no-op, but is never wrong).
 *  - a full-access viewer (API keys, auth off) sees everything: projections return their input.
 * Readers whose visibility is the same share one `View` (same `key`), so a frame is projected and
 * encoded once per view. Bounds: MAX_VIEW_RULES rules per entry, MAX_VIEW_ENTRIES entries,
 * MAX_POINTER_SEGMENTS segments per key; the gateway bounds distinct views per doc (MAX_VIEWS_PER_DOC).
 */
import type { JsonObject } from './frames.js';
import { isPresenceDoc, PRESENCE_SUFFIX } from './presence.js';

/** a `docs` pattern ending so names the presence docs of the docs matching the prefix before it */
const PRESENCE_PATTERN = `*${PRESENCE_SUFFIX}`;

export const MAX_VIEW_ENTRIES = 256;
export const MAX_VIEW_RULES = 64;
export const MAX_POINTER_SEGMENTS = 32;
/** distinct views one document may have at once (readers in a further view are refused `unavailable`) */
export const MAX_VIEWS_PER_DOC = 64;

export class ViewsError extends Error {}

export type ViewRule = { kind: 'owner' } | { kind: 'claim'; claim: string; value: string } | { kind: 'nobody' };

/** who reads: a token's sub and claims, or `all` for full access */
export interface Viewer {
  sub: string;
  claims?: Readonly<Record<string, unknown>>;
  all?: boolean;
}

interface TrieNode {
  lit: Map<string, TrieNode>;
  star: TrieNode | undefined;
  /** the `{sub}` edge: matches any name, which owner rules below compare with the reader's sub */
  sub: TrieNode | undefined;
  /** indexes into DocViews.rules of the rules whose key ends here */
  rules: number[];
}

const newNode = (): TrieNode => ({ lit: new Map(), star: undefined, sub: undefined, rules: [] });

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

function parsePointer(key: string): string[] {
  if (!key.startsWith('/')) throw new ViewsError(`private key ${JSON.stringify(key)} must be a JSON pointer starting with /`);
  const segs = key.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (segs.length > MAX_POINTER_SEGMENTS) throw new ViewsError(`private key ${JSON.stringify(key)} has over ${MAX_POINTER_SEGMENTS} segments`);
  return segs;
}

function parseRule(key: string, raw: unknown, subCount: number): ViewRule {
  if (raw === 'nobody') return { kind: 'nobody' };
  if (raw === 'owner') {
    if (subCount !== 1) throw new ViewsError(`rule "owner" at ${JSON.stringify(key)} needs exactly one {sub} segment`);
    return { kind: 'owner' };
  }
  const m = typeof raw === 'string' ? /^claim:([^=]+)=(.*)$/.exec(raw) : null;
  if (!m) throw new ViewsError(`rule at ${JSON.stringify(key)} must be "owner", "claim:<claim>=<value>" or "nobody" (got ${JSON.stringify(raw)})`);
  return { kind: 'claim', claim: m[1], value: m[2] };
}

/** the rules of one `docs` entry, compiled into a trie over pointer segments */
export class DocViews {
  private readonly root = newNode();
  readonly rules: ViewRule[] = [];
  private readonly hasOwner: boolean;
  private readonly byKey = new Map<string, View>();
  readonly full: View;

  constructor(priv: Record<string, unknown>) {
    const keys = Object.keys(priv);
    if (keys.length > MAX_VIEW_RULES) throw new ViewsError(`at most ${MAX_VIEW_RULES} private keys per entry`);
    for (const key of keys) {
      const segs = parsePointer(key);
      const rule = parseRule(key, priv[key], segs.filter((s) => s === '{sub}').length);
      if (rule.kind !== 'owner' && segs.includes('{sub}')) throw new ViewsError(`{sub} in ${JSON.stringify(key)} is only meaningful with rule "owner"`);
      let n = this.root;
      for (const s of segs) {
        if (s === '*') n = n.star ??= newNode();
        else if (s === '{sub}') n = n.sub ??= newNode();
        else {
          let c = n.lit.get(s);
          if (!c) n.lit.set(s, (c = newNode()));
          n = c;
        }
      }
      n.rules.push(this.rules.length);
      this.rules.push(rule);
    }
    this.hasOwner = this.rules.some((r) => r.kind === 'owner');
    this.full = new View(this, '*', true, '', []);
  }

  /** the view of `viewer` (shared by every viewer with the same visibility) */
  viewFor(viewer: Viewer): View {
    if (viewer.all) return this.full;
    const bits = this.rules.map((r) => r.kind === 'claim' && claimHas(viewer.claims?.[r.claim], r.value));
    const key = (this.hasOwner ? viewer.sub : '') + '\0' + bits.map((b) => (b ? '1' : '0')).join('');
    let v = this.byKey.get(key);
    if (!v) {
      v = new View(this, key, false, viewer.sub, bits);
      // the cache is bounded by distinct (sub, claims) pairs seen; keep it from growing without end
      if (this.byKey.size >= 4096) this.byKey.clear();
      this.byKey.set(key, v);
    }
    return v;
  }

  /**
   * `viewer` reduced to what these rules look at (its sub, and per `claim:` rule the value when the
   * viewer holds it), as the JSON a gateway sends origin in VIEWER_PARAM: the view it names is the
   * viewer's own (`viewFor(parseViewer(json))` has the same key), without the rest of its token.
   */
  viewerJson(viewer: Viewer): string {
    const held = new Map<string, string[]>();
    for (const r of this.rules) {
      if (r.kind !== 'claim' || !claimHas(viewer.claims?.[r.claim], r.value)) continue;
      const vals = held.get(r.claim);
      if (!vals) held.set(r.claim, [r.value]);
      else if (!vals.includes(r.value)) vals.push(r.value);
    }
    const claims: Record<string, string[]> = {};
    for (const [c, vals] of held) setOwn(claims, c, vals);
    return JSON.stringify({ sub: viewer.sub, claims });
  }

  /** @internal */
  get trie(): TrieNode {
    return this.root;
  }
}

function claimHas(c: unknown, v: string): boolean {
  return c === v || (Array.isArray(c) && c.includes(v));
}

/** an active trie position: the node and the name its `{sub}` edge captured (if any) */
interface Pos {
  n: TrieNode;
  cap: string | undefined;
}

const NO_POS: Pos[] = [];

/**
 * One visibility: projects states and patches. `key` is equal for viewers that see the same
 * members (`*` for full access).
 */
export class View {
  constructor(
    private readonly doc: DocViews,
    readonly key: string,
    readonly all: boolean,
    private readonly sub: string,
    private readonly bits: boolean[],
  ) {}

  /** the positions reached from `ps` by member `name`, or undefined when that member is hidden */
  private step(ps: readonly Pos[], name: string): Pos[] | undefined {
    let out: Pos[] | undefined;
    for (const p of ps) {
      const n = p.n;
      const l = n.lit.get(name);
      if (l) (out ??= []).push({ n: l, cap: p.cap });
      if (n.star) (out ??= []).push({ n: n.star, cap: p.cap });
      if (n.sub) (out ??= []).push({ n: n.sub, cap: name });
    }
    if (!out) return NO_POS;
    for (const p of out) for (const r of p.n.rules) if (!this.allows(r, p.cap)) return undefined;
    return out;
  }

  private allows(r: number, cap: string | undefined): boolean {
    const rule = this.doc.rules[r];
    if (rule.kind === 'owner') return cap === this.sub && this.sub !== '';
    if (rule.kind === 'claim') return this.bits[r];
    return false;
  }

  /** the state as this view sees it (the input is not modified; subtrees no rule reaches are shared with it) */
  projectState(state: JsonObject): JsonObject {
    if (this.all) return state;
    return this.projObj(state, [{ n: this.doc.trie, cap: undefined }]) as JsonObject;
  }

  private projVal(v: unknown, ps: Pos[]): unknown {
    return ps.length > 0 && isObject(v) ? this.projObj(v, ps) : v;
  }

  private projObj(o: Record<string, unknown>, ps: Pos[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o)) {
      const cps = this.step(ps, k);
      if (cps) setOwn(out, k, this.projVal(o[k], cps));
    }
    return out;
  }

  /**
   * The patch as this view sees it. With `prev` (the state the patch applies to), members whose
   * projected patch would change nothing visible are left out, so `{}` means "nothing to send".
   */
  projectPatch(patch: JsonObject, prev?: JsonObject): JsonObject {
    if (this.all) return patch;
    return this.projPatch(patch, prev, [{ n: this.doc.trie, cap: undefined }]) as JsonObject;
  }

  private projPatch(p: Record<string, unknown>, prev: unknown, ps: Pos[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const base = prev === undefined ? undefined : isObject(prev) ? prev : null;
    for (const k of Object.keys(p)) {
      const cps = this.step(ps, k);
      if (!cps) continue;
      const v = p[k];
      if (!isObject(v)) {
        // null (delete) or a replacing value: a delete of an absent member changes nothing
        if (v === null && base !== undefined && (base === null || !Object.hasOwn(base, k))) continue;
        setOwn(out, k, v === null ? null : this.projVal(v, cps));
        continue;
      }
      const sub = base === undefined ? undefined : base === null ? null : Object.hasOwn(base, k) ? base[k] : null;
      const pp = this.projPatch(v, sub, cps);
      // an emptied object still creates/replaces the member when it was not an object before
      if (Object.keys(pp).length > 0 || sub === undefined || !isObject(sub)) setOwn(out, k, pp);
    }
    return out;
  }

  /**
   * May a writer with this view apply `patch`? False when the patch sets or deletes a hidden
   * member, or replaces (with a non-object, or deletes) a member under which some rule may hide
   * something: that would change members the writer cannot see.
   */
  allowsPatch(patch: JsonObject): boolean {
    if (this.all) return true;
    return this.allowsObj(patch, [{ n: this.doc.trie, cap: undefined }]);
  }

  private allowsObj(p: Record<string, unknown>, ps: Pos[]): boolean {
    for (const k of Object.keys(p)) {
      const cps = this.step(ps, k);
      if (!cps) return false;
      const v = p[k];
      if (isObject(v)) {
        if (!this.allowsObj(v, cps)) return false;
      } else if (cps.some((c) => hasBelow(c.n))) return false;
    }
    return true;
  }
}

function hasBelow(n: TrieNode): boolean {
  return n.lit.size > 0 || n.star !== undefined || n.sub !== undefined;
}

/**
 * The query parameter of a history request a gateway signs for origin (cluster signature): the
 * caller whose view origin projects the history for (DocViews.viewerJson). Origin takes it from
 * cluster-signed requests only; a client's request naming it is 400 at both tiers.
 */
export const VIEWER_PARAM = 'viewer';
/** longest VIEWER_PARAM value (decoded JSON text) origin accepts */
export const MAX_VIEWER_JSON_BYTES = 8192;

/** the viewer a VIEWER_PARAM value names, or undefined when it is not `{"sub":"…","claims":{"<c>":["<v>",…]}}` within the bound */
export function parseViewer(json: string): Viewer | undefined {
  if (json.length > MAX_VIEWER_JSON_BYTES) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!isObject(v) || typeof v.sub !== 'string' || !isObject(v.claims)) return undefined;
  const claims: Record<string, string[]> = {};
  for (const c of Object.keys(v.claims)) {
    const vals = v.claims[c];
    if (!Array.isArray(vals) || !vals.every((x) => typeof x === 'string')) return undefined;
    setOwn(claims, c, vals as string[]);
  }
  return { sub: v.sub, claims };
}

/** `{}` (a projected patch that changes nothing the view can see) */
export function isEmptyPatch(p: JsonObject): boolean {
  for (const k in p) if (Object.hasOwn(p, k)) return false;
  return true;
}

/** the parsed `VIEWS_FILE`: per doc id, the rules that apply (or none) */
export class ViewRules {
  /** `presence`: the entry is for presence docs (`<prefix>*~presence` or an exact `…~presence` id); other entries never match one */
  private constructor(private readonly entries: { exact?: string; prefix?: string; presence: boolean; views: DocViews }[]) {}

  static readonly NONE = new ViewRules([]);

  /** validates and compiles the file's JSON; throws ViewsError with a one-line message */
  static parse(json: unknown): ViewRules {
    if (!isObject(json) || !Array.isArray(json.views)) throw new ViewsError('must be {"views":[{"docs":"<pattern>","private":{...}}]}');
    if (json.views.length > MAX_VIEW_ENTRIES) throw new ViewsError(`at most ${MAX_VIEW_ENTRIES} entries in "views"`);
    const entries = json.views.map((e, i) => {
      if (!isObject(e) || typeof e.docs !== 'string' || e.docs === '' || !isObject(e.private)) {
        throw new ViewsError(`views[${i}] must have "docs" (a doc id, prefix* or prefix*~presence) and "private" (an object)`);
      }
      const views = new DocViews(e.private);
      const docs = e.docs;
      if (docs.endsWith(PRESENCE_PATTERN)) return { prefix: docs.slice(0, -PRESENCE_PATTERN.length), presence: true, views };
      return docs.endsWith('*') ? { prefix: docs.slice(0, -1), presence: false, views } : { exact: docs, presence: isPresenceDoc(docs), views };
    });
    return new ViewRules(entries);
  }

  get empty(): boolean {
    return this.entries.length === 0;
  }

  /**
   * The rules for `doc`, or undefined when it has none (everyone sees the whole doc). A presence
   * doc `d~presence` has only the rules of an entry naming presence docs: its members are
   * connection counts and users, not `d`'s, so `d`'s rules do not reach it.
   */
  forDoc(doc: string): DocViews | undefined {
    const presence = isPresenceDoc(doc);
    for (const e of this.entries) {
      if (e.presence !== presence) continue;
      if (e.exact !== undefined ? e.exact === doc : doc.startsWith(e.prefix!)) return e.views;
    }
    return undefined;
  }
}
