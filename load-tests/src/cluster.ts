/**
 * The benches' clusters of real processes: `replicant <mode>` nodes (testkit's one launcher,
 * spawnReplicant), the test kit's real Apache Kafka cluster (KRaft brokers, full JIT: measured warm)
 * and a throwaway redis-server. Used by bench-cluster (origin + N fanout + G gateway) and
 * bench-writes (origin over Kafka). Everything started here dies with this process (testkit's exit
 * hook, the brokers' parent-death signal), also on Ctrl-C.
 */
import { freePort, startKafka, startRedis, startReplicant, KAFKA_VERSION, type KafkaCluster, type RedisServer } from '@replicant/testkit';
import { CLI_MAIN, REPO_ROOT } from './paths.js';
import { SCRUB, benchDir } from './servers.js';

export { KAFKA_VERSION };
export const TOPIC = 'replicant.docs';

/** what the bench sets itself: never inherited from the shell that runs it */
const NODE_SCRUB = [...SCRUB, 'PORT', 'DATA_DIR', 'REPLICA_INDEX', 'REPLICA_COUNT', 'FANOUT_PARTITIONS'];

export type NodeMode = 'dev' | 'origin' | 'fanout' | 'gateway';

export interface NodeProc {
  id: string;
  mode: NodeMode;
  pid: number;
  /** main port (origin HTTP, fanout link listener, gateway WebSocket + /stats + /metrics) */
  port: number;
  /** ADMIN_PORT (/stats and /metrics of origin and fanout); 0 = none */
  adminPort: number;
  readonly exited: boolean;
  output(): string;
  /** SIGTERM, SIGKILL after `graceMs` */
  stop(graceMs?: number): Promise<void>;
}

/** `replicant <mode>` of the build under test (CLI_MAIN) as node `id`, resolved once it is ready */
export async function startNode(mode: NodeMode, id: string, env: Record<string, string>, adminPort = 0, timeoutMs = 60000): Promise<NodeProc> {
  const p = await startReplicant(
    {
      cli: CLI_MAIN,
      mode,
      name: `replicant ${mode} ${id}`,
      cwd: REPO_ROOT,
      scrub: NODE_SCRUB,
      env: { ...env, NODE_ID: id, ADMIN_PORT: String(adminPort) },
    },
    timeoutMs,
  );
  return {
    id,
    mode,
    pid: p.pid,
    port: p.port,
    adminPort,
    get exited() {
      return p.exited;
    },
    output: p.output,
    stop: (graceMs = 3000) => p.stop('SIGTERM', graceMs),
  };
}

/** Kafka + redis-server for an origin over Kafka, and the env that points replicant at them */
export interface Backends {
  kafka: KafkaCluster;
  redis: RedisServer;
  kafkaPids: number[];
  redisPid: number | undefined;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startBackends(brokers: number, partitions: number): Promise<Backends> {
  // full JIT (C1 + C2): the brokers are measured warm, not at the test kit's fast-start setting
  const kafka = await startKafka({ nodes: brokers, jit: 'full' });
  let redis: RedisServer | undefined;
  try {
    await kafka.createTopic(TOPIC, { partitions });
    redis = await startRedis();
  } catch (err) {
    await kafka.stop();
    throw err;
  }
  const r = redis;
  return {
    kafka,
    redis: r,
    kafkaPids: kafka.nodes.map((n) => n.pid!),
    redisPid: r.pid,
    env: { KAFKA_BROKERS: kafka.bootstraps.join(','), KAFKA_TOPIC: TOPIC, REDIS_URL: r.url },
    async stop() {
      await r.close().catch(() => {});
      await kafka.stop().catch(() => {});
    },
  };
}

export interface Cluster extends Backends {
  origin: NodeProc;
  fanouts: NodeProc[];
  gateways: NodeProc[];
  dataDir: string;
}

export interface ClusterSpec {
  brokers: number;
  partitions: number;
  replicas: number;
  gateways: number;
  /** extra env for every node */
  env?: Record<string, string>;
}

/** gateways started at once (each is a Node process taking a core for a moment at start) */
const GATEWAY_BATCH = 5;

/** origin, `replicas` fanout replicas (each serving every partition) and `gateways` gateways */
export async function startCluster(spec: ClusterSpec): Promise<Cluster> {
  const tmp = benchDir('replicant-bench-cluster-');
  const nodes: NodeProc[] = [];
  let backends: Backends | undefined;
  const stopAll = async (): Promise<void> => {
    // gateways first (their clients are gone already), then replicas, origin, backends
    const order = [...nodes].reverse();
    await Promise.all(order.filter((n) => n.mode === 'gateway').map((n) => n.stop()));
    await Promise.all(order.filter((n) => n.mode !== 'gateway').map((n) => n.stop()));
    await backends?.stop();
    tmp.remove();
  };
  const start = async (mode: NodeMode, id: string, env: Record<string, string>, adminPort = 0): Promise<NodeProc> => {
    const n = await startNode(mode, id, env, adminPort);
    nodes.push(n);
    return n;
  };
  try {
    backends = await startBackends(spec.brokers, spec.partitions);
    const env: Record<string, string> = {
      ...backends.env,
      REGISTRY_TTL_MS: '3000',
      DATA_DIR: tmp.dir,
      DRAIN_GRACE_MS: '0',
      // authenticated links and writes, as deployed; clients stay open (the fan-out bench is the auth one)
      CLUSTER_SECRET: 'bench-cluster-secret-0123456789',
      AUTH_DISABLED: 'true',
      ...spec.env,
    };
    const origin = await start('origin', 'origin-1', env);
    env.ORIGIN_URL = `http://127.0.0.1:${origin.port}`;
    // every replica serves every partition (no REPLICA_INDEX): the doc's partition has them all;
    // each has an ADMIN_PORT for its /stats and /metrics
    const fanouts = await Promise.all(Array.from({ length: spec.replicas }, async (_, i) => start('fanout', `fanout-${i + 1}`, env, await freePort())));
    // gateways learn the partition count from the registry: start them once every replica is in
    const gateways: NodeProc[] = [];
    for (let i = 0; i < spec.gateways; i += GATEWAY_BATCH) {
      const batch = Array.from({ length: Math.min(GATEWAY_BATCH, spec.gateways - i) }, (_, k) => start('gateway', `gateway-${i + k + 1}`, env));
      gateways.push(...(await Promise.all(batch)));
    }
    return { ...backends, origin, fanouts, gateways, dataDir: tmp.dir, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
