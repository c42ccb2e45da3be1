/**
 * Validation: the simulator's event machinery replays the configurations the benches measured
 * (`npm run bench`: one `replicant dev` process; `npm run bench:cluster`: 10 gateways via 1 and via
 * 3 replicas) write by write, with the model's costs, and the predictions are set next to the
 * measurements in the same BENCH_JSON files.
 *
 * What is and is not independent (docs/scale.md says the same): the gateway's µs per delivery and
 * the per-process fixed cores come from cluster run (a), so (a) checks the mechanics (open-loop
 * writes, hop routing, fan-out counts, CPU accounting) rather than the costs; run (b) (3 replicas,
 * the hot-doc spread) and the embedded run are predicted from costs they did not supply.
 */
import { EventQueue, type SimEvent } from './event-queue.js';
import { CpuServer } from './cpu-server.js';
import type { ClusterRun, Measured } from './bench-input.js';
import type { CostValues } from './costs.js';

export interface HopFigure {
  hop: string;
  /** CPU-s per million client deliveries */
  predicted: number;
  measured: number;
}

export interface Validation {
  name: string;
  predictedPerS: number;
  measuredPerS: number;
  hops: HopFigure[];
  /** this configuration supplied costs the model uses (see the module header) */
  calibration: boolean;
}

/** the stated tolerances (docs/scale.md): relative error allowed */
export const TOLERANCE = { throughput: 0.02, cpuPerHop: 0.25 } as const;
/** the embedded run: the cluster's per-delivery cost is an upper bound for it (1 ≤ predicted/measured ≤ this) */
export const EMBEDDED_UPPER_BOUND_RATIO = 2;

interface Setup {
  gateways: number;
  clientsPerGateway: number;
  /** replica index each gateway's link carries the doc on */
  placement: number[];
  replicas: number;
  writeRate: number;
  durationS: number;
  /** origin, replica and gateway in one process: no link hop */
  embedded: boolean;
}

type Ev = SimEvent & { kind: 'write'; i: number };

function run(s: Setup, k: CostValues, originFixed: number): { deliveredPerS: number; origin: number; replicas: number; gateways: number } {
  const q = new EventQueue<Ev>();
  const origin = new CpuServer(0, 0);
  const replicas = Array.from({ length: s.replicas }, (_, i) => new CpuServer(i, 0));
  const gateways = Array.from({ length: s.gateways }, (_, i) => new CpuServer(i, 0));
  const n = Math.round(s.writeRate * s.durationS);
  for (let i = 0; i < n; i++) q.push({ t: (i * 1000) / s.writeRate, kind: 'write', i });
  let delivered = 0;
  let lastDone = 0;
  const linkUs = s.embedded ? 0 : k.replicaUsPerLinkDelta;
  const linkInUs = s.embedded ? 0 : k.gatewayUsPerLinkDeltaIn;
  for (let ev = q.pop(); ev !== undefined; ev = q.pop()) {
    const appended = origin.serve(ev.t, k.originUsPerWrite);
    // every replica tails the partition; the ones the doc is placed on apply it and send link deltas
    for (let r = 0; r < s.replicas; r++) {
      const links = s.placement.filter((x) => x === r).length;
      replicas[r].serve(appended, links > 0 ? k.replicaUsPerOpApplied + links * linkUs : k.replicaUsPerRecordScanned);
    }
    for (let g = 0; g < s.gateways; g++) {
      const from = replicas[s.placement[g]].busyUntil;
      const done = gateways[g].serve(from, linkInUs + s.clientsPerGateway * k.gatewayUsPerDelivery);
      delivered += s.clientsPerGateway;
      lastDone = Math.max(lastDone, done);
    }
  }
  const windowS = Math.max(s.durationS, lastDone / 1000);
  const fixed = (cores: number, procs: number) => cores * procs * windowS * 1e6;
  const perM = (us: number) => us / delivered; // µs per delivery = CPU-s per 1M deliveries
  const gwUs = gateways.reduce((a, g) => a + g.workTotal, 0);
  const rUs = replicas.reduce((a, r) => a + r.workTotal, 0);
  // the gateway cost is measured all-in (it includes the gateway's own timers), so no fixed part
  return {
    deliveredPerS: delivered / windowS,
    origin: perM(origin.workTotal + fixed(originFixed, 1)),
    replicas: perM(rUs + fixed(k.replicaFixedCores, s.replicas)),
    gateways: perM(gwUs),
  };
}

const roundRobin = (gateways: number, replicas: number) => Array.from({ length: gateways }, (_, g) => g % replicas);

export function validate(m: Measured, k: CostValues): Validation[] {
  const originFixed = m.originCores.value;
  const out: Validation[] = [];
  // npm run bench: one process; its CPU is compared as a whole
  const f = m.fanout;
  const emb = run(
    { gateways: 1, clientsPerGateway: f.subscribers, placement: [0], replicas: 1, writeRate: f.writeRate, durationS: 15, embedded: true },
    k,
    originFixed,
  );
  out.push({
    name: `npm run bench: 1 process (replicant dev), ${f.subscribers} subscribers, ${f.writeRate} w/s`,
    predictedPerS: emb.deliveredPerS,
    measuredPerS: f.deliveredPerSec,
    hops: [{ hop: 'replicant dev (whole process)', predicted: emb.origin + emb.replicas + emb.gateways, measured: f.cpuSPerMillion }],
    calibration: false,
  });
  for (const c of m.cluster) out.push(clusterValidation(c, k, originFixed, c.replicas === 1));
  return out;
}

function clusterValidation(c: ClusterRun, k: CostValues, originFixed: number, calibration: boolean): Validation {
  const r = run(
    {
      gateways: c.gateways,
      clientsPerGateway: c.clientsPerGateway,
      placement: roundRobin(c.gateways, c.replicas),
      replicas: c.replicas,
      writeRate: c.writeRate,
      durationS: c.windowS,
      embedded: false,
    },
    k,
    originFixed,
  );
  const perM = (cores: number) => (cores / c.deliveredPerSec) * 1e6;
  return {
    name: `npm run bench:cluster ${c.name}: ${c.gateways} gateways × ${c.clientsPerGateway}, ${c.writeRate} w/s`,
    predictedPerS: r.deliveredPerS,
    measuredPerS: c.deliveredPerSec,
    hops: [
      { hop: 'origin', predicted: r.origin, measured: perM(c.originCores) },
      { hop: 'replicas total', predicted: r.replicas, measured: perM(c.replicasCores) },
      { hop: 'gateways total', predicted: r.gateways, measured: c.gatewaysUsPerDelivery },
    ],
    calibration,
  };
}

export function relErr(predicted: number, measured: number): number {
  return Math.abs(predicted - measured) / measured;
}
