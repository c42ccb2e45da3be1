import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distinctGateways, plan } from '../src/model.js';
import type { CostValues } from '../src/costs.js';
import { costsFrom, values } from '../src/costs.js';
import { fixturePaths, readMeasuredFiles } from '../src/bench-input.js';
import { capacityTable, plans, SCALES } from '../src/capacity-table.js';
import { WORKLOAD_NAMES, workload } from '../src/workloads.js';

/** round numbers, so every figure below can be computed by hand */
const HAND: CostValues = {
  gatewayUsPerDelivery: 5,
  gatewayUsPerLinkDeltaIn: 10,
  gatewayUsPerConnect: 100,
  gatewayUsPerResubscribe: 50,
  bytesPerIdleConn: 1000,
  kernelBytesPerConn: 0,
  bytesPerExtraSub: 0,
  ringEntryOverheadBytes: 0,
  replicaUsPerLinkDelta: 5,
  replicaUsPerOpApplied: 100,
  replicaUsPerRecordScanned: 0,
  replicaUsPerBase: 50,
  replicaUsPerColdLoad: 300,
  replicaFixedCores: 0.1,
  originUsPerWrite: 200,
  kafkaPartitionWritesPerS: 1000,
  kafkaPartitionBytesPerS: 1e6,
  kafkaPartitionsPerBroker: 100,
  kafkaBrokerBytesPerS: 1e9,
  redisOpsPerCore: 1e5,
  targetUtil: 0.5,
  memUtil: 1,
  maxConnsPerGateway: 100_000,
  processMemBytes: 1e12,
  usdPerCoreMonth: 10,
  usdPerGiBMonth: 0,
  historySize: 0,
  hotDocGateways: 1e9,
  hotDocSpread: 3,
  linkBacklog: 256,
  linkWindow: 4096,
  maxSendBufferBytes: 1 << 20,
  replication: 1,
  registryTtlMs: 3000,
  kafkaReplicationFactor: 1,
  maxReadersPerPartition: 1e9,
  bytesPerLink: 0,
  cellGateways: 1e9,
  registryResyncMs: 1000,
};

test('distinct gateways: balls into bins', () => {
  assert.equal(distinctGateways(2, 2), 1.5); // 2 · (1 − (1/2)²)
  assert.equal(distinctGateways(0, 10), 0);
  assert.equal(distinctGateways(5, 1), 1);
  assert.ok(Math.abs(distinctGateways(1, 1e6) - 1) < 1e-9);
  assert.ok(Math.abs(distinctGateways(1e7, 100) - 100) < 1e-9);
});

test('the model, worked by hand: 1 M connections, 1000 docs × 1000 subscribers, 1 write/s each', () => {
  const p = plan(
    {
      name: 'hand',
      description: '',
      connections: 1_000_000,
      classes: [{ name: 'd', docs: 1000, subscribersPerDoc: 1000, writesPerDocPerS: 1, deltaBytes: 100, stateBytes: 0 }],
    },
    HAND,
  );
  assert.equal(p.subscriptions, 1e6);
  assert.equal(p.writesPerS, 1000);
  assert.equal(p.deliveriesPerS, 1e6);
  // 10 gateways by connections; then CPU: (1e6 deliveries × 5 µs + 10 000 link deltas × 10 µs) = 5.1 cores
  // at 50 % → 11; with 11 gateways: 5.11 cores → still 11
  assert.equal(p.gateways.processes, 11);
  assert.equal(p.gateways.bound, 'cpu');
  assert.ok(Math.abs(p.linkDeltasPerS - 11_000) < 1e-6);
  assert.ok(Math.abs(p.gateways.coresBusyEach - 5.11 / 11) < 1e-9);
  assert.ok(Math.abs(p.gateways.memBytesEach - 1e9 / 11) < 1e-3);
  // one cell, one reader per partition; replicas: 1000 docs × (11 link deltas × 5 µs + 1 apply × 100 µs) = 0.155 cores
  assert.equal(p.cells, 1);
  assert.equal(p.secondTier, false);
  assert.equal(p.replicas.processes, 1);
  assert.equal(p.replicas.bound, 'replication');
  assert.ok(Math.abs(p.replicas.coresBusyEach - 0.255) < 1e-9);
  assert.ok(Math.abs(p.links - 11) < 1e-9);
  // origin: 1000 writes × 200 µs = 0.2 cores → 1 process
  assert.equal(p.origin.processes, 1);
  // Kafka: 1000 records × (100 + 100 B) = 200 kB/s; one partition; fetched by origin + 1 reader
  assert.equal(p.kafka.produceBytesPerS, 200_000);
  assert.equal(p.kafka.partitions, 1);
  assert.equal(p.kafka.fetchBytesPerS, 400_000);
  assert.equal(p.kafka.brokers, 1);
  // Redis: 1 heartbeat + 11 × 2 resync commands + 11 × 1 replica key / 10, per second, + 1000 checkpoints
  assert.ok(Math.abs(p.redis.opsPerS - 1024.1) < 1e-9);
  // egress: 1e6 × (100 + 60 B) at the gateways, 11 000 × (100 + 40 B) at the replicas
  assert.equal(p.network.gatewayEgressBytesPerS, 160e6);
  assert.ok(Math.abs(p.network.replicaEgressBytesPerS - 1.54e6) < 1e-3);
  // cores: 11 gateways + 1 replica + 1 origin + 1 Redis + 1 broker × 8 = 22; 22 × 10 USD
  assert.equal(p.cores, 22);
  assert.equal(p.usdPerMonth, 220);
  assert.equal(p.usdPerMillionConnsMonth, 220);
});

test('hot docs spread over HOT_DOC_SPREAD replicas, and a second tier pays past maxReadersPerPartition', () => {
  const k = { ...HAND, hotDocGateways: 8, cellGateways: 10, maxReadersPerPartition: 4 };
  const p = plan(
    { name: 'hot', description: '', connections: 10_000_000, classes: [{ name: 'hot', docs: 1, subscribersPerDoc: 1e7, writesPerDocPerS: 10, deltaBytes: 100, stateBytes: 0 }] },
    k,
  );
  // 10 M / 100 k = 100 gateways (CPU: 1e8 deliveries × 5 µs = 500 cores → 1001 gateways), cells of 10
  assert.equal(p.gateways.processes, 1001);
  assert.equal(p.cells, 101);
  assert.equal(p.classes[0].replicasPerDocPerCell, 3);
  assert.equal(p.readersPerPartition, 101);
  assert.equal(p.secondTier, true);
  assert.ok(p.rootReplicas >= 1);
});

test('the capacity table comes from the checked-in bench output: three workloads at 1 M, 100 M, 1 B', () => {
  const costs = costsFrom(readMeasuredFiles(fixturePaths()));
  const ps = plans(costs);
  assert.equal(ps.length, WORKLOAD_NAMES.length * SCALES.length);
  for (const p of ps) {
    for (const v of [p.gateways.processes, p.replicas.processes, p.cores, p.usdPerMillionConnsMonth, p.redis.opsPerS, p.links]) {
      assert.ok(Number.isFinite(v) && v > 0, `${p.workload} ${p.connections}: ${v}`);
    }
  }
  const table = capacityTable(ps);
  for (const name of WORKLOAD_NAMES) assert.match(table, new RegExp(`\\| ${name} \\| 1\\.00 M \\|`));
  assert.match(table, /\| chat \| 1\.00 G \|/);
  // the measured gateway cost flows through: chat at 1 M = 250 k deliveries/s × 4.38 µs = 1.095 cores of deliveries
  const chat = ps.find((p) => p.workload === 'chat' && p.connections === 1e6)!;
  assert.equal(chat.deliveriesPerS, 250_000);
  assert.equal(values(costs).gatewayUsPerDelivery, 4.38);
  const linkIn = chat.linkDeltasPerS * values(costs).gatewayUsPerLinkDeltaIn;
  assert.ok(Math.abs(chat.gateways.coresBusyEach * chat.gateways.processes - (250_000 * 4.38 + linkIn) / 1e6) < 1e-9);
  assert.equal(workload('dashboards', 1e9).classes[0].docs, 100_000);
});

test('multi-region by hand: a mirrored topic carries every record to each other region, links only watched docs', async () => {
  const { regionPlan } = await import('../src/multi-region.js');
  const w = {
    name: 'r',
    description: '',
    connections: 3_000_000,
    classes: [
      { name: 'shared', docs: 1000, subscribersPerDoc: 3000, writesPerDocPerS: 1, deltaBytes: 100, stateBytes: 0 },
      { name: 'own', docs: 3_000_000, subscribersPerDoc: 1, writesPerDocPerS: 0.01, deltaBytes: 100, stateBytes: 0 },
    ],
  };
  const r = regionPlan(w, HAND, 3, 500);
  // records: (1000 × 1 + 3e6 × 0.01) × (100 + 100 B) × 2 remote regions
  assert.equal(r.mirrorBytesPerS, 31_000 * 200 * 2);
  // links: only the shared docs (watched everywhere): 1000 × (100 + 40 B) × 2 × (1 − (2/3)^3000 ≈ 1)
  assert.ok(Math.abs(r.linkBytesPerS - 1000 * 140 * 2) < 1e-6);
  assert.equal(r.regionLossClients, 1e6);
  assert.ok(Math.abs(r.regionLossWritesPerS - 31_000 / 3) < 1e-9);
  assert.ok(r.gatewaysPerRegionAfterLoss > r.gatewaysPerRegion);
});
