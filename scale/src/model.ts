/**
 * The capacity model: given per-process costs (costs.ts) and a workload (workloads.ts), how many
 * processes and cores each tier needs, their memory and network, the links, the Kafka and Redis
 * load, the fan-out tree's shape and the cost per million connections.
 *
 * Steady state only: averages, no queues. What averages hide (storms, losses, hot docs appearing)
 * is the simulator's job (sim.ts), which uses the same costs.
 *
 * Placement: a load balancer puts connections on gateways uniformly at random, so a doc with m
 * subscribers lands on G·(1 − (1 − 1/G)^m) distinct gateways (balls into bins). That number drives
 * the links, the link deltas and the gateways' per-doc memory.
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
  gateways: { processes: number; bound: 'cpu' | 'memory' | 'connections'; coresBusyEach: number; memBytesEach: number; connsEach: number; docsEach: number };
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

/** bytes a doc holds in a gateway or replica: its state plus the history ring as filled in a session */
export function docBytes(x: DocClass, k: CostValues): number {
  return x.stateBytes + Math.min(k.historySize, x.writesPerDocPerS * SESSION_S) * (x.deltaBytes + k.ringEntryOverheadBytes);
}

export function plan(w: Workload, k: CostValues): Plan {
  const C = w.connections;
  const util = k.targetUtil;
  const budget = util - k.replicaFixedCores; // what a replica has for per-op work
  const sum = (f: (x: DocClass) => number) => w.classes.reduce((s, x) => s + f(x), 0);
  const subscriptions = sum((x) => x.docs * x.subscribersPerDoc);
  const writesPerS = sum((x) => x.docs * x.writesPerDocPerS);
  const deliveriesPerS = sum((x) => x.docs * x.subscribersPerDoc * x.writesPerDocPerS);

  // Gateways: the count feeds back into docs per gateway (memory) and link deltas (CPU), so
  // iterate to the fixed point; both grow slower than G, so it converges in a few rounds.
  let G = Math.max(1, Math.ceil(C / k.maxConnsPerGateway));
  let bound: Plan['gateways']['bound'] = 'connections';
  let pairs = 0;
  let linkDeltasPerS = 0;
  let gwMem = 0;
  let gwCpu = 0;
  for (let i = 0; i < 100; i++) {
    pairs = sum((x) => x.docs * distinctGateways(x.subscribersPerDoc, G));
    linkDeltasPerS = sum((x) => x.docs * distinctGateways(x.subscribersPerDoc, G) * x.writesPerDocPerS);
    const pairMem = sum((x) => x.docs * distinctGateways(x.subscribersPerDoc, G) * docBytes(x, k));
    gwMem = C * (k.bytesPerIdleConn + k.kernelBytesPerConn) + (subscriptions - C) * k.bytesPerExtraSub + pairMem;
    gwCpu = (deliveriesPerS * k.gatewayUsPerDelivery + linkDeltasPerS * k.gatewayUsPerLinkDeltaIn) / 1e6;
    const byConns = Math.ceil(C / k.maxConnsPerGateway);
    const byCpu = Math.ceil(gwCpu / util);
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
  let cellDocMem = 0;
  let copiesTotal = 0; // Σ docs × cell replicas holding each
  let copyDeltasPerS = 0; // Σ docs × copies × writes: what a root tier would send to cell replicas
  for (const x of w.classes) {
    const gpd = distinctGateways(x.subscribersPerDoc, G);
    const cpd = Math.max(1, distinctGateways(x.subscribersPerDoc, cells));
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
      deliveriesPerS: x.docs * x.subscribersPerDoc * x.writesPerDocPerS,
      linkDeltasPerS: x.docs * gpd * x.writesPerDocPerS,
      writesPerS: x.docs * x.writesPerDocPerS,
    });
    cellUs += x.docs * (gpd * x.writesPerDocPerS * k.replicaUsPerLinkDelta + copies * x.writesPerDocPerS * k.replicaUsPerOpApplied);
    cellDocMem += x.docs * copies * docBytes(x, k);
    copiesTotal += x.docs * copies;
    copyDeltasPerS += x.docs * copies * x.writesPerDocPerS;
  }
  // Without a root tier every cell replica tails its partitions (every record); with one, the
  // cell replicas get only their docs' deltas and the root tier tails each partition REPLICATION times.
  let rootUs = 0;
  let rootMem = 0;
  if (!secondTier) {
    cellUs += writesPerS * readersPerPartition * k.replicaUsPerRecordScanned;
  } else {
    rootUs =
      writesPerS * k.replication * (k.replicaUsPerRecordScanned + k.replicaUsPerOpApplied) + copyDeltasPerS * k.replicaUsPerLinkDelta;
    rootMem = sum((x) => x.docs * k.replication * docBytes(x, k));
  }
  let R = Math.max(readersPerPartition, Math.ceil(cellUs / 1e6 / budget));
  let rBound: Plan['replicas']['bound'] = R === readersPerPartition ? 'replication' : 'cpu';
  const gatewayLinks = () => G * distinctGateways(pairs / G, R / cells); // each gateway links to its cell's replicas holding its docs
  let links = gatewayLinks();
  for (let i = 0; i < 100; i++) {
    links = gatewayLinks();
    const byMem = Math.ceil((cellDocMem + links * k.bytesPerLink) / (k.processMemBytes * k.memUtil));
    if (byMem <= R) break;
    R = byMem;
    rBound = 'memory';
  }
  let rootR = 0;
  if (secondTier) {
    rootR = Math.max(k.replication, Math.ceil(rootUs / 1e6 / budget));
    const rootLinks = R * distinctGateways(copiesTotal / R, rootR);
    links += rootLinks;
    rootR = Math.max(rootR, Math.ceil((rootMem + rootLinks * k.bytesPerLink) / (k.processMemBytes * k.memUtil)));
  }
  const replicaMem = cellDocMem + links * k.bytesPerLink;

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
  const replicaEgress = sum((x) => x.docs * distinctGateways(x.subscribersPerDoc, G) * x.writesPerDocPerS * (x.deltaBytes + LINK_FRAME_BYTES));
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
    gateways: { processes: G, bound, coresBusyEach: gwCpu / G, memBytesEach: gwMem / G, connsEach: C / G, docsEach: pairs / G },
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
    memBytes,
    usdPerMonth: usd,
    usdPerMillionConnsMonth: usd / (C / 1e6),
    classes,
  };
}
