/**
 * Presence across a real cluster (3 Kafka brokers, redis-server, 2 origins, 2 replicas, 2
 * gateways; gateway 2 reports to origin 2, which relays to the presence leader):
 * - 200 connections (100 per gateway) join `room` with info: a watcher of `room~presence` sees
 *   connections 200 and 200 users; 50 leave -> 150 within PRESENCE_INTERVAL_MS + 1 s.
 * - 20,000 members of `hall` over the 2 gateways (held by two child processes: the fd limit is
 *   20,000 per process): `users` capped at PRESENCE_MAX_USERS, `connections` exact; the CPU each
 *   process (origin, gateways) spends on a batch of joins is flat from 1,000 to 20,000 members.
 * - a gateway SIGKILLed: its members are gone within PRESENCE_TTL_MS + 2 s.
 * - the watchers' seq/prevSeq chains never have a gap; `room~presence` is read-only (400).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { post } from './harness.js';
import { cpuMs, startCluster, type Node } from './cluster-harness.js';
import { API_KEY, join, PresenceWatcher, SECRET, summary, usersOf } from './presence-check.js';

const INTERVAL = 300;
const TTL = 2000;
const MEMBERS = new URL('./presence-members.js', import.meta.url).pathname;

/** a child process holding presence members of `doc` on one gateway */
function members(gw: Node, doc: string, prefix: string): { proc: ChildProcess; join(n: number): Promise<number> } {
  const proc = spawn(process.execPath, [MEMBERS], { env: { ...process.env, WS_URL: gw.wsUrl, DOC: doc, PREFIX: prefix, SECRET }, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! });
  const waiting: ((n: number) => void)[] = [];
  lines.on('line', (l) => {
    const m = /^joined (\d+)$/.exec(l);
    if (m) waiting.shift()?.(Number(m[1]));
  });
  return {
    proc,
    join: (n) =>
      new Promise<number>((resolve, reject) => {
        waiting.push(resolve);
        proc.once('exit', (code) => reject(new Error(`members process exited (${code})`)));
        proc.stdin!.write(`join ${n}\n`);
      }),
  };
}

test('presence in a cluster: exact counts over 2 gateways, flat cost to 20,000 members, a killed gateway leaves within the TTL', { timeout: 600_000 }, async (t) => {
  const cluster = await startCluster({
    fanouts: 2,
    gateways: 2,
    origins: 2,
    env: {
      AUTH_DISABLED: 'false',
      AUTH_JWT_SECRET: SECRET,
      API_KEYS: API_KEY,
      PRESENCE_INTERVAL_MS: String(INTERVAL),
      PRESENCE_TTL_MS: String(TTL),
      ADMISSION_BURST: '20000',
      ADMISSION_RATE: '20000',
    },
  });
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await cluster.stop();
  });
  const [g1, g2] = cluster.gateways;

  // 200 members over 2 gateways, then 50 leave
  const watcher = await PresenceWatcher.open(g1.wsUrl, 'room~presence');
  const m1 = await join(g1.wsUrl, 'room', 'a', 100);
  const m2 = await join(g2.wsUrl, 'room', 'b', 100);
  await watcher.within(INTERVAL + 10_000, '200 joined', (s) => s.connections === 200 && usersOf(s) === 200);
  assert.deepEqual(watcher.state.users.b7, { connections: 1, info: { name: 'b7' } });
  for (const c of m1.slice(0, 50)) c.close();
  const left = await watcher.within(INTERVAL + 1000, '50 left', (s) => s.connections === 150 && usersOf(s) === 150);
  t.diagnostic(`50 leaves seen in ${left} ms`);

  // read-only through origin
  const w = await post(cluster.origin.url, 'room~presence', { connections: 1 }, { authorization: `Bearer ${API_KEY}` });
  assert.deepEqual([w.status, w.body.error.code], [400, 'bad_request']);

  // 20,000 members of `hall`: CPU per batch of 500 joins at 1,000 and at 20,000 members
  const hall = await PresenceWatcher.open(g1.wsUrl, 'hall~presence');
  const a = members(g1, 'hall', 'h1-');
  const b = members(g2, 'hall', 'h2-');
  children.push(a.proc, b.proc);
  const pids = { origin1: cluster.origins[0].proc.pid!, origin2: cluster.origins[1].proc.pid!, g1: g1.proc.pid!, g2: g2.proc.pid! };
  const cpu = () => Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid)])) as Record<keyof typeof pids, number>;
  const batch = async (perGateway: number, total: number) => {
    const before = cpu();
    await Promise.all([a.join(perGateway), b.join(perGateway)]);
    await hall.within(30_000, `${total} members`, (s) => s.connections === total);
    const after = cpu();
    return Object.fromEntries(Object.keys(pids).map((k) => [k, after[k as keyof typeof pids] - before[k as keyof typeof pids]])) as Record<keyof typeof pids, number>;
  };
  await batch(500, 1000);
  const small = await batch(250, 1500);
  await Promise.all([a.join(9000), b.join(9000)]);
  await hall.within(120_000, '19,500 members', (s) => s.connections === 19_500);
  const big = await batch(250, 20_000);
  t.diagnostic(`CPU ms for 500 joins at 1,000 members ${JSON.stringify(small)}, at 20,000 members ${JSON.stringify(big)}`);
  assert.equal(usersOf(hall.state), 1000, summary(hall.state));
  assert.equal(hall.state.connections, 20_000);
  for (const k of Object.keys(pids) as (keyof typeof pids)[]) {
    // 10 ms is the clock tick: a floor keeps a near-zero baseline from making the ratio noise
    assert.ok(big[k] / Math.max(small[k], 50) < 3, `${k}: ${big[k]} ms at 20,000 vs ${small[k]} ms at 1,000 members`);
  }

  // SIGKILL gateway 2: its members (100 - 0 of room, 10,000 of hall) leave within the TTL + 2 s
  const t0 = Date.now();
  await g2.kill9();
  await watcher.within(TTL + 2000, 'room after the kill', (s) => s.connections === 50 && usersOf(s) === 50);
  await hall.within(TTL + 2000 - (Date.now() - t0), 'hall after the kill', (s) => s.connections === 10_000);
  t.diagnostic(`a killed gateway's members gone after ${Date.now() - t0} ms (TTL ${TTL})`);
  assert.ok(Object.keys(watcher.state.users).every((u) => u.startsWith('a')));
  for (const c of [...m1, ...m2, watcher.c, hall.c]) c.close();
});
