/** `replicant-scale sim` and `replicant-scale validate`: run scenarios / the validation and print them. */
import type { Measured } from './bench-input.js';
import { values, type Costs } from './costs.js';
import { bytes, mdTable, si } from './format.js';
import { SCENARIOS } from './scenarios.js';
import { simulate, type SimResult } from './sim.js';
import { EMBEDDED_UPPER_BOUND_RATIO, relErr, TOLERANCE, validate, type Validation } from './validate.js';

export function runCommand(
  cmd: string,
  m: Measured,
  costs: Costs,
  flags: { scenario?: string; seed?: string; connections?: string; workload?: string; util?: string },
): number {
  const k = values(costs);
  if (flags.util !== undefined) {
    const u = Number(flags.util);
    if (!(u > 0.1 && u < 1)) {
      console.error('--util must be a fraction of a core between 0.1 and 1');
      return 2;
    }
    k.targetUtil = u;
  }
  if (cmd === 'validate') {
    const vs = validate(m, k);
    console.log(validationTable(vs));
    const bad = validationFailures(vs);
    for (const b of bad) console.log(`OUT OF TOLERANCE: ${b}`);
    return bad.length === 0 ? 0 : 1;
  }
  const names = flags.scenario === undefined || flags.scenario === 'all' ? Object.keys(SCENARIOS) : flags.scenario.split(',');
  for (const n of names) {
    const s = SCENARIOS[n];
    if (s === undefined) {
      console.error(`unknown scenario ${JSON.stringify(n)} (expected one of ${Object.keys(SCENARIOS).join(', ')}, all)`);
      return 2;
    }
    const seed = Number(flags.seed ?? 1);
    const connections = flags.connections !== undefined ? Number(flags.connections) : undefined;
    if (!Number.isInteger(seed) || (connections !== undefined && !(connections >= 1000))) {
      console.error('--seed must be an integer and --connections a number >= 1000');
      return 2;
    }
    const r = simulate(s.build(k, { seed, connections, workload: flags.workload }));
    console.log(`\n## ${n}: ${s.describe}\n`);
    console.log(summary(r));
  }
  return 0;
}

export function summary(r: SimResult): string {
  const p = r.plan;
  const lines = [
    `workload ${p.workload}, ${si(p.connections)} connections: ${si(p.gateways.processes)} gateways (${si(p.gateways.connsEach)} conns, ${(p.gateways.coresBusyEach * 100).toFixed(0)} % busy each), ` +
      `${si(p.cells)} cells × ${si(Math.floor(p.replicas.processes / p.cells))} replicas (${(p.replicas.coresBusyEach * 100).toFixed(0)} % busy each); ` +
      `admission ${r.admission ? `${r.admission.rate}/s burst ${r.admission.burst} per gateway` : 'off'}`,
  ];
  const rows: string[][] = [['', 'value']];
  if (r.lostClients > 0) {
    rows.push(['clients that lost their gateway', si(r.lostClients)]);
    rows.push(['clients resumed (in the simulated time)', `${si(r.resumedClients)} (${((r.resumedClients / r.lostClients) * 100).toFixed(1)} %)`]);
  }
  if (r.gatewayMemAfterLoss > 0) {
    const over = r.gatewayMemAfterLoss > r.gatewayMemBudget;
    rows.push(['surviving gateway memory after the loss', `${bytes(r.gatewayMemAfterLoss)}${over ? ' (over the per-process budget: plan memory headroom too)' : ''}`]);
  }
  if (r.lostPairs > 0) rows.push(['(gateway, doc) subscriptions re-routed from lost replicas', `${si(r.reroutedPairs)} of ${si(r.lostPairs)}`]);
  const q = (x: { p50: number; p99: number; max: number }) => `${(x.p50 / 1000).toFixed(2)} / ${(x.p99 / 1000).toFixed(2)} / ${(x.max / 1000).toFixed(2)}`;
  if (r.resumeMs) rows.push(['clients: time to resume p50 / p99 / all (s)', q(r.resumeMs)]);
  if (r.rerouteMs) rows.push(['re-routed subscriptions: time to live again p50 / p99 / all (s)', q(r.rerouteMs)]);
  if (r.lostClients > 0) rows.push(['ADMISSION_RATE the replicas absorb (per gateway)', `${Math.round(r.admissionRateBound)}/s`]);
  rows.push(['peak replica load (1-s window, cores of 1)', r.peakReplicaUtil.toFixed(2)]);
  rows.push(['peak replica demand over 100 ms (cores of 1)', r.peakReplicaUtilTick.toFixed(2)]);
  rows.push(['peak replica queue: how late live deltas get (s)', (r.peakReplicaQueueMs / 1000).toFixed(2)]);
  rows.push(['replicas lagging past REGISTRY_TTL_MS', si(r.replicasPastTtl)]);
  rows.push(['peak gateway load (1-s window)', r.peakGatewayUtil.toFixed(2)]);
  if (r.refusals > 0 || r.admission) rows.push(['admission refusals (503)', si(r.refusals)]);
  if (r.clientSnapshots + r.clientDeltas > 0) rows.push(['client catch-up frames: snapshots / deltas', `${si(r.clientSnapshots)} / ${si(r.clientDeltas)}`]);
  if (r.replicaBases + r.replicaColdLoads > 0) rows.push(['replica work: bases (warm) / cold loads', `${si(r.replicaBases)} / ${si(r.replicaColdLoads)}`]);
  rows.push(['peak Redis ops/s (registry + snapshot store)', si(r.peakRedisOpsPerS)]);
  rows.push(['link backlogs collapsed (LINK_BACKLOG)', si(r.linkCollapses)]);
  rows.push(['clients whose catch-up passed MAX_SEND_BUFFER_BYTES', si(r.sendBufferOverflows)]);
  if (r.maxAppendWaitMs > 0) rows.push(['links whose burst passed LINK_WINDOW (wait for credit)', si(r.linksOutOfCredit)]);
  if (r.maxAppendWaitMs > 0) rows.push(['writes refused (503) / longest append wait (s)', `${si(r.writesRefused)} / ${(r.maxAppendWaitMs / 1000).toFixed(1)}`]);
  if (r.hotDoc) {
    rows.push(['hot doc: spread to replicas (at s)', `${r.hotDoc.spreadTo} (${r.hotDoc.spreadAtMs === null ? 'never' : (r.hotDoc.spreadAtMs / 1000).toFixed(2)})`]);
    rows.push(['hot doc: home replica load before the spread', r.hotDoc.homePeakUtil.toFixed(2)]);
    rows.push(['hot doc: longest write → last local delivery (ms)', r.hotDoc.maxDeliveryMs.toFixed(1)]);
  }
  rows.push(['events / wall time', `${si(r.events)} / ${(r.wallMs / 1000).toFixed(2)} s`]);
  lines.push('', mdTable(rows));
  // a coarse time line: every 5 s while something happens
  const tl: string[][] = [['t (s)', 'replica load max', 'replica queue (s)', 'gateway load max', 'resumed', 'refusals/s']];
  // every second for the first 10 s, then every 5 s, until 5 s after the last second with anything going on
  const busy = (s: SimResult['series'][number]) => s.refusalsPerS > 0 || s.replicaQueueMs > 0 || s.replicaUtilMax > r.series[0].replicaUtilMax + 0.01;
  let lastBusy = 0;
  r.series.forEach((s, i) => {
    if (busy(s) || (i > 0 && s.resumed !== r.series[i - 1].resumed)) lastBusy = s.t;
  });
  for (const s of r.series) {
    if (s.t > lastBusy + 5) break;
    if (Math.round(s.t) % 5 !== 0 && s.t > 10) continue;
    tl.push([s.t.toFixed(0), s.replicaUtilMax.toFixed(2), (s.replicaQueueMs / 1000).toFixed(2), s.gatewayUtilMax.toFixed(2), si(s.resumed), si(s.refusalsPerS)]);
  }
  lines.push('', mdTable(tl));
  return lines.join('\n');
}

export function validationTable(vs: Validation[]): string {
  const rows: string[][] = [['configuration', 'hop', 'predicted', 'measured', 'error', 'tolerance']];
  for (const v of vs) {
    const tag = v.calibration ? ' (supplied the costs)' : '';
    rows.push([`${v.name}${tag}`, 'delivered msgs/s', si(v.predictedPerS), si(v.measuredPerS), pct(relErr(v.predictedPerS, v.measuredPerS)), `±${TOLERANCE.throughput * 100} %`]);
    const embedded = v.hops.length === 1;
    for (const h of v.hops) {
      rows.push([
        '',
        `${h.hop}: CPU-s per 1M deliveries`,
        h.predicted.toFixed(3),
        h.measured.toFixed(3),
        embedded ? `×${(h.predicted / h.measured).toFixed(2)}` : pct(relErr(h.predicted, h.measured)),
        embedded ? `upper bound, ×1–×${EMBEDDED_UPPER_BOUND_RATIO}` : `±${TOLERANCE.cpuPerHop * 100} %`,
      ]);
    }
  }
  return mdTable(rows);
}

export function validationFailures(vs: Validation[]): string[] {
  const bad: string[] = [];
  for (const v of vs) {
    if (relErr(v.predictedPerS, v.measuredPerS) > TOLERANCE.throughput) bad.push(`${v.name}: throughput`);
    const embedded = v.hops.length === 1;
    for (const h of v.hops) {
      const ratio = h.predicted / h.measured;
      if (embedded ? ratio < 1 || ratio > EMBEDDED_UPPER_BOUND_RATIO : relErr(h.predicted, h.measured) > TOLERANCE.cpuPerHop) bad.push(`${v.name}: ${h.hop}`);
    }
  }
  return bad;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
