/**
 * bench:cluster's configuration: the flags (see bench-cluster.ts), their defaults (full and
 * --quick) and the limits a run must stay within (sockets per receiver, receiver processes).
 */
import { readArgs } from './args.js';
import { MAX_SOCKETS_PER_RECEIVER } from './receivers.js';

export interface ClusterBenchConfig {
  quick: boolean;
  gateways: number;
  clientsPerGateway: number;
  rate: number;
  durationS: number;
  warmupS: number;
  /** fanout replica counts, one configuration each */
  replicas: number[];
  receiversPerGateway: number;
  brokers: number;
  partitions: number;
  sampleEvery: number;
  /** HOT_DOC_GATEWAYS for the fanouts (undefined: the server default, 8) */
  hotGateways: number | undefined;
  idleS: number;
  quietWaitS: number;
  doc: string;
}

export function parseConfig(argv: string[]): ClusterBenchConfig {
  const { has, val, num } = readArgs(
    argv,
    [
      '--quick', '--gateways', '--clients', '--rate', '--duration', '--warmup', '--replicas', '--receivers-per-gateway', '--brokers',
      '--partitions', '--sample-every', '--hot-gateways', '--doc', '--wait-quiet', '--no-wait-quiet', '--idle',
    ],
    'node load-tests/dist/src/bench-cluster.js',
  );
  const quick = has('--quick') || process.env.BENCH_QUICK === '1';
  const replicas = (val('--replicas') ?? '1,3').split(',').map((s) => Number(s.trim()));
  for (const r of replicas) if (!Number.isInteger(r) || r < 1 || r > 16) throw new Error(`--replicas: ${r} is not a count between 1 and 16`);
  const hot = val('--hot-gateways');
  const cfg: ClusterBenchConfig = {
    quick,
    gateways: Math.round(num('--gateways', quick ? 2 : 10)),
    clientsPerGateway: Math.round(num('--clients', quick ? 100 : 1000)),
    rate: num('--rate', 10),
    durationS: num('--duration', quick ? 3 : 15),
    warmupS: num('--warmup', quick ? 1 : 5),
    replicas,
    receiversPerGateway: Math.round(num('--receivers-per-gateway', 1)),
    brokers: Math.round(num('--brokers', 3)),
    partitions: Math.round(num('--partitions', 8)),
    sampleEvery: Math.round(num('--sample-every', 10)),
    // with 2 gateways nothing is hot at the default threshold: the smoke run lowers it so the spread
    // path (LinkHot, make-before-break moves, the /stats check) is exercised too
    hotGateways: hot !== undefined ? Math.round(num('--hot-gateways', 8)) : quick ? 1 : undefined,
    idleS: num('--idle', quick ? 1 : 3),
    quietWaitS: has('--no-wait-quiet') ? 0 : val('--wait-quiet') !== undefined ? num('--wait-quiet', 60) : quick ? 0 : 60,
    // the doc id decides, with the gateways' node ids, which of the HOT_DOC_SPREAD replicas each
    // gateway takes (fnv1a32(nodeId, doc) mod spread): with `bench`, gateway-1 and gateway-2 both
    // keep the first replica, so the smoke run uses a doc whose two gateways move apart
    doc: val('--doc') ?? (quick ? 'bench-quick' : 'bench'),
  };
  const perReceiver = cfg.clientsPerGateway / cfg.receiversPerGateway;
  if (perReceiver > MAX_SOCKETS_PER_RECEIVER) throw new Error(`more than ${MAX_SOCKETS_PER_RECEIVER} sockets per receiver process (fd limit): raise --receivers-per-gateway`);
  if (cfg.clientsPerGateway > MAX_SOCKETS_PER_RECEIVER) throw new Error(`--clients must stay below ${MAX_SOCKETS_PER_RECEIVER} per gateway process (fd limit)`);
  if (cfg.gateways * cfg.receiversPerGateway > 120) throw new Error('at most 120 receiver processes');
  return cfg;
}
