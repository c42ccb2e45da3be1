/**
 * Per-user views (DESIGN.md "Per-user views") against a real `replicant dev` with VIEWS_FILE: a
 * game doc with `/hands/{sub}` private to its owner, `/admin` to `claim:role=admin` and `/seed` to
 * nobody. After a few hundred random writes (API key, and players writing their own hands), GET as
 * each of 4 players, an admin and a spectator returns exactly the projection of the whole state (an
 * independent projection written here) and its raw body holds no member outside the caller's view;
 * the API key sees the whole doc. Writes touching an invisible member are 403 `forbidden` over
 * HTTP and `forbidden` over the WebSocket, and change nothing. The same six readers subscribe over
 * the WebSocket first (both subprotocols; the admin over SSE too; a player's second connection
 * leaves and resumes with lastSeq): every one's folded state equals its projection, every chain is gap-free,
 * and no frame any of them received holds a member outside its view.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rng } from '@replicant/testkit';
import { applyMergePatch, decodeServerBinary, encodeClientBinary, MAX_VIEWS_PER_DOC, SUBPROTOCOL_BINARY, SUBPROTOCOL_JSON } from '@replicant/protocol';
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

/** an SSE stream read as text into memory until the test aborts it */
async function openSse(url: string): Promise<{ abort: AbortController; until: (pred: (text: string) => boolean) => Promise<string> }> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
  assert.equal(res.status, 200);
  let text = '';
  let waiters: { pred: (t: string) => boolean; resolve: (t: string) => void }[] = [];
  void (async () => {
    const dec = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        text += dec.decode(chunk, { stream: true });
        waiters = waiters.filter((w) => (w.pred(text) ? (w.resolve(text), false) : true));
      }
    } catch {
      // aborted at the end of the test
    }
  })();
  return {
    abort,
    until: (pred) => (pred(text) ? Promise.resolve(text) : new Promise((resolve) => waiters.push({ pred, resolve }))),
  };
}

/** a received frame, decoded (binary frames are kept raw by RawClient) */
function decodeFrame(f: any): any {
  if (f.binary === undefined) return f;
  const d = decodeServerBinary(new Uint8Array(f.binary));
  if (d instanceof Error) throw d;
  return d;
}

/**
 * Folds a reader's frames of DOC, checking on the way that each raw frame holds no member outside
 * its view and that every delta chains on the seq before it; a connection resumed with lastSeq
 * starts `from` the state and seq its predecessor had.
 */
function fold(c: { frames: any[] }, reader: Reader, from?: { state: any; seq: string }): { state: any; seq: string; deltas: number; snapshots: number } {
  let state: any = from ? structuredClone(from.state) : undefined;
  let seq = from?.seq ?? '';
  let deltas = 0;
  let snapshots = 0;
  for (const raw of c.frames) {
    const text = raw.binary !== undefined ? Buffer.from(raw.binary).toString('latin1') : JSON.stringify(raw);
    assert.ok(!text.includes('seed-'), `${reader.name} received the seed: ${text}`);
    if (!reader.admin) assert.ok(!text.includes('adm-'), `${reader.name} received /admin: ${text}`);
    for (const p of PLAYERS) if (p !== reader.sub) assert.ok(!text.includes(`hand-${p}`), `${reader.name} received ${p}'s hand: ${text}`);
    const f = decodeFrame(raw);
    if (f.type === 'snapshot') {
      state = f.state;
      seq = String(f.seq);
      snapshots++;
    } else if (f.type === 'delta') {
      assert.equal(String(f.prevSeq), seq, `${reader.name}: gap in its chain`);
      state = applyMergePatch(state, f.patch);
      seq = String(f.seq);
      deltas++;
    }
  }
  return { state, seq, deltas, snapshots };
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

test('live and GET state of each principal is its projection after random writes; chains gap-free; no private member on the wire; invisible members are forbidden to write', async (t) => {
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

  // every reader subscribes over the WebSocket: p4 and the spectator over the binary subprotocol,
  // the others over JSON; p3 has a second connection (same view) that leaves and resumes
  const open = async (reader: Reader, binary: boolean, lastSeq?: string): Promise<RawClient> => {
    const c = await RawClient.open(`${dev.wsUrl}?token=${encodeURIComponent(reader.token)}`, binary ? SUBPROTOCOL_BINARY : SUBPROTOCOL_JSON);
    t.after(() => c.close());
    if (binary) c.ws.send(encodeClientBinary({ type: 'subscribe', doc: DOC, lastSeq: lastSeq === undefined ? undefined : BigInt(lastSeq) }));
    else c.send({ type: 'subscribe', doc: DOC, lastSeq });
    if (!lastSeq) await c.next((f) => f.type === 'snapshot' || f.binary !== undefined);
    return c;
  };
  const live = await Promise.all(readers.map((reader) => open(reader, reader.name === 'p4' || reader.name === 'spectator')));
  const p3b = await open(readers[2], false);
  // the admin also reads over SSE (the same view as its WebSocket: one child doc, both encodings)
  const sse = await openSse(`${dev.url}/v1/sse?doc=${DOC}&token=${encodeURIComponent(readers[4].token)}`);
  t.after(() => sse.abort.abort());
  await sse.until((text) => text.includes('event: snapshot'));
  let p3bResumed: RawClient | undefined;
  let p3bLastSeq = '';
  let p3bFolded: { state: any; seq: string } | undefined;

  // random writes: the backend (API key) everywhere, players into their own hands; values carry
  // markers naming whose they are, so raw frames can be searched for what they must not hold
  const r = rng(19);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const WRITES = 300;
  for (let i = 0; i < WRITES; i++) {
    const x = r();
    const player = pick(PLAYERS);
    const val = (tag: string) => (r() < 0.15 ? null : `${tag}-${i}`);
    let patch: any;
    if (x < 0.3) patch = { hands: { [player]: { [`c${i % 5}`]: val(`hand-${player}`) } } };
    else if (x < 0.45) patch = { admin: { [`k${i % 4}`]: val('adm') } };
    else if (x < 0.55) patch = { seed: `seed-${i}` };
    else if (x < 0.6) patch = { hands: r() < 0.5 ? null : { [player]: [`hand-${player}-${i}`] } };
    else patch = { board: { [`b${i % 6}`]: val('pub') }, turn: i };
    const writer = x < 0.2 ? readers[PLAYERS.indexOf(player)] : undefined;
    const res = await post(dev.url, DOC, patch, writer ? auth(writer) : key);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    if (i === 100) {
      // p3's second connection leaves with the seq it has; it resumes at i = 200 with lastSeq
      p3bFolded = fold(p3b, readers[2]);
      p3bLastSeq = p3bFolded.seq;
      p3b.close();
      await p3b.closed;
    }
    if (i === 200) p3bResumed = await open(readers[2], false, p3bLastSeq);
  }
  const last = await post(dev.url, DOC, { done: true }, key);
  const whole0 = await fetch(`${dev.url}/v1/docs/${DOC}`, { headers: key }).then((x) => x.json() as Promise<{ seq: string; state: any }>);
  assert.equal(whole0.seq, last.body.seq);
  for (const [c, reader] of [...live.map((c, i) => [c, readers[i]] as const), [p3bResumed!, readers[2]] as const]) {
    await c.next((f) => (f.binary !== undefined ? String(decodeFrame(f).seq) === last.body.seq : f.type === 'delta' && f.seq === last.body.seq));
    const { state, deltas, snapshots } = fold(c, reader, c === p3bResumed ? p3bFolded : undefined);
    assert.deepEqual(state, expected(whole0.state, reader), `${reader.name}'s live state is its projection`);
    assert.ok(deltas < WRITES + 1, `${reader.name}: deltas it cannot see were not sent (${deltas} frames)`);
    if (c === p3bResumed) assert.equal(snapshots, 0, 'the resume within the view is served deltas chained on its lastSeq');
  }
  const sseText = await sse.until((text) => text.includes(`"seq":"${last.body.seq}"`));
  const sseFrames = sseText
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice('data: '.length)) as any)
    .filter((f) => f.doc === DOC);
  const admin = readers[4];
  const overSse = fold({ frames: sseFrames }, admin);
  assert.equal(overSse.snapshots, 1);
  assert.deepEqual(overSse.state, expected(whole0.state, admin), 'the admin over SSE sees its projection');
  assert.ok(!sseText.includes('seed-') && !sseText.includes('hand-'), 'the raw SSE stream holds no seed and no hand');

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
  const after = await fetch(`${dev.url}/v1/docs/${DOC}`, { headers: key }).then((x) => x.json() as Promise<{ seq: string; state: any }>);
  assert.equal(after.seq, whole.seq, 'no refused write was applied');

  // the WebSocket: a publish touching an invisible member is forbidden, one inside the view is acked
  const ws = await RawClient.open(`${dev.wsUrl}?token=${encodeURIComponent(p1.token)}`);
  t.after(() => ws.close());
  ws.send({ type: 'publish', doc: DOC, id: 'bad', patch: { hands: { p3: { c: 'x' } } } });
  assert.equal((await ws.next((f) => f.id === 'bad')).code, 'forbidden');
  ws.send({ type: 'publish', doc: DOC, id: 'ok', patch: { hands: { p1: { c: 'mine' } } } });
  assert.equal((await ws.next((f) => f.id === 'ok')).type, 'ack');
  const mine = await fetch(`${dev.url}/v1/docs/${DOC}`, { headers: auth(p1) }).then((x) => x.json() as Promise<{ state: any }>);
  assert.deepEqual(Object.keys(mine.state.hands), ['p1']);
  assert.equal(mine.state.hands.p1.c, 'mine', 'the publish inside the view was applied');
});

test(`at most MAX_VIEWS_PER_DOC (${MAX_VIEWS_PER_DOC}) distinct views of a doc per gateway: a further view is refused unavailable, the others carry on`, async (t) => {
  const tmp = tempDir('replicant-views-');
  t.after(tmp.cleanup);
  const viewsFile = join(tmp.dir, 'views.json');
  writeFileSync(viewsFile, JSON.stringify({ views: [{ docs: 'game:*', private: { '/hands/{sub}': 'owner' } }] }));
  const dev = await startDevFor(t, { AUTH_JWT_SECRET: SECRET, API_KEYS: API_KEY, VIEWS_FILE: viewsFile });
  const tok = (sub: string) => sign({ sub, read: ['game:*'], write: ['game:*'], exp: nowSec() + 600 }, SECRET);
  const join1 = async (sub: string): Promise<{ c: RawClient; first: any }> => {
    const c = await RawClient.open(`${dev.wsUrl}?token=${encodeURIComponent(await tok(sub))}`);
    t.after(() => c.close());
    c.send({ type: 'subscribe', doc: 'game:big' });
    return { c, first: await c.next((f) => f.type === 'snapshot' || f.type === 'error') };
  };
  const members: RawClient[] = [];
  for (let i = 0; i < MAX_VIEWS_PER_DOC; i++) {
    const { c, first } = await join1(`u${i}`);
    assert.equal(first.type, 'snapshot', `view ${i}`);
    members.push(c);
  }
  const over = await join1('one-too-many');
  assert.deepEqual([over.first.type, over.first.code, over.first.doc], ['error', 'unavailable', 'game:big']);
  // a reader in an existing view still joins, and the members keep receiving
  assert.equal((await join1('u0')).first.type, 'snapshot');
  const w = await post(dev.url, 'game:big', { hands: { u1: ['x'] }, board: 1 }, { authorization: `Bearer ${API_KEY}` });
  assert.equal(w.status, 200);
  const d1 = await members[1].next((f) => f.type === 'delta');
  assert.deepEqual(d1.patch, { hands: { u1: ['x'] }, board: 1 });
  const d2 = await members[2].next((f) => f.type === 'delta');
  assert.deepEqual(d2.patch, { hands: {}, board: 1 });
});

test('an in-band token refresh whose claims change the view re-joins through the new view with a snapshot', async (t) => {
  const tmp = tempDir('replicant-views-');
  t.after(tmp.cleanup);
  const viewsFile = join(tmp.dir, 'views.json');
  writeFileSync(viewsFile, JSON.stringify({ views: [{ docs: 'game:*', private: { '/admin': 'claim:role=admin' } }] }));
  const dev = await startDevFor(t, { AUTH_JWT_SECRET: SECRET, API_KEYS: API_KEY, VIEWS_FILE: viewsFile });
  assert.equal((await post(dev.url, DOC, { admin: { note: 'adm-1' }, board: 1 }, { authorization: `Bearer ${API_KEY}` })).status, 200);
  const tok = (role?: string) => sign({ sub: 'carl', role, read: ['game:*'], write: ['game:*'], exp: nowSec() + 600 }, SECRET);
  const c = await RawClient.open(`${dev.wsUrl}?token=${encodeURIComponent(await tok())}`);
  t.after(() => c.close());
  c.send({ type: 'subscribe', doc: DOC });
  assert.deepEqual((await c.next((f) => f.type === 'snapshot')).state, { board: 1 });
  const before = c.frames.length;
  c.send({ type: 'auth', token: await tok('admin') });
  assert.deepEqual((await c.next((f) => f.type === 'snapshot', before)).state, { admin: { note: 'adm-1' }, board: 1 });
  // and back: the admin member is gone from the next snapshot, nothing of it in a later delta
  const mid = c.frames.length;
  c.send({ type: 'auth', token: await tok() });
  assert.deepEqual((await c.next((f) => f.type === 'snapshot', mid)).state, { board: 1 });
  const after = c.frames.length;
  assert.equal((await post(dev.url, DOC, { admin: { note: 'adm-2' }, board: 2 }, { authorization: `Bearer ${API_KEY}` })).status, 200);
  assert.deepEqual((await c.next((f) => f.type === 'delta', after)).patch, { board: 2 });
});
