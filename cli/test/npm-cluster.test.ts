/**
 * `npm run cluster` (scripts/cluster.mjs): the local distributed cluster starts real Kafka (one
 * broker here, to keep the test short), redis-server, origin, 2 fanouts and 2 gateways, prints one
 * `ready` line naming the gateway and origin URLs, passes the caller's env through, serves a write
 * and its delta end to end, and SIGINT (Ctrl-C) stops every process it started.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { watch } from '@replicant/testkit';
import { getDoc, post, RawClient } from './harness.js';

const SCRIPT = new URL('../../../scripts/cluster.mjs', import.meta.url).pathname;

/** pids of every descendant of `pid`, from /proc */
function descendants(pid: number): number[] {
  const kids = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(name)]);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const k of kids.get(p) ?? []) {
      out.push(k);
      walk(k);
    }
  };
  walk(pid);
  return out;
}

test('npm run cluster: ready line with gateway, origin and console URLs, the console lists the five nodes, a write seen through a gateway, Ctrl-C stops all', async () => {
  const proc = watch({
    name: 'npm run cluster',
    bin: process.execPath,
    args: [SCRIPT, '--brokers', '1', '--partitions', '4', '--port', '0'],
    env: { ...process.env, AUTH_DISABLED: 'true' },
    outputLimit: 1 << 20, // all of it: every process's ready line is asserted below
  });
  const out = (): string => proc.output();
  try {
    const [, gw1, gw2, origin, consoleUrl] = await proc.waitFor(/^cluster ready in [\d.]+ s: gateways (ws:\/\/\S+) (ws:\/\/\S+) origin (http:\/\/\S+) console (http:\/\/\S+) /m);
    assert.notEqual(gw1, gw2);
    // the console (on the origin's ADMIN_PORT) sees all five nodes, each with an admin port
    const nodes = (await (await fetch(`${consoleUrl}api/nodes`)).json()).nodes as { id: string; error?: string }[];
    assert.deepEqual(nodes.map((n) => `${n.id}:${n.error ?? 'ok'}`).sort(), ['fanout-1:ok', 'fanout-2:ok', 'gateway-1:ok', 'gateway-2:ok', 'origin-1:ok']);
    const started = descendants(proc.pid);
    // redis-server, the Kafka JVM, origin, 2 fanouts, 2 gateways
    assert.ok(started.length >= 7, `${started.length} processes: ${started}`);
    // every replicant process got the caller's env (AUTH_DISABLED) and announced itself ready
    for (const id of ['origin-1', 'fanout-1', 'fanout-2', 'gateway-1', 'gateway-2']) {
      assert.match(out(), new RegExp(`\\[${id}\\] replicant \\w+ ${id} ready on 127\\.0\\.0\\.1:\\d+`));
    }

    const clients = await Promise.all([gw1, gw2].map((u) => RawClient.open(u)));
    for (const c of clients) c.send({ type: 'subscribe', doc: 'npm-cluster' });
    await Promise.all(clients.map((c) => c.next((f) => f.type === 'snapshot')));
    const w = await post(origin, 'npm-cluster', { hello: 'cluster' });
    assert.equal(w.status, 200, JSON.stringify(w.body));
    for (const c of clients) {
      const d = await c.next((f) => f.type === 'delta' && f.seq === w.body.seq);
      assert.deepEqual(d.patch, { hello: 'cluster' });
      c.close();
    }
    assert.deepEqual((await getDoc(origin, 'npm-cluster')).state, { hello: 'cluster' });

    proc.child.kill('SIGINT');
    const [code] = await proc.exit;
    assert.equal(code, 0, out());
    assert.match(out(), /cluster: stopped/);
    for (const pid of started) assert.equal(existsSync(`/proc/${pid}`), false, `process ${pid} is gone`);
  } finally {
    if (!proc.exited) await proc.stop('SIGKILL');
  }
});
