/**
 * Per-user views: projection commutes with merge patches. For random documents, rule sets, viewers
 * and patches: projectState(apply(s, p)) equals apply(projectState(s), projectPatch(p, s)) (and the
 * same with projectPatch(p) without the previous state), for every view; projectState agrees with an
 * independent path-by-path projection written here; a projected patch that is `{}` means the view's
 * state did not change; projecting a patch against the view's own projected state equals projecting
 * it against the whole state (history folds that way); the viewer a gateway names to origin
 * (viewerJson / parseViewer) has the same view; allowsPatch refuses exactly what touches a member
 * the writer cannot see; presence docs match only entries naming presence docs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMergePatch } from '../src/merge-patch.js';
import { MAX_VIEWER_JSON_BYTES, ViewRules, ViewsError, isEmptyPatch, parseViewer, type Viewer } from '../src/views.js';
import { rng } from '@replicant/testkit';

const KEYS = ['hands', 'admin', 'seed', 'a', 'b', 'alice', 'bob', '0', '1'];
const SUBS = ['alice', 'bob', 'carol', ''];

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const apply = (s: unknown, p: unknown): Record<string, unknown> => applyMergePatch(clone(s), clone(p)) as Record<string, unknown>;

function randomValue(r: () => number, depth: number, patch: boolean): unknown {
  const x = r();
  if (patch && x < 0.15) return null;
  if (x < 0.35) return Math.floor(r() * 3);
  if (x < 0.45) return depth > 0 ? [randomValue(r, depth - 1, false), randomObject(r, depth - 1, false)] : [1];
  if (depth <= 0) return 'x';
  return randomObject(r, depth - 1, patch);
}

function randomObject(r: () => number, depth: number, patch: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of KEYS) if (r() < 0.3) o[k] = randomValue(r, depth, patch);
  return o;
}

function randomRules(r: () => number): Record<string, string> {
  const out: Record<string, string> = {};
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const len = 1 + Math.floor(r() * 3);
    const segs: string[] = [];
    for (let j = 0; j < len; j++) {
      const x = r();
      segs.push(x < 0.2 ? '*' : KEYS[Math.floor(r() * KEYS.length)]);
    }
    const kind = r();
    if (kind < 0.35) {
      segs[Math.floor(r() * len)] = '{sub}';
      out['/' + segs.join('/')] = 'owner';
    } else if (kind < 0.7) out['/' + segs.join('/')] = 'claim:role=admin';
    else out['/' + segs.join('/')] = 'nobody';
  }
  return out;
}

function randomViewer(r: () => number): Viewer {
  const x = r();
  const claims = x < 0.3 ? { role: 'admin' } : x < 0.45 ? { role: ['x', 'admin'] } : x < 0.6 ? { role: 'player' } : {};
  return { sub: SUBS[Math.floor(r() * SUBS.length)], claims, all: r() < 0.05 };
}

/** independent projection: a member is hidden when some rule key matches a prefix of its path and denies */
function visible(path: string[], rules: Record<string, string>, v: Viewer): boolean {
  if (v.all) return true;
  for (const [key, rule] of Object.entries(rules)) {
    const segs = key.slice(1).split('/');
    if (segs.length > path.length) continue;
    let cap: string | undefined;
    let match = true;
    for (let i = 0; i < segs.length && match; i++) {
      if (segs[i] === '*') continue;
      if (segs[i] === '{sub}') cap = path[i];
      else match = segs[i] === path[i];
    }
    if (!match) continue;
    const ok =
      rule === 'owner' ? v.sub !== '' && cap === v.sub : rule.startsWith('claim:role=') ? [v.claims?.role].flat().includes('admin') : false;
    if (!ok) return false;
  }
  return true;
}

function oracle(val: unknown, path: string[], rules: Record<string, string>, v: Viewer): unknown {
  if (Array.isArray(val)) return val; // arrays are values: rules do not reach inside
  if (typeof val !== 'object' || val === null) return val;
  const out: Record<string, unknown> = {};
  for (const [k, e] of Object.entries(val)) if (visible([...path, k], rules, v)) out[k] = oracle(e, [...path, k], rules, v);
  return out;
}

test('projection commutes with merge patches, for random docs, rules, viewers and patches', () => {
  const r = rng(6901);
  let skipped = 0;
  let sent = 0;
  for (let i = 0; i < 4000; i++) {
    const rules = randomRules(r);
    const views = ViewRules.parse({ views: [{ docs: 'game:*', private: rules }] }).forDoc('game:1')!;
    let state = randomObject(r, 3, false);
    const viewers = [randomViewer(r), randomViewer(r), randomViewer(r)];
    for (let step = 0; step < 5; step++) {
      const patch = randomObject(r, 3, true);
      const next = apply(state, patch);
      for (const viewer of viewers) {
        const view = views.viewFor(viewer);
        const before = view.projectState(clone(state));
        assert.deepEqual(before, oracle(state, [], rules, viewer), `projectState vs oracle, rules ${JSON.stringify(rules)}`);
        const after = view.projectState(clone(next));
        const pp = view.projectPatch(clone(patch), clone(state));
        assert.deepEqual(apply(before, pp), after, `with prev: rules ${JSON.stringify(rules)} patch ${JSON.stringify(patch)}`);
        assert.deepEqual(apply(before, view.projectPatch(clone(patch))), after, 'without prev');
        // history folds the view's own projected state: projecting against it is the same
        assert.deepEqual(view.projectPatch(clone(patch), before), pp, 'against the projected prev');
        // what a gateway tells origin about its caller (restricted ones only) names the same view
        if (!view.all) assert.equal(views.viewFor(parseViewer(views.viewerJson(viewer))!).key, view.key, 'viewerJson round trip');
        if (isEmptyPatch(pp)) {
          skipped++;
          assert.deepEqual(after, before, 'an empty projected patch changes nothing visible');
        } else sent++;
        // the writer check: a patch it allows changes nothing outside its view
        if (view.allowsPatch(patch)) {
          const full = views.viewFor({ sub: '', all: true });
          const hiddenBefore = JSON.stringify(hiddenParts(state, rules, viewer));
          assert.equal(JSON.stringify(hiddenParts(next, rules, viewer)), hiddenBefore, `allowed patch changed hidden members: ${JSON.stringify(patch)}`);
          assert.equal(full.allowsPatch(patch), true);
        }
      }
      state = next;
    }
  }
  assert.ok(skipped > 1000 && sent > 1000, `both kinds exercised (skipped ${skipped}, sent ${sent})`);
});

/** the members of `s` hidden from `v`, with their paths (to check a writer changed none of them) */
function hiddenParts(s: unknown, rules: Record<string, string>, v: Viewer, path: string[] = [], out: [string, unknown][] = []): [string, unknown][] {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return out;
  for (const [k, e] of Object.entries(s)) {
    const p = [...path, k];
    if (!visible(p, rules, v)) out.push([p.join('/'), e]);
    else hiddenParts(e, rules, v, p, out);
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

test('the game rules: owners see their hand, admins /admin, nobody /seed; API keys everything; same visibility shares a view', () => {
  const rules = ViewRules.parse({
    views: [{ docs: 'game:*', private: { '/hands/{sub}': 'owner', '/admin': 'claim:role=admin', '/seed': 'nobody' } }],
  });
  assert.equal(rules.forDoc('chat:1'), undefined);
  const g = rules.forDoc('game:1')!;
  const s = { hands: { alice: [1, 2], bob: [3] }, admin: { x: 1 }, seed: 42, board: [0] };
  assert.deepEqual(g.viewFor({ sub: 'alice' }).projectState(s), { hands: { alice: [1, 2] }, board: [0] });
  assert.deepEqual(g.viewFor({ sub: 'zed', claims: { role: ['admin'] } }).projectState(s), { hands: {}, admin: { x: 1 }, board: [0] });
  assert.equal(g.viewFor({ sub: '', all: true }).projectState(s), s);
  assert.equal(g.viewFor({ sub: 'alice' }), g.viewFor({ sub: 'alice', claims: { role: 'player' } }));
  assert.notEqual(g.viewFor({ sub: 'alice' }).key, g.viewFor({ sub: 'bob' }).key);
  const alice = g.viewFor({ sub: 'alice' });
  assert.equal(alice.allowsPatch({ hands: { alice: [9] }, board: [1] }), true);
  assert.equal(alice.allowsPatch({ hands: { bob: null } }), false);
  assert.equal(alice.allowsPatch({ hands: null }), false, 'deleting the parent would delete hidden hands');
  assert.equal(alice.allowsPatch({ seed: 1 }), false);
  assert.equal(alice.allowsPatch({ admin: { y: 1 } }), false);
  assert.deepEqual(alice.projectPatch({ hands: { bob: [4] } }, s), {}, 'a change to another hand is not sent');
  assert.deepEqual(alice.projectPatch({ hands: { bob: [4] } }, {}), { hands: {} }, 'but creating the parent is');
});

test('parseViewer takes exactly {"sub":"…","claims":{"<c>":["<v>",…]}} within its bound', () => {
  assert.deepEqual(parseViewer('{"sub":"a","claims":{"role":["admin"]}}'), { sub: 'a', claims: { role: ['admin'] } });
  for (const bad of ['', 'null', '{"sub":1,"claims":{}}', '{"sub":"a"}', '{"sub":"a","claims":{"role":"admin"}}', '{"sub":"a","claims":{"role":[1]}}']) {
    assert.equal(parseViewer(bad), undefined, bad);
  }
  assert.equal(parseViewer(JSON.stringify({ sub: 'x'.repeat(MAX_VIEWER_JSON_BYTES), claims: {} })), undefined, 'over the bound');
  const g = ViewRules.parse({ views: [{ docs: 'g', private: { '/a': 'claim:role=admin', '/b': 'claim:role=staff', '/c': 'claim:tier=gold' } }] }).forDoc('g')!;
  // only what the rules look at is named, the rest of the token is not
  assert.equal(g.viewerJson({ sub: 'u', claims: { role: ['admin', 'dev'], tier: 'silver', email: 'u@x' } }), '{"sub":"u","claims":{"role":["admin"]}}');
});

test("a presence doc has only the rules of an entry naming presence docs, never its doc's", () => {
  const rules = ViewRules.parse({
    views: [
      { docs: 'game:*', private: { '/users': 'nobody' } },
      { docs: 'game:*~presence', private: { '/users/{sub}/info': 'owner' } },
      { docs: 'room:*', private: { '/users': 'nobody' } },
      { docs: 'lobby~presence', private: { '/connections': 'claim:role=admin' } },
    ],
  });
  const presence = { connections: 2, users: { alice: { connections: 1, info: { n: 'a' } }, bob: { connections: 1, info: { n: 'b' } } } };
  assert.deepEqual(rules.forDoc('game:1')!.viewFor({ sub: 'alice' }).projectState({ users: 1, x: 2 }), { x: 2 });
  assert.deepEqual(rules.forDoc('game:1~presence')!.viewFor({ sub: 'alice' }).projectState(presence), {
    connections: 2,
    users: { alice: { connections: 1, info: { n: 'a' } }, bob: { connections: 1 } },
  });
  assert.equal(rules.forDoc('room:1~presence'), undefined, "room:*'s rules are about room docs' members, not presence's");
  assert.deepEqual(rules.forDoc('lobby~presence')!.viewFor({ sub: 'x' }).projectState(presence), { users: presence.users });
  assert.equal(rules.forDoc('lobby'), undefined);
});

test('bad rules are refused with one clear line', () => {
  const bad: [unknown, RegExp][] = [
    [{}, /views/],
    [{ views: [{ docs: 'g:*', private: { hands: 'owner' } }] }, /JSON pointer/],
    [{ views: [{ docs: 'g:*', private: { '/hands': 'owner' } }] }, /\{sub\}/],
    [{ views: [{ docs: 'g:*', private: { '/a/{sub}/{sub}': 'owner' } }] }, /exactly one/],
    [{ views: [{ docs: 'g:*', private: { '/a/{sub}': 'nobody' } }] }, /only meaningful/],
    [{ views: [{ docs: 'g:*', private: { '/a': 'everyone' } }] }, /must be "owner"/],
    [{ views: [{ docs: '', private: {} }] }, /docs/],
  ];
  for (const [json, re] of bad) {
    assert.throws(() => ViewRules.parse(json), (e: unknown) => e instanceof ViewsError && re.test(e.message) && !e.message.includes('\n'));
  }
});
