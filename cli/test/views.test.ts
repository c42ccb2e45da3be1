/**
 * Per-user views (DESIGN.md "Per-user views", issue 19's acceptance) against a real `replicant dev`
 * with VIEWS_FILE: a game doc with `/hands/{sub}` private to its owner, `/admin` to
 * `claim:role=admin` and `/seed` to nobody. 4 players, an admin and a spectator each read over the
 * WebSocket with both subprotocols (`replicant.v1.json`, `replicant.v1`) and over SSE, while 2,000
 * random writes land (the backend's API key, and players writing their own hands; posted WRITE_BATCH
 * at a time). Along the way two WebSocket readers (a player over JSON, the spectator over protobuf)
 * leave and resume with `lastSeq`, and two SSE readers (a player and the admin) reconnect with
 * `Last-Event-ID`: each is served deltas chained on what it had (no snapshot). At the end every
 * reader's folded state equals the projection of origin's state for its view (an independent
 * projection written here), every chain (resumes included) is gap-free, no raw frame or SSE event
 * any reader received holds a member outside its view, and each principal's GET and history fold to
 * its projection, as do the SDK's `stateAt` half-way plus its `history` after it (the API key sees
 * the whole doc). Writes touching an invisible member are 403
 * `forbidden` over HTTP and `forbidden` over the WebSocket, and change nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rng } from '@replicant/testkit';
import { applyMergePatch, decodeServerBinary, encodeClientBinary, MAX_VIEWS_PER_DOC, parseSseCursor, SUBPROTOCOL_BINARY, SUBPROTOCOL_JSON } from '@replicant/protocol';
import { connect } from '@replicant/sdk';
import { post, RawClient, startDevFor, tempDir } from './harness.js';
import { nowSec, sign } from './tokens.js';
import { assertNothingHidden, expected, GAME_RULES, PLAYERS, type GameReader } from './views-game.js';

const SECRET = 'hs256-views-secret-0123456789';
const API_KEY = 'views-backend-api-key-0123456789';
const DOC = 'game:1';
/** random writes of the acceptance test, and how many are posted at once */
const WRITES = 2000;
const WRITE_BATCH = 16;

interface Reader extends GameReader {
  token: string;
}

/** one complete SSE event: its raw text and its data parsed */
interface SseEvent {
  sse: string;
  data: any;
  id: string | undefined;
}

/** an SSE stream read into memory (complete events parsed) until `abort`; `ended` once it stopped */
async function openSse(url: string, lastEventId?: string) {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }, signal: abort.signal });
  assert.equal(res.status, 200);
  const events: SseEvent[] = [];
  let rest = '';
  let waiters: { pred: (e: SseEvent) => boolean; resolve: () => void }[] = [];
  const ended = (async () => {
    const dec = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        rest += dec.decode(chunk, { stream: true });
        let i: number;
        while ((i = rest.indexOf('\n\n')) >= 0) {
          const sse = rest.slice(0, i);
          rest = rest.slice(i + 2);
          const data = sse.split('\n').find((l) => l.startsWith('data: '));
          if (data === undefined) continue; // a keep-alive comment
          const e = { sse, data: JSON.parse(data.slice('data: '.length)), id: sse.split('\n').find((l) => l.startsWith('id: '))?.slice('id: '.length) };
          events.push(e);
          waiters = waiters.filter((w) => (w.pred(e) ? (w.resolve(), false) : true));
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    events,
    /** stops reading; resolves once no more events are taken */
    close: async () => {
      abort.abort();
      await ended;
    },
    until: (pred: (e: SseEvent) => boolean): Promise<void> => (events.some(pred) ? Promise.resolve() : new Promise((resolve) => waiters.push({ pred, resolve }))),
  };
}

/** a received frame, decoded (binary frames are kept raw by RawClient, SSE events as text and data) */
function decodeFrame(f: any): any {
  if (f.sse !== undefined) return f.data;
  if (f.binary === undefined) return f;
  const d = decodeServerBinary(new Uint8Array(f.binary));
  if (d instanceof Error) throw d;
  return d;
}

/**
 * Folds a reader's frames of DOC, checking on the way that each raw frame holds no member outside
 * its view and that every delta chains on the seq before it; a connection resumed with lastSeq
 * (or Last-Event-ID) starts `from` the state and seq its predecessor had.
 */
function fold(frames: any[], reader: Reader, where: string, from?: { state: any; seq: string }): { state: any; seq: string; deltas: number; snapshots: number } {
  let state: any = from ? structuredClone(from.state) : undefined;
  let seq = from?.seq ?? '';
  let deltas = 0;
  let snapshots = 0;
  for (const raw of frames) {
    assertNothingHidden(raw.sse ?? (raw.binary !== undefined ? Buffer.from(raw.binary).toString('latin1') : JSON.stringify(raw)), reader, where);
    const f = decodeFrame(raw);
    if (f.type === 'snapshot') {
      state = f.state;
      seq = String(f.seq);
      snapshots++;
    } else if (f.type === 'delta') {
      assert.equal(String(f.prevSeq), seq, `${reader.name} (${where}): gap in its chain`);
      state = applyMergePatch(state, f.patch);
      seq = String(f.seq);
      deltas++;
    }
  }
  return { state, seq, deltas, snapshots };
}

test(`${WRITES} random writes: every reader over both subprotocols and SSE holds its projection; WS lastSeq resumes and SSE Last-Event-ID reconnects gap-free per view; no private member on the wire; GET and history projected; invisible members are forbidden to write`, async (t) => {
  const tmp = tempDir('replicant-views-');
  t.after(tmp.cleanup);
  const viewsFile = join(tmp.dir, 'views.json');
  writeFileSync(viewsFile, JSON.stringify(GAME_RULES));
  const dev = await startDevFor(t, { AUTH_JWT_SECRET: SECRET, API_KEYS: API_KEY, VIEWS_FILE: viewsFile });
  const key = { authorization: `Bearer ${API_KEY}` };
  const tok = (sub: string, role?: string) => sign({ sub, role, read: ['game:*'], write: ['game:*'], exp: nowSec() + 600 }, SECRET);
  const readers: Reader[] = [
    ...(await Promise.all(PLAYERS.map(async (p) => ({ name: p, sub: p, admin: false, token: await tok(p, 'player') })))),
    { name: 'admin', sub: 'boss', admin: true, token: await sign({ sub: 'boss', role: ['staff', 'admin'], read: ['game:*'], write: ['game:*'], exp: nowSec() + 600 }, SECRET) },
    { name: 'spectator', sub: 'spec', admin: false, token: await tok('spec') },
  ];
  const [p1, , p3, , admin, spectator] = readers;
  const auth = (r: Reader) => ({ authorization: `Bearer ${r.token}` });

  const open = async (reader: Reader, binary: boolean, lastSeq?: string): Promise<RawClient> => {
    const c = await RawClient.open(`${dev.wsUrl}?token=${encodeURIComponent(reader.token)}`, binary ? SUBPROTOCOL_BINARY : SUBPROTOCOL_JSON);
    t.after(() => c.close());
    if (binary) c.ws.send(encodeClientBinary({ type: 'subscribe', doc: DOC, lastSeq: lastSeq === undefined ? undefined : BigInt(lastSeq) }));
    else c.send({ type: 'subscribe', doc: DOC, lastSeq });
    if (!lastSeq) await c.next((f) => (f.binary !== undefined ? decodeFrame(f).type === 'snapshot' : f.type === 'snapshot'));
    return c;
  };
  const sseUrl = (r: Reader) => `${dev.url}/v1/sse?doc=${DOC}&token=${encodeURIComponent(r.token)}`;
  const sse = async (reader: Reader, lastEventId?: string) => {
    const s = await openSse(sseUrl(reader), lastEventId);
    t.after(s.close);
    if (!lastEventId) await s.until((e) => e.data.type === 'snapshot');
    return s;
  };
  type Live = { reader: Reader; where: string; frames: () => any[]; reached: (seq: string) => Promise<void>; from?: { state: any; seq: string }; resumed?: boolean };
  const wsLive = (c: RawClient, reader: Reader, where: string, from?: { state: any; seq: string }): Live => ({
    reader,
    where,
    from,
    resumed: from !== undefined,
    frames: () => c.frames,
    reached: async (seq) => void (await c.next((f) => String(decodeFrame(f).seq) === seq)),
  });
  const sseLive = (s: Awaited<ReturnType<typeof sse>>, reader: Reader, where: string, from?: { state: any; seq: string }): Live => ({
    reader,
    where,
    from,
    resumed: from !== undefined,
    frames: () => s.events,
    reached: (seq) => s.until((e) => e.data.doc === DOC && e.data.seq === seq),
  });

  // every reader: one connection per subprotocol and one SSE stream
  const lives: Live[] = [];
  for (const reader of readers) {
    lives.push(wsLive(await open(reader, false), reader, 'ws json'));
    lives.push(wsLive(await open(reader, true), reader, 'ws protobuf'));
    lives.push(sseLive(await sse(reader), reader, 'sse'));
  }
  // the readers that leave and come back (each view keeps other readers: its child doc and ring stay)
  const p3ws = await open(p3, false);
  const specWs = await open(spectator, true);
  const p1Sse = await sse(p1);
  const adminSse = await sse(admin);
  const wsLeave = async (c: RawClient, reader: Reader, where: string) => {
    c.close();
    await c.closed;
    return fold(c.frames, reader, where);
  };
  const sseLeave = async (s: Awaited<ReturnType<typeof sse>>, reader: Reader, where: string) => {
    await s.close();
    const had = fold(s.events, reader, where);
    const cursor = s.events.filter((e) => e.id !== undefined).at(-1)!.id!;
    const seqs = parseSseCursor(cursor, [DOC]);
    assert.ok(Array.isArray(seqs) && String(seqs[0]) === had.seq, `${reader.name}: the cursor names the seq it had`);
    return { had, cursor };
  };
  const leaving: Record<number, () => Promise<void>> = {
    400: async () => {
      const had = await wsLeave(p3ws, p3, 'ws json, before its resume');
      leaving[960] = async () => void lives.push(wsLive(await open(p3, false, had.seq), p3, 'ws json resumed (lastSeq)', had));
    },
    560: async () => {
      const had = await wsLeave(specWs, spectator, 'ws protobuf, before its resume');
      leaving[1200] = async () => void lives.push(wsLive(await open(spectator, true, had.seq), spectator, 'ws protobuf resumed (lastSeq)', had));
    },
    720: async () => {
      const { had, cursor } = await sseLeave(p1Sse, p1, 'sse, before its reconnect');
      leaving[1360] = async () => void lives.push(sseLive(await sse(p1, cursor), p1, 'sse reconnected (Last-Event-ID)', had));
    },
    880: async () => {
      const { had, cursor } = await sseLeave(adminSse, admin, 'sse, before its reconnect');
      leaving[1600] = async () => void lives.push(sseLive(await sse(admin, cursor), admin, 'sse reconnected (Last-Event-ID)', had));
    },
  };

  // random writes: the backend (API key) everywhere, players into their own hands; values carry
  // markers naming whose they are, so raw frames can be searched for what they must not hold
  const r = rng(19);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const write = (i: number) => {
    const x = r();
    const player = pick(PLAYERS);
    const val = (tag: string) => (r() < 0.15 ? null : `${tag}-${i}`);
    let patch: any;
    if (x < 0.3) patch = { hands: { [player]: { [`c${i % 5}`]: val(`hand-${player}`) } } };
    else if (x < 0.45) patch = { admin: { [`k${i % 4}`]: val('adm') } };
    else if (x < 0.55) patch = { seed: `seed-${i}` };
    else if (x < 0.58) patch = { hands: r() < 0.5 ? null : { [player]: [`hand-${player}-${i}`] } };
    else if (x < 0.6) patch = { hands: i }; // not an object: the owner rule has nothing to hide in it
    else patch = { board: { [`b${i % 6}`]: val('pub') }, turn: i };
    const writer = x < 0.2 ? readers[PLAYERS.indexOf(player)] : undefined;
    return post(dev.url, DOC, patch, writer ? auth(writer) : key);
  };
  let midSeq = ''; // a seq half-way: the SDK reads history from there
  const started = Date.now();
  for (let i = 0; i < WRITES; i += WRITE_BATCH) {
    const batch = await Promise.all(Array.from({ length: Math.min(WRITE_BATCH, WRITES - i) }, (_, k) => write(i + k)));
    for (const res of batch) assert.equal(res.status, 200, JSON.stringify(res.body));
    if (i === 992) midSeq = batch.at(-1)!.body.seq;
    await leaving[i]?.();
  }
  const writesMs = Date.now() - started;
  const last = await post(dev.url, DOC, { done: true }, key);
  const whole0 = await fetch(`${dev.url}/v1/docs/${DOC}`, { headers: key }).then((x) => x.json() as Promise<{ seq: string; state: any }>);
  assert.equal(whole0.seq, last.body.seq);
  assert.equal(lives.length, readers.length * 3 + 4, 'every resume ran');
  for (const live of lives) {
    await live.reached(last.body.seq);
    const { state, deltas, snapshots } = fold(live.frames(), live.reader, live.where, live.from);
    assert.deepEqual(state, expected(whole0.state, live.reader), `${live.reader.name} (${live.where}): its live state is its projection`);
    assert.ok(deltas < WRITES + 1, `${live.reader.name} (${live.where}): deltas it cannot see were not sent (${deltas} frames)`);
    if (live.resumed) assert.equal(snapshots, 0, `${live.reader.name} (${live.where}): served deltas chained on what it had, no snapshot`);
    else assert.equal(snapshots, 1, `${live.reader.name} (${live.where})`);
  }
  t.diagnostic(`${WRITES} writes posted ${WRITE_BATCH} at a time in ${writesMs} ms; ${lives.length} readers checked`);

  // make sure every private kind is present for the final check
  assert.equal((await post(dev.url, DOC, { seed: 'seed-final', admin: { secret: 'adm-only' }, hands: { p1: { c: 'hand-p1-card' }, p2: { c: 'hand-p2-card' } } }, key)).status, 200);

  const whole = await fetch(`${dev.url}/v1/docs/${DOC}`, { headers: key }).then((x) => x.json() as Promise<{ seq: string; state: any }>);
  assert.equal(whole.state.seed, 'seed-final', 'the API key sees the whole doc');
  for (const reader of readers) {
    const res = await fetch(`${dev.url}/v1/docs/${DOC}`, { headers: auth(reader) });
    assert.equal(res.status, 200);
    const text = await res.text();
    assertNothingHidden(text, reader, 'GET');
    const got = JSON.parse(text) as { seq: string; state: any };
    assert.equal(got.seq, whole.seq);
    assert.deepEqual(got.state, expected(whole.state, reader), reader.name);
    // its history (every page) folds to the same projection, chained gap-free
    let folded: any = {};
    let prev = '0';
    for (let from: string | null = '0'; from !== null; ) {
      const h: Response = await fetch(`${dev.url}/v1/docs/${DOC}/history?after=${from}`, { headers: auth(reader) });
      const page = await h.text();
      assert.equal(h.status, 200, page);
      assertNothingHidden(page, reader, 'history');
      const { ops, next } = JSON.parse(page) as { ops: { seq: string; prevSeq: string; patch: any }[]; next: string | null };
      for (const op of ops) {
        assert.equal(op.prevSeq, prev, `${reader.name}: its history chains`);
        folded = applyMergePatch(folded, op.patch);
        prev = op.seq;
      }
      from = next;
    }
    assert.deepEqual(folded, expected(whole.state, reader), `${reader.name}: its history folds to its projection`);
  }

  // the SDK, as a player: stateAt half-way plus the history after it fold to its projection
  const sdk = connect(dev.wsUrl, { token: () => p1.token });
  t.after(() => sdk.close());
  const then = await sdk.stateAt(DOC, midSeq);
  const rawThen = await fetch(`${dev.url}/v1/docs/${DOC}?at=${midSeq}`, { headers: key }).then((x) => x.json() as Promise<{ seq: string; state: any }>);
  assert.deepEqual([then.seq, then.state], [rawThen.seq, expected(rawThen.state, p1)], "the SDK's stateAt is the player's projection");
  let sdkState: any = then.state;
  let sdkSeq = then.seq;
  for (let page = await sdk.history(DOC, { after: then.seq }); ; page = await sdk.history(DOC, { after: page.next! })) {
    for (const op of page.ops) {
      assert.equal(op.prevSeq, sdkSeq, "the SDK's history chains on its stateAt");
      sdkState = applyMergePatch(sdkState, op.patch);
      sdkSeq = op.seq;
    }
    if (page.next === null) break;
  }
  assert.deepEqual(sdkState, expected(whole.state, p1), "the SDK's stateAt + history fold to the player's projection");

  // writes touching an invisible member: 403 forbidden, nothing applied
  for (const [who, patch] of [
    [p1, { hands: { p2: { c: 'stolen' } } }],
    [p1, { hands: null }],
    [p1, { seed: 'x' }],
    [p1, { admin: { x: 1 } }],
    [spectator, { admin: null }],
    [admin, { seed: 'admin-cannot-either' }],
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

test("presence of a doc with views: the doc's rules do not reach d~presence; an entry naming presence docs projects it live, over GET and history", async (t) => {
  const tmp = tempDir('replicant-views-');
  t.after(tmp.cleanup);
  const viewsFile = join(tmp.dir, 'views.json');
  writeFileSync(
    viewsFile,
    JSON.stringify({
      views: [
        { docs: 'game:*', private: { '/users': 'nobody', '/hands/{sub}': 'owner' } },
        { docs: 'game:*~presence', private: { '/users/{sub}/info': 'owner' } },
        { docs: 'room:*', private: { '/users': 'nobody' } },
      ],
    }),
  );
  const dev = await startDevFor(t, { AUTH_JWT_SECRET: SECRET, API_KEYS: API_KEY, VIEWS_FILE: viewsFile, PRESENCE_INTERVAL_MS: '100' });
  const tok = (sub: string) => sign({ sub, read: ['game:*', 'room:*'], write: ['game:*', 'room:*'], exp: nowSec() + 600 }, SECRET);
  const connect = async (sub: string) => {
    const c = await RawClient.open(`${dev.wsUrl}?token=${encodeURIComponent(await tok(sub))}`);
    t.after(() => c.close());
    return c;
  };
  // p1 and p2 are present in game:1 and room:1, each with an info naming it
  for (const sub of ['p1', 'p2']) {
    const c = await connect(sub);
    for (const doc of ['game:1', 'room:1']) c.send({ type: 'subscribe', doc, presence: true, info: { name: `info-${sub}` } });
  }
  /** folds `doc`'s frames on `c` until `done(state)`, checking each raw frame with `check` and the chain */
  const watch = async (c: RawClient, doc: string, check: (raw: string) => void, done: (s: any) => boolean): Promise<any> => {
    let state: any;
    let seq = '';
    for (let i = 0; ; i++) {
      const f = await c.next(() => true, i);
      if (f.doc !== doc) continue;
      check(JSON.stringify(f));
      if (f.type === 'snapshot') state = f.state;
      else if (f.type === 'delta') {
        assert.equal(f.prevSeq, seq, `${doc}: gap in the chain`);
        state = applyMergePatch(state, f.patch);
      } else continue;
      seq = f.seq;
      if (done(state)) return state;
    }
  };
  const both = (s: any) => s?.connections === 2 && s.users?.p1 !== undefined && s.users?.p2 !== undefined;
  const spec = await connect('spec');
  const p1 = await connect('p1');
  spec.send({ type: 'subscribe', doc: 'game:1~presence' });
  p1.send({ type: 'subscribe', doc: 'game:1~presence' });
  spec.send({ type: 'subscribe', doc: 'room:1~presence' });
  const noInfo = (raw: string) => assert.ok(!raw.includes('info-'), `the spectator got another's info: ${raw}`);
  const noP2Info = (raw: string) => assert.ok(!raw.includes('info-p2'), `p1 got p2's info: ${raw}`);
  // the entry naming presence docs: each reader sees the members, and only its own info
  assert.deepEqual(await watch(spec, 'game:1~presence', noInfo, both), { connections: 2, users: { p1: { connections: 1 }, p2: { connections: 1 } } });
  assert.deepEqual(await watch(p1, 'game:1~presence', noP2Info, both), {
    connections: 2,
    users: { p1: { connections: 1, info: { name: 'info-p1' } }, p2: { connections: 1 } },
  });
  // room:*'s rule (/users: nobody) is about room docs' members: room:1~presence is whole for everyone
  const room = await watch(spec, 'room:1~presence', () => {}, both);
  assert.deepEqual(room.users.p2, { connections: 1, info: { name: 'info-p2' } });

  // GET and history as the spectator: the same projection; the API key sees the infos
  const specAuth = { authorization: `Bearer ${await tok('spec')}` };
  const get = async (doc: string, headers: Record<string, string>, suffix = '') => {
    const res = await fetch(`${dev.url}/v1/docs/${doc}${suffix}`, { headers });
    assert.equal(res.status, 200);
    return res.text();
  };
  const got = await get('game:1~presence', specAuth);
  noInfo(got);
  assert.deepEqual(JSON.parse(got).state, { connections: 2, users: { p1: { connections: 1 }, p2: { connections: 1 } } });
  noInfo(await get('game:1~presence', specAuth, '/history'));
  assert.ok((await get('game:1~presence', { authorization: `Bearer ${API_KEY}` })).includes('info-p2'));
  assert.deepEqual(JSON.parse(await get('room:1~presence', specAuth)).state.users.p1, { connections: 1, info: { name: 'info-p1' } });
});
