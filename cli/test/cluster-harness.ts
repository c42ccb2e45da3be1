/**
 * A whole cluster of real processes for tests: a real Apache Kafka cluster (3 KRaft brokers from
 * the test kit, topic created through the admin API), a real redis-server, `replicant origin`, N `replicant fanout`
 * and M `replicant gateway` processes, all on free 127.0.0.1 ports. Smaller variants (origin only,
 * origin + one replica + one gateway) come from `fanouts` / `gateways`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startKafka, startRedis, freePort, makeTestCertificates, type KafkaCluster, type RedisServer } from '@replicant/testkit';
import { startProcess, type DevProcess } from './harness.js';

export interface ClusterOptions {
  fanouts?: number;
  gateways?: number;
  /** origins (default 1); gateway i writes to origin i mod origins (`origins`; `origin` is the first) */
  origins?: number;
  /** the origin index each gateway writes to (instead of i mod origins) */
  gatewayOrigins?: number[];
  partitions?: number;
  /** Kafka brokers (default 3) */
  brokers?: number;
  /** extra env for every replicant process */
  env?: Record<string, string>;
  /** extra env for the origin only */
  originEnv?: Record<string, string>;
  /** redis-server with an append-only file fsynced on every write: its data survives restart() */
  redisPersistence?: boolean;
  /**
   * Secured as teams run them: the brokers' client listener is SASL_SSL with a SCRAM-SHA-512 user
   * (its password given through KAFKA_SASL_PASSWORD_FILE), Redis is rediss:// with an ACL user, both
   * verified against a test CA (KAFKA_SSL_CA_FILE, REDIS_TLS_CA_FILE).
   */
  secure?: boolean;
  /** runs once Kafka and Redis are up, before any replicant process starts */
  setup?: (kafka: KafkaCluster, redis: RedisServer) => Promise<void>;
}

export interface Node extends DevProcess {
  id: string;
  adminUrl: string;
}

export interface Cluster {
  kafka: KafkaCluster;
  redis: RedisServer;
  origin: Node;
  origins: Node[];
  fanouts: Node[];
  gateways: Node[];
  env: Record<string, string>;
  topic: string;
  startFanout(id: string): Promise<Node>;
  /** another `replicant origin` on the same Kafka topic and Redis (a cluster runs several) */
  startOrigin(id: string): Promise<Node>;
  stats(node: Node): Promise<any>;
  stop(): Promise<void>;
}

export const TOPIC = 'replicant.docs';

/** the credentials of a `secure` cluster */
export const SECURE_USERS = { kafka: { name: 'replicant', password: 'kafka-Scram-Pass-7731' }, redis: { name: 'replicant', password: 'redis-Acl-Pass-5519' } };

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const partitions = opts.partitions ?? 8;
  const u = SECURE_USERS;
  const kafka = await startKafka({ nodes: opts.brokers ?? 3, secure: opts.secure ? { users: { [u.kafka.name]: u.kafka.password } } : undefined });
  let secureEnv: Record<string, string> = {};
  let redis: RedisServer;
  try {
    const certs = opts.secure ? await makeTestCertificates() : undefined;
    redis = await startRedis({ persistence: opts.redisPersistence ?? false, tls: certs, user: certs ? u.redis : undefined });
    if (certs) {
      const passwordFile = join(certs.dir, 'kafka-password');
      writeFileSync(passwordFile, `${u.kafka.password}\n`);
      secureEnv = {
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: kafka.security!.caFile,
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: u.kafka.name,
        KAFKA_SASL_PASSWORD_FILE: passwordFile,
        REDIS_TLS_CA_FILE: certs.caFile,
      };
    }
  } catch (err) {
    await kafka.stop();
    throw err;
  }
  const env: Record<string, string> = {
    KAFKA_BROKERS: kafka.bootstraps.join(','),
    KAFKA_TOPIC: TOPIC,
    REDIS_URL: redis.url,
    ...secureEnv,
    REGISTRY_TTL_MS: '1500',
    // links and gateway->origin writes authenticated; client auth stays off unless a test sets it
    CLUSTER_SECRET: 'cluster-harness-secret-0123456789',
    AUTH_DISABLED: 'true',
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
    await kafka.createTopic(TOPIC, { partitions });
    await opts.setup?.(kafka, redis);
    const origin = await start('origin', 'origin-1', opts.originEnv);
    env.ORIGIN_URL = origin.url;
    const origins = [origin];
    for (let i = 1; i < (opts.origins ?? 1); i++) origins.push(await start('origin', `origin-${i + 1}`, opts.originEnv));
    const fanouts: Node[] = [];
    for (let i = 0; i < (opts.fanouts ?? 1); i++) fanouts.push(await start('fanout', `fanout-${i + 1}`));
    const gateways: Node[] = [];
    for (let i = 0; i < (opts.gateways ?? 1); i++) gateways.push(await start('gateway', `gateway-${i + 1}`, { ORIGIN_URL: origins[opts.gatewayOrigins?.[i] ?? i % origins.length].url }));
    return {
      kafka,
      redis,
      origin,
      origins,
      fanouts,
      gateways,
      env,
      topic: TOPIC,
      startFanout: (id) => start('fanout', id),
      startOrigin: (id) => start('origin', id, opts.originEnv),
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

/** Prometheus text of a node's /metrics (on its ADMIN_PORT) */
export async function scrape(node: Node): Promise<string> {
  const r = await fetch(`${node.adminUrl}/metrics`);
  if (r.status !== 200) throw new Error(`GET ${node.adminUrl}/metrics: ${r.status}`);
  return r.text();
}

/** the value of one sample (`name` or `name{labels}` exactly as printed), 0 when absent */
export function metric(text: string, sample: string): number {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  }
  return 0;
}

/** VmRSS of a process in bytes, from /proc */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // fields after the command name (which may hold spaces) start at state: utime and stime are the 12th and 13th of them
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // USER_HZ is 100 on Linux
}
