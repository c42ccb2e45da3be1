import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distinctGateways, placedGateways, plan, processHistory } from '../src/model.js';
import type { CostValues } from '../src/costs.js';
import { costsFrom, values } from '../src/costs.js';
import { fixturePaths, readMeasuredFiles } from '../src/bench-input.js';
import { affinityTable, capacityTable, plans, SCALES } from '../src/capacity-table.js';
import { WORKLOAD_NAMES, workload } from '../src/workloads.js';

/** round numbers, so every figure below can be computed by hand */
const HAND: CostValues = {
  gatewayUsPerDelivery: 5,
  gatewayUsPerLinkDeltaIn: 10,
  gatewayUsPerConnect: 100,
  gatewayUsPerResubscribe: 50,
  gatewayUsPerReject: 25,
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
  // no storm reserve here (the storm test below has one): gateways planned to stormUtil flat
  gatewayLossFraction: 0,
  stormUtil: 0.5,
  admissionRate: 0,
  admissionBurst: 0,
  memUtil: 1,
  maxConnsPerGateway: 100_000,
  processMemBytes: 1e12,
  usdPerCoreMonth: 10,
  usdPerGiBMonth: 0,
  historySize: 0,
  historyBytes: 1 << 20,
  historyBudgetBytes: 1e15,
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
  affinity: 0,
};

test('distinct gateways: balls into bins', () => {
  assert.equal(distinctGateways(2, 2), 1.5); // 2 · (1 − (1/2)²)
  assert.equal(distinctGateways(0, 10), 0);
  assert.equal(distinctGateways(5, 1), 1);
  assert.ok(Math.abs(distinctGateways(1, 1e6) - 1) < 1e-9);
  assert.ok(Math.abs(distinctGateways(1e7, 100) - 100) < 1e-9);
});

test('affinity placement: a = 0 is balls into bins exactly, a = 1 one gateway, by hand in between, never more with more a', () => {
  for (const [m, g] of [[2, 2], [20, 7], [20, 839], [1000, 1e5], [1, 1e6]]) {
    assert.equal(placedGateways(m, g, 0), distinctGateways(m, g));
    assert.equal(placedGateways(m, g, 1), 1);
  }
  // m = 2, g = 2, a = 0.5: home hit w.p. 0.5 + 0.25 each → 1 − 0.25²; the other w.p. 0.25 → 1 − 0.75²
  assert.ok(Math.abs(placedGateways(2, 2, 0.5) - (1 - 0.25 ** 2 + (1 - 0.75 ** 2))) < 1e-12);
  // one subscriber is on one gateway whatever its key
  assert.ok(Math.abs(placedGateways(1, 839, 0.5) - 1) < 1e-12);
  assert.equal(placedGateways(0, 839, 0.5), 0);
  // m = 20, a = 0.5 on 839: the formula, and ≈ one home gateway + the random half on the other g − 1
  const g = 839;
  const v = placedGateways(20, g, 0.5);
  assert.ok(Math.abs(v - (1 - (0.5 - 0.5 / g) ** 20 + (g - 1) * (1 - (1 - 0.5 / g) ** 20))) < 1e-9);
  assert.ok(Math.abs(v - (1 + (g - 1) * (1 - (1 - 0.5 / g) ** 20))) < 1e-5);
  for (const [m, g2] of [[1, 100], [20, 7], [20, 839], [1000, 1e5]]) {
    let prev = Infinity;
    for (let a = 0; a <= 1.0001; a += 0.05) {
      const v = placedGateways(m, g2, Math.min(1, a));
      assert.ok(v <= prev + 1e-12, `m ${m} g ${g2} a ${a}: ${v} > ${prev}`);
      prev = v;
    }
  }
});

test('affinity in the plan (chat at 100 M, checked-in inputs): a = 0 is today\'s table, a = 1 one gateway per room, link-delta CPU falls with a', () => {
  const costs = costsFrom(readMeasuredFiles(fixturePaths()));
  const k = values(costs);
  assert.equal(k.affinity, 0); // the default is today's random placement
  const w = workload('chat', 1e8);
  const room = w.classes[0];
  const at = (a: number) => plan(w, { ...k, affinity: a });
  const today = at(0);
  const G = today.gateways.processes;
  // docs/scale.md's table, and the old placement's arithmetic exactly
  assert.equal(G, 839);
  assert.equal(today.cores, 3387);
  assert.equal(today.classes[0].gatewaysPerDoc, distinctGateways(20, G));
  assert.equal(today.linkDeltasPerS, room.docs * distinctGateways(20, G) * room.writesPerDocPerS);
  const linkCores = (p: ReturnType<typeof plan>) => (p.linkDeltasPerS * k.gatewayUsPerLinkDeltaIn) / 1e6;
  assert.ok(Math.abs(linkCores(today) - 217) < 1, `${linkCores(today)}`); // docs/scale.md: 217 of 326 gateway cores
  const all = at(1);
  assert.equal(all.classes[0].gatewaysPerDoc, 1);
  assert.equal(all.classes[0].cellsPerDoc, 1);
  assert.equal(all.linkDeltasPerS, all.writesPerS);
  let prev = today;
  for (const a of [0.25, 0.5, 0.75, 0.9, 1]) {
    const p = at(a);
    assert.ok(linkCores(p) < linkCores(prev), `a ${a}: ${linkCores(p)} ≥ ${linkCores(prev)}`);
    assert.ok(p.classes[0].gatewaysPerDoc < prev.classes[0].gatewaysPerDoc, `a ${a}`);
    assert.ok(p.gateways.processes <= prev.gateways.processes, `a ${a}`);
    assert.ok(p.links <= prev.links, `a ${a}`);
    prev = p;
  }
  assert.ok(linkCores(at(0.9)) < 40, `${linkCores(at(0.9))}`);
  assert.throws(() => plan(w, { ...k, affinity: 1.5 }), /affinity must be a fraction between 0 and 1/);
  const table = affinityTable(costs);
  for (const a of ['0', '0.5', '0.9']) assert.match(table, new RegExp(`\\| chat \\| 100 M \\| ${a.replace('.', '\\.')} \\|`));
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

test('HISTORY_BUDGET_BYTES caps a process\'s rings: states in full, rings to the budget, and how far back they still reach', () => {
  const k = { ...HAND, historySize: 1024, historyBudgetBytes: 1e8, maxConnsPerGateway: 100_000 };
  // 100 k connections on one gateway, each with its own doc: 0.01 writes/s, 100 B deltas, 1000 B state
  const w = {
    name: 'own',
    description: '',
    connections: 100_000,
    classes: [{ name: 'own', docs: 100_000, subscribersPerDoc: 1, writesPerDocPerS: 0.01, deltaBytes: 100, stateBytes: 1000 }],
  };
  const p = plan(w, k);
  assert.equal(p.gateways.processes, 1);
  // a delta is charged 3 × 100 + 0 B here (the code's deltaCost with this overhead); a ring fills to
  // 0.01 × 3600 = 36 deltas in a session: 10 800 B per doc, 1.08 GB over 100 k docs, cut to the 100 MB budget
  assert.equal(p.gateways.historyBytesEach, 1e8);
  // 100 k × 1000 B per connection + 100 k states × 1000 B + the budget
  assert.equal(p.gateways.memBytesEach, 1e8 + 1e8 + 1e8);
  // the budget keeps the deltas back to each ring's last gap over H: 100 k × (e^{0.01 H} − 1) × 300 B = 100 MB
  const h = Math.log(1 + 1e8 / (1e5 * 300)) / 0.01;
  assert.ok(Math.abs(p.gateways.historyHorizonS - h) < 1e-6, `${p.gateways.historyHorizonS} vs ${h}`);
  assert.ok(Math.abs(p.classes[0].gatewayHistoryS - h) < 1e-6);
  // the replica holds the same docs under its own budget
  assert.equal(p.replicas.processes, 1);
  assert.equal(p.replicas.memBytesEach, 1e8 + 1e8);
  // a budget the rings fit in changes nothing: HISTORY_SIZE / w bounds the reach
  const roomy = plan(w, { ...k, historyBudgetBytes: 1e10 });
  assert.equal(roomy.gateways.historyBytesEach, 1e5 * 36 * 300);
  assert.equal(roomy.gateways.historyHorizonS, Infinity);
  assert.equal(roomy.classes[0].gatewayHistoryS, 1024 / 0.01);
  // HISTORY_BYTES bounds one ring: 1000 B keeps 3 deltas of 300 B
  assert.equal(plan(w, { ...k, historyBudgetBytes: 1e10, historyBytes: 1000 }).gateways.historyBytesEach, 1e5 * 3 * 300);
  assert.equal(processHistory(w.classes, [0], k).bytes, 0);
});

test('gateways are planned so a 10 % loss\'s reconnect storm fits: steady / (1 − f) + admitted + refused under stormUtil', () => {
  // with no reserve, 5.1 cores at 80 % would be 7 gateways, and a survivor of a 10 % loss would
  // take 5.1 / 6.3 + 100 × 100 µs + (1/9 × 142 857 clients) × 25 µs = 1.22 cores
  const k = { ...HAND, targetUtil: 0.8, maxConnsPerGateway: 1e6, gatewayLossFraction: 0.1, stormUtil: 0.9, admissionRate: 100, admissionBurst: 0 };
  const w = {
    name: 'hand',
    description: '',
    connections: 1_000_000,
    classes: [{ name: 'd', docs: 1000, subscribersPerDoc: 1000, writesPerDocPerS: 1, deltaBytes: 100, stateBytes: 0 }],
  };
  const p = plan(w, k);
  // admitted: 100 clients × 100 µs (one subscription each) = 0.01 cores; refused: 1e6 × 1/9 × 25 µs = 2.78 cores over the survivors
  // G = 10: (5.1 / 0.9 + 2.78) / (0.9 − 0.01) = 9.49 → 10
  assert.equal(p.gateways.processes, 10);
  assert.equal(p.gateways.bound, 'cpu');
  const peak = 5.1 / 10 / 0.9 + 0.01 + ((1e6 / 10) * (1 / 9) * 25) / 1e6;
  assert.ok(Math.abs(p.gateways.stormPeakEach - peak) < 1e-9, `${p.gateways.stormPeakEach} vs ${peak}`);
  assert.ok(p.gateways.stormPeakEach <= 0.9);
  // an admission no core could take is an error, not a plan
  assert.throws(() => plan(w, { ...k, admissionRate: 10_000 }), /ADMISSION_RATE \+ ADMISSION_BURST/);
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

test('default settings: no workload is memory-bound on gateways, every gateway plan survives its storm, the tiers add up', () => {
  const costs = costsFrom(readMeasuredFiles(fixturePaths()));
  const k = values(costs);
  for (const p of plans(costs)) {
    const at = `${p.workload} ${p.connections}`;
    assert.notEqual(p.gateways.bound, 'memory', at);
    assert.ok(p.gateways.stormPeakEach <= k.stormUtil + 1e-9, `${at}: storm peak ${p.gateways.stormPeakEach}`);
    assert.ok(p.gateways.historyBytesEach <= k.historyBudgetBytes, at);
    const t = p.coresByTier;
    assert.equal(t.gateways + t.replicas + t.rootReplicas + t.origin + t.redis + t.kafkaBrokers, p.cores, at);
  }
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
