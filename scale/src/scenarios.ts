/**
 * The simulator's named scenarios. Each builds SimParams from the same costs and a workload; the
 * admission defaults here are the simulator's (ADMISSION_RATE / ADMISSION_BURST per gateway), and
 * `--no-admission` variants run the identical scenario with the bucket switched off.
 */
import type { CostValues } from './costs.js';
import { plan } from './model.js';
import type { Admission, SimParams } from './sim.js';
import { workload } from './workloads.js';

/**
 * per gateway: the costs' admissionRate / admissionBurst (the gateway plan reserves CPU for exactly
 * this admission). The rate stays under what the replicas' spare CPU absorbs at the planned load
 * (SimResult.admissionRateBound); the burst is what every survivor admits at once, so survivors ×
 * burst must also fit: a fifth of a second of the rate.
 */
export function defaultAdmission(k: CostValues): Admission {
  return { rate: k.admissionRate, burst: k.admissionBurst };
}

export interface ScenarioOptions {
  seed?: number;
  connections?: number;
  workload?: string;
  admission?: Admission;
}

export const SCENARIOS: Record<string, { describe: string; build: (k: CostValues, o: ScenarioOptions) => SimParams }> = {
  'gateway-loss': {
    describe: '10 % of gateways lost at once; their clients reconnect through admission control',
    build: (k, o) => gatewayLoss(k, o, 0.1, o.admission ?? defaultAdmission(k)),
  },
  'gateway-loss-no-admission': {
    describe: 'the same loss with admission control off',
    build: (k, o) => gatewayLoss(k, o, 0.1, null),
  },
  'zone-loss': {
    describe: 'one of three zones lost: a third of gateways and of replicas, with admission control',
    build: (k, o) => zoneLoss(k, o, o.admission ?? defaultAdmission(k)),
  },
  'zone-loss-no-admission': {
    describe: 'the same zone loss with admission control off',
    build: (k, o) => zoneLoss(k, o, null),
  },
  'zone-loss-paced': {
    describe: 'the zone loss with admission control and each gateway re-routing its lost docs over 90 s',
    build: (k, o) => zoneLoss(k, o, o.admission ?? defaultAdmission(k), 90_000),
  },
  'region-loss': {
    describe: 'one of three regions lost: its clients reconnect to the two others (their gateways and replicas intact)',
    build: (k, o) => gatewayLoss(k, o, 1 / 3, o.admission ?? defaultAdmission(k)),
  },
  'hot-doc': {
    describe: 'a doc goes viral: 1 % of connections subscribe over 30 s, 50 writes/s',
    build: (k, o) => {
      const w = workload(o.workload ?? 'live-comments', o.connections ?? 1e8);
      return {
        seed: o.seed ?? 1,
        workload: w,
        costs: k,
        admission: o.admission ?? defaultAdmission(k),
        untilMs: 45_000,
        actions: [{ atMs: 1000, kind: 'hot-doc', subscribers: w.connections * 0.01, writesPerS: 50, rampMs: 30_000, deltaBytes: 500 }],
      };
    },
  },
  'replica-loss': {
    describe: 'one replica per cell lost under load (host gone: gateways notice at REGISTRY_TTL_MS)',
    build: (k, o) => {
      const w = workload(o.workload ?? 'chat', o.connections ?? 1e8);
      const pl = plan(w, k);
      const perCell = Math.floor(pl.replicas.processes / pl.cells);
      return {
        seed: o.seed ?? 1,
        workload: w,
        costs: k,
        admission: o.admission ?? defaultAdmission(k),
        untilMs: 30_000,
        actions: [{ atMs: 1000, kind: 'kill-replicas', fraction: 1 / perCell, detectMs: k.registryTtlMs }],
      };
    },
  },
  'leader-move': {
    describe: "one Kafka partition's leader fails over: appends pause 2 s, then land at once",
    build: (k, o) => ({
      seed: o.seed ?? 1,
      workload: workload(o.workload ?? 'chat', o.connections ?? 1e8),
      costs: k,
      admission: o.admission ?? defaultAdmission(k),
      untilMs: 10_000,
      actions: [{ atMs: 1000, kind: 'leader-move', partitions: 1, pauseMs: 2000 }],
    }),
  },
};

function gatewayLoss(k: CostValues, o: ScenarioOptions, fraction: number, admission: Admission | null): SimParams {
  return {
    seed: o.seed ?? 1,
    workload: workload(o.workload ?? 'chat', o.connections ?? 1e8),
    costs: k,
    admission,
    untilMs: 120_000,
    actions: [{ atMs: 1000, kind: 'kill-gateways', fraction }],
  };
}

function zoneLoss(k: CostValues, o: ScenarioOptions, admission: Admission | null, paceMs?: number): SimParams {
  return {
    seed: o.seed ?? 1,
    workload: workload(o.workload ?? 'chat', o.connections ?? 1e8),
    costs: k,
    admission,
    untilMs: 180_000,
    actions: [
      { atMs: 1000, kind: 'kill-gateways', fraction: 1 / 3 },
      { atMs: 1000, kind: 'kill-replicas', fraction: 1 / 3, detectMs: k.registryTtlMs, paceMs },
    ],
  };
}
