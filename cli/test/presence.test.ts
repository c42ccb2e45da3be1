/**
 * Presence in embedded mode (`replicant dev`, real process): 200 connections join `room`'s
 * presence with info; a watcher of `room~presence` sees connections 200 and 200 users; 50 leave
 * and the watcher sees 150 within PRESENCE_INTERVAL_MS + 1 s; its seq/prevSeq chain never has a
 * gap. Users are capped at PRESENCE_MAX_USERS while `connections` stays exact. The presence doc
 * is read-only (400 over HTTP, an error frame over WebSocket), readable with `room`'s read scope
 * only (subscribe, GET, history), and resumable like any doc.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type PresenceState } from '@replicant/sdk';
import { getDoc, post, RawClient, startDevProcess, tempDir } from './harness.js';
import { API_KEY, join, PresenceWatcher, SECRET, summary, token, usersOf } from './presence-check.js';

const INTERVAL = 300;
const key = { authorization: `Bearer ${API_KEY}` };

test('presence in dev: 200 join, 50 leave, exact counts, capped users, read-only, read scope of the doc', { timeout: 120_000 }, async (t) => {
  const tmp = tempDir();
  const dev = await startDevProcess({
    dataDir: tmp.dir,
    env: { AUTH_JWT_SECRET: SECRET, API_KEYS: API_KEY, PRESENCE_INTERVAL_MS: String(INTERVAL), PRESENCE_MAX_USERS: '150', ADMISSION_BURST: '10000' },
  });
  t.after(async () => {
    await dev.stop();
    tmp.cleanup();
  });
  const watcher = await PresenceWatcher.open(dev.wsUrl, 'room~presence');
  const members = await join(dev.wsUrl, 'room', 'u', 200);
  await watcher.within(INTERVAL + 5000, '200 joined', (s) => s.connections === 200);
  // capped at PRESENCE_MAX_USERS = 150, connections exact
  assert.equal(usersOf(watcher.state), 150, summary(watcher.state));
  const some = Object.entries(watcher.state.users)[0] as [string, any];
  assert.deepEqual(some[1], { connections: 1, info: { name: some[0] } });

  // 50 listed users leave: the waiting ones are listed in their place, count exact
  const listed = new Set(Object.keys(watcher.state.users));
  const leaving = members.filter((_, i) => listed.has(`u${i}`)).slice(0, 50);
  for (const c of leaving) c.close();
  const ms = await watcher.within(INTERVAL + 1000, '50 left', (s) => s.connections === 150 && usersOf(s) === 150);
  for (const c of leaving) await c.closed;
  assert.ok(ms <= INTERVAL + 1000, `${ms} ms`);
  for (const u of Object.values(watcher.state.users) as any[]) assert.equal(u.connections, 1);

  // a second connection of the same sub counts in its user's entry
  const u0 = members.findIndex((_, i) => !leaving.includes(members[i]) && watcher.state.users[`u${i}`]);
  const again = await RawClient.open(`${dev.wsUrl}?token=${await token(`u${u0}`)}`);
  again.send({ type: 'subscribe', doc: 'room', presence: true, info: { name: 'second', typing: true } });
  await watcher.within(INTERVAL + 1000, 'second connection', (s) => s.connections === 151 && s.users[`u${u0}`]?.connections === 2);
  assert.deepEqual(watcher.state.users[`u${u0}`].info, { name: 'second', typing: true });
  // unsubscribe leaves (the connection stays)
  again.send({ type: 'unsubscribe', doc: 'room' });
  await watcher.within(INTERVAL + 1000, 'unsubscribed', (s) => s.connections === 150 && s.users[`u${u0}`]?.connections === 1);

  // read-only: HTTP 400, WebSocket error frame
  const w = await post(dev.url, 'room~presence', { connections: 0 }, key);
  assert.deepEqual([w.status, w.body.error.code], [400, 'bad_request']);
  const writer = await RawClient.open(`${dev.wsUrl}?token=${await token('writer')}`);
  writer.send({ type: 'publish', doc: 'room~presence', patch: { connections: 0 }, id: 'p1' });
  const e = await writer.next((f) => f.type === 'error');
  assert.deepEqual([e.code, e.id, e.doc], ['bad_request', 'p1', 'room~presence']);
  // presence: true on a presence doc is a bad frame
  writer.send({ type: 'subscribe', doc: 'room~presence', presence: true });
  assert.equal((await writer.next((f) => f.type === 'error' && f.code === 'bad_frame')).doc, 'room~presence');
  // info over 1 KiB is refused
  writer.send({ type: 'subscribe', doc: 'room', presence: true, info: { x: 'y'.repeat(1100) } });
  assert.match((await writer.next((f) => f.type === 'error' && f.code === 'bad_frame' && f.doc === 'room')).message, /1024/);

  // readable with the doc's read scope: GET, history; a token without read on `room` can do neither
  const reader = { authorization: `Bearer ${await token('reader', ['room'])}` };
  const g = await getDoc(dev.url, 'room~presence', reader);
  assert.equal(g.state.connections, 150);
  const h = await fetch(`${dev.url}/v1/docs/room~presence/history?after=0&limit=5`, { headers: reader });
  assert.equal(h.status, 200);
  assert.ok(((await h.json()) as any).ops.length > 0);
  const other = `Bearer ${await token('other', ['lobby', 'room~presence'])}`;
  assert.equal((await fetch(`${dev.url}/v1/docs/room~presence`, { headers: { authorization: other } })).status, 403);
  const outsider = await RawClient.open(`${dev.wsUrl}?token=${await token('other', ['lobby'])}`);
  outsider.send({ type: 'subscribe', doc: 'room~presence' });
  const f = await outsider.next((x) => x.type === 'error');
  assert.deepEqual([f.code, f.doc], ['forbidden', 'room~presence']);

  // resumable: a subscriber resuming from an older seq gets a delta from there (history covers it)
  const seq = watcher.seq!;
  const resumer = await RawClient.open(`${dev.wsUrl}?token=${await token('resumer')}`);
  for (const c of members.slice(190)) if (!leaving.includes(c)) c.close();
  await watcher.within(INTERVAL + 1000, 'more left', (s) => s.connections < 150);
  resumer.send({ type: 'subscribe', doc: 'room~presence', lastSeq: String(seq) });
  const d = await resumer.next((x) => x.doc === 'room~presence');
  assert.deepEqual([d.type, d.prevSeq], ['delta', String(seq)]);

  // a refreshed token of another sub moves the membership to it
  const mover = await RawClient.open(`${dev.wsUrl}?token=${await token('before')}`);
  mover.send({ type: 'subscribe', doc: 'room', presence: true });
  await watcher.within(INTERVAL + 1000, 'mover joined', (s) => s.users.before?.connections === 1);
  mover.send({ type: 'auth', token: await token('after') });
  await watcher.within(INTERVAL + 1000, 'mover moved', (s) => s.users.after?.connections === 1 && !s.users.before);
  mover.close();
  await watcher.within(INTERVAL + 1000, 'mover left', (s) => !s.users.after);

  // metrics: this process aggregates (dev: always) and wrote; its gateway holds the members it reported
  const metrics = await (await fetch(`${dev.url}/metrics`)).text();
  const sample = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
  assert.equal(sample('replicant_origin_presence_leader'), 1);
  assert.ok(sample('replicant_origin_presence_writes_total') >= 4);
  assert.equal(sample('replicant_gateway_presence_members'), watcher.state.connections);
  assert.ok(sample('replicant_gateway_presence_reports_total{result="ok"}') >= 4);
  assert.ok(watcher.frames >= 4);
  for (const c of [...members, again, writer, outsider, resumer, watcher.c]) c.close();
});

for (const protocol of ['binary', 'json'] as const) {
  test(`SDK (${protocol}): subscribe with presence info joins, client.presence() sees who is here, unsubscribe leaves`, { timeout: 60_000 }, async (t) => {
    const tmp = tempDir();
    const dev = await startDevProcess({ dataDir: tmp.dir, env: { AUTH_JWT_SECRET: SECRET, PRESENCE_INTERVAL_MS: String(INTERVAL) } });
    t.after(async () => {
      await dev.stop();
      tmp.cleanup();
    });
    const ann = connect(dev.url, { protocol, token: await token('ann') });
    const bob = connect(dev.url, { protocol, token: await token('bob') });
    t.after(() => {
      ann.close();
      bob.close();
    });
    const seen: PresenceState[] = [];
    const waiters: { pred: (p: PresenceState) => boolean; resolve: () => void }[] = [];
    const until = (pred: (p: PresenceState) => boolean) =>
      seen.length > 0 && pred(seen[seen.length - 1]) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ pred, resolve }));
    bob.presence('room', (p) => {
      seen.push(p);
      for (const w of waiters.splice(0)) if (w.pred(p)) w.resolve();
      else waiters.push(w);
    });
    const sub = ann.subscribe('room', () => {}, { presence: { info: { name: 'Ann' } } });
    await until((p) => p.connections === 1);
    assert.deepEqual(seen.at(-1), { connections: 1, users: { ann: { connections: 1, info: { name: 'Ann' } } } });
    sub.unsubscribe();
    await until((p) => p.connections === 0);
    assert.deepEqual(seen.at(-1), { connections: 0, users: {} });
  });
}
