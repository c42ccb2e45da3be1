/**
 * A whole cluster of real processes for tests: the librdkafka mock Kafka cluster (3 brokers,
 * topic created by the harness), a real redis-server, `replicant origin`, N `replicant fanout`
 * and M `replicant gateway` processes, all on free 127.0.0.1 ports.
 */
import { startKafkaMock, startRedis, freePort, type KafkaMock, type RedisServer } from '@replicant/testkit';
import { startProcess, type DevProcess } from './harness.js';

export interface ClusterOptions {
  fanouts?: number;
  gateways?: number;
  partitions?: number;
  /** extra env for every replicant process */
  env?: Record<string, string>;
}

export interface Node extends DevProcess {
  id: string;
  adminUrl: string;
}

export interface Cluster {
  kafka: KafkaMock;
  redis: RedisServer;
  origin: Node;
  fanouts: Node[];
  gateways: Node[];
  env: Record<string, string>;
  startFanout(id: string): Promise<Node>;
  stats(node: Node): Promise<any>;
  stop(): Promise<void>;
}

const TOPIC = 'replicant.docs';

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const partitions = opts.partitions ?? 8;
  const kafka = await startKafkaMock({ brokers: 3, topics: [{ name: TOPIC, partitions }] });
  const redis = await startRedis();
  const env: Record<string, string> = {
    KAFKA_BROKERS: kafka.bootstraps.join(','),
    KAFKA_TOPIC: TOPIC,
    KAFKA_IDEMPOTENT: 'false', // the mock cluster cannot serve the idempotent producer
    // the mock broker holds a fetch for its whole max wait even when data arrives meanwhile
    KAFKA_FETCH_MAX_WAIT_MS: '20',
    REDIS_URL: redis.url,
    REGISTRY_TTL_MS: '1500',
    ...opts.env,
  };
  const nodes: Node[] = [];
  const start = async (mode: string, id: string, extra: Record<string, string> = {}): Promise<Node> => {
    const adminPort = await freePort();
    const p = await startProcess(mode, { ...env, NODE_ID: id, ADMIN_PORT: String(adminPort), ...extra });
    const n: Node = Object.assign(p, { id, adminUrl: `http://127.0.0.1:${adminPort}` });
    nodes.push(n);
    return n;
  };
  try {
    const origin = await start('origin', 'origin-1');
    env.ORIGIN_URL = origin.url;
    const fanouts: Node[] = [];
    for (let i = 0; i < (opts.fanouts ?? 1); i++) fanouts.push(await start('fanout', `fanout-${i + 1}`));
    const gateways: Node[] = [];
    for (let i = 0; i < (opts.gateways ?? 1); i++) gateways.push(await start('gateway', `gateway-${i + 1}`));
    return {
      kafka,
      redis,
      origin,
      fanouts,
      gateways,
      env,
      startFanout: (id) => start('fanout', id),
      async stats(node) {
        const r = await fetch(`${node.adminUrl}/stats`);
        return r.json();
      },
      async stop() {
        for (const n of [...nodes].reverse()) await n.kill9();
        await redis.close();
        await kafka.stop();
      },
    };
  } catch (err) {
    for (const n of nodes) await n.kill9();
    await redis.close();
    await kafka.stop();
    throw err;
  }
}
