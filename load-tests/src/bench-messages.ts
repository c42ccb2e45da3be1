/**
 * The messages phase of `npm run bench`: messages to U distinct users per second, by sub, through
 * each target's server API, measured the same way for every target.
 *
 *  - U user connections (receiver child processes, wire mode `user`), each authenticated as its own
 *    sub userSub(i) (targets.ts: a JWT per connection, signed with the target's key), subscribed to
 *    nothing: Replicant `replicant dev` with auth on (welcome, then `message` frames), Centrifugo
 *    with a server-side subscription to the user's personal channel `personal:#<sub>`;
 *  - the bench's open-loop writer sends message n = `{"t":<wall ms>,"n":n}` to user n % U at the
 *    given rate (default U per second: every user gets one message a second), one server-API call
 *    each: Replicant `POST /v1/messages {"to":{"sub"},"data"}` (API key), Centrifugo `POST
 *    /api/publish` to the personal channel (API key);
 *  - measured over the window: messages acked, delivered (received by their user's connection),
 *    lost (acked, not received within the drain), Replicant's own `dropped` count (gateway metric
 *    `replicant_gateway_server_api_total{event="dropped"}`: inactive connections), send→receive
 *    latency (receiver wall clock minus the writer's `t`, so it includes the HTTP call), and server
 *    CPU-seconds per million messages delivered (/proc utime+stime of the server process).
 *
 * Single process: `replicant dev` is one origin + replica + gateway over the embedded log; every
 * message is one op on the `~control` doc (durable before the 200), so the figure covers the
 * whole path. The bench has no cluster mode (bench:cluster is a separate Kafka bench).
 * The writer is a backend fanning out: up to WRITER_SOCKETS keep-alive connections and
 * WRITER_INFLIGHT calls in flight (a due call past it is counted as skipped), so a server whose
 * call takes ~50 ms (a durable append) can still be offered 10 000 calls/s.
 * Bounds: U ≤ MAX_SOCKETS_PER_RECEIVER per receiver process; the drain waits at most 10 s.
 */
import { Histogram, wallMs } from './histogram.js';
import { cpuSeconds, machineBusySeconds, waitQuiet } from './procfs.js';
import { startServer, type ServerKind } from './servers.js';
import { connectReceivers, receiverCounts, setWindow, split, statsUntil, sumOf, type Receiver, type ReceiverCounts } from './receivers.js';
import * as http from 'node:http';
import { writeAtRate, writeCounts, type WriteCounts, type WriteOptions } from './open-loop-writer.js';
import { TARGETS } from './targets.js';
import { getText, metric } from './prom.js';
import { fmt, fmtInt, log, round, sleep, table } from './report.js';

export interface MessagesConfig {
  /** distinct users, one connection each */
  users: number;
  /** messages per second (to user n % users) */
  rate: number;
  durationS: number;
  warmupS: number;
  receivers: number;
  quietWaitS: number;
}

/** the targets that can run it: Replicant with auth on (a sub per connection) and Centrifugo */
export const MESSAGE_TARGETS: readonly ServerKind[] = ['replicant-auth', 'centrifugo'];

export interface MessagesResult extends WriteCounts, ReceiverCounts {
  target: ServerKind;
  error?: string;
  users: number;
  /** acked messages in the window: each is for exactly one connection */
  expected: number;
  delivered: number;
  /** acked, not received within the drain */
  lost: number;
  /** the server's own count of messages it did not send (Replicant: inactive connections); null = not exposed */
  dropped: number | null;
  windowS: number;
  deliveredPerSec: number;
  latencyMs: { p50: number; p99: number; max: number };
  serverCpuS: number;
  serverCpuUtil: number;
  cpuSPerMillion: number;
  receiverCpuUtil: number;
  otherCpuUtil: number;
  connectMs: number;
}

const DROPPED = 'replicant_gateway_server_api_total';
const WRITER_SOCKETS = 256;
const WRITER_INFLIGHT = 2048;

/** Replicant's dropped-message counter (open /metrics of `replicant dev`); null for a target without it */
async function droppedCount(kind: ServerKind, port: number): Promise<number | null> {
  if (kind !== 'replicant-auth' && kind !== 'replicant') return null;
  return metric(await getText(port, '/metrics'), DROPPED, 'event="dropped"');
}

export async function messagesPhase(kind: ServerKind, cfg: MessagesConfig, addrBlock: number): Promise<MessagesResult> {
  await waitQuiet(cfg.quietWaitS, kind);
  log(`[${kind}] messages: starting server`);
  const server = await startServer(kind);
  let receivers: Receiver[] = [];
  const via = new http.Agent({ keepAlive: true, maxSockets: WRITER_SOCKETS });
  const wo: WriteOptions = { maxInflight: WRITER_INFLIGHT, via };
  try {
    if (server.messages === undefined || server.userTokens === undefined) throw new Error(`${kind} has no server API to reach a user`);
    const pub = server.messages(cfg.users);
    const conn = await connectReceivers(server, split(cfg.users, cfg.receivers), { doc: '', mode: 'user', addrBlock, sampleEvery: 0 });
    receivers = conn.receivers;
    log(`[${kind}] ${conn.ready}/${cfg.users} user connections ready in ${conn.ms} ms (${conn.failedAttempts} failed attempts${conn.firstError ? `, first: ${conn.firstError}` : ''})`);
    if (conn.ready < cfg.users) throw new Error(`only ${conn.ready}/${cfg.users} user connections ready: ${conn.firstError}`);

    const warmN = Math.round(cfg.rate * cfg.warmupS);
    log(`[${kind}] warm-up: ${warmN} messages`);
    await writeAtRate(pub, '', cfg.rate, cfg.warmupS, 0, wo);
    await sleep(1000);

    const total = Math.round(cfg.rate * cfg.durationS);
    await setWindow(receivers, warmN, warmN + total - 1);
    const dropped0 = await droppedCount(kind, server.port);
    const cpu0 = cpuSeconds(server.pid);
    const machine0 = machineBusySeconds();
    const self0 = process.cpuUsage();
    const t0 = wallMs();
    log(`[${kind}] measuring: ${total} messages at ${cfg.rate}/s to ${conn.ready} users`);
    const w = await writeAtRate(pub, '', cfg.rate, cfg.durationS, warmN, wo);
    const stats = await statsUntil(receivers, (st) => sumOf(st, (s) => s.windowDeltas) >= w.acked, 10000);
    const cpu1 = cpuSeconds(server.pid);
    const machine1 = machineBusySeconds();
    const selfCpu = process.cpuUsage(self0);
    const t1 = wallMs();
    const dropped1 = await droppedCount(kind, server.port);
    if (server.exited) throw new Error(`server exited during the run:\n${server.output().split('\n').slice(-20).join('\n')}`);

    const lat = new Histogram();
    for (const s of stats) lat.merge(s.latency);
    const delivered = sumOf(stats, (s) => s.windowDeltas);
    const lastRecv = Math.max(...stats.map((s) => s.lastWindowRecvAt));
    const windowS = ((lastRecv > 0 ? lastRecv : t1) - t0) / 1000;
    const serverCpuS = cpu1 - cpu0;
    const wallS = (t1 - t0) / 1000;
    const receiverCpu = sumOf(stats, (s) => s.cpuSeconds);
    return {
      target: kind,
      users: conn.ready,
      ...writeCounts(w, cfg.rate, cfg.durationS),
      expected: w.acked,
      delivered,
      lost: Math.max(0, w.acked - delivered),
      dropped: dropped0 !== null && dropped1 !== null ? dropped1 - dropped0 : null,
      windowS: round(windowS, 3),
      deliveredPerSec: round(delivered / windowS, 0),
      latencyMs: { p50: round(lat.quantile(0.5)), p99: round(lat.quantile(0.99)), max: round(lat.max) },
      serverCpuS: round(serverCpuS, 2),
      serverCpuUtil: round(serverCpuS / wallS, 3),
      cpuSPerMillion: round(delivered > 0 ? serverCpuS / (delivered / 1e6) : NaN, 3),
      receiverCpuUtil: round(receiverCpu / wallS, 3),
      otherCpuUtil: round((machine1 - machine0 - serverCpuS - receiverCpu - (selfCpu.user + selfCpu.system) / 1e6) / wallS, 3),
      ...receiverCounts(stats),
      connectMs: conn.ms,
    };
  } finally {
    via.destroy();
    await Promise.all(receivers.map((r) => r.exit()));
    await server.stop();
  }
}

/** the phase for each of `targets` that can run it, in that order; a failed target is reported with its error */
export async function messagesPhases(cfg: MessagesConfig, targets: ServerKind[], firstBlock: number): Promise<MessagesResult[]> {
  const out: MessagesResult[] = [];
  let block = firstBlock;
  for (const t of targets) {
    try {
      out.push(await messagesPhase(t, cfg, block));
    } catch (err) {
      out.push({ target: t, error: err instanceof Error ? err.message : String(err) } as MessagesResult);
    }
    block += cfg.receivers;
    if (block > 200) block = 10;
  }
  return out;
}

const ok = (rs: MessagesResult[], t: ServerKind): MessagesResult | undefined => rs.find((r) => r.target === t && r.error === undefined);

/** Replicant's CPU per delivered message over Centrifugo's, when both ran */
export function messagesRatio(rs: MessagesResult[]): number | null {
  const r = ok(rs, 'replicant-auth');
  const c = ok(rs, 'centrifugo');
  return r && c ? round(r.cpuSPerMillion / c.cpuSPerMillion, 3) : null;
}

export function messagesReport(cfg: MessagesConfig, rs: MessagesResult[]): string {
  const r = ok(rs, 'replicant-auth');
  const c = ok(rs, 'centrifugo');
  const both = r !== undefined && c !== undefined;
  const head = ['', ...rs.map((x) => TARGETS[x.target].label), ...(both ? ['Replicant/Centrifugo'] : [])];
  const row = (name: string, f: (x: MessagesResult) => string, ratio?: (r: MessagesResult, c: MessagesResult) => string): string[] => [
    name,
    ...rs.map((x) => (x.error !== undefined ? 'error' : f(x))),
    ...(both ? [ratio ? ratio(r, c) : ''] : []),
  ];
  const out = [
    `Messages: ${cfg.users} users (one connection each, own JWT), ${cfg.rate} messages/s by sub (message n to user n % ${cfg.users}) for ${cfg.durationS} s; ` +
      'one server process (replicant dev; Centrifugo), every message one server-API call',
    table([
      head,
      row('user connections ready', (x) => fmtInt(x.users)),
      row('messages acked / sent', (x) => `${x.writesAcked}/${x.writesSent}`),
      row('skipped (writer behind) / failed', (x) => `${x.writesSkipped}/${x.writesFailed}`),
      row('delivered (of acked)', (x) => `${fmtInt(x.delivered)} (${fmt((x.delivered / Math.max(1, x.expected)) * 100, 1)}%)`),
      row('lost / dropped by server', (x) => `${fmtInt(x.lost)}/${x.dropped === null ? 'n/a' : fmtInt(x.dropped)}`),
      row('delivered msgs/s', (x) => fmtInt(x.deliveredPerSec), (r, c) => fmt(r.deliveredPerSec / c.deliveredPerSec)),
      row('latency p50 ms', (x) => fmt(x.latencyMs.p50), (r, c) => fmt(r.latencyMs.p50 / c.latencyMs.p50)),
      row('latency p99 ms', (x) => fmt(x.latencyMs.p99), (r, c) => fmt(r.latencyMs.p99 / c.latencyMs.p99)),
      row('latency max ms', (x) => fmt(x.latencyMs.max)),
      row('API call ack p50/p99 ms', (x) => `${fmt(x.writeAckMs.p50)}/${fmt(x.writeAckMs.p99)}`),
      row('server CPU-s per 1M delivered', (x) => fmt(x.cpuSPerMillion, 3), (r, c) => fmt(r.cpuSPerMillion / c.cpuSPerMillion)),
      row('server CPU (cores busy)', (x) => fmt(x.serverCpuUtil)),
      row('receivers CPU (cores busy)', (x) => fmt(x.receiverCpuUtil)),
      row('rest of machine (cores busy)', (x) => fmt(x.otherCpuUtil)),
      row('error frames / closes', (x) => `${x.errorFrames}/${x.closedAfterReady}`),
    ]),
  ];
  const ratio = messagesRatio(rs);
  if (ratio !== null) out.push(`CPU per message delivered: Replicant/Centrifugo = ${fmt(ratio)}`);
  for (const x of rs) if (x.error !== undefined) out.push(`${x.target}: ${x.error}`);
  for (const x of rs) if (x.firstWriteError != null) out.push(`${x.target}: first API error: ${x.firstWriteError}`);
  return out.join('\n');
}
