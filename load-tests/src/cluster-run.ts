/**
 * One bench:cluster configuration, measured: a fresh cluster (cluster.ts) with R replicas, every
 * client connected through receivers (one per gateway by default, each on its own 127.x source
 * addresses), the placement settled, an idle baseline, a warm-up, then the measured window of
 * open-loop writes; CPU-seconds per hop from /proc over the window, deliveries from the receivers,
 * link deltas and gateway deliveries from the nodes' /metrics.
 */
import { Histogram, wallMs } from './histogram.js';
import { allProcessTicks, cpuSeconds, machineBusySeconds, topOthers, waitQuiet } from './procfs.js';
import { startCluster, type Cluster } from './cluster.js';
import { fanoutStats, settleSpread, spreadOf, type ReplicaSpread } from './cluster-placement.js';
import type { ClusterBenchConfig } from './cluster-config.js';
import { connectReceivers, receiverCounts, setWindow, split, statsUntil, sumOf, type Receiver, type ReceiverCounts } from './receivers.js';
import { post, writeAtRate, writeCounts, type WriteCounts } from './open-loop-writer.js';
import { getText, metric } from './prom.js';
import { log, round, sleep } from './report.js';

/** the stream every client of the cluster bench speaks */
const STREAM = { wire: 'replicant', path: '/v1/stream', protocol: 'replicant.v1.json' } as const;

export interface Hop {
  name: string;
  cpuS: number;
  /** cores busy on average over the window */
  cores: number;
  /** CPU-s per million client deliveries */
  perMillionDeliveries: number;
  /** replicas: deltas sent to gateways over the window, and CPU-s per million of them */
  linkDeltas?: number;
  perMillionLinkDeltas?: number;
  /** origin: CPU-ms per acknowledged write */
  msPerWrite?: number;
}

export interface ConfigResult extends WriteCounts, ReceiverCounts {
  name: string;
  replicas: number;
  error?: string;
  gateways: number;
  clientsPerGateway: number;
  subscribers: number;
  connectMs: number;
  spread: ReplicaSpread[];
  spreadAfter: ReplicaSpread[];
  /** replicas holding the doc (verified spread: > 1 when several replicas run and the doc is hot) */
  replicasUsed: number;
  spreadOk: boolean;
  hotThreshold: number;
  expectedDeliveries: number;
  /** delta frames received in the window */
  delivered: number;
  /** ops those frames covered (seq - prevSeq: a coalesced delta carries several) */
  opsDelivered: number;
  /** opsDelivered / expectedDeliveries */
  completeness: number;
  /** messages handed to sockets by the gateways over the window (replicant_gateway_deliveries_total) */
  gatewayDeliveries: number;
  windowS: number;
  /** seconds between the two CPU samples (window start to the end of the drain) */
  cpuWindowS: number;
  deliveredPerSec: number;
  /** p1: the first sockets of each burst, close to the pipeline's latency without the fan-out burst */
  latencyMs: { p1: number; p50: number; p90: number; p99: number; max: number; mean: number };
  linkCollapses: number;
  hops: {
    origin: Hop;
    replicas: Hop[];
    replicasTotal: Hop;
    gateways: Hop[];
    gatewaysTotal: Hop;
    kafka: Hop;
    redis: Hop;
    receivers: Hop;
    orchestrator: Hop;
    rest: Hop;
    machine: Hop;
  };
  /** cores busy per hop with every client connected and no writes (polling, timers) */
  /** the busiest processes outside this run during the window (noisy neighbours, ksoftirqd) */
  otherProcesses: { pid: number; comm: string; cores: number }[];
  idleCores: { origin: number; replicas: number; gateways: number; kafka: number; redis: number; receivers: number; rest: number; seconds: number };
}


interface CpuSample {
  at: number;
  origin: number;
  fanouts: number[];
  gateways: number[];
  kafka: number;
  redis: number;
  receivers: number;
  self: number;
  machine: number;
}

function sampleCpu(cluster: Cluster, receivers: Receiver[]): CpuSample {
  const one = (pid: number | undefined): number => (pid === undefined ? 0 : cpuSeconds(pid));
  const self = process.cpuUsage();
  return {
    at: wallMs(),
    origin: one(cluster.origin.pid),
    fanouts: cluster.fanouts.map((f) => one(f.pid)),
    gateways: cluster.gateways.map((g) => one(g.pid)),
    kafka: cluster.kafkaPids.reduce((a, pid) => a + one(pid), 0),
    redis: one(cluster.redisPid),
    receivers: receivers.reduce((a, r) => a + one(r.pid), 0),
    self: (self.user + self.system) / 1e6,
    machine: machineBusySeconds(),
  };
}

const sumArr = (xs: number[]): number => xs.reduce((a, x) => a + x, 0);

/** CPU-seconds of every process this run accounts for by name (the rest of the machine is the remainder) */
const knownCpu = (x: CpuSample): number => x.origin + sumArr(x.fanouts) + sumArr(x.gateways) + x.kafka + x.redis + x.receivers + x.self;

/** /metrics of every replica (ADMIN_PORT) and gateway (main port), replicas first */
function scrapeAll(cluster: Cluster): Promise<string[]> {
  return Promise.all([...cluster.fanouts.map((f) => getText(f.adminPort, '/metrics')), ...cluster.gateways.map((g) => getText(g.port, '/metrics'))]);
}

export async function runConfig(cfg: ClusterBenchConfig, replicas: number, index: number): Promise<ConfigResult> {
  const name = `(${String.fromCharCode(97 + index)}) ${replicas} replica${replicas === 1 ? '' : 's'}`;
  const label = name;
  await waitQuiet(cfg.quietWaitS, label);
  log(`[${label}] starting Kafka (${cfg.brokers} brokers), redis, origin, ${replicas} fanout, ${cfg.gateways} gateways`);
  const t0Start = Date.now();
  const cluster = await startCluster({
    brokers: cfg.brokers,
    partitions: cfg.partitions,
    replicas,
    gateways: cfg.gateways,
    env: cfg.hotGateways !== undefined ? { HOT_DOC_GATEWAYS: String(cfg.hotGateways) } : {},
  });
  const receivers: Receiver[] = [];
  try {
    log(`[${label}] cluster ready in ${Date.now() - t0Start} ms (origin :${cluster.origin.port}, fanouts ${cluster.fanouts.map((f) => `:${f.port}`).join(' ')})`);
    // the doc exists before anyone subscribes (write index -1: outside every measured window)
    const first = await post(cluster.origin.port, `/v1/docs/${cfg.doc}`, `{"t":${wallMs().toFixed(3)},"n":-1}`);
    if (first.status !== 200) throw new Error(`first write failed: HTTP ${first.status} ${first.body}`);

    // clients: receivers per gateway, each on its own 127.<block>.<k>.1 source addresses
    const tConn = Date.now();
    const counts = split(cfg.clientsPerGateway, cfg.receiversPerGateway);
    const firstBlock = 60 + index * 60;
    const conns = await Promise.all(
      cluster.gateways.map(async (g, j) => {
        const c = await connectReceivers({ port: g.port, stream: STREAM }, counts, {
          doc: cfg.doc,
          addrBlock: firstBlock + j * counts.length,
          addrsPerReceiver: 2,
          concurrency: 64,
          sampleEvery: cfg.sampleEvery,
          deadlineMs: 120000,
        });
        receivers.push(...c.receivers);
        return c;
      }),
    );
    const ready = conns.reduce((a, c) => a + c.ready, 0);
    const wanted = cfg.gateways * cfg.clientsPerGateway;
    const connectMs = Date.now() - tConn;
    const failed = conns.reduce((a, c) => a + c.failedAttempts, 0);
    const firstErr = conns.find((c) => c.firstError !== null)?.firstError ?? null;
    log(`[${label}] ${ready}/${wanted} clients have their snapshot in ${connectMs} ms (${failed} failed attempts${firstErr ? `, first: ${firstErr}` : ''})`);
    if (ready < wanted) throw new Error(`only ${ready} of ${wanted} clients got their snapshot within 120 s (first error: ${firstErr})`);

    const spread = await settleSpread(cluster, cfg.gateways, label);
    log(`[${label}] placement: ${spread.map((s) => `${s.replica} ${s.subscriptions} [${s.gateways.join(',')}]`).join('; ')}`);

    // idle baseline: every client connected, no writes (after a pause, so the garbage and timers of
    // the connection burst are mostly behind us)
    await sleep(2000);
    const i0 = sampleCpu(cluster, receivers);
    await sleep(cfg.idleS * 1000);
    const i1 = sampleCpu(cluster, receivers);
    const idleSecs = (i1.at - i0.at) / 1000;
    const idleCores = {
      origin: round((i1.origin - i0.origin) / idleSecs, 3),
      replicas: round((sumArr(i1.fanouts) - sumArr(i0.fanouts)) / idleSecs, 3),
      gateways: round((sumArr(i1.gateways) - sumArr(i0.gateways)) / idleSecs, 3),
      kafka: round((i1.kafka - i0.kafka) / idleSecs, 3),
      redis: round((i1.redis - i0.redis) / idleSecs, 3),
      receivers: round((i1.receivers - i0.receivers) / idleSecs, 3),
      rest: 0,
      seconds: round(idleSecs, 2),
    };
    idleCores.rest = round((i1.machine - i0.machine - (knownCpu(i1) - knownCpu(i0))) / idleSecs, 3);

    // warm-up (JIT, pools, the spread), excluded from the window by write index
    const warmN = Math.round(cfg.rate * cfg.warmupS);
    log(`[${label}] warm-up: ${warmN} writes at ${cfg.rate}/s`);
    const warm = await writeAtRate(cluster.origin.port, cfg.doc, cfg.rate, cfg.warmupS, 0);
    if (warm.acked === 0) throw new Error(`no warm-up write was acknowledged: ${warm.firstError}`);
    await sleep(1000);

    const total = Math.round(cfg.rate * cfg.durationS);
    await setWindow(receivers, warmN, warmN + total - 1);
    const metrics0 = await scrapeAll(cluster);
    const procs0 = allProcessTicks();
    const c0 = sampleCpu(cluster, receivers);

    log(`[${label}] measuring: ${total} writes at ${cfg.rate}/s to ${ready} clients`);
    const w = await writeAtRate(cluster.origin.port, cfg.doc, cfg.rate, cfg.durationS, warmN);
    const expected = w.acked * ready;
    // the tail of the deliveries (bounded)
    const stats = await statsUntil(receivers, (st) => sumOf(st, (s) => s.windowOps) >= expected, 10000);
    const c1 = sampleCpu(cluster, receivers);
    const procs1 = allProcessTicks();
    const metrics1 = await scrapeAll(cluster);
    const finalStats = await Promise.all(cluster.fanouts.map(fanoutStats));
    const spreadAfter = spreadOf(cluster, finalStats);
    for (const n of [cluster.origin, ...cluster.fanouts, ...cluster.gateways]) {
      if (n.exited) throw new Error(`${n.id} exited during the run:\n${n.output().split('\n').slice(-20).join('\n')}`);
    }

    const lat = new Histogram();
    for (const s of stats) lat.merge(s.latency);
    const delivered = sumOf(stats, (s) => s.windowDeltas);
    const opsDelivered = sumOf(stats, (s) => s.windowOps);
    const lastRecv = Math.max(...stats.map((s) => s.lastWindowRecvAt));
    const windowS = ((lastRecv > 0 ? lastRecv : c1.at) - c0.at) / 1000;
    const cpuWindowS = (c1.at - c0.at) / 1000;
    const nF = cluster.fanouts.length;
    const linkDeltas = cluster.fanouts.map(
      (_, i) => metric(metrics1[i], 'replicant_fanout_link_frames_sent_total', 'type="delta"') - metric(metrics0[i], 'replicant_fanout_link_frames_sent_total', 'type="delta"'),
    );
    const gatewayDeliveries = cluster.gateways.reduce(
      (a, _, j) => a + metric(metrics1[nF + j], 'replicant_gateway_deliveries_total') - metric(metrics0[nF + j], 'replicant_gateway_deliveries_total'),
      0,
    );
    const hop = (hname: string, cpuS: number, extra: Partial<Hop> = {}): Hop => ({
      name: hname,
      cpuS: round(cpuS, 2),
      cores: round(cpuS / cpuWindowS, 3),
      perMillionDeliveries: round(delivered > 0 ? cpuS / (delivered / 1e6) : NaN, 3),
      ...extra,
    });
    const replicaHops = cluster.fanouts.map((f, i) => {
      const cpuS = c1.fanouts[i] - c0.fanouts[i];
      return hop(f.id, cpuS, { linkDeltas: linkDeltas[i], perMillionLinkDeltas: round(linkDeltas[i] > 0 ? cpuS / (linkDeltas[i] / 1e6) : NaN, 1) });
    });
    const replicasCpu = sumArr(c1.fanouts) - sumArr(c0.fanouts);
    const allLinkDeltas = sumArr(linkDeltas);
    const gatewayHops = cluster.gateways.map((g, j) => hop(g.id, c1.gateways[j] - c0.gateways[j]));
    const gatewaysCpu = sumArr(c1.gateways) - sumArr(c0.gateways);
    const originCpu = c1.origin - c0.origin;
    const machineCpu = c1.machine - c0.machine;
    const restCpu = machineCpu - (knownCpu(c1) - knownCpu(c0));
    const hotThreshold = cfg.hotGateways ?? 8;
    const replicasUsed = spread.filter((s) => s.subscriptions > 0).length;
    const expectSpread = replicas > 1 && cfg.gateways > hotThreshold;
    return {
      name,
      replicas,
      gateways: cfg.gateways,
      clientsPerGateway: cfg.clientsPerGateway,
      subscribers: ready,
      connectMs,
      spread,
      spreadAfter,
      replicasUsed,
      spreadOk: expectSpread ? replicasUsed > 1 : true,
      hotThreshold,
      ...writeCounts(w, cfg.rate, cfg.durationS),
      expectedDeliveries: expected,
      delivered,
      opsDelivered,
      completeness: expected > 0 ? opsDelivered / expected : 0,
      gatewayDeliveries,
      windowS: round(windowS, 3),
      cpuWindowS: round(cpuWindowS, 3),
      deliveredPerSec: round(delivered / windowS, 0),
      latencyMs: { p1: round(lat.quantile(0.01)), p50: round(lat.quantile(0.5)), p90: round(lat.quantile(0.9)), p99: round(lat.quantile(0.99)), max: round(lat.max), mean: round(lat.mean) },
      ...receiverCounts(stats),
      linkCollapses: finalStats.reduce((a, s) => a + s.links.reduce((b, l) => b + l.collapses, 0), 0),
      hops: {
        origin: hop('origin', originCpu, { msPerWrite: round(w.acked > 0 ? (originCpu * 1000) / w.acked : NaN, 3) }),
        replicas: replicaHops,
        replicasTotal: hop('replicas total', replicasCpu, {
          linkDeltas: allLinkDeltas,
          perMillionLinkDeltas: round(allLinkDeltas > 0 ? replicasCpu / (allLinkDeltas / 1e6) : NaN, 1),
        }),
        gateways: gatewayHops,
        gatewaysTotal: hop(`gateways total (${cluster.gateways.length})`, gatewaysCpu),
        kafka: hop(`Kafka (${cfg.brokers} brokers)`, c1.kafka - c0.kafka),
        redis: hop('redis-server', c1.redis - c0.redis),
        receivers: hop(`receivers (${receivers.length})`, c1.receivers - c0.receivers),
        orchestrator: hop('orchestrator (writer)', c1.self - c0.self),
        rest: hop('rest of machine', restCpu),
        machine: hop('whole machine', machineCpu),
      },
      idleCores,
      otherProcesses: topOthers(procs0, procs1, cpuWindowS),
    };
  } finally {
    await Promise.all(receivers.map((r) => r.exit()));
    await cluster.stop();
  }
}