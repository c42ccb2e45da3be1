/**
 * `npm run bench`: Replicant (`replicant dev`) beside the bare uWebSockets.js ceiling and the peers
 * (Centrifugo, Socket.IO, ws; targets.ts), same clients, same writer, same rate, in one run.
 *
 *  1. Fan-out: N subscribers of ONE doc / channel (receiver child processes speaking each target's
 *     wire), a writer publishing `{"t":<wall ms>,"n":<i>}` at a fixed open-loop rate (Replicant's
 *     POST, or the target's own publish API). Reported per target: delivered messages/s,
 *     write→receive latency p50/p99 (receiver wall clock minus the writer's `t`), server
 *     CPU-seconds per million deliveries (/proc/<pid>/stat utime+stime over the measured window),
 *     wire bytes per delivery, and the Replicant/ceiling and Replicant/Centrifugo ratios.
 *     Target `replicant-auth` is the same server with auth on (every subscriber its own scoped JWT
 *     in its first frame, the writer an API key): its CPU per delivery is printed over the open
 *     run's (issue target: within 3 %). Target `replicant-sse` is the same server with its
 *     subscribers on SSE (`GET /v1/sse`): its CPU per delivery is printed over WebSocket's (issue 23
 *     target: at most 1.3x); its idle RSS per connection is in the memory phase beside it.
 *  2. Idle memory: 2 server processes × M subscribed idle connections (one process can hold at most
 *     20 000 fds), RSS (/proc/<pid>/status VmRSS) before and after connecting → bytes/connection.
 *     Not run for `replicant-auth` (measured open only).
 *  3. Hot doc (the client hop's coalescing): ONE doc written at --hot-rates (default 1000,20)
 *     writes/s to --hot-n (2000) subscribers for --hot-duration (10 s): ops delivered/s, frames/s,
 *     ops per frame, latency p50/p99 (of the newest op in each frame), payload bytes, and server
 *     CPU-seconds per million OPS delivered, Replicant (coalescing on) against bare uWS publishing
 *     every op, same run (only those two of --targets). --no-hot skips it.
 *  4. Stalled subscribers: Replicant, --stalled-n (1000) subscribers at 50 writes/s, twice with none
 *     stalled and twice with every 10th stalled (window 4, never granting credit): the healthy
 *     subscribers' p99, stalled/none. Runs when `replicant` is in --targets; --no-stalled skips it.
 *  5. Messages (bench-messages.ts): --messages-users (10 000) user connections, each its own sub
 *     and JWT, and --messages-rate (10 000) messages/s by sub through the server API for
 *     --messages-duration (10 s): delivered/lost/dropped, send→receive p99, server CPU per message
 *     delivered, Replicant (`replicant dev`, auth on: one process) beside Centrifugo (publish to the
 *     user's personal channel). Runs when replicant or replicant-auth (and/or centrifugo) is in
 *     --targets; --no-messages skips it.
 *  6. Presence (bench-presence.ts): --presence-members (5000) members join one doc's presence at
 *     --presence-rate (100)/s and then leave, over a Replicant cluster of 2 gateways (Kafka, redis,
 *     origin, 1 fanout, auth on), while --presence-watchers (1000) watch `d~presence` (every
 *     --presence-track-every (10)th timed): server CPU per join/leave, watcher latency p99, exact
 *     counts; Centrifugo (presence + join/leave pushes) beside it. Runs when replicant or
 *     replicant-auth (and/or centrifugo) is in --targets; --no-presence skips it.
 *  7. Per-user views (bench-views.ts, issue 19): one doc, --views-n (5000) JWT subscribers in 5
 *     groups (4 `claim:team=<t>` views + spectators), --views-rate (20) writes/s touching a public
 *     and a private member, `replicant dev` with a VIEWS_FILE vs without, --views-repeat (1) times
 *     each: server CPU per delivery views/plain (target at most 1.15x), delta frames encoded per
 *     write (target: the views that changed), a probe per group checking its frames hold only its
 *     view. Runs when replicant or replicant-auth is in --targets; --no-views skips it. Then the
 *     projection-placement microbenchmark (bench-views-placement.ts: gateway vs replica per view
 *     group, 5 and 64 views, 10 gateways; measured costs and the modelled totals).
 *
 * Flags: --quick (or BENCH_QUICK=1), --n, --rate, --duration <s>, --warmup <s>, --receivers,
 * --idle <per server>, --repeat <runs per target, medians reported>, --targets <list|all> (default
 * all: replicant,replicant-auth,replicant-sse,bare,centrifugo,socketio,ws),
 * --no-fanout, --no-memory, --no-hot, --hot-n, --hot-rates, --hot-duration <s>, --no-stalled,
 * --stalled-n, --stalled-duration <s>, --no-messages, --messages-users, --messages-rate,
 * --messages-duration <s>, --no-presence, --presence-members, --presence-watchers, --presence-rate,
 * --presence-track-every, --no-views, --views-n, --views-rate, --views-duration <s>,
 * --views-repeat, --svg <dir> (SVG charts of the results, svg.ts), --wait-quiet <s> (default 60: wait for an idle machine
 * before each phase), --no-wait-quiet. Env REPLICANT_CLI=<path to cli/dist/src/main.js>
 * benchmarks another build.
 * Run it alone: `flock /tmp/replicant-load.lock npm run bench`.
 */
import * as os from 'node:os';
import { Histogram, wallMs } from './histogram.js';
import { cpuSeconds, rssBytes, machineBusySeconds, waitQuiet } from './procfs.js';
import { startServer, CLI_MAIN, type ServerKind } from './servers.js';
import type { StatsMsg } from './receiver.js';
import { MAX_SOCKETS_PER_RECEIVER, connectReceivers, receiverCounts, setWindow, split, statsUntil, sumOf, type Receiver, type ReceiverCounts } from './receivers.js';
import { agent, publish, writeAtRate, writeCounts, type WriteCounts } from './open-loop-writer.js';
import { TARGETS, parseTargets } from './targets.js';
import { readArgs } from './args.js';
import { writeBenchSvgs } from './svg.js';
import { fmt, fmtInt, hostInfo, log, median, round, sleep, table } from './report.js';
import { PRESENCE_TARGETS, presencePhases, presenceRatio, presenceReport, type PresenceConfig, type PresenceResult } from './bench-presence.js';
import { measurePlacement, PLACEMENT_GATEWAYS, PLACEMENT_VIEWS, placementReport, placementTotals, type PlacementCosts } from './bench-views-placement.js';
import { viewsFailed, viewsPhases, viewsReport, type ViewsConfig, type ViewsResult } from './bench-views.js';
import { MESSAGE_TARGETS, messagesPhases, messagesRatio, messagesReport, type MessagesConfig, type MessagesResult } from './bench-messages.js';

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
  stalledN: number;
  stalledDurationS: number;
  /** phase 5: messages by sub through the server API */
  messages: boolean;
  messagesUsers: number;
  messagesRate: number;
  messagesDurationS: number;
  /** phase 6: presence joins and leaves, watched */
  presence: boolean;
  presenceMembers: number;
  presenceWatchers: number;
  presenceRate: number;
  presenceTrackEvery: number;
  /** phase 7: per-user views vs none */
  views: boolean;
  viewsN: number;
  viewsRate: number;
  viewsDurationS: number;
  viewsRepeat: number;
  /** --svg <dir>: write the charts (svg.ts) there */
  svgDir: string | undefined;
}

function parseConfig(argv: string[]): BenchConfig {
  const { has, val, num } = readArgs(argv, ['--duration', '--hot-duration', '--hot-n', '--hot-rates', '--idle', '--idle-receivers', '--messages-duration', '--messages-rate', '--messages-users', '--n', '--no-fanout', '--no-hot', '--no-memory', '--no-messages', '--no-presence', '--no-stalled', '--no-views', '--no-wait-quiet', '--presence-members', '--presence-rate', '--presence-track-every', '--presence-watchers', '--quick', '--rate', '--receivers', '--repeat', '--stalled-duration', '--stalled-n', '--svg', '--targets', '--views-duration', '--views-n', '--views-rate', '--views-repeat', '--wait-quiet', '--warmup'], 'node load-tests/dist/src/bench.js');
  const quick = has('--quick') || process.env.BENCH_QUICK === '1';
  const targets = parseTargets(val('--targets') ?? 'all');
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
    stalledN: num('--stalled-n', quick ? 200 : 1000),
    stalledDurationS: num('--stalled-duration', quick ? 3 : 10),
    messages: !has('--no-messages'),
    messagesUsers: num('--messages-users', quick ? 200 : 10000),
    messagesRate: num('--messages-rate', quick ? 200 : 10000),
    messagesDurationS: num('--messages-duration', quick ? 3 : 10),
    presence: !has('--no-presence'),
    presenceMembers: num('--presence-members', quick ? 200 : 5000),
    presenceWatchers: num('--presence-watchers', quick ? 50 : 1000),
    presenceRate: num('--presence-rate', 100),
    presenceTrackEvery: Math.round(num('--presence-track-every', quick ? 1 : 10)),
    views: !has('--no-views'),
    viewsN: num('--views-n', quick ? 200 : 5000),
    viewsRate: num('--views-rate', 20),
    viewsDurationS: num('--views-duration', quick ? 3 : 15),
    viewsRepeat: Math.round(num('--views-repeat', 1)),
    svgDir: val('--svg'),
  };
  if (cfg.hotRates.some((r) => !(r > 0))) throw new Error('--hot-rates must list positive numbers');
  const perProc = Math.max(cfg.n / cfg.receivers, cfg.idlePerServer / cfg.idleReceiversPerServer);
  if (Math.max(perProc, cfg.hotN / cfg.receivers, cfg.stalledN / cfg.receivers, cfg.messagesUsers / cfg.receivers, cfg.viewsN / cfg.receivers) > MAX_SOCKETS_PER_RECEIVER) throw new Error(`more than ${MAX_SOCKETS_PER_RECEIVER} sockets per receiver process (fd limit): add receivers`);
  if (cfg.idlePerServer > MAX_SOCKETS_PER_RECEIVER) throw new Error(`--idle must stay below ${MAX_SOCKETS_PER_RECEIVER} per server process (fd limit)`);
  return cfg;
}

// ---------------------------------------------------------------------------------------------
// phase 1: fan-out
// ---------------------------------------------------------------------------------------------

export interface FanoutResult extends WriteCounts, ReceiverCounts {
  target: ServerKind;
  error?: string;
  subscribers: number;
  /** of the subscribers, stalled ones (window 4, never granting credit; not measured) */
  stalled: number;
  /** acked writes × healthy subscribers: the ops every one of them must get */
  expectedDeliveries: number;
  delivered: number;
  /** ops the delivered deltas covered (= delivered unless the server coalesced) */
  opsDelivered: number;
  /** payload bytes the (healthy) receivers got in the window */
  bytesDelivered: number;
  /** server CPU-s per million ops delivered (the hot-doc phase's figure) */
  cpuSPerMillionOps: number;
  /** opsDelivered / expectedDeliveries */
  completeness: number;
  windowS: number;
  deliveredPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** WebSocket payload bytes received per in-window delivery (framing of each target's protocol) */
  bytesPerDelivery: number;
  serverCpuS: number;
  serverCpuUtil: number;
  cpuSPerMillion: number;
  receiverCpuUtil: number;
  /** cores busy outside the server, the receivers and this process during the window (other
   * processes on the box, ksoftirqd): a noisy-neighbour indicator */
  otherCpuUtil: number;
  connectMs: number;
  /** runs aggregated into this result (medians of rates, latencies and CPU; sums of counts) */
  runs: number;
  /** [min, max] over the runs */
  spread?: { cpuSPerMillion: [number, number]; latencyP99: [number, number]; deliveredPerSec: [number, number]; otherCpuUtil: [number, number] };
}

async function fanoutPhase(kind: ServerKind, cfg: BenchConfig, addrBlock: number): Promise<FanoutResult> {
  await waitQuiet(cfg.quietWaitS, kind);
  log(`[${kind}] fan-out: starting server`);
  const server = await startServer(kind);
  let receivers: Receiver[] = [];
  try {
    const conn = await connectReceivers(server, split(cfg.n, cfg.receivers), { doc: cfg.doc, addrBlock, sampleEvery: 50, stallEvery: cfg.stallEvery });
    receivers = conn.receivers;
    log(`[${kind}] ${conn.ready}/${cfg.n} subscribers ready in ${conn.ms} ms (${conn.failedAttempts} failed attempts${conn.firstError ? `, first: ${conn.firstError}` : ''})`);
    if (conn.ready === 0) throw new Error(`no subscriber became ready: ${conn.firstError}`);

    // warm-up (JIT, doc creation, connection pools), excluded from the window by write index
    const warmN = Math.round(cfg.rate * cfg.warmupS);
    log(`[${kind}] warm-up: ${warmN} writes`);
    await writeAtRate(server.publisher, cfg.doc, cfg.rate, cfg.warmupS, 0);
    await sleep(1000);

    const total = Math.round(cfg.rate * cfg.durationS);
    await setWindow(receivers, warmN, warmN + total - 1);
    const cpu0 = cpuSeconds(server.pid);
    const machine0 = machineBusySeconds();
    const self0 = process.cpuUsage();
    const t0 = wallMs();
    log(`[${kind}] measuring: ${total} writes at ${cfg.rate}/s to ${conn.ready} subscribers`);
    const w = await writeAtRate(server.publisher, cfg.doc, cfg.rate, cfg.durationS, warmN);
    const expected = w.acked * (conn.ready - conn.stalled);
    // wait for the tail of the deliveries (bounded)
    const stats = await statsUntil(receivers, (st) => sumOf(st, (s) => s.windowOps) >= expected, 10000);
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
      ...writeCounts(w, cfg.rate, cfg.durationS),
      expectedDeliveries: expected,
      delivered,
      opsDelivered,
      bytesDelivered: sum((s) => s.bytes),
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
      bytesPerDelivery: round(delivered > 0 ? sum((s) => s.bytes) / delivered : NaN, 1),
      serverCpuS: round(serverCpuS, 2),
      serverCpuUtil: round(serverCpuS / ((t1 - t0) / 1000), 3),
      cpuSPerMillion: round(delivered > 0 ? serverCpuS / (delivered / 1e6) : NaN, 3),
      receiverCpuUtil: round(sum((s) => s.cpuSeconds) / ((t1 - t0) / 1000), 3),
      otherCpuUtil: round(
        (machine1 - machine0 - serverCpuS - sum((s) => s.cpuSeconds) - (selfCpu.user + selfCpu.system) / 1e6) / ((t1 - t0) / 1000),
        3,
      ),
      ...receiverCounts(stats),
      connectMs: conn.ms,
      runs: 1,
    };
  } finally {
    await Promise.all(receivers.map((r) => r.exit()));
    await server.stop();
  }
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
    bytesPerDelivery: round(med((r) => r.bytesPerDelivery), 1),
    serverCpuS: round(med((r) => r.serverCpuS)),
    serverCpuUtil: round(med((r) => r.serverCpuUtil), 3),
    cpuSPerMillion: round(med((r) => r.cpuSPerMillion), 3),
    receiverCpuUtil: round(med((r) => r.receiverCpuUtil), 3),
    otherCpuUtil: round(med((r) => r.otherCpuUtil), 3),
    ...receiverCounts(ok),
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
  /** settled: both readings settled (settledRss) */
  servers: { connections: number; rssBeforeBytes: number; rssAfterBytes: number; bytesPerConn: number; settled: boolean }[];
  connections: number;
  bytesPerConn: number;
}

/** RSS settles when SETTLE_SAMPLES readings SETTLE_GAP_MS apart stay within SETTLE_SPREAD of each other */
const SETTLE_SAMPLES = 5;
const SETTLE_GAP_MS = 500;
const SETTLE_SPREAD = 0.01;
/** a heap that has not settled by then is reported as it is, flagged */
const SETTLE_MAX_MS = 60_000;

/**
 * The process tree's RSS once it has settled: a garbage-collected runtime's RSS right after a burst
 * of allocation (10,000 connections opening) still holds garbage and grows or shrinks for seconds.
 * No server here can be told to collect (Centrifugo is Go, and ours should not expose it), so the
 * reading is taken when the last SETTLE_SAMPLES samples agree within SETTLE_SPREAD: the median of
 * those, and whether it settled within SETTLE_MAX_MS.
 */
async function settledRss(pid: number): Promise<{ bytes: number; settled: boolean; ms: number }> {
  const t0 = Date.now();
  const xs: number[] = [];
  for (;;) {
    xs.push(rssBytes(pid));
    const last = xs.slice(-SETTLE_SAMPLES);
    const lo = Math.min(...last);
    const hi = Math.max(...last);
    const settled = last.length === SETTLE_SAMPLES && hi - lo <= SETTLE_SPREAD * hi;
    if (settled || Date.now() - t0 >= SETTLE_MAX_MS) {
      return { bytes: median(last), settled, ms: Date.now() - t0 };
    }
    await sleep(SETTLE_GAP_MS);
  }
}

async function memoryPhase(kind: ServerKind, cfg: BenchConfig, addrBlock: number): Promise<MemoryResult> {
  await waitQuiet(cfg.quietWaitS, kind);
  log(`[${kind}] idle memory: starting 2 servers`);
  const servers = await Promise.all([startServer(kind), startServer(kind)]);
  const receivers: Receiver[] = [];
  try {
    // the doc exists and has been written once; caches and pools are warm before the baseline
    for (const s of servers) {
      const r = await publish(s.publisher, 'idle', '{"t":0,"n":0}');
      if (!s.publisher.acked(r.status, r.body)) throw new Error(`write to ${kind} failed: HTTP ${r.status} ${r.body}`);
    }
    const before = await Promise.all(servers.map((s) => settledRss(s.pid)));
    const counts = split(cfg.idlePerServer, cfg.idleReceiversPerServer);
    const conns = await Promise.all(
      servers.map((s, i) => connectReceivers(s, counts, { doc: 'idle', addrBlock: addrBlock + i * cfg.idleReceiversPerServer, sampleEvery: 0 })),
    );
    for (const c of conns) receivers.push(...c.receivers);
    log(`[${kind}] idle connections ready: ${conns.map((c) => `${c.ready} in ${c.ms} ms`).join(', ')}`);
    const after = await Promise.all(servers.map((s) => settledRss(s.pid)));
    log(`[${kind}] RSS settled in ${after.map((a) => `${a.ms} ms${a.settled ? '' : ' (NOT settled)'}`).join(', ')}`);
    for (const s of servers) if (s.exited) throw new Error(`server exited:\n${s.output().split('\n').slice(-20).join('\n')}`);
    const rows = servers.map((_, i) => ({
      connections: conns[i].ready,
      rssBeforeBytes: before[i].bytes,
      rssAfterBytes: after[i].bytes,
      bytesPerConn: Math.round((after[i].bytes - before[i].bytes) / Math.max(1, conns[i].ready)),
      settled: before[i].settled && after[i].settled,
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

/** Replicant over a reference target, for the ratio columns (absent when either side failed) */
interface Ratio {
  ref: ServerKind;
  heading: string;
}
const RATIOS: Ratio[] = [
  { ref: 'bare', heading: 'Replicant/bare' },
  { ref: 'centrifugo', heading: 'Replicant/Centrifugo' },
];
/** issue 8's targets against Centrifugo */
const TARGET_CPU_RATIO = 1 / 3;
const TARGET_RSS_RATIO = 1 / 5;
/** auth and scopes on may cost at most 3 % more server CPU per delivery than the open server */
const TARGET_AUTH_RATIO = 1.03;

/** SSE may cost at most 1.3x WebSocket's server CPU per delivery (issue 23) */
const TARGET_SSE_RATIO = 1.3;

/** replicant-sse's CPU per delivery over the WebSocket run's, when both ran */
function sseVsWs(fan: FanoutResult[]): { sse: number; ws: number; ratio: number } | null {
  const r = okOf(fan, 'replicant');
  const s = okOf(fan, 'replicant-sse');
  return r && s ? { sse: s.cpuSPerMillion, ws: r.cpuSPerMillion, ratio: s.cpuSPerMillion / r.cpuSPerMillion } : null;
}

/** replicant-auth's CPU per op delivered over the open run's, when both ran (per op: the two may coalesce differently) */
function authVsOpen(fan: FanoutResult[]): { auth: number; open: number; ratio: number } | null {
  const r = okOf(fan, 'replicant');
  const a = okOf(fan, 'replicant-auth');
  return r && a ? { auth: a.cpuSPerMillionOps, open: r.cpuSPerMillionOps, ratio: a.cpuSPerMillionOps / r.cpuSPerMillionOps } : null;
}

/** cores busy during a fan-out window: the server, the receivers and everything else */
const machineBusy = (x: FanoutResult): number => x.serverCpuUtil + x.receiverCpuUtil + Math.max(0, x.otherCpuUtil);
/** a window whose machine was 90 % busy or more: its CPU figures include queueing, not only work */
const saturated = (x: FanoutResult): boolean => machineBusy(x) >= 0.9 * os.cpus().length;

/** issue 21: at the low rate, Replicant's CPU per op delivered at most bare uWS's; idle RSS per connection at most 1.2x bare's */
const TARGET_BARE_OP_RATIO = 1.0;
const TARGET_BARE_RSS_RATIO = 1.2;

const label = (t: ServerKind): string => TARGETS[t].label;
/** the result of target `t`, unless it failed */
const okOf = <T extends { target: ServerKind; error?: string }>(xs: T[], t: ServerKind): T | undefined =>
  xs.find((x) => x.target === t && x.error === undefined);

function report(cfg: BenchConfig, fan: FanoutResult[], mem: MemoryResult[]): string {
  const out: string[] = [];
  if (fan.length > 0) {
    const spreadOf = (x: FanoutResult, k: keyof NonNullable<FanoutResult['spread']>, d: number): string =>
      x.spread === undefined ? '' : ` [${fmt(x.spread[k][0], d)}-${fmt(x.spread[k][1], d)}]`;
    out.push(
      `Fan-out: ${cfg.n} subscribers of one doc/channel, ${cfg.rate} writes/s for ${cfg.durationS} s, ` +
        `${cfg.receivers} receiver process(es)${cfg.repeat > 1 ? `, median of ${cfg.repeat} runs per target [min-max]` : ''}; ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, node ${process.version}`,
    );
    const r = okOf(fan, 'replicant');
    const ratios = RATIOS.map((q) => ({ ...q, ref: okOf(fan, q.ref) })).filter((q) => r !== undefined && q.ref !== undefined);
    const head = ['', ...fan.map((f) => label(f.target)), ...ratios.map((q) => q.heading)];
    const row = (name: string, f: (x: FanoutResult) => string, ratio?: (r: FanoutResult, b: FanoutResult) => string): string[] => [
      name,
      ...fan.map((x) => (x.error !== undefined ? 'error' : f(x))),
      ...ratios.map((q) => (ratio && r && q.ref ? ratio(r, q.ref) : '')),
    ];
    out.push(
      table([
        head,
        row('subscribers ready', (x) => fmtInt(x.subscribers)),
        row('writes acked / sent', (x) => `${x.writesAcked}/${x.writesSent}`),
        // a busy Replicant may coalesce even at 20 writes/s: completeness counts ops, not frames
        row('deliveries / ops (of expected)', (x) => `${fmtInt(x.delivered)}/${fmtInt(x.opsDelivered)} (${fmt(x.completeness * 100, 1)}%)`),
        row('delivered msgs/s', (x) => fmtInt(x.deliveredPerSec) + spreadOf(x, 'deliveredPerSec', 0), (r, b) => fmt(r.deliveredPerSec / b.deliveredPerSec)),
        row('latency p50 ms', (x) => fmt(x.latencyMs.p50), (r, b) => fmt(r.latencyMs.p50 / b.latencyMs.p50)),
        row('latency p99 ms', (x) => fmt(x.latencyMs.p99) + spreadOf(x, 'latencyP99', 1), (r, b) => fmt(r.latencyMs.p99 / b.latencyMs.p99)),
        row('latency max ms', (x) => fmt(x.latencyMs.max)),
        row('write ack p50/p99 ms', (x) => `${fmt(x.writeAckMs.p50)}/${fmt(x.writeAckMs.p99)}`),
        row('wire bytes per delivery', (x) => fmt(x.bytesPerDelivery, 0)),
        row('server CPU-s per 1M deliveries', (x) => fmt(x.cpuSPerMillion, 3) + spreadOf(x, 'cpuSPerMillion', 2), (r, b) => fmt(r.cpuSPerMillion / b.cpuSPerMillion)),
        // a coalesced frame carries several ops: per op is the figure that compares servers fairly
        row('server CPU-s per 1M ops delivered', (x) => fmt(x.cpuSPerMillionOps, 3), (r, b) => fmt(r.cpuSPerMillionOps / b.cpuSPerMillionOps)),
        row('server CPU (cores busy)', (x) => fmt(x.serverCpuUtil)),
        row('receivers CPU (cores busy)', (x) => fmt(x.receiverCpuUtil)),
        row('rest of machine (cores busy)', (x) => fmt(x.otherCpuUtil) + spreadOf(x, 'otherCpuUtil', 2)),
        row(`machine busy (of ${os.cpus().length} cores)`, (x) => `${fmt(machineBusy(x))}${saturated(x) ? ' SATURATED' : ''}`),
        row('resync snapshots / closes', (x) => `${x.resyncSnapshots}/${x.closedAfterReady}`),
        row('error frames / goaways', (x) => `${x.errorFrames}/${x.goaways}`),
        row('seq checks (sampled) / violations', (x) => `${fmtInt(x.sampledDeltas)}/${x.seqViolations}`),
      ]),
    );
    const a = authVsOpen(fan);
    if (a !== null) {
      out.push(
        `auth+scopes vs open: server CPU-s per 1M ops delivered ${fmt(a.auth, 3)} vs ${fmt(a.open, 3)} = ${fmt(a.ratio, 3)} ` +
          `(${a.ratio >= 1 ? '+' : ''}${fmt((a.ratio - 1) * 100, 1)} %; target <= ${fmt(TARGET_AUTH_RATIO, 2)}): ${a.ratio <= TARGET_AUTH_RATIO ? 'met' : 'NOT met'}`,
      );
    }
    const sv = sseVsWs(fan);
    if (sv !== null) {
      out.push(
        `SSE vs WebSocket: server CPU-s per 1M deliveries ${fmt(sv.sse, 3)} vs ${fmt(sv.ws, 3)} = ${fmt(sv.ratio, 3)} ` +
          `(target <= ${fmt(TARGET_SSE_RATIO, 2)}): ${sv.ratio <= TARGET_SSE_RATIO ? 'met' : 'NOT met'}`,
      );
    }
    for (const f of fan) if (f.error !== undefined) out.push(`${f.target}: ${f.error}`);
    for (const f of fan) if (f.firstViolation != null) out.push(`${f.target}: first violation: ${f.firstViolation}`);
    for (const f of fan) if (f.firstWriteError != null) out.push(`${f.target}: first write error: ${f.firstWriteError}`);
  }
  if (mem.length > 0) {
    out.push('');
    out.push(
      `Idle memory: 2 server processes x ${cfg.idlePerServer} subscribed idle connections (settled RSS after - before) / connections; ` +
        `settled = ${SETTLE_SAMPLES} readings ${SETTLE_GAP_MS} ms apart within ${SETTLE_SPREAD * 100} %`,
    );
    const rows: string[][] = [['', 'connections', 'RSS before MiB', 'RSS after MiB', 'bytes/conn']];
    for (const m of mem) {
      const name = label(m.target);
      if (m.error !== undefined) {
        rows.push([name, 'error', '', '', '']);
        continue;
      }
      m.servers.forEach((s, i) =>
        rows.push([`${name} #${i + 1}`, fmtInt(s.connections), fmt(s.rssBeforeBytes / 2 ** 20, 1), fmt(s.rssAfterBytes / 2 ** 20, 1), fmtInt(s.bytesPerConn) + (s.settled ? '' : ' (not settled)')]),
      );
      rows.push([`${name} total`, fmtInt(m.connections), '', '', fmtInt(m.bytesPerConn)]);
    }
    out.push(table(rows));
    const r = okOf(mem, 'replicant');
    for (const q of RATIOS) {
      const b = okOf(mem, q.ref);
      if (r && b) out.push(`${q.heading} bytes per connection: ${fmt(r.bytesPerConn / b.bytesPerConn)}`);
    }
    for (const m of mem) if (m.error !== undefined) out.push(`${m.target}: ${m.error}`);
  }
  const t = targetCheck(fan, mem);
  if (t.length > 0) out.push('', 'Targets against Centrifugo (issue 8):', ...t);
  const b = bareCheck(cfg, fan, mem);
  if (b.length > 0) out.push('', 'Targets against bare uWS (issue 21):', ...b);
  return out.join('\n');
}

/** the issue's targets, measured: Replicant's CPU per delivery and idle RSS per connection over Centrifugo's */
function targetCheck(fan: FanoutResult[], mem: MemoryResult[]): string[] {
  const lines: string[] = [];
  const verdict = (x: number, limit: number): string => (x <= limit ? 'met' : 'NOT met');
  const rf = okOf(fan, 'replicant');
  const cf = okOf(fan, 'centrifugo');
  if (rf && cf) {
    const x = rf.cpuSPerMillion / cf.cpuSPerMillion;
    lines.push(`  CPU per delivery: Replicant/Centrifugo = ${fmt(x)} (target <= ${fmt(TARGET_CPU_RATIO)}): ${verdict(x, TARGET_CPU_RATIO)}`);
  }
  const rm = okOf(mem, 'replicant');
  const cm = okOf(mem, 'centrifugo');
  if (rm && cm) {
    const x = rm.bytesPerConn / cm.bytesPerConn;
    lines.push(`  RSS per idle connection: Replicant/Centrifugo = ${fmt(x)} (target <= ${fmt(TARGET_RSS_RATIO)}): ${verdict(x, TARGET_RSS_RATIO)}`);
  }
  return lines;
}

/** issue 21's targets against the bare uWS ceiling, measured in this run */
function bareCheck(cfg: BenchConfig, fan: FanoutResult[], mem: MemoryResult[]): string[] {
  const lines: string[] = [];
  const verdict = (x: number, limit: number): string => (x <= limit ? 'met' : 'NOT met');
  const rf = okOf(fan, 'replicant');
  const bf = okOf(fan, 'bare');
  if (rf && bf) {
    const x = rf.cpuSPerMillionOps / bf.cpuSPerMillionOps;
    const busy = saturated(rf) || saturated(bf) ? ' (the machine was SATURATED in this window: the figure includes queueing)' : '';
    lines.push(
      `  CPU per op delivered at ${cfg.rate} writes/s: Replicant/bare = ${fmt(x, 3)} (target <= ${fmt(TARGET_BARE_OP_RATIO)}): ${verdict(x, TARGET_BARE_OP_RATIO)}${busy}`,
    );
  }
  const rm = okOf(mem, 'replicant');
  const bm = okOf(mem, 'bare');
  if (rm && bm) {
    const x = rm.bytesPerConn / bm.bytesPerConn;
    lines.push(`  settled idle RSS per connection: Replicant/bare = ${fmt(x, 3)} (target <= ${fmt(TARGET_BARE_RSS_RATIO)}): ${verdict(x, TARGET_BARE_RSS_RATIO)}`);
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// phase 3: one hot doc (coalescing in the client hop)
// ---------------------------------------------------------------------------------------------

export interface HotResult {
  rate: number;
  results: FanoutResult[];
}

/** the hot-doc phase compares these two: coalescing against publishing every op */
const HOT_TARGETS: readonly ServerKind[] = ['replicant', 'bare'];

/**
 * The fan-out phase run on one hot doc at each of cfg.hotRates, alternating target order per
 * rate. The figure of merit is server CPU per op DELIVERED: bare uWS publishes every op to every
 * subscriber; Replicant sends each subscriber one exactly composed delta per flush for the ops
 * that arrived since the last one (encoded once, same bytes to all), so at high rates it sends
 * fewer, larger frames and every op still reaches every subscriber.
 */
async function hotDocPhases(cfg: BenchConfig, targets: ServerKind[], firstBlock: number): Promise<HotResult[]> {
  const out: HotResult[] = [];
  let block = firstBlock;
  for (const [k, rate] of cfg.hotRates.entries()) {
    const hc: BenchConfig = { ...cfg, n: cfg.hotN, rate, durationS: cfg.hotDurationS, warmupS: Math.min(cfg.warmupS, 2), doc: 'hot', repeat: 1 };
    const results: FanoutResult[] = [];
    for (const t of k % 2 === 0 ? targets : [...targets].reverse()) {
      log(`[${t}] hot doc: ${rate} writes/s to ${cfg.hotN} subscribers`);
      try {
        results.push(await fanoutPhase(t, hc, block));
      } catch (err) {
        results.push({ target: t, error: err instanceof Error ? err.message : String(err), runs: 0 } as FanoutResult);
      }
      block += cfg.receivers;
      if (block > 200) block = 10;
    }
    const order = (x: FanoutResult): number => targets.indexOf(x.target);
    results.sort((p, q) => order(p) - order(q));
    out.push({ rate, results });
  }
  return out;
}

function hotRatio(h: HotResult): number | null {
  const r = okOf(h.results, 'replicant');
  const b = okOf(h.results, 'bare');
  return r && b ? round(r.cpuSPerMillionOps / b.cpuSPerMillionOps, 3) : null;
}

function hotReport(cfg: BenchConfig, hot: HotResult[]): string {
  const out: string[] = [];
  out.push(`Hot doc: one doc, ${cfg.hotN} subscribers (replicant.v1.json), ${cfg.hotDurationS} s per rate; Replicant coalesces, bare uWS publishes every op`);
  for (const h of hot) {
    const head = [`${h.rate} writes/s`, ...h.results.map((x) => label(x.target))];
    const ratio = hotRatio(h);
    if (ratio !== null) head.push('Replicant/bare');
    const r = okOf(h.results, 'replicant');
    const b = okOf(h.results, 'bare');
    const row = (name: string, f: (x: FanoutResult) => string, rf?: (r: FanoutResult, b: FanoutResult) => string): string[] => {
      const cells = [name, ...h.results.map((x) => (x.error !== undefined ? 'error' : f(x)))];
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
 * Replicant alone, cfg.stalledN subscribers of one doc at 50 writes/s: twice with none stalled,
 * twice with every 10th stalled (window 4, never granting credit), interleaved. The healthy ones'
 * p99 should not notice: a stalled connection is inactive, so the gateway does no work for it per write.
 */
async function stalledPhases(cfg: BenchConfig, firstBlock: number): Promise<FanoutResult[]> {
  const out: FanoutResult[] = [];
  let block = firstBlock;
  for (const stallEvery of [0, 10, 0, 10]) {
    const sc: BenchConfig = { ...cfg, n: cfg.stalledN, rate: 50, durationS: cfg.stalledDurationS, warmupS: Math.min(cfg.warmupS, 2), doc: 'mixed', stallEvery, repeat: 1 };
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

/** healthy p99 with every 10th stalled over none stalled (medians of the runs), or null */
function stalledRatio(rs: FanoutResult[]): number | null {
  const p99 = (xs: FanoutResult[]): number => median(xs.map((x) => x.latencyMs.p99));
  const none = rs.filter((r) => r.error === undefined && r.stalled === 0);
  const some = rs.filter((r) => r.error === undefined && r.stalled > 0);
  return none.length > 0 && some.length > 0 ? round(p99(some) / p99(none), 3) : null;
}

function stalledReport(rs: FanoutResult[]): string {
  const rows: string[][] = [['run', 'subscribers', 'stalled', 'ops delivered (of expected)', 'p50 ms', 'p99 ms', 'CPU-s per 1M ops']];
  for (const r of rs) {
    const name = r.stalled > 0 ? '10 % stalled' : 'none stalled';
    if (r.error !== undefined) {
      rows.push([name, 'error', '', r.error.split('\n')[0], '', '', '']);
      continue;
    }
    rows.push([
      name,
      fmtInt(r.subscribers),
      fmtInt(r.stalled),
      `${fmtInt(r.opsDelivered)} (${fmt(r.completeness * 100, 1)}%)`,
      fmt(r.latencyMs.p50),
      fmt(r.latencyMs.p99),
      fmt(r.cpuSPerMillionOps, 3),
    ]);
  }
  const ratio = stalledRatio(rs);
  return (
    `Stalled subscribers: Replicant, one doc, 50 writes/s; healthy subscribers' latency with every 10th subscriber stalled vs none\n${table(rows)}\n` +
    `p99 (median of runs) stalled/none: ${ratio === null ? 'n/a' : fmt(ratio)}`
  );
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const cfg = parseConfig(process.argv.slice(2));
  const fan: FanoutResult[] = [];
  const mem: MemoryResult[] = [];
  const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
  // every target gets ready before any measuring (the first Centrifugo build takes minutes); one
  // that cannot run here is reported as an error with its reason, the others carry on
  const unavailable = new Map<ServerKind, string>();
  // the messages phase runs Replicant with auth on (a sub per connection) when either Replicant target is asked for
  const messageTargets = cfg.messages ? MESSAGE_TARGETS.filter((t) => cfg.targets.includes(t) || (t === 'replicant-auth' && cfg.targets.includes('replicant'))) : [];
  // with only the hot-doc, stalled and messages phases asked for, only their targets need preparing
  const needed = cfg.fanout || cfg.memory ? cfg.targets : cfg.targets.filter((t) => HOT_TARGETS.includes(t) || messageTargets.includes(t) || (cfg.presence && t === 'centrifugo'));
  for (const t of needed) {
    try {
      TARGETS[t].prepare();
    } catch (err) {
      unavailable.set(t, errorMessage(err));
      log(`${t}: cannot run: ${errorMessage(err)}`);
    }
  }
  for (const [t, why] of unavailable) {
    if (cfg.fanout) fan.push({ target: t, error: why, runs: 0 } as FanoutResult);
    if (cfg.memory) mem.push({ target: t, error: why, servers: [], connections: 0, bytesPerConn: NaN });
  }
  const runnable = needed.filter((t) => !unavailable.has(t));
  let block = 10;
  const allRuns: FanoutResult[] = [];
  if (cfg.fanout) {
    for (let rep = 0; rep < cfg.repeat; rep++) {
      // alternate the order so slow drift of the machine does not favour one target
      const order = rep % 2 === 0 ? runnable : [...runnable].reverse();
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
    for (const t of runnable) fan.push(summarize(allRuns.filter((r) => r.target === t)));
  }
  if (cfg.memory) {
    // idle memory is measured open only: auth adds a principal per connection, not per delivery
    for (const t of runnable) {
      if (t === 'replicant-auth') continue;
      try {
        mem.push(await memoryPhase(t, cfg, block));
      } catch (err) {
        mem.push({ target: t, error: errorMessage(err), servers: [], connections: 0, bytesPerConn: NaN });
      }
      block += 2 * cfg.idleReceiversPerServer;
      if (block > 200) block = 10;
    }
  }
  const hot = cfg.hot ? await hotDocPhases(cfg, HOT_TARGETS.filter((t) => runnable.includes(t)), block) : [];
  block += 10;
  if (block > 200) block = 10;
  const stalled = cfg.stalledPhase && runnable.includes('replicant') ? await stalledPhases(cfg, block) : [];
  block += 10;
  if (block > 200) block = 10;
  const msgCfg: MessagesConfig = {
    users: cfg.messagesUsers,
    rate: cfg.messagesRate,
    durationS: cfg.messagesDurationS,
    warmupS: Math.min(cfg.warmupS, 2),
    receivers: cfg.receivers,
    quietWaitS: cfg.quietWaitS,
  };
  const msgRunnable = messageTargets.filter((t) => !unavailable.has(t));
  const messages: MessagesResult[] = msgRunnable.length > 0 ? await messagesPhases(msgCfg, msgRunnable, block) : [];
  block += 10;
  if (block > 200) block = 10;
  const presCfg: PresenceConfig = {
    members: cfg.presenceMembers,
    watchers: cfg.presenceWatchers,
    rate: cfg.presenceRate,
    gateways: 2,
    trackEvery: cfg.presenceTrackEvery,
    watcherReceivers: cfg.receivers,
    settleS: 15,
    quietWaitS: cfg.quietWaitS,
    brokers: 1,
    partitions: 4,
  };
  const presTargets = cfg.presence
    ? PRESENCE_TARGETS.filter((t) => !unavailable.has(t) && (cfg.targets.includes(t) || (t === 'replicant' && cfg.targets.includes('replicant-auth'))))
    : [];
  const presence: PresenceResult[] = presTargets.length > 0 ? await presencePhases(presCfg, presTargets, block) : [];
  block += 10;
  if (block > 200) block = 10;
  const viewsCfg: ViewsConfig = {
    subscribers: cfg.viewsN,
    rate: cfg.viewsRate,
    durationS: cfg.viewsDurationS,
    warmupS: Math.min(cfg.warmupS, 2),
    receivers: cfg.receivers,
    quietWaitS: cfg.quietWaitS,
    repeat: cfg.viewsRepeat,
  };
  // the views phase runs replicant-auth (JWT subscribers), asked for as either Replicant target
  const viewsRunnable = cfg.views && (cfg.targets.includes('replicant') || cfg.targets.includes('replicant-auth')) && !unavailable.has('replicant') && !unavailable.has('replicant-auth');
  const views: ViewsResult | null = viewsRunnable ? await viewsPhases(viewsCfg, block) : null;
  // where projection should happen in cluster mode: in this process, over the real code, after the servers stopped
  const placement: PlacementCosts[] = viewsRunnable ? PLACEMENT_VIEWS.map((v) => measurePlacement(v)) : [];
  agent.destroy();
  // the report lists targets in the order asked for
  const order = (x: { target: ServerKind }): number => cfg.targets.indexOf(x.target);
  fan.sort((p, q) => order(p) - order(q));
  mem.sort((p, q) => order(p) - order(q));
  const sections = [
    report(cfg, fan, mem),
    hot.length > 0 ? hotReport(cfg, hot) : '',
    stalled.length > 0 ? stalledReport(stalled) : '',
    messages.length > 0 ? messagesReport(msgCfg, messages) : '',
    presence.length > 0 ? presenceReport(presCfg, presence) : '',
    views !== null ? viewsReport(viewsCfg, views) : '',
    placement.length > 0 ? placementReport(placement, PLACEMENT_GATEWAYS) : '',
  ];
  process.stdout.write(`${sections.filter((x) => x !== '').join('\n\n')}\n`);
  const auth = authVsOpen(fan);
  const r = okOf(fan, 'replicant');
  const b = okOf(fan, 'bare');
  const c = okOf(fan, 'centrifugo');
  const rm = okOf(mem, 'replicant');
  const cm = okOf(mem, 'centrifugo');
  const bm = okOf(mem, 'bare');
  const json = {
    bench: 'replicant-fanout',
    quick: cfg.quick,
    config: {
      n: cfg.n,
      rate: cfg.rate,
      durationS: cfg.durationS,
      warmupS: cfg.warmupS,
      receivers: cfg.receivers,
      idlePerServer: cfg.idlePerServer,
      repeat: cfg.repeat,
      hotN: cfg.hotN,
      hotRates: cfg.hotRates,
      hotDurationS: cfg.hotDurationS,
      stalledN: cfg.stalledN,
      stalledDurationS: cfg.stalledDurationS,
      messagesUsers: cfg.messagesUsers,
      messagesRate: cfg.messagesRate,
      messagesDurationS: cfg.messagesDurationS,
      presence: presCfg,
      views: viewsCfg,
    },
    replicantCli: cfg.targets.includes('replicant') ? CLI_MAIN : null,
    host: hostInfo(),
    fanout: fan,
    memory: mem,
    hot: hot.map((h) => ({ rate: h.rate, results: h.results, cpuPerOpRatio: hotRatio(h) })),
    stalled,
    stalledP99Ratio: stalledRatio(stalled),
    messages,
    messagesCpuVsCentrifugo: messagesRatio(messages),
    presence,
    presenceCpuVsCentrifugo: presenceRatio(presence),
    views,
    viewsPlacement: placement.length > 0 ? { costs: placement, totals: placement.map((c) => placementTotals(c, PLACEMENT_GATEWAYS)) } : null,
    runs: cfg.repeat > 1 ? allRuns : undefined,
    ratios:
      r && b
        ? {
            cpuPerDelivery: round(r.cpuSPerMillion / b.cpuSPerMillion, 3),
            cpuPerOp: round(r.cpuSPerMillionOps / b.cpuSPerMillionOps, 3),
            throughput: round(r.deliveredPerSec / b.deliveredPerSec, 3),
            saturated: saturated(r) || saturated(b),
          }
        : null,
    bareRssPerIdleConnection: rm && bm ? round(rm.bytesPerConn / bm.bytesPerConn, 3) : null,
    // per op delivered since issue 21 (the name is kept for readers of BENCH_JSON)
    authVsOpenCpuPerDelivery: auth ? round(auth.ratio, 3) : null,
    sseVsWebSocketCpuPerDelivery: sseVsWs(fan) ? round(sseVsWs(fan)!.ratio, 3) : null,
    vsCentrifugo: {
      cpuPerDelivery: r && c ? round(r.cpuSPerMillion / c.cpuSPerMillion, 3) : null,
      rssPerIdleConnection: rm && cm ? round(rm.bytesPerConn / cm.bytesPerConn, 3) : null,
      targets: { cpuPerDelivery: round(TARGET_CPU_RATIO, 3), rssPerIdleConnection: round(TARGET_RSS_RATIO, 3) },
    },
  };
  process.stdout.write(`BENCH_JSON ${JSON.stringify(json)}\n`);
  if (cfg.svgDir !== undefined) for (const p of writeBenchSvgs(cfg.svgDir, json)) log(`wrote ${p}`);
  const failed =
    fan.some((f) => f.error !== undefined) ||
    mem.some((m) => m.error !== undefined) ||
    hot.some((h) => h.results.some((r) => r.error !== undefined)) ||
    stalled.some((r) => r.error !== undefined) ||
    messages.some((r) => r.error !== undefined) ||
    presence.some((r) => r.error !== undefined) ||
    (views !== null && viewsFailed(views));
  process.exitCode = failed ? 1 : 0;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    // receivers exit on their own when the IPC channel closes; the servers are SIGKILLed by the
    // test kit's exit hook
    process.exit(130);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
