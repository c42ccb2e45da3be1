/** The capacity table: every named workload at 1 M, 100 M and 1 B connections, from one set of costs. */
import type { Costs, CostValues } from './costs.js';
import { values } from './costs.js';
import { plan, type Plan } from './model.js';
import { WORKLOAD_NAMES, workload } from './workloads.js';
import { regionPlan } from './multi-region.js';
import { bitsPerS, bytes, mdTable, si } from './format.js';

export const SCALES = [1e6, 1e8, 1e9];

export function plans(costs: Costs, overrides: Partial<CostValues> = {}, scales = SCALES): Plan[] {
  const k = { ...values(costs), ...overrides };
  return WORKLOAD_NAMES.flatMap((name) => scales.map((n) => plan(workload(name, n), k)));
}

export function capacityTable(ps: Plan[]): string {
  const rows: string[][] = [
    [
      'workload',
      'conns',
      'writes/s',
      'deliveries/s',
      'gateways (bound)',
      'gw conns / docs each',
      'gw mem each',
      'replicas (bound): cells × … + root',
      'links',
      'origin',
      'Kafka partitions / brokers',
      'Redis ops/s',
      'gw egress',
      'cores',
      'USD/month per 1 M conns',
    ],
  ];
  for (const p of ps) {
    rows.push([
      p.workload,
      si(p.connections),
      si(p.writesPerS),
      si(p.deliveriesPerS),
      `${si(p.gateways.processes)} (${p.gateways.bound})`,
      `${si(p.gateways.connsEach)} / ${si(p.gateways.docsEach)}`,
      bytes(p.gateways.memBytesEach),
      `${si(p.replicas.processes)} (${p.replicas.bound}): ${si(p.cells)} × ${si(p.replicas.processes / p.cells)}${p.secondTier ? ` + ${si(p.rootReplicas)} root` : ''}`,
      si(p.links),
      si(p.origin.processes),
      `${si(p.kafka.partitions)} / ${si(p.kafka.brokers)}`,
      si(p.redis.opsPerS),
      bitsPerS(p.network.gatewayEgressBytesPerS),
      si(p.cores),
      `${Math.round(p.usdPerMillionConnsMonth)}`,
    ]);
  }
  return mdTable(rows);
}

/** where the cores go: per tier, with the gateways' planned steady and storm loads */
export function coresTable(ps: Plan[]): string {
  const rows: string[][] = [
    ['workload', 'conns', 'gateways (steady / storm peak each)', 'replicas', 'root replicas', 'origin', 'Redis', 'Kafka brokers (8 cores each)', 'cores'],
  ];
  for (const p of ps) {
    const t = p.coresByTier;
    rows.push([
      p.workload,
      si(p.connections),
      `${si(t.gateways)} (${p.gateways.coresBusyEach.toFixed(2)} / ${p.gateways.stormPeakEach.toFixed(2)})`,
      si(t.replicas),
      si(t.rootReplicas),
      si(t.origin),
      si(t.redis),
      si(t.kafkaBrokers),
      si(p.cores),
    ]);
  }
  return mdTable(rows);
}

/** the fan-out tree: per doc class, how many gateways hold a doc, its replica spread, second tier */
export function treeTable(ps: Plan[]): string {
  const rows: string[][] = [
    ['workload', 'conns', 'doc class', 'subscribers/doc', 'gateways/doc', 'cells/doc', 'replicas/doc per cell (link CPU alone)', 'readers/partition', 'second tier'],
  ];
  for (const p of ps) {
    for (const c of p.classes) {
      rows.push([
        p.workload,
        si(p.connections),
        c.name,
        si(c.subscribersPerDoc),
        si(c.gatewaysPerDoc),
        si(c.cellsPerDoc),
        `${c.replicasPerDocPerCell} (${c.replicasNeededForLinks})`,
        si(p.readersPerPartition),
        p.secondTier ? 'pays' : 'no',
      ]);
    }
  }
  return mdTable(rows);
}

/** affinity levels the what-if table compares with today's random placement (a = 0) */
export const AFFINITY_WHAT_IF = [0, 0.5, 0.9];

/**
 * What-if: chat with a share a of each room's members giving the room's affinity key (model.ts
 * placedGateways). Chat only: its rooms' keyed members are a small share of a gateway, where the
 * model's averages hold; a hot doc's key would pile its audience onto one gateway.
 */
export function affinityTable(costs: Costs, overrides: Partial<CostValues> = {}, levels = AFFINITY_WHAT_IF, scales = SCALES, name = 'chat'): string {
  const k = { ...values(costs), ...overrides };
  const rows: string[][] = [
    ['workload', 'conns', 'affinity', 'gateways (bound)', 'gateways/doc', 'link deltas/s', 'gw cores on link deltas', 'gw mem each', 'links', 'cores', 'USD/month per 1 M conns'],
  ];
  for (const n of scales) {
    for (const a of levels) {
      const p = plan(workload(name, n), { ...k, affinity: a });
      rows.push([
        p.workload,
        si(p.connections),
        String(a),
        `${si(p.gateways.processes)} (${p.gateways.bound})`,
        p.classes.map((c) => si(c.gatewaysPerDoc)).join(' / '),
        si(p.linkDeltasPerS),
        si((p.linkDeltasPerS * k.gatewayUsPerLinkDeltaIn) / 1e6),
        bytes(p.gateways.memBytesEach),
        si(p.links),
        si(p.cores),
        `${Math.round(p.usdPerMillionConnsMonth)}`,
      ]);
    }
  }
  return mdTable(rows);
}

export function costsTable(costs: Costs): string {
  const rows: string[][] = [['input', 'value', 'provenance', 'where it comes from']];
  for (const [k, c] of Object.entries(costs)) {
    const v = Math.abs(c.value) >= 1e4 ? si(c.value) : Number.isInteger(c.value) ? String(c.value) : c.value.toPrecision(4);
    rows.push([k, `${v} ${c.unit}`.trim(), c.provenance, c.why.replace(/\|/g, '/')]);
  }
  return mdTable(rows);
}

/** three regions at 1 B connections: cross-region feeds and what one region's loss moves */
export function regionTable(costs: Costs, overrides: Partial<CostValues>, admissionRate: number, connections = 1e9, regions = 3): string {
  const k = { ...values(costs), ...overrides };
  const rows: string[][] = [
    [
      'workload',
      'conns',
      'cross-region: mirrored topic',
      'cross-region: replica links',
      'region loss: clients moved',
      'writes/s without a leader',
      'gateways per region → needed after a loss',
      'readmit at ADMISSION_RATE (s, at least)',
    ],
  ];
  for (const name of WORKLOAD_NAMES) {
    const r = regionPlan(workload(name, connections), k, regions, admissionRate);
    rows.push([
      name,
      si(connections),
      bitsPerS(r.mirrorBytesPerS),
      bitsPerS(r.linkBytesPerS),
      si(r.regionLossClients),
      si(r.regionLossWritesPerS),
      `${si(r.gatewaysPerRegion)} → ${si(r.gatewaysPerRegionAfterLoss)}`,
      r.readmitS.toFixed(0),
    ]);
  }
  return mdTable(rows);
}
