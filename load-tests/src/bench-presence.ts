/**
 * The presence phase of `npm run bench` (issue 18): M members join one doc's presence and then
 * leave it, at a fixed rate, while W watchers follow the member count; the same receivers and
 * orchestration for every target:
 *
 *  - Replicant: a cluster (cluster.ts: the test kit's real Kafka, redis-server, `replicant origin`,
 *    one `replicant fanout`, G = 2 `replicant gateway`), auth on (every connection its own JWT, sub
 *    `m<i>` / `w<i>`). Member i connects to gateway i % G, is welcomed, then joins by subscribing
 *    to `room:lobby` with `"presence":true,"info":{"name":…}` and leaves by unsubscribing
 *    (DESIGN "Presence"); watchers subscribe to `room:lobby~presence`, whose `connections` is the
 *    member count (coalesced: at most one delta per PRESENCE_INTERVAL_MS).
 *  - Centrifugo (one process): members subscribe to channel `room:lobby` of a namespace with
 *    presence and join/leave events; watchers subscribe asking for join/leave pushes (`join_leave`)
 *    and count them (a push per event to every watcher: Centrifugo does not coalesce).
 *
 * Measured from the first join to the watchers seeing the last leave: server CPU-seconds
 * (/proc utime+stime of the servers: origin, fanout and gateways; Kafka and redis-server apart)
 * per join/leave, and the watchers' latency: for join k (leave k) sent at t, the first time a
 * tracked watcher (every `trackEvery`-th) saw the count reach k+1 (fall to M−k−1), minus t. The
 * counts after the joins and after the leaves are checked against M and 0.
 *
 * Bounds: one receiver per gateway for members, `watcherReceivers` for watchers (at least one per
 * gateway; a watcher of Centrifugo gets a push per event, so its receivers carry 100× the frames);
 * each under the fd limit; each settle waits at most `settleS`.
 */
import { Histogram, wallMs } from './histogram.js';
import { cpuSeconds, waitQuiet } from './procfs.js';
import { startServer } from './servers.js';
import { startCluster } from './cluster.js';
import { MAX_SOCKETS_PER_RECEIVER, allStats, connectReceivers, split, type Endpoint, type Receiver } from './receivers.js';
import type { TrackEvent, TrackedMsg } from './receiver.js';
import { REPLICANT_AUTH } from './targets.js';
import { fmt, fmtInt, log, round, sleep, table } from './report.js';

export type PresenceTarget = 'replicant' | 'centrifugo';
export const PRESENCE_TARGETS: readonly PresenceTarget[] = ['replicant', 'centrifugo'];

export interface PresenceConfig {
  members: number;
  watchers: number;
  /** joins per second, then leaves per second */
  rate: number;
  /** Replicant gateways (Centrifugo runs one process) */
  gateways: number;
  /** every k-th watcher records its count timeline */
  trackEvery: number;
  /** receiver processes holding the watchers, spread over the gateways (at least one per gateway) */
  watcherReceivers: number;
  /** wait at most this long for the watchers to see the last join (leave) */
  settleS: number;
  quietWaitS: number;
  brokers: number;
  partitions: number;
}

/** the doc (Replicant) / channel (Centrifugo) whose presence is measured; readable by every bench token (`room:*`) */
export const PRESENCE_DOC = 'room:lobby';

interface Proc {
  name: string;
  pid: number;
}

/** one target, started: where members and watchers connect, what members send, what is measured */
interface Side {
  endpoints: Endpoint[];
  join(sub: string): string;
  leave: string;
  servers: Proc[];
  backends: Proc[];
  /** a line naming a server that exited, or null */
  exited(): string | null;
  stop(): Promise<void>;
}

const REPLICANT_STREAM = { wire: 'replicant', path: '/v1/stream', protocol: 'replicant.v1.json' } as const;

async function replicantSide(cfg: PresenceConfig): Promise<Side> {
  log(`[replicant] presence: starting a cluster (${cfg.brokers} broker(s), 1 replica, ${cfg.gateways} gateways, auth on)`);
  const c = await startCluster({ brokers: cfg.brokers, partitions: cfg.partitions, replicas: 1, gateways: cfg.gateways, env: { ...REPLICANT_AUTH.env, AUTH_DISABLED: 'false' } });
  const nodes = [c.origin, ...c.fanouts, ...c.gateways];
  return {
    endpoints: c.gateways.map((g) => ({ port: g.port, stream: REPLICANT_STREAM, userTokens: REPLICANT_AUTH.userTokens })),
    join: (sub) => `{"type":"subscribe","doc":"${PRESENCE_DOC}","presence":true,"info":{"name":"${sub}"}}`,
    leave: `{"type":"unsubscribe","doc":"${PRESENCE_DOC}"}`,
    servers: nodes.map((n) => ({ name: n.id, pid: n.pid })),
    backends: [...c.kafkaPids.map((pid, i) => ({ name: `kafka-${i + 1}`, pid })), ...(c.redisPid !== undefined ? [{ name: 'redis', pid: c.redisPid }] : [])],
    exited: () => nodes.find((n) => n.exited)?.id ?? null,
    stop: () => c.stop(),
  };
}

async function centrifugoSide(): Promise<Side> {
  log('[centrifugo] presence: starting server');
  const s = await startServer('centrifugo');
  return {
    endpoints: [s],
    join: () => `{"id":3,"subscribe":{"channel":"${PRESENCE_DOC}"}}`,
    leave: `{"id":4,"unsubscribe":{"channel":"${PRESENCE_DOC}"}}`,
    servers: [{ name: 'centrifugo', pid: s.pid }],
    backends: [],
    exited: () => (s.exited ? 'centrifugo' : null),
    stop: () => s.stop(),
  };
}

export interface PresenceResult {
  target: PresenceTarget;
  error?: string;
  gateways: number;
  members: number;
  watchers: number;
  /** watchers whose timeline is measured */
  tracked: number;
  joins: number;
  leaves: number;
  /** the tracked watchers' counts once the joins (leaves) settled: [min, max]; exact = [M, M] ([0, 0]) */
  countAfterJoins: [number, number];
  countAfterLeaves: [number, number];
  /** seconds from the first join to the watchers seeing the last one; the same for leaves */
  joinS: number;
  leaveS: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** (event, tracked watcher) pairs never seen */
  missed: number;
  /** watchers closed by the server after they were subscribed, and error frames they got */
  watcherCloses: number;
  watcherErrors: number;
  serverCpuS: number;
  /** server CPU-ms per join or leave */
  cpuMsPerEvent: number;
  perProcess: { name: string; cpuS: number }[];
  /** Kafka brokers and redis-server together (Replicant's cluster) */
  backendsCpuS: number;
  connectMs: number;
}

const sumCpu = (ps: Proc[]): number => ps.reduce((a, p) => a + cpuSeconds(p.pid), 0);

/** calls fn(k) for k in [0, count) at t0 + k/rate (open loop), resolving after the last */
async function paced(count: number, rate: number, fn: (k: number) => void): Promise<void> {
  const t0 = performance.now();
  const interval = 1000 / rate;
  let k = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (k < count && t0 + k * interval <= now) fn(k++);
      if (k >= count) return resolve();
      setTimeout(tick, Math.max(0, t0 + k * interval - now));
    };
    tick();
  });
}

/** every watcher receiver's `trackLatency` answer for `events` */
async function tracked(rs: Receiver[], events: TrackEvent[]): Promise<TrackedMsg[]> {
  return Promise.all(
    rs.map((r) => {
      const p = r.next<TrackedMsg>('tracked', 60000);
      r.send({ cmd: 'trackLatency', events });
      return p;
    }),
  );
}

/** polls the tracked watchers' counts until every one is `want` or `timeoutS` passed; their last counts */
async function settle(rs: Receiver[], want: number, timeoutS: number): Promise<number[]> {
  const until = Date.now() + timeoutS * 1000;
  for (;;) {
    const counts = (await tracked(rs, [])).flatMap((m) => m.counts);
    if (counts.every((c) => c === want) || Date.now() >= until) return counts;
    await sleep(100);
  }
}

export async function presencePhase(target: PresenceTarget, cfg: PresenceConfig, addrBlock: number): Promise<PresenceResult> {
  await waitQuiet(cfg.quietWaitS, `${target} presence`);
  const side = target === 'replicant' ? await replicantSide(cfg) : await centrifugoSide();
  const receivers: Receiver[] = [];
  try {
    const G = side.endpoints.length;
    const t0 = Date.now();
    // members: member i on gateway i % G, socket i / G of that gateway's member receiver
    const memberRx: Receiver[] = [];
    for (let g = 0; g < G; g++) {
      const subs: string[] = [];
      for (let i = g; i < cfg.members; i += G) subs.push(`m${i}`);
      if (subs.length > MAX_SOCKETS_PER_RECEIVER) throw new Error(`more than ${MAX_SOCKETS_PER_RECEIVER} members per gateway`);
      const c = await connectReceivers(side.endpoints[g], [subs.length], { doc: '', mode: 'user', subs, addrBlock: addrBlock + g, sampleEvery: 0 });
      receivers.push(...c.receivers);
      memberRx.push(c.receivers[0]);
      if (c.ready < subs.length) throw new Error(`only ${c.ready}/${subs.length} members connected to gateway ${g + 1}: ${c.firstError}`);
    }
    // watchers of the doc's presence, spread over the gateways
    const watcherRx: Receiver[] = [];
    for (let g = 0; g < G; g++) {
      const n = Math.floor(cfg.watchers / G) + (g < cfg.watchers % G ? 1 : 0);
      if (n === 0) continue;
      const subs = Array.from({ length: n }, (_, k) => `w${g}-${k}`);
      const per = Math.max(1, Math.ceil(cfg.watcherReceivers / G));
      const c = await connectReceivers(side.endpoints[g], split(n, per), { doc: PRESENCE_DOC, mode: 'presence', subs, addrBlock: addrBlock + G + g * per, sampleEvery: cfg.trackEvery });
      receivers.push(...c.receivers);
      watcherRx.push(...c.receivers);
      if (c.ready < n) throw new Error(`only ${c.ready}/${n} watchers subscribed on gateway ${g + 1}: ${c.firstError}`);
    }
    const connectMs = Date.now() - t0;
    log(`[${target}] ${cfg.members} members and ${cfg.watchers} watchers connected over ${G} gateway(s) in ${connectMs} ms`);
    await sleep(1000);
    await Promise.all(watcherRx.map((r) => r.track()));

    const events: TrackEvent[] = [];
    const sendTo = (i: number, frame: string): void => memberRx[i % G].send({ cmd: 'send', i: Math.floor(i / G), frame });
    const cpu0 = sumCpu(side.servers);
    const per0 = side.servers.map((p) => cpuSeconds(p.pid));
    const back0 = sumCpu(side.backends);
    const j0 = wallMs();
    log(`[${target}] ${cfg.members} joins at ${cfg.rate}/s`);
    await paced(cfg.members, cfg.rate, (k) => {
      sendTo(k, side.join(`m${k}`));
      events.push({ t: wallMs(), target: k + 1, up: true });
    });
    const afterJoins = await settle(watcherRx, cfg.members, cfg.settleS);
    const j1 = wallMs();
    log(`[${target}] ${cfg.members} leaves at ${cfg.rate}/s`);
    await paced(cfg.members, cfg.rate, (k) => {
      sendTo(k, side.leave);
      events.push({ t: wallMs(), target: cfg.members - k - 1, up: false });
    });
    const afterLeaves = await settle(watcherRx, 0, cfg.settleS);
    const j2 = wallMs();
    const serverCpuS = sumCpu(side.servers) - cpu0;
    const perProcess = side.servers.map((p, i) => ({ name: p.name, cpuS: round(cpuSeconds(p.pid) - per0[i], 2) }));
    const backendsCpuS = sumCpu(side.backends) - back0;
    const down = side.exited();
    if (down !== null) throw new Error(`${down} exited during the run`);

    const answers = await tracked(watcherRx, events);
    const wstats = await allStats(watcherRx);
    const lat = new Histogram();
    for (const a of answers) lat.merge(a.latency);
    const range = (xs: number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];
    return {
      target,
      gateways: G,
      members: cfg.members,
      watchers: cfg.watchers,
      tracked: answers.reduce((a, m) => a + m.sockets, 0),
      joins: cfg.members,
      leaves: cfg.members,
      countAfterJoins: range(afterJoins),
      countAfterLeaves: range(afterLeaves),
      joinS: round((j1 - j0) / 1000, 2),
      leaveS: round((j2 - j1) / 1000, 2),
      latencyMs: { p50: round(lat.quantile(0.5)), p99: round(lat.quantile(0.99)), max: round(lat.max) },
      missed: answers.reduce((a, m) => a + m.missed, 0),
      watcherCloses: wstats.reduce((a, x) => a + x.closedAfterReady, 0),
      watcherErrors: wstats.reduce((a, x) => a + x.errorFrames, 0),
      serverCpuS: round(serverCpuS, 2),
      cpuMsPerEvent: round((serverCpuS * 1000) / (2 * cfg.members), 3),
      perProcess,
      backendsCpuS: round(backendsCpuS, 2),
      connectMs,
    };
  } finally {
    await Promise.all(receivers.map((r) => r.exit()));
    await side.stop();
  }
}

/** the phase for each target in turn; a failed one is reported with its error */
export async function presencePhases(cfg: PresenceConfig, targets: PresenceTarget[], firstBlock: number): Promise<PresenceResult[]> {
  const out: PresenceResult[] = [];
  let block = firstBlock;
  for (const t of targets) {
    try {
      out.push(await presencePhase(t, cfg, block));
    } catch (err) {
      out.push({ target: t, error: err instanceof Error ? err.message : String(err) } as PresenceResult);
    }
    block += 2 * cfg.gateways + cfg.watcherReceivers;
    if (block > 200) block = 10;
  }
  return out;
}

const ok = (rs: PresenceResult[], t: PresenceTarget): PresenceResult | undefined => rs.find((r) => r.target === t && r.error === undefined);

/** Replicant's server CPU per join/leave over Centrifugo's, when both ran */
export function presenceRatio(rs: PresenceResult[]): number | null {
  const r = ok(rs, 'replicant');
  const c = ok(rs, 'centrifugo');
  return r && c ? round(r.cpuMsPerEvent / c.cpuMsPerEvent, 3) : null;
}

export function presenceReport(cfg: PresenceConfig, rs: PresenceResult[]): string {
  const label = (t: PresenceTarget): string => (t === 'replicant' ? `Replicant (${cfg.gateways} gateways)` : 'Centrifugo (1 process)');
  const r = ok(rs, 'replicant');
  const c = ok(rs, 'centrifugo');
  const both = r !== undefined && c !== undefined;
  const head = ['', ...rs.map((x) => label(x.target)), ...(both ? ['Replicant/Centrifugo'] : [])];
  const row = (name: string, f: (x: PresenceResult) => string, ratio?: (r: PresenceResult, c: PresenceResult) => string): string[] => [
    name,
    ...rs.map((x) => (x.error !== undefined ? 'error' : f(x))),
    ...(both ? [ratio ? ratio(r, c) : ''] : []),
  ];
  const out = [
    `Presence: ${cfg.members} members join one doc's presence at ${cfg.rate}/s, then leave at ${cfg.rate}/s; ${cfg.watchers} watchers (every ${cfg.trackEvery}th timed)`,
    table([
      head,
      row('joins + leaves', (x) => fmtInt(x.joins + x.leaves)),
      row('count after joins (want members)', (x) => `${x.countAfterJoins[0]}..${x.countAfterJoins[1]}`),
      row('count after leaves (want 0)', (x) => `${x.countAfterLeaves[0]}..${x.countAfterLeaves[1]}`),
      row('join / leave phase s', (x) => `${fmt(x.joinS, 1)}/${fmt(x.leaveS, 1)}`),
      row('watcher latency p50 ms', (x) => fmt(x.latencyMs.p50), (r, c) => fmt(r.latencyMs.p50 / c.latencyMs.p50)),
      row('watcher latency p99 ms', (x) => fmt(x.latencyMs.p99), (r, c) => fmt(r.latencyMs.p99 / c.latencyMs.p99)),
      row('watcher latency max ms', (x) => fmt(x.latencyMs.max)),
      row('events never seen (x tracked)', (x) => `${fmtInt(x.missed)} (x${x.tracked})`),
      row('watchers closed / error frames', (x) => `${x.watcherCloses}/${x.watcherErrors}`),
      row('server CPU-ms per join/leave', (x) => fmt(x.cpuMsPerEvent, 3), (r, c) => fmt(r.cpuMsPerEvent / c.cpuMsPerEvent)),
      row('server CPU-s (all servers)', (x) => fmt(x.serverCpuS)),
      row('Kafka + redis CPU-s', (x) => (x.target === 'replicant' ? fmt(x.backendsCpuS) : 'n/a')),
    ]),
  ];
  for (const x of rs) if (x.error === undefined && x.perProcess.length > 1) out.push(`${x.target} CPU-s per process: ${x.perProcess.map((p) => `${p.name} ${fmt(p.cpuS)}`).join(', ')}`);
  const ratio = presenceRatio(rs);
  if (ratio !== null) out.push(`CPU per join/leave: Replicant/Centrifugo = ${fmt(ratio)}`);
  for (const x of rs) if (x.error !== undefined) out.push(`${x.target}: ${x.error}`);
  return out.join('\n');
}
