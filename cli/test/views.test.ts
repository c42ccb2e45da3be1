/**
 * Per-user views (DESIGN.md "Per-user views") against a real `replicant dev` with VIEWS_FILE: a
 * game doc with `/hands/{sub}` private to its owner, `/admin` to `claim:role=admin` and `/seed` to
 * nobody. After a few hundred random writes (API key, and players writing their own hands), GET as
 * each of 4 players, an admin and a spectator returns exactly the projection of the whole state (an
 * independent projection written here) and its raw body holds no member outside the caller's view;
 * the API key sees the whole doc. Writes touching an invisible member are 403 `forbidden` over
 * HTTP and `forbidden` over the WebSocket, and change nothing. Live subscriptions of restricted
 * readers to a doc with views are refused `forbidden` (fail closed: live projection is not built
 * yet), with no data frame.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rng } from '@replicant/testkit';
import { post, RawClient, startDevFor, tempDir } from './harness.js';
import { nowSec, sign } from './tokens.js';

const SECRET = 'hs256-views-secret-0123456789';
const API_KEY = 'views-backend-api-key-0123456789';
const PLAYERS = ['p1', 'p2', 'p3', 'p4'];
const DOC = 'game:1';

interface Reader {
  name: string;
  sub: string;
  admin: boolean;
  token: string;
}

/** the independent projection: what `r` may see of the whole state */
function expected(state: any, r: Reader): any {
  const out: any = structuredClone(state);
  delete out.seed;
  if (!r.admin) delete out.admin;
  if (out.hands !== null && typeof out.hands === 'object' && !Array.isArray(out.hands)) {
    out.hands = Object.hasOwn(state.hands, r.sub) ? { [r.sub]: state.hands[r.sub] } : {};
  }
  return out;
}

test('GET as each principal is its projection after random writes; invisible members are forbidden to write; live subscriptions fail closed', async (t) => {
  const tmp = tempDir('replicant-views-');
  t.after(tmp.cleanup);
  const viewsFile = join(tmp.dir, 'views.json');
  writeFileSync(viewsFile, JSON.stringify({ views: [{ docs: 'game:*', private: { '/hands/{sub}': 'owner', '/admin': 'claim:role=admin', '/seed': 'nobody' } }] }));
  const dev = await startDevFor(t, { AUTH_JWT_SECRET: SECRET, API_KEYS: API_KEY, VIEWS_FILE: viewsFile });
  const key = { authorization: `Bearer ${API_KEY}` };
  const tok = (sub: string, role?: string) => sign({ sub, role, read: ['game:*'], write: ['game:*'], exp: nowSec() + 600 }, SECRET);
  const readers: Reader[] = [
    ...(await Promise.all(PLAYERS.map(async (p) => ({ name: p, sub: p, admin: false, token: await tok(p, 'player') })))),
    { name: 'admin', sub: 'boss', admin: true, token: await sign({ sub: 'boss', role: ['staff', 'admin'], read: ['game:*'], write: ['game:*'], exp: nowSec() + 600 }, SECRET) },
    { name: 'spectator', sub: 'spec', admin: false, token: await tok('spec') },
  ];
  const auth = (r: Reader) => ({ authorization: `Bearer ${r.token}` });

  // random writes: the backend (API key) everywhere, players into their own hands
  const r = rng(19);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  for (let i = 0; i < 300; i++) {
    const x = r();
    const val = () => (r() < 0.15 ? null : `v${i}-${Math.floor(r() * 1000)}`);
    let patch: any;
    if (x < 0.3) patch = { hands: { [pick(PLAYERS)]: { [`c${i % 5}`]: val() } } };
    else if (x < 0.45) patch = { admin: { [`k${i % 4}`]: val() } };
    else if (x < 0.55) patch = { seed: `seed-${i}` };
    else if (x < 0.6) patch = { hands: r() < 0.5 ? null : { [pick(PLAYERS)]: [`h${i}`] } };
    else patch = { board: { [`b${i % 6}`]: val() }, turn: i };
    const writer = x < 0.2 && patch.hands ? readers[PLAYERS.indexOf(Object.keys(patch.hands)[0])] : undefined;
    const res = await post(dev.url, DOC, patch, writer ? auth(writer) : key);
    assert.equal(res.status, 200, JSON.stringify(res.body));
  }
  // make sure every private kind is present for the final check
  assert.equal((await post(dev.url, DOC, { seed: 'seed-final', admin: { secret: 'admin-only' }, hands: { p1: { c: 'p1-card' }, p2: { c: 'p2-card' } } }, key)).status, 200);

  const whole = await fetch(`${dev.url}/v1/docs/${DOC}`, { headers: key }).then((x) => x.json() as Promise<{ seq: string; state: any }>);
  assert.equal(whole.state.seed, 'seed-final', 'the API key sees the whole doc');
  for (const reader of readers) {
    const res = await fetch(`${dev.url}/v1/docs/${DOC}`, { headers: auth(reader) });
    assert.equal(res.status, 200);
    const text = await res.text();
    const got = JSON.parse(text) as { seq: string; state: any };
    assert.equal(got.seq, whole.seq);
    assert.deepEqual(got.state, expected(whole.state, reader), reader.name);
    // the raw body holds nothing outside the view
    assert.ok(!text.includes('seed-final'), `${reader.name} got the seed`);
    if (!reader.admin) assert.ok(!text.includes('admin-only'), `${reader.name} got /admin`);
    for (const p of ['p1', 'p2']) if (p !== reader.sub) assert.ok(!text.includes(`${p}-card`), `${reader.name} got ${p}'s hand`);
  }

  // writes touching an invisible member: 403 forbidden, nothing applied
  const p1 = readers[0];
  const spectator = readers[5];
  for (const [who, patch] of [
    [p1, { hands: { p2: { c: 'stolen' } } }],
    [p1, { hands: null }],
    [p1, { seed: 'x' }],
    [p1, { admin: { x: 1 } }],
    [spectator, { admin: null }],
    [readers[4], { seed: 'admin-cannot-either' }],
  ] as [Reader, unknown][]) {
    const res = await post(dev.url, DOC, patch, auth(who));
    assert.equal(res.status, 403, `${who.name} ${JSON.stringify(patch)}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error.code, 'forbidden');
  }
  const history = await fetch(`${dev.url}/v1/docs/${DOC}/history`, { headers: auth(p1) });
  assert.equal(history.status, 403, 'raw history is not served to a restricted reader');
  assert.equal((await fetch(`${dev.url}/v1/docs/${DOC}/history`, { headers: key })).status, 200);
  const after = await fetch(`${dev.url}/v1/docs/${DOC}`, { headers: key }).then((x) => x.json() as Promise<{ seq: string; state: any }>);
  assert.equal(after.seq, whole.seq, 'no refused write was applied');

  // the WebSocket: a publish touching an invisible member is forbidden, one inside the view is
  // acked; a live subscription of a restricted reader fails closed with no data frame
  const ws = await RawClient.open(`${dev.wsUrl}?token=${encodeURIComponent(p1.token)}`);
  t.after(() => ws.close());
  ws.send({ type: 'publish', doc: DOC, id: 'bad', patch: { hands: { p3: { c: 'x' } } } });
  assert.equal((await ws.next((f) => f.id === 'bad')).code, 'forbidden');
  ws.send({ type: 'publish', doc: DOC, id: 'ok', patch: { hands: { p1: { c: 'mine' } } } });
  assert.equal((await ws.next((f) => f.id === 'ok')).type, 'ack');
  ws.send({ type: 'subscribe', doc: DOC });
  const refused = await ws.next((f) => f.type === 'error' && f.doc === DOC && f.id === undefined);
  assert.equal(refused.code, 'forbidden');
  ws.send({ type: 'subscribe', doc: 'game:open' });
  assert.equal((await ws.next((f) => f.type === 'error' && f.doc === 'game:open')).code, 'forbidden', 'every game:* doc has views');
  assert.equal(ws.frames.filter((f) => f.type === 'snapshot' || f.type === 'delta').length, 0, 'no data frame of a doc with views');
  const mine = await fetch(`${dev.url}/v1/docs/${DOC}`, { headers: auth(p1) }).then((x) => x.json() as Promise<{ state: any }>);
  assert.deepEqual(Object.keys(mine.state.hands), ['p1']);
  assert.equal(mine.state.hands.p1.c, 'mine', 'the publish inside the view was applied');
});
