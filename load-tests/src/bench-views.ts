/**
 * The per-user views phase of `npm run bench` (issue 19): what projecting a doc per view costs the
 * server, against the same subscribers without views.
 *
 *  - Two `replicant dev` with auth on (target `replicant-auth`: JWT subscribers, API-key writer)
 *    and FANOUT_COALESCE=false (startSide says why): one WITH a VIEWS_FILE (VIEWS_RULES:
 *    `/teams/<t>` private to `claim:team=<t>` for 4 teams), one without, run AT THE SAME TIME with
 *    the same writes (viewsPair: the box is shared, and sequential runs measured its drift, not
 *    views); --views-repeat pairs, the median of the pairs' ratios reported. Same tokens on both:
 *    subscriber i carries claim team=GROUPS[i % 5] (the 5th group, spectators, no team), so with
 *    views the 5 groups are 5 distinct views; without, everyone reads the whole doc.
 *  - N subscribers (receiver child processes, as the fan-out phase; at most
 *    MAX_SOCKETS_PER_RECEIVER each) minus PROBES, plus one probe connection per group in this
 *    process; the writer sends `{"t":…,"n":…,"teams":{"<TEAMS[n % 4]>":{"score":n}}}` at `rate`
 *    (public and private members in every write, so every view changes on every write).
 *  - Measured over the window: server CPU-seconds per million deliveries (/proc utime+stime of the
 *    server process), delta frames encoded per write (gateway counter
 *    `replicant_gateway_delta_encodes_total`; expected: the views that changed = 5 with views, 1
 *    without), and, after the window, PRIVATE_ONLY writes touching one team's member alone
 *    (expected: 1 encode each with views: only that view changed; 1 without).
 *  - Spot check: each probe checks every frame it gets (snapshot state, delta patch) holds only
 *    its group's view: a team's frames no other team's member, the spectators' none. Without views
 *    the same check finds the other teams' members (so the check is shown to be able to fail).
 *
 * Bounds: sockets per receiver process ≤ MAX_SOCKETS_PER_RECEIVER (2 × receivers processes in a pair); the drain waits at most 10 s,
 * the encode counter at most 5 s.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Histogram, wallMs } from './histogram.js';
import { cpuSeconds, waitQuiet } from './procfs.js';
import { benchDir, startServer, type ServerProc } from './servers.js';
import { connectReceivers, receiverCounts, setWindow, split, statsUntil, sumOf, type Receiver, type ReceiverCounts } from './receivers.js';
import { writeAtRate, writeCounts, publish, type Publisher, type WriteCounts } from './open-loop-writer.js';
import { REPLICANT_AUTH } from './targets.js';
import { WsClient } from './ws-client.js';
import { fastParse, makeWire, type FastParse } from './wire.js';
import { getText, metric } from './prom.js';
import { fmt, fmtInt, log, median, round, sleep, table } from './report.js';

export interface ViewsConfig {
  /** subscribers of the one doc (probes included) */
  subscribers: number;
  /** writes per second */
  rate: number;
  durationS: number;
  warmupS: number;
  receivers: number;
  quietWaitS: number;
  /** runs per mode, alternating the order; medians reported */
  repeat: number;
}

export const TEAMS = ['red', 'blue', 'green', 'gold'] as const;
/** the 5 groups: a team each, then spectators (no team claim) */
export const GROUPS: readonly string[] = [...TEAMS, 'spectators'];
const DOC = 'views-bench';
/** `/teams/<t>` readable only with claim team=<t>: 4 team views + the spectators' = 5 views */
export const VIEWS_RULES = { views: [{ docs: DOC, private: Object.fromEntries(TEAMS.map((t) => [`/teams/${t}`, `claim:team=${t}`])) }] };
const ENCODES = 'replicant_gateway_delta_encodes_total';
const PRIVATE_ONLY = 20;
/** one probe connection per group, in this process */
const PROBES = GROUPS.length;

const groupOf = (i: number): string => GROUPS[i % GROUPS.length];
const claimsOf = (i: number): Record<string, unknown> => (i % GROUPS.length < TEAMS.length ? { team: GROUPS[i % GROUPS.length] } : {});

export type ViewsMode = 'views' | 'plain';

export interface ViewsRun extends WriteCounts, ReceiverCounts {
  mode: ViewsMode;
  error?: string;
  subscribers: number;
  expectedDeliveries: number;
  delivered: number;
  opsDelivered: number;
  completeness: number;
  windowS: number;
  latencyMs: { p50: number; p99: number };
  bytesPerDelivery: number;
  serverCpuS: number;
  serverCpuUtil: number;
  cpuSPerMillion: number;
  /** delta frames the gateway encoded per acked write in the window */
  encodesPerWrite: number;
  /** after the window: writes touching one team's private member only, and the encodes they caused */
  privateOnlyWrites: number;
  privateOnlyEncodes: number;
  /** probe frames checked, and how many held a member outside the probe's view */
  probeFrames: number;
  probeLeaks: number;
  firstLeak: string | null;
}

/** the patch body: the writer's `{"t":…,"n":…}` plus a private member of team n % 4 */
function viewsPublisher(base: Publisher): Publisher {
  return { ...base, body: (doc, patchJson, n) => `${base.body(doc, patchJson, n).slice(0, -1)},"teams":{"${TEAMS[n % TEAMS.length]}":{"score":${n}}}}` };
}

/** A probe: one connection of a group, checking every frame against the group's view. */
class Probe {
  readonly ws: WsClient;
  frames = 0;
  leaks = 0;
  firstLeak: string | null = null;
  ready = false;
  windowDeltas = 0;
  private minN = Infinity;
  private maxN = -Infinity;
  private readonly fp: FastParse = { kind: 'other', t: NaN, n: NaN };
  private readyCb: (() => void) | undefined;

  constructor(
    port: number,
    token: string,
    readonly group: string,
  ) {
    const wire = makeWire('replicant', DOC);
    this.ws = new WsClient({ port, path: '/v1/stream', protocols: ['replicant.v1.json'] });
    this.ws.onopen = () => {
      for (const f of wire.open(token)) this.ws.send(f);
    };
    this.ws.onmessage = (data) => this.onFrame(data);
  }

  waitReady(timeoutMs: number): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`probe ${this.group}: no snapshot in ${timeoutMs} ms`)), timeoutMs);
      this.readyCb = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  window(minN: number, maxN: number): void {
    this.minN = minN;
    this.maxN = maxN;
    this.windowDeltas = 0;
  }

  private onFrame(data: Buffer): void {
    const r = fastParse(data, this.fp);
    if (r.kind === 'delta' && r.n >= this.minN && r.n <= this.maxN) this.windowDeltas++;
    const f = JSON.parse(data.toString('utf8')) as { type: string; state?: Record<string, unknown>; patch?: Record<string, unknown> };
    const body = f.type === 'snapshot' ? f.state : f.type === 'delta' ? f.patch : undefined;
    if (body === undefined) return;
    this.frames++;
    const teams = body.teams;
    const seen = teams !== null && typeof teams === 'object' ? Object.keys(teams) : [];
    const bad = seen.filter((t) => t !== this.group);
    if (bad.length > 0) {
      this.leaks++;
      this.firstLeak ??= `${this.group} got /teams/${bad[0]}: ${data.toString('utf8').slice(0, 200)}`;
    }
    if (f.type === 'snapshot' && !this.ready) {
      this.ready = true;
      this.readyCb?.();
    }
  }
}

async function encodes(port: number): Promise<number> {
  return metric(await getText(port, '/metrics'), ENCODES);
}

/** the encode counter once it reached `atLeast` (or after 5 s: then what it is) */
async function encodesReaching(port: number, atLeast: number): Promise<number> {
  const until = Date.now() + 5000;
  let e = await encodes(port);
  while (e < atLeast && Date.now() < until) {
    await sleep(100);
    e = await encodes(port);
  }
  return e;
}

/** one server under test and its subscribers */
interface Side {
  mode: ViewsMode;
  server: ServerProc;
  tmp: { remove(): void };
  pub: Publisher;
  receivers: Receiver[];
  probes: Probe[];
  ready: number;
}

async function startSide(mode: ViewsMode, cfg: ViewsConfig, addrBlock: number): Promise<Side> {
  const tmp = benchDir('replicant-bench-views-');
  // coalescing off in both modes: on a loaded box the embedded log's group commit hands the gateway
  // several ops at once and coalescing then folds them into one frame, by a varying amount per
  // run; with it off every write is one frame per view (per doc without views), so CPU per
  // delivery and encodes per write compare like with like
  const env: Record<string, string> = { FANOUT_COALESCE: 'false' };
  if (mode === 'views') {
    const file = join(tmp.dir, 'views.json');
    writeFileSync(file, JSON.stringify(VIEWS_RULES));
    env.VIEWS_FILE = file;
  }
  log(`[views:${mode}] starting server`);
  let server: ServerProc;
  try {
    server = await startServer('replicant-auth', { env });
  } catch (err) {
    tmp.remove();
    throw err;
  }
  const side: Side = { mode, server, tmp, pub: viewsPublisher(server.publisher), receivers: [], probes: [], ready: 0 };
  try {
    const n = cfg.subscribers - PROBES;
    const tokens = (count: number, doc: string): Promise<string[]> => REPLICANT_AUTH.claimTokens(count, doc, claimsOf);
    // sampleEvery 51 (coprime with the 5 groups): the full seq check covers every view's chain
    const conn = await connectReceivers({ port: server.port, stream: server.stream, tokens }, split(n, cfg.receivers), { doc: DOC, addrBlock, sampleEvery: 51 });
    side.receivers = conn.receivers;
    log(`[views:${mode}] ${conn.ready}/${n} subscribers ready in ${conn.ms} ms (${conn.failedAttempts} failed attempts${conn.firstError ? `, first: ${conn.firstError}` : ''})`);
    if (conn.ready < n) throw new Error(`only ${conn.ready}/${n} subscribers ready: ${conn.firstError}`);
    const probeTokens = await REPLICANT_AUTH.claimTokens(PROBES, DOC, claimsOf);
    for (let g = 0; g < PROBES; g++) side.probes.push(new Probe(server.port, probeTokens[g], groupOf(g)));
    await Promise.all(side.probes.map((p) => p.waitReady(15000)));
    side.ready = conn.ready + PROBES;
    return side;
  } catch (err) {
    await stopSide(side);
    throw err;
  }
}

async function stopSide(side: Side): Promise<void> {
  for (const p of side.probes) p.ws.terminate();
  await Promise.all(side.receivers.map((r) => r.exit()));
  await side.server.stop();
  side.tmp.remove();
}

/** the measured window of one side (its writes run concurrently with the other side's) */
async function measureSide(side: Side, cfg: ViewsConfig, firstN: number): Promise<ViewsRun> {
  const { mode, server, pub, receivers, probes } = side;
  const enc0 = await encodes(server.port);
  const cpu0 = cpuSeconds(server.pid);
  const t0 = wallMs();
  const w = await writeAtRate(pub, DOC, cfg.rate, cfg.durationS, firstN);
  const expected = w.acked * side.ready;
  const probeDeltas = (): number => probes.reduce((a, p) => a + p.windowDeltas, 0);
  const stats = await statsUntil(receivers, (st) => sumOf(st, (s) => s.windowOps) + probeDeltas() >= expected, 10000);
  const cpu1 = cpuSeconds(server.pid);
  const t1 = wallMs();
  if (server.exited) throw new Error(`server exited during the run:\n${server.output().split('\n').slice(-20).join('\n')}`);
  // every write changes every view: the counter moves by (views × writes) once the last flush ran
  const enc1 = await encodesReaching(server.port, enc0 + w.acked * (mode === 'views' ? GROUPS.length : 1));
  const lat = new Histogram();
  for (const s of stats) lat.merge(s.latency);
  const delivered = sumOf(stats, (s) => s.windowDeltas) + probeDeltas();
  const opsDelivered = sumOf(stats, (s) => s.windowOps) + probeDeltas();
  const lastRecv = Math.max(...stats.map((s) => s.lastWindowRecvAt));
  const windowS = ((lastRecv > 0 ? lastRecv : t1) - t0) / 1000;
  const serverCpuS = cpu1 - cpu0;
  return {
    mode,
    subscribers: side.ready,
    ...writeCounts(w, cfg.rate, cfg.durationS),
    expectedDeliveries: expected,
    delivered,
    opsDelivered,
    completeness: expected > 0 ? opsDelivered / expected : 0,
    windowS: round(windowS, 3),
    latencyMs: { p50: round(lat.quantile(0.5)), p99: round(lat.quantile(0.99)) },
    bytesPerDelivery: round(sumOf(stats, (s) => s.bytes) / Math.max(1, delivered - probeDeltas()), 1),
    serverCpuS: round(serverCpuS, 2),
    serverCpuUtil: round(serverCpuS / ((t1 - t0) / 1000), 3),
    cpuSPerMillion: round(delivered > 0 ? serverCpuS / (delivered / 1e6) : NaN, 3),
    encodesPerWrite: round((enc1 - enc0) / Math.max(1, w.acked), 3),
    privateOnlyWrites: 0,
    privateOnlyEncodes: 0,
    probeFrames: 0,
    probeLeaks: 0,
    firstLeak: null,
    ...receiverCounts(stats),
  };
}

/**
 * After the window: writes that touch one team's private member alone (only that view changes),
 * one at a time, each awaited in the counter so no two are coalesced; then the probes' counts.
 */
async function privateOnly(side: Side, r: ViewsRun): Promise<void> {
  const port = side.server.port;
  let enc = await encodes(port);
  const enc1 = enc;
  for (let k = 0; k < PRIVATE_ONLY; k++) {
    const res = await publish(side.pub, DOC, `{"teams":{"${TEAMS[k % TEAMS.length]}":{"only":${k}}}}`);
    if (res.status !== 200) continue;
    r.privateOnlyWrites++;
    enc = await encodesReaching(port, enc + 1);
  }
  await sleep(300); // a stray extra encode would show as more than 1 per write
  r.privateOnlyEncodes = (await encodes(port)) - enc1;
  r.probeFrames = side.probes.reduce((a, p) => a + p.frames, 0);
  r.probeLeaks = side.probes.reduce((a, p) => a + p.leaks, 0);
  r.firstLeak = side.probes.find((p) => p.firstLeak !== null)?.firstLeak ?? null;
}

/**
 * Both modes at once, each its own server and receivers, the same writes at the same rate to both
 * over the same window: whatever else the machine does at that moment, both sides share it (the
 * box is shared; sequential runs measured its drift, not views). Returns [plain, views].
 */
export async function viewsPair(cfg: ViewsConfig, addrBlock: number): Promise<ViewsRun[]> {
  await waitQuiet(cfg.quietWaitS, 'views');
  const sides: Side[] = [];
  try {
    sides.push(await startSide('plain', cfg, addrBlock));
    sides.push(await startSide('views', cfg, addrBlock + cfg.receivers));
    const warmN = Math.round(cfg.rate * cfg.warmupS);
    log(`[views] warm-up: ${warmN} writes to each`);
    await Promise.all(sides.map((s) => writeAtRate(s.pub, DOC, cfg.rate, cfg.warmupS, 0)));
    await sleep(1000);
    const total = Math.round(cfg.rate * cfg.durationS);
    for (const s of sides) {
      await setWindow(s.receivers, warmN, warmN + total - 1);
      for (const p of s.probes) p.window(warmN, warmN + total - 1);
    }
    log(`[views] measuring: ${total} writes at ${cfg.rate}/s to each of plain and views, ${sides[0].ready} subscribers each, at the same time`);
    const runs = await Promise.all(sides.map((s) => measureSide(s, cfg, warmN)));
    for (const [i, s] of sides.entries()) await privateOnly(s, runs[i]);
    return runs;
  } finally {
    for (const s of sides) await stopSide(s);
  }
}

export interface ViewsResult {
  runs: ViewsRun[];
  /** median CPU per delivery with views over without (issue target ≤ 1.15) */
  cpuRatio: number | null;
}

export const TARGET_VIEWS_CPU_RATIO = 1.15;

/** `repeat` paired runs (viewsPair); a failed pair is reported with its error */
export async function viewsPhases(cfg: ViewsConfig, firstBlock: number): Promise<ViewsResult> {
  const runs: ViewsRun[] = [];
  let block = firstBlock;
  for (let rep = 0; rep < cfg.repeat; rep++) {
    try {
      runs.push(...(await viewsPair(cfg, block)));
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      runs.push({ mode: 'plain', error } as ViewsRun, { mode: 'views', error } as ViewsRun);
    }
    block += 2 * cfg.receivers;
    if (block > 200) block = 10;
  }
  return { runs, cpuRatio: viewsCpuRatio(runs) };
}

const okRuns = (runs: ViewsRun[], m: ViewsMode): ViewsRun[] => runs.filter((r) => r.mode === m && r.error === undefined);

/** CPU per delivery views/plain of each pair that both ran (runs come in [plain, views] pairs) */
function pairRatios(runs: ViewsRun[]): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < runs.length; i += 2) {
    const [p, v] = [runs[i], runs[i + 1]];
    if (p.error === undefined && v.error === undefined) out.push(round(v.cpuSPerMillion / p.cpuSPerMillion, 3));
  }
  return out;
}

/** the median of the pairs' ratios */
function viewsCpuRatio(runs: ViewsRun[]): number | null {
  const r = pairRatios(runs);
  return r.length > 0 ? round(median(r), 3) : null;
}

export function viewsReport(cfg: ViewsConfig, res: ViewsResult): string {
  const out = [
    `Per-user views: one doc, ${cfg.subscribers} subscribers (JWT, replicant.v1.json) in ${GROUPS.length} groups (${GROUPS.join(', ')}), ${cfg.rate} writes/s ` +
      `for ${cfg.durationS} s, each write a public member and one team's private one; replicant dev with VIEWS_FILE (${GROUPS.length} views) vs without`,
  ];
  const rows: string[][] = [
    ['run', 'subscribers', 'ops delivered (of expected)', 'p50/p99 ms', 'B/delivery', 'CPU-s per 1M deliveries', 'server cores', 'encodes/write', 'private-only: encodes/writes', 'probe frames/leaks', 'seq checks/violations'],
  ];
  for (const r of res.runs) {
    if (r.error !== undefined) {
      rows.push([r.mode, 'error', r.error.split('\n')[0], '', '', '', '', '', '', '', '']);
      continue;
    }
    rows.push([
      r.mode,
      fmtInt(r.subscribers),
      `${fmtInt(r.opsDelivered)} (${fmt(r.completeness * 100, 1)}%)`,
      `${fmt(r.latencyMs.p50)}/${fmt(r.latencyMs.p99)}`,
      fmt(r.bytesPerDelivery, 1),
      fmt(r.cpuSPerMillion, 3),
      fmt(r.serverCpuUtil),
      fmt(r.encodesPerWrite),
      `${r.privateOnlyEncodes}/${r.privateOnlyWrites}`,
      `${r.probeFrames}/${r.probeLeaks}`,
      `${fmtInt(r.sampledDeltas)}/${r.seqViolations}`,
    ]);
  }
  out.push(table(rows));
  const v = okRuns(res.runs, 'views');
  const p = okRuns(res.runs, 'plain');
  if (res.cpuRatio !== null) {
    out.push(
      `CPU per delivery, views/plain, median of the pairs (${pairRatios(res.runs).map((x) => fmt(x, 3)).join(', ')}) = ${fmt(res.cpuRatio, 3)} ` +
        `(target <= ${fmt(TARGET_VIEWS_CPU_RATIO)}): ${res.cpuRatio <= TARGET_VIEWS_CPU_RATIO ? 'met' : 'NOT met'}`,
    );
  }
  if (v.length > 0) {
    const epw = median(v.map((r) => r.encodesPerWrite));
    out.push(`encodes per write with views (median): ${fmt(epw)} (target: views changed per write = ${GROUPS.length}): ${Math.abs(epw - GROUPS.length) < 0.01 ? 'met' : 'NOT met'}`);
    const priv = v.every((r) => r.privateOnlyEncodes === r.privateOnlyWrites);
    out.push(`private-only writes (1 view changed): encodes = writes in every views run: ${priv ? 'yes' : 'NO'}`);
    const leaks = v.reduce((a, r) => a + r.probeLeaks, 0);
    out.push(`frames holding a member outside the probe's view: ${leaks} with views (must be 0)${p.length > 0 ? `, ${p.reduce((a, r) => a + r.probeLeaks, 0)} without (the check sees them)` : ''}`);
  }
  for (const r of res.runs) if (r.error === undefined && r.mode === 'views' && r.firstLeak !== null) out.push(`views: first leak: ${r.firstLeak}`);
  for (const r of res.runs) if (r.firstViolation != null) out.push(`${r.mode}: first violation: ${r.firstViolation}`);
  return out.join('\n');
}

/** true when the views phase found something wrong (beyond a missed CPU target) */
export function viewsFailed(res: ViewsResult): boolean {
  return res.runs.some(
    (r) => r.error !== undefined || (r.mode === 'views' && (r.probeLeaks > 0 || r.privateOnlyEncodes !== r.privateOnlyWrites)) || r.seqViolations > 0,
  );
}
