/**
 * The per-process costs the capacity model and the simulator share: the measured figures from the
 * benches (bench-input.ts) plus the assumptions the benches cannot measure on a 2-core box, each
 * marked as such with its reason. Nothing here is tuned to make a table look good: a measured
 * figure is used as read, and an assumption is a round number stated in docs/scale.md.
 *
 * Unit of a process: one core. Gateways, replicas and origins are single-event-loop Node
 * processes, so a host with n cores runs n of them.
 */
import type { Measured } from './bench-input.js';

export type Provenance = 'measured' | 'derived' | 'assumed' | 'config';

export interface Cost {
  value: number;
  unit: string;
  provenance: Provenance;
  why: string;
}

export interface Costs {
  /** gateway CPU-µs per client delivery (measured: cluster bench, 10 gateways via 1 replica) */
  gatewayUsPerDelivery: Cost;
  /** gateway CPU-µs per link delta received (parse, history ring, mirror) */
  gatewayUsPerLinkDeltaIn: Cost;
  /** gateway CPU-µs to admit one client and serve its first frame (upgrade, auth, subscribe, snapshot or delta) */
  gatewayUsPerConnect: Cost;
  /** gateway CPU-µs per resubscription beyond the first on one connection */
  gatewayUsPerResubscribe: Cost;
  /** gateway CPU-µs to refuse an upgrade over the admission bucket (503 + Retry-After) */
  gatewayUsPerReject: Cost;
  /** RSS per subscribed idle connection (measured) */
  bytesPerIdleConn: Cost;
  /** kernel memory per idle TCP socket (not in RSS) */
  kernelBytesPerConn: Cost;
  /** gateway memory per further subscription on a connection */
  bytesPerExtraSub: Cost;
  /** what the code charges a retained delta beyond 3 × its patch bytes (fanout history-ring.ts deltaCost) */
  ringEntryOverheadBytes: Cost;
  /** replica CPU-µs per delta sent on a link */
  replicaUsPerLinkDelta: Cost;
  /** replica CPU-µs per op applied to a watched doc (fold, encode once) */
  replicaUsPerOpApplied: Cost;
  /** replica CPU-µs per record read from a partition it tails (watched or not) */
  replicaUsPerRecordScanned: Cost;
  /** replica CPU-µs to send a base (snapshot + retained deltas) on a link for a doc it holds */
  replicaUsPerBase: Cost;
  /** replica CPU-µs to load a doc it no longer holds (snapshot store read + log catch-up) */
  replicaUsPerColdLoad: Cost;
  /** replica cores used by its tail and timers regardless of load (measured) */
  replicaFixedCores: Cost;
  /** origin CPU-µs per acknowledged write (measured, Kafka log) */
  originUsPerWrite: Cost;
  /** writes/s one Kafka partition takes (acks=all) */
  kafkaPartitionWritesPerS: Cost;
  /** bytes/s one Kafka partition takes */
  kafkaPartitionBytesPerS: Cost;
  /** partitions one broker leads comfortably */
  kafkaPartitionsPerBroker: Cost;
  /** network bytes/s a broker moves (in + replication + fetch) at its target utilization */
  kafkaBrokerBytesPerS: Cost;
  /** small Redis commands per second per Redis core */
  redisOpsPerCore: Cost;
  /** fraction of a core a replica or origin is planned to use (headroom for loss and storms) */
  targetUtil: Cost;
  /** fraction of gateways whose loss the gateway plan keeps survivable (their clients' reconnect storm) */
  gatewayLossFraction: Cost;
  /** the most of a core a surviving gateway may reach in that storm's worst second */
  stormUtil: Cost;
  /** ADMISSION_RATE / ADMISSION_BURST per gateway the deployment runs with (the storm's admitted work) */
  admissionRate: Cost;
  admissionBurst: Cost;
  /** fraction of processMemBytes a process is planned to fill (a 10 % loss moves 11 % more onto survivors) */
  memUtil: Cost;
  /** connections per gateway process the operator allows (fd, blast radius) */
  maxConnsPerGateway: Cost;
  /** memory per process (gateway or replica) */
  processMemBytes: Cost;
  /** monthly price of one core and of one GiB (a cloud on-demand order of magnitude) */
  usdPerCoreMonth: Cost;
  usdPerGiBMonth: Cost;
  /** server config bounds (cli/src/config.ts defaults) */
  historySize: Cost;
  /** HISTORY_BYTES: a ring's bytes (as charged) per document */
  historyBytes: Cost;
  /** HISTORY_BUDGET_BYTES: every ring of a process together (idle, then least recently used, rings lose their oldest deltas first) */
  historyBudgetBytes: Cost;
  hotDocGateways: Cost;
  hotDocSpread: Cost;
  linkBacklog: Cost;
  linkWindow: Cost;
  /** MAX_SEND_BUFFER_BYTES: a connection's send buffer bound */
  maxSendBufferBytes: Cost;
  /** replicas per partition (REPLICATION) */
  replication: Cost;
  /** registry TTL (REGISTRY_TTL_MS): heartbeat and resync every ttl/3 */
  registryTtlMs: Cost;
  /** Kafka replication factor */
  kafkaReplicationFactor: Cost;
  /** readers per partition before a second replica tier pays (broker fetch fan-out) */
  maxReadersPerPartition: Cost;
  /** per-link memory at a replica and a gateway (socket buffers at steady state, credit state) */
  bytesPerLink: Cost;
  /** gateways per cell (each cell has its own replica set) */
  cellGateways: Cost;
  /** each gateway's full registry resync period (an index read + MGET of every replica key) */
  registryResyncMs: Cost;
  /**
   * what-if: the fraction of a doc's subscribers that give the doc's affinity key (the SDK's
   * `affinity` option, hashed on by the ingress) and so share its one home gateway; the rest land
   * at random. 0 (the default) is today's uniform placement.
   */
  affinity: Cost;
}

const m = (value: number, unit: string, why: string): Cost => ({ value, unit, provenance: 'measured', why });
const d = (value: number, unit: string, why: string): Cost => ({ value, unit, provenance: 'derived', why });
const a = (value: number, unit: string, why: string): Cost => ({ value, unit, provenance: 'assumed', why });
const c = (value: number, unit: string, why: string): Cost => ({ value, unit, provenance: 'config', why });

export function costsFrom(x: Measured): Costs {
  const gw = x.gatewayUsPerDelivery.value;
  const linkUs = gw; // see the `why`: same work as a client delivery, bounded by the measured upper bound
  if (linkUs > x.replicaUsPerLinkDeltaUpperBound.value) {
    throw new Error(
      `replica µs per link delta (${linkUs}) exceeds what the cluster bench could have hidden (${x.replicaUsPerLinkDeltaUpperBound.value.toFixed(1)})`,
    );
  }
  const originUs = 1e6 / x.originWritesPerCoreKafka.value;
  // both origin figures cover more than a replica's fold (HTTP, durable append); the smaller is the tighter bound
  const applyUs = Math.min(originUs, 1e6 / x.originWritesPerCoreFile.value);
  return {
    gatewayUsPerDelivery: m(gw, 'CPU-µs', x.gatewayUsPerDelivery.source),
    gatewayUsPerLinkDeltaIn: a(
      2 * gw,
      'CPU-µs',
      'not separable in the cluster bench (100 link deltas/s per gateway is below tick resolution); taken as two client deliveries: one frame parsed, one ring push + mirror merge',
    ),
    gatewayUsPerConnect: d(
      x.connectUsUpperBound?.value ?? 120,
      'CPU-µs',
      x.connectUsUpperBound ? `${x.connectUsUpperBound.source} (upper bound: the server was not the only busy process)` : 'assumed 120 µs',
    ),
    gatewayUsPerResubscribe: a(10 * gw, 'CPU-µs', 'a subscribe frame + one snapshot or delta frame; ten deliveries'),
    gatewayUsPerReject: a(5 * gw, 'CPU-µs', 'accept, parse the request line, answer 503: five deliveries'),
    bytesPerIdleConn: m(x.bytesPerIdleConn.value, 'B', x.bytesPerIdleConn.source),
    kernelBytesPerConn: a(4096, 'B', 'idle TCP socket: struct sock + minimal buffers; RSS does not show it'),
    bytesPerExtraSub: a(200, 'B', 'a Map entry per (connection, doc) and the last delivered seq'),
    ringEntryOverheadBytes: c(
      256,
      'B',
      'deltaCost (fanout/src/history-ring.ts): a retained delta is charged 3 × its patch + 256 B (text, parsed form, one cached frame); HISTORY_BYTES and HISTORY_BUDGET_BYTES count these bytes',
    ),
    replicaUsPerLinkDelta: d(
      linkUs,
      'CPU-µs',
      `taken equal to a gateway client delivery (a cached frame written to one socket, corked); the cluster bench bounds it above at ${x.replicaUsPerLinkDeltaUpperBound.value.toFixed(1)} µs (${x.replicaUsPerLinkDeltaUpperBound.source})`,
    ),
    replicaUsPerOpApplied: d(
      applyUs,
      'CPU-µs',
      `the lesser origin CPU per write (file log ${(1e6 / x.originWritesPerCoreFile.value).toFixed(0)} µs: ${x.originWritesPerCoreFile.source}; Kafka ${originUs.toFixed(0)} µs); an upper bound: origin also parses HTTP and makes the write durable`,
    ),
    replicaUsPerRecordScanned: a(2, 'CPU-µs', 'kafkajs batch decode + one Map lookup for a record of an unwatched doc'),
    replicaUsPerBase: a(10 * linkUs, 'CPU-µs', 'snapshot encode (cached per seq) + up to the retained deltas on one link: ten link deltas'),
    replicaUsPerColdLoad: a(
      applyUs + 200,
      'CPU-µs',
      'snapshot store GET + log catch-up from the covered offset: one op apply plus 200 µs of I/O handling',
    ),
    replicaFixedCores: m(x.replicaCoresEach.value, 'cores', x.replicaCoresEach.source),
    originUsPerWrite: d(originUs, 'CPU-µs', x.originWritesPerCoreKafka.source),
    kafkaPartitionWritesPerS: a(5000, 'writes/s', 'a conservative acks=all partition rate for ~300 B records; the mock measures no real broker'),
    kafkaPartitionBytesPerS: a(5e6, 'B/s', 'conservative per-partition produce budget'),
    kafkaPartitionsPerBroker: a(2000, 'partitions', 'leaders per broker kept well below the ~4000 guidance'),
    kafkaBrokerBytesPerS: a(250e6, 'B/s', 'a 10 Gbit/s NIC at ~20 % (produce + replication + fetch)'),
    redisOpsPerCore: a(100_000, 'ops/s', 'small GET/SET/EVAL per Redis core, pipelined'),
    targetUtil: a(0.6, '', 'plan each replica and origin to 60 % of a core: a 10 % loss (+11 %) and an admitted storm fit (gateways: stormUtil)'),
    gatewayLossFraction: a(0.1, '', 'a gateway plan survives losing 10 % of the gateways at once (the simulator\'s gateway-loss scenario)'),
    stormUtil: a(
      0.9,
      '',
      "a survivor's steady load × 1/(1 − loss) + the admitted reconnects (ADMISSION_RATE + ADMISSION_BURST in the first second) + one refused attempt per second of each waiting client stays under 90 % of a core",
    ),
    admissionRate: a(500, '/s', "ADMISSION_RATE the simulator's scenarios run with, under what the replicas absorb at 100 M (the code's default 2 000/s, burst 4 000, is for small fleets: a deployment at this scale sets it)"),
    admissionBurst: a(100, '', 'ADMISSION_BURST with it: a fifth of a second of the rate'),
    memUtil: a(0.8, '', 'plan memory to 80 %: the survivors of a 10 % gateway loss reach 89 %'),
    maxConnsPerGateway: a(250_000, 'conns', 'blast radius and fd budget per gateway process'),
    processMemBytes: a(8 * 2 ** 30, 'B', 'memory per single-core process (a 4 GiB/core host gives each process 8 GiB with 2 cores per process slot)'),
    usdPerCoreMonth: a(25, 'USD', 'on-demand vCPU, order of magnitude'),
    usdPerGiBMonth: a(3, 'USD', 'on-demand memory, order of magnitude'),
    historySize: c(1024, 'deltas', 'HISTORY_SIZE default'),
    historyBytes: c(1024 * 1024, 'B', 'HISTORY_BYTES default (per document)'),
    historyBudgetBytes: c(256 * 1024 * 1024, 'B', 'HISTORY_BUDGET_BYTES default (per process)'),
    hotDocGateways: c(8, 'links', 'HOT_DOC_GATEWAYS default'),
    hotDocSpread: c(3, 'replicas', 'HOT_DOC_SPREAD default'),
    linkBacklog: c(256, 'deltas', 'LINK_BACKLOG default'),
    linkWindow: c(4096, 'frames', 'LINK_WINDOW default'),
    maxSendBufferBytes: c(1024 * 1024, 'B', 'MAX_SEND_BUFFER_BYTES default'),
    replication: c(2, 'replicas', 'REPLICATION default'),
    registryTtlMs: c(3000, 'ms', 'REGISTRY_TTL_MS default'),
    kafkaReplicationFactor: a(3, '', 'topic replication factor'),
    maxReadersPerPartition: a(16, 'readers', 'fetch fan-out per partition before broker egress dominates'),
    bytesPerLink: a(32 * 1024, 'B', 'steady-state socket buffers + credit bookkeeping of one link (the 4 MiB high-water is the bound, not the norm)'),
    cellGateways: a(500, 'gateways', 'gateways per cell: a cell has its own replica set, which bounds links per replica and a failure\'s blast radius'),
    registryResyncMs: c(1000, 'ms', 'registry resync period = REGISTRY_TTL_MS / 3 (fanout/src/registry-redis.ts)'),
    affinity: a(0, 'fraction', 'what-if: share of a doc\'s subscribers that give its affinity key and share one gateway; 0 = uniform random placement (`--affinity` sets it)'),
  };
}

/**
 * What the model recommends changing (docs/scale.md, "What the model says"): the same measured
 * costs with two settings moved. Each is a configuration or a small code change, not a new cost.
 * (HISTORY_SIZE=64 was the third until the model charged rings as HISTORY_BUDGET_BYTES caps them:
 * with the budget it changes no plan, and it would only shorten the resumes the rings cover.)
 */
export const TUNED: Partial<CostValues> = {
  // a 20-member room lands on 20 gateways at scale: spreading every such doc over 3 replicas
  // triples the replicas' apply work for no link relief
  hotDocGateways: 64,
  // O(gateways × replicas) MGETs every second: rely on the pub/sub messages, resync every 30 s
  registryResyncMs: 30_000,
};

/** plain numbers, for the hot loops */
export type CostValues = { [K in keyof Costs]: number };

export function values(c: Costs): CostValues {
  const out = {} as CostValues;
  for (const k of Object.keys(c) as (keyof Costs)[]) out[k] = c[k].value;
  return out;
}
