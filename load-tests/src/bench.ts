/**
 * `npm run bench`: Replicant (`replicant dev`) against the bare uWebSockets.js ceiling, same clients,
 * same writer, same rate, in one run.
 *
 *  1. Fan-out: N subscribers of ONE doc (receiver child processes, JSON subprotocol), a writer
 *     POSTing `{"t":<wall ms>,"n":<i>}` merge patches at a fixed open-loop rate. Reported per
 *     target: delivered messages/s, write→receive latency p50/p99 (receiver wall clock minus the
 *     writer's `t`), server CPU-seconds per million deliveries (/proc/<pid>/stat utime+stime over
 *     the measured window), and the Replicant/ceiling ratios.
 *  2. Idle memory: 2 server processes × M subscribed idle connections (one process can hold at most
 *     20 000 fds), RSS (/proc/<pid>/status VmRSS) before and after connecting → bytes/connection.
 *
 * Flags: --quick (or BENCH_QUICK=1), --n, --rate, --duration <s>, --warmup <s>, --receivers,
 * --idle <per server>, --repeat <runs per target, medians reported>, --targets replicant,bare,
 * --no-fanout, --no-memory, --wait-quiet <s> (default 60: wait for an idle machine before each
 * phase), --no-wait-quiet.
 *  3. Hot doc (the client hop's coalescing): ONE doc written at --hot-rates (default 1000,20)
 *     writes/s to --hot-n (2000) subscribers for --hot-duration (10 s): ops delivered/s, frames/s,
 *     ops per frame, latency p50/p99 (of the newest op in each frame), payload bytes, and server
 *     CPU-seconds per million OPS delivered, Replicant (coalescing on) against bare uWS publishing
 *     every op, same run. --no-hot skips it. Env REPLICANT_CLI=<path to cli/dist/src/main.js> benchmarks another build.
 * Run it alone: `flock /tmp/replicant-load.lock npm run bench`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Histogram, wallMs } from './histogram.js';
import { cpuSeconds, rssBytes, clockTicks, machineBusySeconds } from './procfs.js';
import { killAllServers, replicantBuilt, startServer, CLI_MAIN, type ServerKind, type ServerProc } from './servers.js';
import type { ConnectCmd, ConnectedMsg, ReceiverCmd, StatsMsg } from './receiver.js';
import { agent, post, writeAtRate } from './open-loop-writer.js';
import { readArgs } from './args.js';

const here = dirname(fileURLToPath(import.meta.url));
const RECEIVER_MAIN = join(here, 'receiver.js');

// ---------------------------------------------------------------------------------------------
// configuration
// ---------------------------------------------------------------------------------------------

export interface BenchConfig {
  quick: boolean;
  targets: ServerKind[];
  fanout: boolean;
  memory: boolean;
  /** subscribers in the fan-out phase */
  n: number;
  /** writes per second */
  rate: number;
  durationS: number;
  warmupS: number;
  receivers: number;
  /** idle subscribed connections per server process in the memory phase (2 servers) */
  idlePerServer: number;
  /** receiver processes per server in the memory phase */
  idleReceiversPerServer: number;
  /** fan-out runs per target, alternating the target order; the table shows medians */
  repeat: number;
  /** before each phase, wait up to this long for the machine to be idle (0 = don't) */
  quietWaitS: number;
  doc: string;
  /** phase 3: the hot doc */
  hot: boolean;
  hotN: number;
  hotRates: number[];
  hotDurationS: number;
  /** fan-out runs: every k-th subscriber stalled (0 = none) */
  stallEvery: number;
  /** phase 4: p99 of healthy subscribers with 10 % stalled vs none */
  stalledPhase: boolean;
}

function parseConfig(argv: string[]): BenchConfig {
  const { has, val, num } = readArgs(argv);
  const quick = has('--quick') || process.env.BENCH_QUICK === '1';
  const targets = (val('--targets') ?? 'replicant,bare').split(',').map((s) => s.trim()) as ServerKind[];
  for (const t of targets) if (t !== 'replicant' && t !== 'bare') throw new Error(`unknown target ${t}`);
  const cfg: BenchConfig = {
    quick,
    targets,
    fanout: !has('--no-fanout'),
    memory: !has('--no-memory'),
    n: num('--n', quick ? 200 : 5000),
    rate: num('--rate', 20),
    durationS: num('--duration', quick ? 3 : 15),
    warmupS: num('--warmup', quick ? 1 : 3),
    receivers: num('--receivers', quick ? 1 : 2),
    idlePerServer: num('--idle', quick ? 200 : 10000),
    idleReceiversPerServer: num('--idle-receivers', quick ? 1 : 2),
    repeat: Math.round(num('--repeat', 1)),
    quietWaitS: has('--no-wait-quiet') ? 0 : num('--wait-quiet', 60) * (quick && val('--wait-quiet') === undefined ? 0 : 1),
    doc: 'bench',
    hot: !has('--no-hot'),
    hotN: num('--hot-n', quick ? 200 : 2000),
    hotRates: (val('--hot-rates') ?? '1000,20').split(',').map((x) => Number(x.trim())),
    hotDurationS: num('--hot-duration', quick ? 3 : 10),
    stallEvery: 0,
    stalledPhase: !has('--no-stalled'),
  };
  if (cfg.hotRates.some((r) => !(r > 0))) throw new Error('--hot-rates must list positive numbers');
  const perProc = Math.max(cfg.n / cfg.receivers, cfg.idlePerServer / cfg.idleReceiversPerServer);
  if (perProc > 19000) throw new Error(`more than 19000 sockets per receiver process (fd limit): add receivers`);
  if (cfg.idlePerServer > 19000) throw new Error('--idle must stay below 19000 per server process (fd limit)');
  return cfg;
}

// ---------------------------------------------------------------------------------------------
// receivers
// ---------------------------------------------------------------------------------------------

class Receiver {
  readonly child: ChildProcess;
  private waiters = new Map<string, ((m: any) => void)[]>();
  private exited = false;

  constructor() {
    this.child = fork(RECEIVER_MAIN, [], {
      env: { ...process.env, REPLICANT_RECEIVER: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m: { ev: string }) => {
      const list = this.waiters.get(m.ev);
      const w = list?.shift();
      if (w !== undefined) w(m);
    });
    this.child.on('exit', () => {
      this.exited = true;
    });
  }

  send(cmd: ReceiverCmd): void {
    this.child.send(cmd);
  }

  next<T>(ev: string, timeoutMs = 120000): Promise<T> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`receiver ${this.child.pid}: no ${ev} after ${timeoutMs} ms`)), timeoutMs);
      const list = this.waiters.get(ev) ?? [];
      list.push((m) => {
        clearTimeout(t);
        resolve(m as T);
      });
      this.waiters.set(ev, list);
    });
  }

  async connect(cmd: ConnectCmd): Promise<ConnectedMsg> {
    const p = this.next<ConnectedMsg>('connected', cmd.deadlineMs + 10000);
    this.send(cmd);
    return p;
  }

  async stats(): Promise<StatsMsg> {
    const p = this.next<StatsMsg>('stats', 30000);
    this.send({ cmd: 'stats' });
    return p;
  }

  async exit(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.send({ cmd: 'exit' });
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
  }
}

async function allStats(rs: Receiver[]): Promise<StatsMsg[]> {
  return Promise.all(rs.map((r) => r.stats()));
}

// ---------------------------------------------------------------------------------------------
// the writer (open loop: write i is sent at t0 + i/rate whatever the server's latency)
// ---------------------------------------------------------------------------------------------


// ---------------------------------------------------------------------------------------------
// phase 1: fan-out
// ---------------------------------------------------------------------------------------------

export interface FanoutResult {
  target: ServerKind;
  error?: string;
  subscribers: number;
  /** of the subscribers, stalled ones (window 4, never granting credit; not measured) */
  stalled: number;
  writeRate: number;
  durationS: number;
  writesSent: number;
  writesAcked: number;
  writesFailed: number;
  writesSkipped: number;
  firstWriteError: string | null;
  expectedDeliveries: number;
  delivered: number;
  /** ops the delivered deltas covered (= delivered unless the server coalesced) */
  opsDelivered: number;
  /** payload bytes the receivers got in the window */
  bytesDelivered: number;
  /** server CPU-s per million ops delivered (the hot-doc phase's figure) */
  cpuSPerMillionOps: number;
  completeness: number;
  windowS: number;
  deliveredPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  writeAckMs: { p50: number; p99: number };
  serverCpuS: number;
  serverCpuUtil: number;
  cpuSPerMillion: number;
  receiverCpuUtil: number;
  /** cores busy outside the server, the receivers and this process during the window (other
   * processes on the box, ksoftirqd): a noisy-neighbour indicator */
  otherCpuUtil: number;
  resyncSnapshots: number;
  closedAfterReady: number;
  errorFrames: number;
  goaways: number;
  sampledDeltas: number;
  seqViolations: number;
  firstViolation: string | null;
  connectMs: number;
  /** runs aggregated into this result (medians of rates, latencies and CPU; sums of counts) */
  runs: number;
  /** [min, max] over the runs */
  spread?: { cpuSPerMillion: [number, number]; latencyP99: [number, number]; deliveredPerSec: [number, number]; otherCpuUtil: [number, number] };
}

const round = (x: number, d = 2): number => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);

function addrs(block: number, count: number): string[] {
  // 127.<block>.<k>.1: distinct source addresses spread the ephemeral ports
  return Array.from({ length: count }, (_, k) => `127.${block}.${k + 1}.1`);
}

async function connectReceivers(
  server: ServerProc,
  counts: number[],
  doc: string,
  addrBlock: number,
  sampleEvery: number,
  stallEvery = 0,
): Promise<{ receivers: Receiver[]; ready: number; stalled: number; ms: number; failedAttempts: number; firstError: string | null }> {
  const receivers = counts.map(() => new Receiver());
  const t0 = Date.now();
  const results = await Promise.all(
    receivers.map((r, i) =>
      r.connect({
        cmd: 'connect',
        host: '127.0.0.1',
        port: server.port,
        path: '/v1/stream',
        protocol: 'replicant.v1.json',
        doc,
        count: counts[i],
        localAddresses: addrs(addrBlock + i, 4),
        concurrency: 128,
        sampleEvery,
        stallEvery,
        deadlineMs: 90000,
      }),
    ),
  );
  return {
    receivers,
    ready: results.reduce((a, m) => a + m.ready, 0),
    stalled: results.reduce((a, m) => a + m.stalled, 0),
    ms: Date.now() - t0,
    failedAttempts: results.reduce((a, m) => a + m.failedAttempts, 0),
    firstError: results.find((m) => m.firstError !== null)?.firstError ?? null,
  };
}

function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** On a shared box: wait (bounded) until the machine is nearly idle before a measured phase. */
async function waitQuiet(cfg: BenchConfig, label: string): Promise<void> {
  if (cfg.quietWaitS <= 0) return;
  const until = Date.now() + cfg.quietWaitS * 1000;
  let busy = NaN;
  while (Date.now() < until) {
    const b0 = machineBusySeconds();
    await sleep(1000);
    busy = machineBusySeconds() - b0;
    if (busy < 0.25) return;
  }
  log(`[${label}] machine still busy (${busy.toFixed(2)} cores) after ${cfg.quietWaitS} s: measuring anyway`);
}

async function fanoutPhase(kind: ServerKind, cfg: BenchConfig, addrBlock: number): Promise<FanoutResult> {
  await waitQuiet(cfg, kind);
  log(`[${kind}] fan-out: starting server`);
  const server = await startServer(kind);
  let receivers: Receiver[] = [];
  try {
    const conn = await connectReceivers(server, split(cfg.n, cfg.receivers), cfg.doc, addrBlock, 50, cfg.stallEvery);
    receivers = conn.receivers;
    log(`[${kind}] ${conn.ready}/${cfg.n} subscribers ready in ${conn.ms} ms (${conn.failedAttempts} failed attempts${conn.firstError ? `, first: ${conn.firstError}` : ''})`);
    if (conn.ready === 0) throw new Error(`no subscriber became ready: ${conn.firstError}`);

    // warm-up (JIT, doc creation, connection pools), excluded from the window by write index
    const warmN = Math.round(cfg.rate * cfg.warmupS);
    log(`[${kind}] warm-up: ${warmN} writes`);
    await writeAtRate(server.port, cfg.doc, cfg.rate, cfg.warmupS, 0);
    await sleep(1000);

    const total = Math.round(cfg.rate * cfg.durationS);
    for (const r of receivers) r.send({ cmd: 'window', minN: warmN, maxN: warmN + total - 1 });
    await allStats(receivers); // barrier: IPC is ordered, so every receiver has reset its counters
    const cpu0 = cpuSeconds(server.pid);
    const machine0 = machineBusySeconds();
    const self0 = process.cpuUsage();
    const t0 = wallMs();
    log(`[${kind}] measuring: ${total} writes at ${cfg.rate}/s to ${conn.ready} subscribers`);
    const w = await writeAtRate(server.port, cfg.doc, cfg.rate, cfg.durationS, warmN);
    const expected = w.acked * (conn.ready - conn.stalled);
    // wait for the tail of the deliveries (bounded)
    const drainUntil = Date.now() + 10000;
    let stats = await allStats(receivers);
    while (Date.now() < drainUntil && stats.reduce((a, s) => a + s.windowOps, 0) < expected) {
      await sleep(100);
      stats = await allStats(receivers);
    }
    const cpu1 = cpuSeconds(server.pid);
    const machine1 = machineBusySeconds();
    const selfCpu = process.cpuUsage(self0);
    const t1 = wallMs();
    if (server.exited) throw new Error(`server exited during the run:\n${server.output().split('\n').slice(-20).join('\n')}`);

    const lat = new Histogram();
    for (const s of stats) lat.merge(s.latency);
    const delivered = stats.reduce((a, s) => a + s.windowDeltas, 0);
    const opsDelivered = stats.reduce((a, s) => a + s.windowOps, 0);
    const lastRecv = Math.max(...stats.map((s) => s.lastWindowRecvAt));
    const windowS = ((lastRecv > 0 ? lastRecv : t1) - t0) / 1000;
    const serverCpuS = cpu1 - cpu0;
    const sum = (f: (s: StatsMsg) => number): number => stats.reduce((a, s) => a + f(s), 0);
    return {
      target: kind,
      subscribers: conn.ready,
      stalled: conn.stalled,
      writeRate: cfg.rate,
      durationS: cfg.durationS,
      writesSent: w.sent,
      writesAcked: w.acked,
      writesFailed: w.failed,
      writesSkipped: w.skipped,
      firstWriteError: w.firstError,
      expectedDeliveries: expected,
      delivered,
      opsDelivered,
      bytesDelivered: stats.reduce((a, s) => a + s.bytes, 0),
      cpuSPerMillionOps: round(opsDelivered > 0 ? serverCpuS / (opsDelivered / 1e6) : NaN, 3),
      completeness: expected > 0 ? opsDelivered / expected : 0,
      windowS: round(windowS, 3),
      deliveredPerSec: round(delivered / windowS, 0),
      latencyMs: {
        p50: round(lat.quantile(0.5)),
        p90: round(lat.quantile(0.9)),
        p99: round(lat.quantile(0.99)),
        max: round(lat.max),
        mean: round(lat.mean),
      },
      writeAckMs: { p50: round(w.ack.quantile(0.5)), p99: round(w.ack.quantile(0.99)) },
      serverCpuS: round(serverCpuS, 2),
      serverCpuUtil: round(serverCpuS / ((t1 - t0) / 1000), 3),
      cpuSPerMillion: round(delivered > 0 ? serverCpuS / (delivered / 1e6) : NaN, 3),
      receiverCpuUtil: round(sum((s) => s.cpuSeconds) / ((t1 - t0) / 1000), 3),
      otherCpuUtil: round(
        (machine1 - machine0 - serverCpuS - sum((s) => s.cpuSeconds) - (selfCpu.user + selfCpu.system) / 1e6) / ((t1 - t0) / 1000),
        3,
      ),
      resyncSnapshots: sum((s) => s.resyncSnapshots),
      closedAfterReady: sum((s) => s.closedAfterReady),
      errorFrames: sum((s) => s.errorFrames),
      goaways: sum((s) => s.goaways),
      sampledDeltas: sum((s) => s.sampledDeltas),
      seqViolations: sum((s) => s.seqViolations),
      firstViolation: stats.find((s) => s.firstViolation !== null)?.firstViolation ?? null,
      connectMs: conn.ms,
      runs: 1,
    };
  } finally {
    await Promise.all(receivers.map((r) => r.exit()));
    await server.stop();
  }
}

function median(xs: number[]): number {
  const a = xs.filter((x) => Number.isFinite(x)).sort((p, q) => p - q);
  if (a.length === 0) return NaN;
  const m = Math.floor(a.length / 2);
  return a.length % 2 === 1 ? a[m] : (a[m - 1] + a[m]) / 2;
}

/** one result per target out of repeated runs: medians of rates/latencies/CPU, sums of counts */
function summarize(runs: FanoutResult[]): FanoutResult {
  const ok = runs.filter((r) => r.error === undefined);
  if (ok.length === 0) return runs[0];
  if (ok.length === 1 && runs.length === 1) return ok[0];
  const med = (f: (r: FanoutResult) => number): number => median(ok.map(f));
  const sum = (f: (r: FanoutResult) => number): number => ok.reduce((a, r) => a + f(r), 0);
  const range = (f: (r: FanoutResult) => number): [number, number] => [Math.min(...ok.map(f)), Math.max(...ok.map(f))];
  const expected = sum((r) => r.expectedDeliveries);
  const delivered = sum((r) => r.delivered);
  const opsDelivered = sum((r) => r.opsDelivered);
  const failedRuns = runs.length - ok.length;
  return {
    ...ok[0],
    error: undefined,
    subscribers: Math.min(...ok.map((r) => r.subscribers)),
    writesSent: sum((r) => r.writesSent),
    writesAcked: sum((r) => r.writesAcked),
    writesFailed: sum((r) => r.writesFailed),
    writesSkipped: sum((r) => r.writesSkipped),
    firstWriteError: ok.find((r) => r.firstWriteError !== null)?.firstWriteError ?? (failedRuns > 0 ? `${failedRuns} run(s) failed: ${runs.find((r) => r.error)?.error}` : null),
    expectedDeliveries: expected,
    delivered,
    opsDelivered,
    bytesDelivered: sum((r) => r.bytesDelivered),
    cpuSPerMillionOps: round(med((r) => r.cpuSPerMillionOps), 3),
    completeness: expected > 0 ? opsDelivered / expected : 0,
    windowS: round(med((r) => r.windowS), 3),
    deliveredPerSec: round(med((r) => r.deliveredPerSec), 0),
    latencyMs: {
      p50: round(med((r) => r.latencyMs.p50)),
      p90: round(med((r) => r.latencyMs.p90)),
      p99: round(med((r) => r.latencyMs.p99)),
      max: round(Math.max(...ok.map((r) => r.latencyMs.max))),
      mean: round(med((r) => r.latencyMs.mean)),
    },
    writeAckMs: { p50: round(med((r) => r.writeAckMs.p50)), p99: round(med((r) => r.writeAckMs.p99)) },
    serverCpuS: round(med((r) => r.serverCpuS)),
    serverCpuUtil: round(med((r) => r.serverCpuUtil), 3),
    cpuSPerMillion: round(med((r) => r.cpuSPerMillion), 3),
    receiverCpuUtil: round(med((r) => r.receiverCpuUtil), 3),
    otherCpuUtil: round(med((r) => r.otherCpuUtil), 3),
    resyncSnapshots: sum((r) => r.resyncSnapshots),
    closedAfterReady: sum((r) => r.closedAfterReady),
    errorFrames: sum((r) => r.errorFrames),
    goaways: sum((r) => r.goaways),
    sampledDeltas: sum((r) => r.sampledDeltas),
    seqViolations: sum((r) => r.seqViolations),
    firstViolation: ok.find((r) => r.firstViolation !== null)?.firstViolation ?? null,
    connectMs: round(med((r) => r.connectMs), 0),
    runs: ok.length,
    spread: {
      cpuSPerMillion: range((r) => r.cpuSPerMillion),
      latencyP99: range((r) => r.latencyMs.p99),
      deliveredPerSec: range((r) => r.deliveredPerSec),
      otherCpuUtil: range((r) => r.otherCpuUtil),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// phase 2: RSS per idle subscribed connection
// ---------------------------------------------------------------------------------------------

export interface MemoryResult {
  target: ServerKind;
  error?: string;
  servers: { connections: number; rssBeforeBytes: number; rssAfterBytes: number; bytesPerConn: number }[];
  connections: number;
  bytesPerConn: number;
}

/** median of a few RSS samples, `gapMs` apart */
async function sampleRss(pid: number, samples = 5, gapMs = 200): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < samples; i++) {
    xs.push(rssBytes(pid));
    if (i < samples - 1) await sleep(gapMs);
  }
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)];
}

async function memoryPhase(kind: ServerKind, cfg: BenchConfig, addrBlock: number): Promise<MemoryResult> {
  await waitQuiet(cfg, kind);
  log(`[${kind}] idle memory: starting 2 servers`);
  const servers = await Promise.all([startServer(kind), startServer(kind)]);
  const receivers: Receiver[] = [];
  try {
    // the doc exists and has been written once; caches and pools are warm before the baseline
    for (const s of servers) {
      const r = await post(s.port, `/v1/docs/idle`, '{"t":0,"n":0}');
      if (r.status !== 200) throw new Error(`write to ${kind} failed: HTTP ${r.status} ${r.body}`);
    }
    await sleep(1500);
    const before = await Promise.all(servers.map((s) => sampleRss(s.pid)));
    const counts = split(cfg.idlePerServer, cfg.idleReceiversPerServer);
    const conns = await Promise.all(
      servers.map((s, i) => connectReceivers(s, counts, 'idle', addrBlock + i * cfg.idleReceiversPerServer, 0)),
    );
    for (const c of conns) receivers.push(...c.receivers);
    log(`[${kind}] idle connections ready: ${conns.map((c) => `${c.ready} in ${c.ms} ms`).join(', ')}`);
    await sleep(3000);
    const after = await Promise.all(servers.map((s) => sampleRss(s.pid)));
    for (const s of servers) if (s.exited) throw new Error(`server exited:\n${s.output().split('\n').slice(-20).join('\n')}`);
    const rows = servers.map((_, i) => ({
      connections: conns[i].ready,
      rssBeforeBytes: before[i],
      rssAfterBytes: after[i],
      bytesPerConn: Math.round((after[i] - before[i]) / Math.max(1, conns[i].ready)),
    }));
    const connections = rows.reduce((a, r) => a + r.connections, 0);
    const grown = rows.reduce((a, r) => a + r.rssAfterBytes - r.rssBeforeBytes, 0);
    return { target: kind, servers: rows, connections, bytesPerConn: Math.round(grown / Math.max(1, connections)) };
  } finally {
    await Promise.all(receivers.map((r) => r.exit()));
    await Promise.all(servers.map((s) => s.stop()));
  }
}

// ---------------------------------------------------------------------------------------------
// report
// ---------------------------------------------------------------------------------------------

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

const fmtInt = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const fmt = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('   ')).join('\n');
}

function report(cfg: BenchConfig, fan: FanoutResult[], mem: MemoryResult[]): string {
  const out: string[] = [];
  const byT = <T extends { target: ServerKind }>(xs: T[], t: ServerKind): T | undefined => xs.find((x) => x.target === t);
  if (fan.length > 0) {
    const spreadOf = (x: FanoutResult, k: keyof NonNullable<FanoutResult['spread']>, d: number): string =>
      x.spread === undefined ? '' : ` [${fmt(x.spread[k][0], d)}-${fmt(x.spread[k][1], d)}]`;
    out.push(
      `Fan-out: ${cfg.n} subscribers of one doc (replicant.v1.json), ${cfg.rate} writes/s for ${cfg.durationS} s, ` +
        `${cfg.receivers} receiver process(es)${cfg.repeat > 1 ? `, median of ${cfg.repeat} runs per target [min-max]` : ''}; ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, node ${process.version}`,
    );
    const r = byT(fan, 'replicant');
    const b = byT(fan, 'bare');
    const cols = fan.map((f) => f.target);
    const head = ['', ...cols.map((c) => (c === 'bare' ? 'bare uWS' : c))];
    const withRatio = r !== undefined && b !== undefined && r.error === undefined && b.error === undefined;
    if (withRatio) head.push('replicant/bare');
    const row = (label: string, f: (x: FanoutResult) => string, ratio?: (r: FanoutResult, b: FanoutResult) => string): string[] => {
      const cells = [label, ...fan.map((x) => (x.error !== undefined ? 'error' : f(x)))];
      if (withRatio) cells.push(ratio ? ratio(r, b) : '');
      return cells;
    };
    out.push(
      table([
        head,
        row('subscribers ready', (x) => fmtInt(x.subscribers)),
        row('writes acked / sent', (x) => `${x.writesAcked}/${x.writesSent}`),
        row('deliveries (of expected)', (x) => `${fmtInt(x.delivered)} (${fmt(x.completeness * 100, 1)}%)`),
        row('delivered msgs/s', (x) => fmtInt(x.deliveredPerSec) + spreadOf(x, 'deliveredPerSec', 0), (r, b) => fmt(r.deliveredPerSec / b.deliveredPerSec)),
        row('latency p50 ms', (x) => fmt(x.latencyMs.p50)),
        row('latency p99 ms', (x) => fmt(x.latencyMs.p99) + spreadOf(x, 'latencyP99', 1)),
        row('latency max ms', (x) => fmt(x.latencyMs.max)),
        row('write ack p50/p99 ms', (x) => `${fmt(x.writeAckMs.p50)}/${fmt(x.writeAckMs.p99)}`),
        row('server CPU-s per 1M deliveries', (x) => fmt(x.cpuSPerMillion, 3) + spreadOf(x, 'cpuSPerMillion', 2), (r, b) => fmt(r.cpuSPerMillion / b.cpuSPerMillion)),
        row('server CPU (cores busy)', (x) => fmt(x.serverCpuUtil)),
        row('receivers CPU (cores busy)', (x) => fmt(x.receiverCpuUtil)),
        row('rest of machine (cores busy)', (x) => fmt(x.otherCpuUtil) + spreadOf(x, 'otherCpuUtil', 2)),
        row('resync snapshots / closes', (x) => `${x.resyncSnapshots}/${x.closedAfterReady}`),
        row('seq checks (sampled) / violations', (x) => `${fmtInt(x.sampledDeltas)}/${x.seqViolations}`),
      ]),
    );
    for (const f of fan) if (f.error !== undefined) out.push(`${f.target}: ${f.error}`);
    for (const f of fan) if (f.firstViolation != null) out.push(`${f.target}: first violation: ${f.firstViolation}`);
    for (const f of fan) if (f.firstWriteError != null) out.push(`${f.target}: first write error: ${f.firstWriteError}`);
  }
  if (mem.length > 0) {
    out.push('');
    out.push(`Idle memory: 2 server processes x ${cfg.idlePerServer} subscribed idle connections (RSS after - before) / connections`);
    const rows: string[][] = [['', 'connections', 'RSS before MiB', 'RSS after MiB', 'bytes/conn']];
    for (const m of mem) {
      const name = m.target === 'bare' ? 'bare uWS' : m.target;
      if (m.error !== undefined) {
        rows.push([name, 'error', '', '', '']);
        continue;
      }
      m.servers.forEach((s, i) =>
        rows.push([`${name} #${i + 1}`, fmtInt(s.connections), fmt(s.rssBeforeBytes / 2 ** 20, 1), fmt(s.rssAfterBytes / 2 ** 20, 1), fmtInt(s.bytesPerConn)]),
      );
      rows.push([`${name} total`, fmtInt(m.connections), '', '', fmtInt(m.bytesPerConn)]);
    }
    out.push(table(rows));
    const r = byT(mem, 'replicant');
    const b = byT(mem, 'bare');
    if (r && b && r.error === undefined && b.error === undefined) out.push(`replicant/bare bytes per connection: ${fmt(r.bytesPerConn / b.bytesPerConn)}`);
    for (const m of mem) if (m.error !== undefined) out.push(`${m.target}: ${m.error}`);
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// phase 3: one hot doc (coalescing in the client hop)
// ---------------------------------------------------------------------------------------------

export interface HotResult {
  rate: number;
  results: FanoutResult[];
}

/**
 * The fan-out phase run on one hot doc at each of cfg.hotRates, alternating target order per
 * rate. The figure of merit is server CPU per op DELIVERED: bare uWS publishes every op to every
 * subscriber; Replicant sends each subscriber one exactly composed delta per flush for the ops
 * that arrived since the last one (encoded once, same bytes to all), so at high rates it sends
 * fewer, larger frames and every op still reaches every subscriber.
 */
async function hotDocPhases(cfg: BenchConfig, firstBlock: number): Promise<HotResult[]> {
  const out: HotResult[] = [];
  let block = firstBlock;
  for (const [k, rate] of cfg.hotRates.entries()) {
    const hc: BenchConfig = { ...cfg, n: cfg.hotN, rate, durationS: cfg.hotDurationS, warmupS: Math.min(cfg.warmupS, 2), doc: 'hot', repeat: 1 };
    const results: FanoutResult[] = [];
    for (const t of k % 2 === 0 ? cfg.targets : [...cfg.targets].reverse()) {
      log(`[${t}] hot doc: ${rate} writes/s to ${cfg.hotN} subscribers`);
      try {
        results.push(await fanoutPhase(t, hc, block));
      } catch (err) {
        results.push({ target: t, error: err instanceof Error ? err.message : String(err), runs: 0 } as FanoutResult);
      }
      block += cfg.receivers;
      if (block > 200) block = 10;
    }
    out.push({ rate, results });
  }
  return out;
}

function hotRatio(h: HotResult): number | null {
  const r = h.results.find((x) => x.target === 'replicant' && x.error === undefined);
  const b = h.results.find((x) => x.target === 'bare' && x.error === undefined);
  return r && b ? round(r.cpuSPerMillionOps / b.cpuSPerMillionOps, 3) : null;
}

function hotReport(cfg: BenchConfig, hot: HotResult[]): string {
  const out: string[] = [];
  out.push(`Hot doc: one doc, ${cfg.hotN} subscribers (replicant.v1.json), ${cfg.hotDurationS} s per rate; Replicant coalesces, bare uWS publishes every op`);
  for (const h of hot) {
    const cols = h.results.map((x) => x.target);
    const head = [`${h.rate} writes/s`, ...cols.map((c) => (c === 'bare' ? 'bare uWS' : c))];
    const ratio = hotRatio(h);
    if (ratio !== null) head.push('replicant/bare');
    const r = h.results.find((x) => x.target === 'replicant');
    const b = h.results.find((x) => x.target === 'bare');
    const row = (label: string, f: (x: FanoutResult) => string, rf?: (r: FanoutResult, b: FanoutResult) => string): string[] => {
      const cells = [label, ...h.results.map((x) => (x.error !== undefined ? 'error' : f(x)))];
      if (ratio !== null) cells.push(rf && r && b ? rf(r, b) : '');
      return cells;
    };
    out.push(
      table([
        head,
        row('subscribers ready', (x) => fmtInt(x.subscribers)),
        row('writes acked / sent', (x) => `${x.writesAcked}/${x.writesSent}`),
        row('ops delivered (of expected)', (x) => `${fmtInt(x.opsDelivered)} (${fmt(x.completeness * 100, 1)}%)`),
        row('ops delivered/s', (x) => fmtInt(x.opsDelivered / x.windowS), (r, b) => fmt(r.opsDelivered / r.windowS / (b.opsDelivered / b.windowS))),
        row('frames delivered/s', (x) => fmtInt(x.deliveredPerSec)),
        row('ops per frame', (x) => fmt(x.opsDelivered / Math.max(1, x.delivered))),
        row('latency p50 ms (newest op)', (x) => fmt(x.latencyMs.p50)),
        row('latency p99 ms (newest op)', (x) => fmt(x.latencyMs.p99)),
        row('payload MB received', (x) => fmt(x.bytesDelivered / 1e6, 1), (r, b) => fmt(r.bytesDelivered / b.bytesDelivered)),
        row('server CPU-s per 1M ops delivered', (x) => fmt(x.cpuSPerMillionOps, 3), () => fmt(ratio!)),
        row('server CPU (cores busy)', (x) => fmt(x.serverCpuUtil)),
        row('seq checks (sampled) / violations', (x) => `${fmtInt(x.sampledDeltas)}/${x.seqViolations}`),
      ]),
    );
    for (const x of h.results) if (x.error !== undefined) out.push(`${x.target}: ${x.error}`);
    for (const x of h.results) if (x.firstViolation != null) out.push(`${x.target}: first violation: ${x.firstViolation}`);
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// phase 4: healthy subscribers next to stalled ones
// ---------------------------------------------------------------------------------------------

/**
 * Replicant alone, 1,000 subscribers of one doc at 50 writes/s: once with none stalled, once with
 * every 10th stalled (window 4, never granting credit). The healthy ones' p99 should not notice:
 * a stalled connection is inactive, so the gateway does no work for it per write.
 */
async function stalledPhases(cfg: BenchConfig, firstBlock: number): Promise<FanoutResult[]> {
  const out: FanoutResult[] = [];
  let block = firstBlock;
  for (const stallEvery of [0, 10, 0, 10]) {
    const sc: BenchConfig = { ...cfg, n: cfg.quick ? 200 : 1000, rate: 50, durationS: cfg.quick ? 3 : 10, warmupS: Math.min(cfg.warmupS, 2), doc: 'mixed', stallEvery };
    log(`[replicant] ${stallEvery === 0 ? 'no' : '10 %'} stalled subscribers`);
    try {
      out.push(await fanoutPhase('replicant', sc, block));
    } catch (err) {
      out.push({ target: 'replicant', stalled: stallEvery, error: err instanceof Error ? err.message : String(err), runs: 0 } as FanoutResult);
    }
    block += cfg.receivers;
    if (block > 200) block = 10;
  }
  return out;
}

function stalledReport(rs: FanoutResult[]): string {
  const none = rs.filter((r) => r.error === undefined && r.stalled === 0);
  const some = rs.filter((r) => r.error === undefined && r.stalled > 0);
  const rows: string[][] = [['run', 'subscribers', 'stalled', 'ops delivered (of expected)', 'p50 ms', 'p99 ms', 'CPU-s per 1M ops']];
  for (const r of rs) {
    if (r.error !== undefined) {
      rows.push([r.stalled > 0 ? '10 % stalled' : 'none stalled', 'error', '', r.error, '', '', '']);
      continue;
    }
    rows.push([
      r.stalled > 0 ? '10 % stalled' : 'none stalled',
      fmtInt(r.subscribers),
      fmtInt(r.stalled),
      `${fmtInt(r.opsDelivered)} (${fmt(r.completeness * 100, 1)}%)`,
      fmt(r.latencyMs.p50),
      fmt(r.latencyMs.p99),
      fmt(r.cpuSPerMillionOps, 3),
    ]);
  }
  const med = (xs: FanoutResult[]) => median(xs.map((x) => x.latencyMs.p99));
  const ratio = none.length > 0 && some.length > 0 ? fmt(med(some) / med(none)) : 'n/a';
  return `Stalled subscribers: Replicant, one doc, 50 writes/s; healthy subscribers' latency with every 10th subscriber stalled vs none\n${table(rows)}\np99 (median of runs) stalled/none: ${ratio}`;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const cfg = parseConfig(process.argv.slice(2));
  if (cfg.targets.includes('replicant') && !replicantBuilt()) {
    log(`replicant: skipped (${CLI_MAIN} is not built: run \`npx tsc -b\`)`);
    cfg.targets = cfg.targets.filter((t) => t !== 'replicant');
  }
  const fan: FanoutResult[] = [];
  const mem: MemoryResult[] = [];
  const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
  let block = 10;
  const allRuns: FanoutResult[] = [];
  if (cfg.fanout) {
    for (let rep = 0; rep < cfg.repeat; rep++) {
      // alternate the order so slow drift of the machine does not favour one target
      const order = rep % 2 === 0 ? cfg.targets : [...cfg.targets].reverse();
      for (const t of order) {
        if (cfg.repeat > 1) log(`[${t}] run ${rep + 1}/${cfg.repeat}`);
        try {
          allRuns.push(await fanoutPhase(t, cfg, block));
        } catch (err) {
          allRuns.push({ target: t, error: errorMessage(err), runs: 0 } as FanoutResult);
        }
        block += cfg.receivers;
        if (block > 200) block = 10;
      }
    }
    for (const t of cfg.targets) fan.push(summarize(allRuns.filter((r) => r.target === t)));
  }
  if (cfg.memory) {
    for (const t of cfg.targets) {
      try {
        mem.push(await memoryPhase(t, cfg, block));
      } catch (err) {
        mem.push({ target: t, error: errorMessage(err), servers: [], connections: 0, bytesPerConn: NaN });
      }
      block += 2 * cfg.idleReceiversPerServer;
      if (block > 200) block = 10;
    }
  }
  const hot = cfg.hot ? await hotDocPhases(cfg, block) : [];
  const stalled = cfg.stalledPhase && cfg.targets.includes('replicant') ? await stalledPhases(cfg, block + 20) : [];
  agent.destroy();
  process.stdout.write(`${report(cfg, fan, mem)}\n`);
  if (hot.length > 0) process.stdout.write(`\n${hotReport(cfg, hot)}\n`);
  if (stalled.length > 0) process.stdout.write(`\n${stalledReport(stalled)}\n`);
  const r = fan.find((f) => f.target === 'replicant' && f.error === undefined);
  const b = fan.find((f) => f.target === 'bare' && f.error === undefined);
  const json = {
    bench: 'replicant-fanout',
    quick: cfg.quick,
    config: { n: cfg.n, rate: cfg.rate, durationS: cfg.durationS, warmupS: cfg.warmupS, receivers: cfg.receivers, idlePerServer: cfg.idlePerServer, repeat: cfg.repeat },
    replicantCli: cfg.targets.includes('replicant') ? CLI_MAIN : null,
    host: { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? '', node: process.version, clkTck: clockTicks() },
    fanout: fan,
    memory: mem,
    hot: hot.map((h) => ({ rate: h.rate, results: h.results, cpuPerOpRatio: hotRatio(h) })),
    stalled,
    runs: cfg.repeat > 1 ? allRuns : undefined,
    ratios:
      r && b
        ? { cpuPerDelivery: round(r.cpuSPerMillion / b.cpuSPerMillion, 3), throughput: round(r.deliveredPerSec / b.deliveredPerSec, 3) }
        : null,
  };
  process.stdout.write(`BENCH_JSON ${JSON.stringify(json)}\n`);
  const failed =
    fan.some((f) => f.error !== undefined) || mem.some((m) => m.error !== undefined) || hot.some((h) => h.results.some((r) => r.error !== undefined)) || stalled.some((r) => r.error !== undefined);
  process.exitCode = failed ? 1 : 0;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    // receivers exit on their own when the IPC channel closes; servers are killed here
    killAllServers();
    process.exit(130);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
