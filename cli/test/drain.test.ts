/**
 * Acceptance: drain. Two gateways over one origin and replica, behind a TCP balancer that sends
 * new connections to the first gateway unless it is draining (what a load balancer does with a
 * gateway that answers 503). 200 SDK clients on gateway A; writes keep coming; A drains
 * (`goaway` spread over DRAIN_SPREAD_MS, connections kept until each client's reconnectMs). Every
 * client moves to gateway B by itself and resumes there from its seq: no gap, no second snapshot,
 * everyone at the origin's state; A closed every connection within DRAIN_GRACE_MS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as uWS from 'uWebSockets.js';
import { MemoryLog, MemorySnapshotStore } from '@replicant/stream';
import { Origin } from '@replicant/origin';
import { Replica } from '@replicant/fanout';
import { Gateway } from '@replicant/gateway';
import { connect, type ReplicantClient } from '@replicant/sdk';

async function serve(g: Gateway): Promise<{ app: uWS.TemplatedApp; port: number }> {
  const app = uWS.App();
  g.attach(app);
  const port = await new Promise<number>((resolve) => app.listen('127.0.0.1', 0, (t) => resolve(uWS.us_socket_local_port(t as uWS.us_listen_socket))));
  return { app, port };
}

test('every client of a draining gateway resumes on another gateway without a gap', { timeout: 120_000 }, async (t) => {
  const log = new MemoryLog({ partitions: 2 });
  const store = new MemorySnapshotStore();
  const origin = await Origin.start({ log, store });
  const replica = await Replica.start({ log, store });
  const SPREAD = 1000;
  const GRACE = 3000;
  const a = new Gateway({ upstream: replica, writer: origin, drainSpreadMs: SPREAD, drainGraceMs: GRACE });
  const b = new Gateway({ upstream: replica, writer: origin });
  const sa = await serve(a);
  const sb = await serve(b);
  let aDraining = false;
  const balancer = net.createServer((down) => {
    const up = net.connect(aDraining ? sb.port : sa.port, '127.0.0.1');
    down.pipe(up).pipe(down);
    up.on('error', () => down.destroy());
    down.on('error', () => up.destroy());
    up.on('close', () => down.destroy());
    down.on('close', () => up.destroy());
  });
  await new Promise<void>((r) => balancer.listen(0, '127.0.0.1', () => r()));
  const url = `ws://127.0.0.1:${(balancer.address() as net.AddressInfo).port}/v1/stream`;
  const clients: ReplicantClient[] = [];
  t.after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    balancer.close();
    await b.drain({ graceMs: 0 });
    sa.app.close();
    sb.app.close();
    await replica.close();
    await origin.close();
  });

  const doc = 'drained';
  await origin.write(doc, '{"v":0}');
  const N = 200;
  let gaps = 0;
  const snapshots = new Array<number>(N).fill(0);
  const goaways: number[] = [];
  const live: { seq: bigint; state: unknown }[] = [];
  for (let i = 0; i < N; i++) {
    const c = connect(url, { protocol: i % 2 === 0 ? 'binary' : 'json' });
    clients.push(c);
    c.on('snapshot', () => snapshots[i]++);
    c.on('delta', (ev) => {
      if (ev.outcome === 'gap') gaps++;
    });
    c.on('goaway', (ev) => goaways.push(ev.reconnectMs));
    live.push(c.subscribe(doc, () => {}).doc);
  }
  const until = async (pred: () => boolean, what: string, ms = 30_000) => {
    const t0 = Date.now();
    while (!pred()) {
      assert.ok(Date.now() - t0 < ms, `timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await until(() => live.every((d) => d.seq > 0n) && a.connectionCount === N, 'all clients on gateway A');

  // writes keep coming through the drain
  let writing = true;
  let n = 0;
  const writer = (async () => {
    while (writing) {
      await origin.write(doc, JSON.stringify({ v: ++n, [`k${n % 5}`]: n }));
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  await new Promise((r) => setTimeout(r, 100));
  aDraining = true;
  const t0 = Date.now();
  await a.drain();
  const drainMs = Date.now() - t0;
  assert.equal(a.connectionCount, 0);
  assert.ok(drainMs <= GRACE + 500, `drain took ${drainMs} ms`);
  await until(() => b.connectionCount === N, 'every client on gateway B');
  await new Promise((r) => setTimeout(r, 100));
  writing = false;
  await writer;
  const fin = await origin.read(doc);
  await until(() => live.every((d) => d.seq === fin.seq), 'every client at the latest seq');

  assert.equal(goaways.length, N, 'every client was told to go');
  assert.ok(goaways.every((ms) => ms >= 0 && ms < SPREAD), 'reconnectMs within DRAIN_SPREAD_MS');
  assert.ok(new Set(goaways.map((ms) => Math.floor(ms / 100))).size >= 5, 'reconnectMs spread out');
  assert.equal(gaps, 0, 'no gap');
  assert.ok(snapshots.every((k) => k === 1), 'resumed by delta on B: one snapshot each, the first');
  for (const d of live) assert.deepEqual(d.state, fin.state);
});
