/**
 * The capacity model: given per-process costs (costs.ts) and a workload (workloads.ts), how many
 * processes and cores each tier needs, their memory and network, the links, the Kafka and Redis
 * load, the fan-out tree's shape and the cost per million connections.
 *
 * Steady state only: averages, no queues. What averages hide (storms, losses, hot docs appearing)
 * is the simulator's job (sim.ts), which uses the same costs. One storm is planned for here:
 * gateways get the CPU to survive losing gatewayLossFraction of them (their clients' reconnects
 * through admission control), checked by the simulator's gateway-loss scenario.
 *
 * Memory as the code bounds it: every held doc's state in full, its history ring up to
 * HISTORY_SIZE and HISTORY_BYTES (as deltaCost charges a delta), and all rings of one process
 * together at most HISTORY_BUDGET_BYTES (processHistory).
 *
 * Placement: a load balancer puts connections on gateways uniformly at random, so a doc with m
 * subscribers lands on G·(1 − (1 − 1/G)^m) distinct gateways (balls into bins). That number drives
 * the links, the link deltas and the gateways' per-doc memory. Affinity (a what-if, `affinity` in
 * costs.ts, default 0): a fraction a of a doc's subscribers give the doc's routing key and land on
 * its one home gateway (placedGateways); a = 0 is the random placement above, exactly.
 *
 * Tree: gateways are grouped into cells of `cellGateways`; each cell has its own replica set
 * (REPLICATION replicas per partition, a doc watched by more than HOT_DOC_GATEWAYS of the cell's
 * gateways spread over HOT_DOC_SPREAD of them). Every cell replica tails its partitions, so a
 * partition has cells × REPLICATION readers; past `maxReadersPerPartition` a root replica tier
 * reads Kafka once and feeds the cell replicas over links (the second tier pays).
 */
import type { CostValues } from './costs.js';
import type { DocClass, Workload } from './workloads.js';

export interface ClassPlan {
  name: string;
  docs: number;
  subscribersPerDoc: number;
  /** distinct gateways holding one doc of the class */
  gatewaysPerDoc: number;
  /** cells holding one doc */
  cellsPerDoc: number;
  /** replicas one doc is spread over inside one cell */
  replicasPerDocPerCell: number;
  /** the spread demanded by link CPU alone (can exceed HOT_DOC_SPREAD) */
  replicasNeededForLinks: number;
  /** how far back (s) a gateway's ring of such a doc reaches: HISTORY_SIZE / HISTORY_BYTES over w, and the process budget's horizon */
  gatewayHistoryS: number;
  deliveriesPerS: number;
  linkDeltasPerS: number;
  writesPerS: number;
}

export interface Plan {
  workload: string;
  connections: number;
  subscriptions: number;
  writesPerS: number;
  deliveriesPerS: number;
  linkDeltasPerS: number;
  gateways: {
    processes: number;
    /** cpu: steady load plus the reserve for the reconnect storm of a gatewayLossFraction loss (stormUtil) */
    bound: 'cpu' | 'memory' | 'connections';
    coresBusyEach: number;
    /** a survivor's load in the worst second of that storm, as planned */
    stormPeakEach: number;
    memBytesEach: number;
    /** of memBytesEach: the history rings (at most HISTORY_BUDGET_BYTES) */
    historyBytesEach: number;
    /** how far back the rings reach under the budget, s (Infinity: the budget does not trim them) */
    historyHorizonS: number;
    connsEach: number;
    docsEach: number;
  };
  cells: number;
  replicas: { processes: number; bound: 'cpu' | 'memory' | 'replication'; coresBusyEach: number; memBytesEach: number; linksEach: number };
  /** the root tier (0 when the second tier does not pay) */
  rootReplicas: number;
  readersPerPartition: number;
  secondTier: boolean;
  origin: { processes: number };
  links: number;
  kafka: { partitions: number; brokers: number; produceBytesPerS: number; fetchBytesPerS: number };
  redis: { opsPerS: number; cores: number };
  network: { gatewayEgressBytesPerS: number; replicaEgressBytesPerS: number; kafkaInBytesPerS: number };
  cores: number;
  /** where the cores go */
  coresByTier: { gateways: number; replicas: number; rootReplicas: number; origin: number; redis: number; kafkaBrokers: number };
  memBytes: number;
  usdPerMonth: number;
  usdPerMillionConnsMonth: number;
  classes: ClassPlan[];
}

/** expected distinct bins hit by m balls thrown uniformly into g bins */
export function distinctGateways(m: number, g: number): number {
  if (m <= 0) return 0;
  if (g <= 1) return Math.min(1, m) * Math.max(g, 1);
  // g·(1 − (1 − 1/g)^m), in a form that stays exact for large g and m
  return g * -Math.expm1(m * Math.log1p(-1 / g));
}

/**
 * Expected distinct gateways (of g) holding a doc of m subscribers when each subscriber, with
 * probability a, gives the doc's affinity key and lands on the key's home gateway, and otherwise
 * lands uniformly at random. A subscriber then hits the home gateway with probability
 * a + (1 − a)/g and each other gateway with (1 − a)/g, so the expectation is
 *   [1 − (1 − a − (1 − a)/g)^m] + (g − 1)·[1 − (1 − (1 − a)/g)^m]
 * which for a·m ≫ 1 is 1 + distinctGateways((1 − a)·m, g) less the random ones' overlap with the
 * home gateway. Exactly distinctGateways(m, g) at a = 0 (that branch keeps today's figures
 * bit-identical), exactly 1 at a = 1, and non-increasing in a. The same holds for cells (the home
 * gateway is in one cell). Averages only: nothing here bounds one key's load on its home gateway,
 * so it means something for docs whose keyed members are a small share of a gateway (rooms,
 * teams), not for a hot doc.
 */
export function placedGateways(m: number, g: number, a: number): number {
  if (a <= 0 || g <= 1) return distinctGateways(m, g);
  if (m <= 0) return 0;
  const hit = (p: number) => -Math.expm1(m * Math.log1p(-Math.min(1, p))); // 1 − (1 − p)^m
  const other = (1 - Math.min(1, a)) / g;
  return hit(Math.min(1, a) + other) + (g - 1) * hit(other);
}

/** JSON delta envelope ({"type":"delta","doc":…,"seq":…,"prevSeq":…,"patch":…}) around the patch */
export const FRAME_BYTES = 60;
/** length prefix + LinkFrame fields around the patch */
export const LINK_FRAME_BYTES = 40;
/** Op record overhead in Kafka: key, idempotency key, timestamp */
export const RECORD_OVERHEAD_BYTES = 100;
/** how long a doc stays held (and its history ring keeps filling): a session, assumed 1 h */
export const SESSION_S = 3600;
/** a broker host: 8 cores, 64 GiB (sized with kafkaBrokerBytesPerS) */
const BROKER_CORES = 8;
const BROKER_MEM = 64 * 2 ** 30;
const ORIGIN_MEM = 2 * 2 ** 30;

/** bytes the code charges one retained delta of the class (fanout/src/history-ring.ts deltaCost: 3 × patch + 256) */
export function ringEntryBytes(x: DocClass, k: CostValues): number {
  return 3 * x.deltaBytes + k.ringEntryOverheadBytes;
}

/** deltas one ring keeps at most: HISTORY_SIZE, and HISTORY_BYTES as charged (a delta over it is not kept) */
export function ringCapEntries(x: DocClass, k: CostValues): number {
  const e = ringEntryBytes(x, k);
  return e > k.historyBytes ? 0 : Math.min(k.historySize, Math.floor(k.historyBytes / e));
}

/** bytes one doc's ring holds when filled over a session, before the process's HISTORY_BUDGET_BYTES */
export function ringBytes(x: DocClass, k: CostValues): number {
  return Math.min(ringCapEntries(x, k), x.writesPerDocPerS * SESSION_S) * ringEntryBytes(x, k);
}

/**
 * The history rings of one process, `held[i]` docs of class i each: what they take under
 * HISTORY_BUDGET_BYTES, and how far back (seconds) they still reach when the budget trims them.
 *
 * The budget drops the oldest deltas of the least recently pushed rings, so a ring keeps every
 * delta back to the last gap between its writes longer than some horizon H, and a ring not written
 * for H is empty. With Poisson writes at w, a doc was written within H with probability 1 − e^{−wH},
 * and its ring then holds the deltas since its last gap > H: e^{wH} on average (capped by the
 * ring's own bounds). H is where those bytes fill the budget. A resume after an outage τ ≤ H finds
 * every delta it missed (they were all pushed within τ); past H it gets a snapshot.
 */
export function processHistory(classes: DocClass[], held: number[], k: CostValues): { bytes: number; horizonS: number } {
  const full = classes.reduce((s, x, i) => s + held[i] * ringBytes(x, k), 0);
  if (full <= k.historyBudgetBytes) return { bytes: full, horizonS: Infinity };
  const kept = (h: number) =>
    classes.reduce((s, x, i) => {
      const a = x.writesPerDocPerS * h;
      const entries = Math.min(ringCapEntries(x, k), x.writesPerDocPerS * SESSION_S, Math.exp(Math.min(a, 700)));
      return s + held[i] * -Math.expm1(-a) * entries * ringEntryBytes(x, k);
    }, 0);
  let lo = 0;
  let hi = SESSION_S;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (kept(mid) > k.historyBudgetBytes) hi = mid;
    else lo = mid;
  }
  return { bytes: k.historyBudgetBytes, horizonS: lo };
}

/** gateway CPU-µs to admit one client of the workload: upgrade, auth, first subscription, the rest as resubscriptions */
export function connectUsPerClient(w: Workload, k: CostValues): number {
  const subsPerConn = w.classes.reduce((s, x) => s + x.docs * x.subscribersPerDoc, 0) / w.connections;
  return k.gatewayUsPerConnect + Math.max(0, subsPerConn - 1) * k.gatewayUsPerResubscribe;
}

export function plan(w: Workload, k: CostValues): Plan {
  const C = w.connections;
  const util = k.targetUtil;
  const budget = util - k.replicaFixedCores; // what a replica has for per-op work
  const sum = (f: (x: DocClass) => number) => w.classes.reduce((s, x) => s + f(x), 0);
  const subscriptions = sum((x) => x.docs * x.subscribersPerDoc);
  const writesPerS = sum((x) => x.docs * x.writesPerDocPerS);
  const deliveriesPerS = sum((x) => x.docs * x.subscribersPerDoc * x.writesPerDocPerS);
  const aff = k.affinity;
  if (!(aff >= 0 && aff <= 1)) throw new Error(`affinity must be a fraction between 0 and 1, got ${aff}`);
  const placed = (x: DocClass, bins: number) => placedGateways(x.subscribersPerDoc, bins, aff);

  // Gateways: the count feeds back into docs per gateway (memory) and link deltas (CPU), so
  // iterate to the fixed point; both grow slower than G, so it converges in a few rounds.
  // CPU is planned for the storm, not a flat utilization: when gatewayLossFraction f of the
  // gateways die, each survivor carries its steady load × 1/(1 − f), admits ADMISSION_RATE +
  // ADMISSION_BURST reconnects in the storm's first second (connect + resubscribe each) and refuses
  // every other waiting client once a second (a 503; the SDK honours Retry-After: 1 s), and all
  // of it must fit under stormUtil. The refusals grow with connections per gateway, so this is
  // what caps a gateway's connections when its steady load is light.
  const f = k.gatewayLossFraction;
  const admittedUs = ((k.admissionRate + k.admissionBurst) * connectUsPerClient(w, k)) / 1e6;
  const spare = k.stormUtil - admittedUs;
  if (!(spare > 0)) {
    throw new Error(`ADMISSION_RATE + ADMISSION_BURST (${k.admissionRate + k.admissionBurst}) reconnects take ${admittedUs.toFixed(2)} cores of a gateway: over stormUtil ${k.stormUtil}`);
  }
  const stormDemand = (cpu: number) => cpu / (1 - f) + ((f / (1 - f)) * C * k.gatewayUsPerReject) / 1e6;
  let G = Math.max(1, Math.ceil(C / k.maxConnsPerGateway));
  let bound: Plan['gateways']['bound'] = 'connections';
  let pairs = 0;
  let linkDeltasPerS = 0;
  let gwMem = 0;
  let gwCpu = 0;
  let gwHistory = { bytes: 0, horizonS: Infinity };
  for (let i = 0; i < 100; i++) {
    const held = w.classes.map((x) => x.docs * placed(x, G));
    pairs = held.reduce((s, n) => s + n, 0);
    linkDeltasPerS = sum((x) => x.docs * placed(x, G) * x.writesPerDocPerS);
    // states in full (the budget never drops a mirror); rings up to HISTORY_BUDGET_BYTES per gateway
    const stateMem = sum((x) => x.docs * placed(x, G) * x.stateBytes);
    gwHistory = processHistory(w.classes, held.map((n) => n / G), k);
    gwMem = C * (k.bytesPerIdleConn + k.kernelBytesPerConn) + (subscriptions - C) * k.bytesPerExtraSub + stateMem + G * gwHistory.bytes;
    gwCpu = (deliveriesPerS * k.gatewayUsPerDelivery + linkDeltasPerS * k.gatewayUsPerLinkDeltaIn) / 1e6;
    const byConns = Math.ceil(C / k.maxConnsPerGateway);
    const byCpu = Math.ceil(stormDemand(gwCpu) / spare);
    const byMem = Math.ceil(gwMem / (k.processMemBytes * k.memUtil));
    const next = Math.max(1, byConns, byCpu, byMem);
    bound = next === byCpu ? 'cpu' : next === byMem ? 'memory' : 'connections';
    if (next <= G) break;
    G = next;
  }

  // Cells and the replica spread per doc class.
  const cells = Math.max(1, Math.ceil(G / k.cellGateways));
  const readersPerPartition = cells * k.replication;
  const secondTier = readersPerPartition > k.maxReadersPerPartition;
  const classes: ClassPlan[] = [];
  let cellUs = 0;
  let cellStateMem = 0;
  let cellRingMem = 0;
  let copiesTotal = 0; // Σ docs × cell replicas holding each
  let copyDeltasPerS = 0; // Σ docs × copies × writes: what a root tier would send to cell replicas
  for (const x of w.classes) {
    const gpd = placed(x, G);
    const cpd = Math.max(1, placed(x, cells));
    const gwInCell = gpd / cpd;
    const forLinks = Math.max(1, Math.ceil((gwInCell * x.writesPerDocPerS * k.replicaUsPerLinkDelta) / 1e6 / budget));
    const spread = gwInCell > k.hotDocGateways ? Math.max(k.hotDocSpread, forLinks) : forLinks;
    const perCell = Math.max(1, Math.min(spread, Math.ceil(gwInCell)));
    const copies = cpd * perCell;
    classes.push({
      name: x.name,
      docs: x.docs,
      subscribersPerDoc: x.subscribersPerDoc,
      gatewaysPerDoc: gpd,
      cellsPerDoc: cpd,
      replicasPerDocPerCell: perCell,
      replicasNeededForLinks: forLinks,
      gatewayHistoryS: Math.min(x.writesPerDocPerS > 0 ? ringCapEntries(x, k) / x.writesPerDocPerS : Infinity, gwHistory.horizonS),
      deliveriesPerS: x.docs * x.subscribersPerDoc * x.writesPerDocPerS,
      linkDeltasPerS: x.docs * gpd * x.writesPerDocPerS,
      writesPerS: x.docs * x.writesPerDocPerS,
    });
    cellUs += x.docs * (gpd * x.writesPerDocPerS * k.replicaUsPerLinkDelta + copies * x.writesPerDocPerS * k.replicaUsPerOpApplied);
    cellStateMem += x.docs * copies * x.stateBytes;
    cellRingMem += x.docs * copies * ringBytes(x, k);
    copiesTotal += x.docs * copies;
    copyDeltasPerS += x.docs * copies * x.writesPerDocPerS;
  }
  // Without a root tier every cell replica tails its partitions (every record); with one, the
  // cell replicas get only their docs' deltas and the root tier tails each partition REPLICATION times.
  let rootUs = 0;
  let rootStateMem = 0;
  let rootRingMem = 0;
  if (!secondTier) {
    cellUs += writesPerS * readersPerPartition * k.replicaUsPerRecordScanned;
  } else {
    rootUs =
      writesPerS * k.replication * (k.replicaUsPerRecordScanned + k.replicaUsPerOpApplied) + copyDeltasPerS * k.replicaUsPerLinkDelta;
    rootStateMem = sum((x) => x.docs * k.replication * x.stateBytes);
    rootRingMem = sum((x) => x.docs * k.replication * ringBytes(x, k));
  }
  let R = Math.max(readersPerPartition, Math.ceil(cellUs / 1e6 / budget));
  let rBound: Plan['replicas']['bound'] = R === readersPerPartition ? 'replication' : 'cpu';
  const gatewayLinks = () => G * distinctGateways(pairs / G, R / cells); // each gateway links to its cell's replicas holding its docs
  let links = gatewayLinks();
  // a replica's rings, like a gateway's, stop at HISTORY_BUDGET_BYTES (an even share of the cell's docs each)
  const cellMem = (r: number) => cellStateMem + Math.min(cellRingMem, r * k.historyBudgetBytes) + links * k.bytesPerLink;
  for (let i = 0; i < 100; i++) {
    links = gatewayLinks();
    const byMem = Math.ceil(cellMem(R) / (k.processMemBytes * k.memUtil));
    if (byMem <= R) break;
    R = byMem;
    rBound = 'memory';
  }
  let rootR = 0;
  if (secondTier) {
    rootR = Math.max(k.replication, Math.ceil(rootUs / 1e6 / budget));
    const rootLinks = R * distinctGateways(copiesTotal / R, rootR);
    links += rootLinks;
    const rootMem = (r: number) => rootStateMem + Math.min(rootRingMem, r * k.historyBudgetBytes) + rootLinks * k.bytesPerLink;
    for (let i = 0; i < 100; i++) {
      const byMem = Math.ceil(rootMem(rootR) / (k.processMemBytes * k.memUtil));
      if (byMem <= rootR) break;
      rootR = byMem;
    }
  }
  const replicaMem = cellMem(R);

  const originProcs = Math.max(1, Math.ceil((writesPerS * k.originUsPerWrite) / 1e6 / util));
  const produceBytesPerS = sum((x) => x.docs * x.writesPerDocPerS * (x.deltaBytes + RECORD_OVERHEAD_BYTES));
  const partitions = Math.max(1, Math.ceil(writesPerS / k.kafkaPartitionWritesPerS), Math.ceil(produceBytesPerS / k.kafkaPartitionBytesPerS));
  // fetches: origin's materializer + every reader of each partition
  const fetchBytesPerS = produceBytesPerS * (1 + (secondTier ? k.replication : readersPerPartition));
  const brokerBytes = produceBytesPerS * k.kafkaReplicationFactor + fetchBytesPerS;
  const brokers = Math.max(k.kafkaReplicationFactor, Math.ceil(partitions / k.kafkaPartitionsPerBroker), Math.ceil(brokerBytes / k.kafkaBrokerBytesPerS));

  // Redis: registry heartbeats (every replica, ttl/3), each gateway's resync (an index read and
  // one MGET of every replica key in its cell; a key read counted as 1/10 of a command), and the
  // snapshot store: a dirty doc is checkpointed at most every CHECKPOINT_INTERVAL_MS (200 ms).
  const hb = k.registryTtlMs / 3 / 1000;
  const resync = k.registryResyncMs / 1000;
  const allReplicas = R + rootR;
  const registryOps = allReplicas / hb + (G * 2) / resync + (G * (R / cells)) / resync / 10;
  const checkpointOps = sum((x) => x.docs * Math.min(x.writesPerDocPerS, 5));
  const redisOps = registryOps + checkpointOps;
  const redisCores = redisOps / k.redisOpsPerCore;

  const gatewayEgress = sum((x) => x.docs * x.subscribersPerDoc * x.writesPerDocPerS * (x.deltaBytes + FRAME_BYTES));
  const replicaEgress = sum((x) => x.docs * placed(x, G) * x.writesPerDocPerS * (x.deltaBytes + LINK_FRAME_BYTES));
  const coresByTier = { gateways: G, replicas: R, rootReplicas: rootR, origin: originProcs, redis: Math.ceil(redisCores), kafkaBrokers: brokers * BROKER_CORES };
  const cores = G + allReplicas + originProcs + Math.ceil(redisCores) + brokers * BROKER_CORES;
  const memBytes = (G + allReplicas) * k.processMemBytes + originProcs * ORIGIN_MEM + brokers * BROKER_MEM;
  const usd = cores * k.usdPerCoreMonth + (memBytes / 2 ** 30) * k.usdPerGiBMonth;
  return {
    workload: w.name,
    connections: C,
    subscriptions,
    writesPerS,
    deliveriesPerS,
    linkDeltasPerS,
    gateways: {
      processes: G,
      bound,
      coresBusyEach: gwCpu / G,
      stormPeakEach: (stormDemand(gwCpu) / G) + admittedUs,
      memBytesEach: gwMem / G,
      historyBytesEach: gwHistory.bytes,
      historyHorizonS: gwHistory.horizonS,
      connsEach: C / G,
      docsEach: pairs / G,
    },
    cells,
    replicas: { processes: R, bound: rBound, coresBusyEach: cellUs / 1e6 / R + k.replicaFixedCores, memBytesEach: replicaMem / R, linksEach: links / R },
    rootReplicas: rootR,
    readersPerPartition,
    secondTier,
    origin: { processes: originProcs },
    links,
    kafka: { partitions, brokers, produceBytesPerS, fetchBytesPerS },
    redis: { opsPerS: redisOps, cores: redisCores },
    network: { gatewayEgressBytesPerS: gatewayEgress, replicaEgressBytesPerS: replicaEgress, kafkaInBytesPerS: produceBytesPerS },
    cores,
    coresByTier,
    memBytes,
    usdPerMonth: usd,
    usdPerMillionConnsMonth: usd / (C / 1e6),
    classes,
  };
}
