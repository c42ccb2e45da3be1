/**
 * History of a doc with per-user views (DESIGN.md "Per-user views"; origin/src/history.ts), over
 * origin's HTTP API and the gateway's edge route in front of it (real uWS servers, in-memory log):
 * a game doc with `/hands/{sub}` private to its owner, `/admin` to `claim:role=admin` and `/seed` to
 * nobody. After random writes (and a checkpoint half-way, so later reads start from a snapshot),
 * each principal's history — every page, from the start and from a seq given by `?at=` — folds to
 * exactly its projection of origin's state (an independent projection written here), chains
 * gap-free on `prevSeq` across pages, holds no op that changes nothing it can see, and no raw body
 * holds a member outside its view. An API key gets the raw history. `viewer` (the gateway's word
 * to origin) is refused from clients, and a gateway whose origin has no rules for the doc answers
 * 503, never the raw history.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as uWS from 'uWebSockets.js';
import { MemoryLog, MemorySnapshotStore } from '@replicant/stream';
import { Origin, registerOriginHttp } from '@replicant/origin';
import { registerDocsHttp } from '@replicant/gateway';
import { ApiKeys, HttpAuthenticator, TokenVerifier } from '@replicant/auth';
import { applyMergePatch, ViewRules } from '@replicant/protocol';
import { rng } from '@replicant/testkit';
import { nowSec, sign } from './tokens.js';
import { assertNothingHidden, expected, GAME_RULES, PLAYERS, type GameReader } from './views-game.js';

const CLUSTER_SECRET = 'views-history-cluster-secret-0123456789';
const SECRET = 'views-history-jwt-secret-0123456789';
const KEY = 'views-history-api-key-0123456789';
const DOC = 'game:h';

interface Reader extends GameReader {
  headers: Record<string, string>;
}

async function listen(app: uWS.TemplatedApp): Promise<{ url: string; close: () => void }> {
  const token = await new Promise<uWS.us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (t) => (t ? resolve(t) : reject(new Error('listen failed')))),
  );
  return { url: `http://127.0.0.1:${uWS.us_socket_local_port(token)}`, close: () => uWS.us_listen_socket_close(token) };
}

/** origin (with `originViews`) and a gateway edge route in front of it, both checking JWTs and the API key */
async function setup(t: { after: (fn: () => Promise<void> | void) => void }, originViews: ViewRules | undefined) {
  const auth = new HttpAuthenticator(new TokenVerifier({ jwtSecret: SECRET }), new ApiKeys([KEY]));
  const views = ViewRules.parse(GAME_RULES);
  const origin = await Origin.start({ log: new MemoryLog({ partitions: 1 }), store: new MemorySnapshotStore() });
  const oApp = uWS.App();
  registerOriginHttp(oApp, origin, { clusterSecret: CLUSTER_SECRET, auth, views: originViews });
  const o = await listen(oApp);
  const gApp = uWS.App();
  registerDocsHttp(gApp, { originUrl: o.url, clusterSecret: CLUSTER_SECRET, auth, views });
  const g = await listen(gApp);
  t.after(async () => {
    g.close();
    o.close();
    await origin.close();
  });
  return { origin, originUrl: o.url, gatewayUrl: g.url };
}


/**
 * Every page of the history after `from.seq` (limit 37), folded onto `from.state`: checks each
 * raw body, that every op chains on the one before (the first on `from.seq`) and that no op of a
 * restricted reader is empty.
 */
async function foldHistory(base: string, headers: Record<string, string>, r: Reader | undefined, from: { seq: string; state: any }) {
  let state = structuredClone(from.state);
  let seq = from.seq;
  let after = from.seq;
  let ops = 0;
  for (;;) {
    const res = await fetch(`${base}/v1/docs/${DOC}/history?after=${after}&limit=37`, { headers });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    if (r) assertNothingHidden(text, r, `history after ${after}`); // no reader: the API key sees all
    const page = JSON.parse(text) as { ops: { seq: string; prevSeq: string; patch: any }[]; next: string | null };
    for (const op of page.ops) {
      assert.equal(op.prevSeq, seq, `${r?.name ?? 'api key'}: op ${op.seq} chains on the op before it`);
      if (r) assert.notDeepEqual(op.patch, {}, `${r.name}: an op changing nothing it sees is left out`);
      state = applyMergePatch(state, op.patch);
      seq = op.seq;
      ops++;
    }
    if (page.next === null) return { state, seq, ops };
    assert.equal(page.next, seq, 'next is the last op of the page');
    after = page.next;
  }
}

test('history of a doc with per-user views, at origin and at the edge: each principal folds to its projection, gap-free across pages, nothing hidden in a raw body; an API key gets the raw history', async (t) => {
  const { origin, originUrl, gatewayUrl } = await setup(t, ViewRules.parse(GAME_RULES));
  const claims = (sub: string, role?: unknown) => ({ sub, role, read: ['game:*'], write: ['game:*'], exp: nowSec() + 600 });
  const bearer = async (c: Record<string, unknown>) => ({ authorization: `Bearer ${await sign(c, SECRET)}` });
  const readers: Reader[] = [
    ...(await Promise.all(PLAYERS.map(async (p) => ({ name: p, sub: p, admin: false, headers: await bearer(claims(p, 'player')) })))),
    { name: 'admin', sub: 'boss', admin: true, headers: await bearer(claims('boss', ['staff', 'admin'])) },
    { name: 'spectator', sub: 'spec', admin: false, headers: await bearer(claims('spec')) },
  ];
  const key = { authorization: `Bearer ${KEY}` };

  // random writes by the backend; values carry markers naming whose they are
  const r = rng(1919);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const WRITES = 400;
  let mid = 0n; // a seq before the checkpoint: read from the log start
  let late = 0n; // one after it: read from the snapshot
  for (let i = 0; i < WRITES; i++) {
    const x = r();
    const player = pick(PLAYERS);
    const val = (tag: string) => (r() < 0.15 ? null : `${tag}-${i}`);
    let patch: any;
    if (x < 0.3) patch = { hands: { [player]: { [`c${i % 5}`]: val(`hand-${player}`) } } };
    else if (x < 0.45) patch = { admin: { [`k${i % 4}`]: val('adm') } };
    else if (x < 0.55) patch = { seed: `seed-${i}` };
    else if (x < 0.58) patch = { hands: r() < 0.5 ? null : { [player]: [`hand-${player}-${i}`] } };
    else if (x < 0.6) patch = { hands: i }; // not an object: the owner rule has nothing to hide
    else patch = { board: { [`b${i % 6}`]: val('pub') }, turn: i };
    const seq = await origin.write(DOC, JSON.stringify(patch));
    if (i === 150) mid = seq;
    if (i === 200) await origin.checkpoint();
    if (i === 250) late = seq;
  }
  const whole = await origin.read(DOC);

  for (const [tier, base] of [['origin', originUrl], ['gateway', gatewayUrl]] as const) {
    const raw = await foldHistory(base, key, undefined, { seq: '0', state: {} });
    assert.deepEqual(raw.state, whole.state, `${tier}: the API key's history folds to the whole doc`);
    assert.equal(raw.ops, WRITES, `${tier}: the API key gets every op`);
    for (const reader of readers) {
      const all = await foldHistory(base, reader.headers, reader, { seq: '0', state: {} });
      assert.deepEqual(all.state, expected(whole.state, reader), `${tier}: ${reader.name}'s history folds to its projection`);
      assert.ok(all.ops < WRITES, `${tier}: ${reader.name} is not given ops it cannot see (${all.ops} of ${WRITES})`);
      // from the state ?at= answers (a log-start base, then a snapshot base), the chain starts at its seq
      for (const at of [mid, late]) {
        const res = await fetch(`${base}/v1/docs/${DOC}?at=${at}`, { headers: reader.headers });
        const text = await res.text();
        assert.equal(res.status, 200, text);
        assertNothingHidden(text, reader, `?at=${at}`);
        const then = JSON.parse(text) as { seq: string; state: any };
        assert.deepEqual(then.state, expected((await origin.stateAt(DOC, at)).state, reader));
        const rest = await foldHistory(base, reader.headers, reader, then);
        assert.deepEqual(rest.state, expected(whole.state, reader), `${tier}: ${reader.name} from ?at=${at} folds to its projection`);
      }
    }
  }

  // `viewer` is the gateway's word to origin: a client naming it is refused at both tiers
  const p1 = readers[0];
  const forged = encodeURIComponent(JSON.stringify({ sub: 'p2', claims: { role: ['admin'] } }));
  for (const [base, h] of [[originUrl, p1.headers], [originUrl, key], [gatewayUrl, p1.headers]] as const) {
    const res = await fetch(`${base}/v1/docs/${DOC}/history?viewer=${forged}`, { headers: h });
    const body = (await res.json()) as any;
    assert.deepEqual([res.status, body.error?.code], [400, 'bad_request']);
  }
  // restore writes the whole doc: still an API key's
  for (const base of [originUrl, gatewayUrl]) {
    const res = await fetch(`${base}/v1/docs/${DOC}/restore`, { method: 'POST', headers: { ...p1.headers, 'content-type': 'application/json' }, body: JSON.stringify({ seq: String(mid) }) });
    assert.equal(res.status, 403);
  }
});

test("a gateway whose origin has no view rules for the doc: a restricted caller's history is 503, never the raw ops", async (t) => {
  const { origin, gatewayUrl } = await setup(t, undefined);
  await origin.write(DOC, JSON.stringify({ seed: 'seed-1', board: 1 }));
  const res = await fetch(`${gatewayUrl}/v1/docs/${DOC}/history`, { headers: { authorization: `Bearer ${await sign({ sub: 'p1', read: ['game:*'], exp: nowSec() + 600 }, SECRET)}` } });
  const text = await res.text();
  assert.equal(res.status, 503);
  assert.ok(!text.includes('seed-1'), text);
  assert.equal((await fetch(`${gatewayUrl}/v1/docs/${DOC}/history`, { headers: { authorization: `Bearer ${KEY}` } })).status, 200);
});
