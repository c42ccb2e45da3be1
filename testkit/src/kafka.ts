/**
 * Real Apache Kafka for tests and the local cluster: N KRaft nodes (default 3), each one JVM in
 * combined mode (broker + controller, all of them quorum voters), on free 127.0.0.1 ports, with
 * storage formatted per run in a temporary directory that is removed afterwards.
 *
 * The jars are the pinned Maven artifacts that scripts/install-kafka.sh caches under
 * ~/.cache/replicant/kafka-<version>/libs (it is run on first use when the cache is empty).
 *
 * Faults are real process faults: `kill9(id)` (SIGKILL) and `restart(id)` (same ports, same data:
 * the node recovers its log and rejoins), `pause(id)` / `resume(id)` (SIGSTOP / SIGCONT: a stalled
 * node that holds its connections open and answers nothing). Topics are created through kafkajs'
 * admin API, as a real deployment would.
 *
 * Settings chosen for tests on a small machine (see BROKER_DEFAULTS): bounded heaps (`heapMb`,
 * default 384 per node), few network/io threads, 4 partitions for the internal topics, no group
 * join delay, failure detection in about 3 s (broker session timeout, ISR lag time) instead of the
 * production 9-30 s, min.insync.replicas 2 of 3 so an acknowledged write (acks=-1) is on two nodes.
 *
 * Bounds: each JVM's heap is `heapMb`; output kept per node for error messages is OUTPUT_TAIL.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { freePort, halt, launch, ownDir, PortInUseError, releaseDir, run } from './process.js';
import { makeTestCertificates } from './tls.js';

/** The pinned Kafka version; scripts/install-kafka.sh has the same default. */
export const KAFKA_VERSION = '4.1.1';

export interface KafkaClusterOptions {
  /** number of nodes (default 3); node ids are 1..nodes */
  nodes?: number;
  /** max heap per JVM in MiB (default 384) */
  heapMb?: number;
  /**
   * JIT: 'fast-start' (C1 only: about half the startup CPU, default) or 'full' (C1 + C2: slower to
   * start, faster when warm; the write benchmark uses it)
   */
  jit?: 'fast-start' | 'full';
  /** extra broker properties (override BROKER_DEFAULTS) */
  config?: Record<string, string | number>;
  /** how long to wait for every node to be up (default 90 s: JVM startup on a busy 2-core machine) */
  startTimeoutMs?: number;
  /** print the nodes' log lines (WARN and above) to this process's stderr (default false) */
  verbose?: boolean;
  /**
   * Clients reach the brokers over SASL_SSL only: TLS with a certificate of a test CA made with
   * openssl, and SCRAM-SHA-512 logins for these users (name -> password), created when the storage
   * is formatted (`kafka-storage format --add-scram`). The brokers talk to each other on a
   * PLAINTEXT listener of their own (which the testkit's admin client uses too).
   */
  secure?: { users: Record<string, string> };
}

/** how a client reaches a `secure` cluster (see KafkaClusterOptions.secure) */
export interface KafkaClusterSecurity {
  /** the test CA (KAFKA_SSL_CA_FILE) */
  readonly caFile: string;
  readonly saslMechanism: 'scram-sha-512';
  readonly users: Readonly<Record<string, string>>;
}

export interface KafkaNode {
  readonly id: number;
  /** broker listener port (clients) */
  readonly port: number;
  /** controller listener port (KRaft quorum) */
  readonly controllerPort: number;
  /** `127.0.0.1:<port>` */
  readonly address: string;
  /** running and not paused */
  readonly state: 'running' | 'paused' | 'stopped';
  readonly pid: number | undefined;
}

export interface TopicSpec {
  partitions: number;
  /** default min(3, nodes) */
  replicationFactor?: number;
  /** topic configs, e.g. { 'retention.ms': '1000' } */
  config?: Record<string, string>;
}

export interface KafkaCluster {
  /** `host:port` of every broker, for kafkajs `brokers` / KAFKA_BROKERS (the SASL_SSL listener when `secure`) */
  readonly bootstraps: string[];
  /** with `secure`: the CA and the SCRAM users */
  readonly security?: KafkaClusterSecurity;
  readonly nodes: readonly KafkaNode[];
  /** CreateTopics through kafkajs' admin API; resolves once every partition has a leader */
  createTopic(name: string, spec: TopicSpec): Promise<void>;
  /** partition -> leader node id (-1: none) as the cluster's metadata says now */
  leaders(topic: string): Promise<Map<number, number>>;
  /** DeleteRecords through kafkajs' admin API: moves `partition`'s log start to `offset` (what retention does) */
  deleteRecords(topic: string, partition: number, offset: bigint): Promise<void>;
  /** SIGKILL node `id` (a crash: no shutdown work) and wait for its exit */
  kill9(id: number): Promise<void>;
  /** starts a stopped node again on the same ports with the same data; resolves once it is up */
  restart(id: number): Promise<void>;
  /** SIGSTOP node `id`: the process stalls with its sockets open */
  pause(id: number): Promise<void>;
  /** SIGCONT node `id` */
  resume(id: number): void;
  /** stops every node (SIGTERM, SIGKILL after a grace period) and removes the data; idempotent */
  stop(): Promise<void>;
}

const OFFSETS_PARTITIONS = 4;

/**
 * Resolves once the kernel reports `pid` stopped ('T' in /proc/<pid>/stat). SIGSTOP is delivered
 * asynchronously and the kernel offers no event for it, so this polls, bounded to 5 s.
 */
async function stoppedState(pid: number): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (/^\d+ \([^)]*\) T /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`kafka node pid ${pid} did not stop within 5 s of SIGSTOP`);
}

/** Java's String.hashCode, which places a consumer group on a partition of __consumer_offsets. */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** one group id for each partition of __consumer_offsets */
function groupsCoveringOffsetsPartitions(partitions: number): string[] {
  const byPartition = new Map<number, string>();
  for (let i = 0; byPartition.size < partitions; i++) {
    const id = `testkit-warmup-${i}`;
    const p = Math.abs(javaHash(id)) % partitions;
    if (!byPartition.has(p)) byPartition.set(p, id);
  }
  return [...byPartition.values()];
}

/** Broker settings for tests; see the module header for why each differs from Kafka's default. */
function brokerDefaults(nodes: number): Record<string, string | number> {
  const rf = Math.min(3, nodes);
  return {
    'num.network.threads': 2,
    'num.io.threads': 2,
    'background.threads': 2,
    'num.replica.fetchers': 1,
    'num.recovery.threads.per.data.dir': 1,
    'offsets.topic.replication.factor': rf,
    'offsets.topic.num.partitions': OFFSETS_PARTITIONS,
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': Math.min(2, rf),
    'transaction.state.log.num.partitions': 4,
    'share.coordinator.state.topic.replication.factor': rf,
    'share.coordinator.state.topic.min.isr': Math.min(2, rf),
    'share.coordinator.state.topic.num.partitions': 2,
    'default.replication.factor': rf,
    'min.insync.replicas': Math.min(2, rf),
    'group.initial.rebalance.delay.ms': 0,
    'auto.create.topics.enable': 'false',
    'log.segment.bytes': 1024 * 1024,
    'broker.session.timeout.ms': 3000,
    'broker.heartbeat.interval.ms': 500,
    'replica.lag.time.max.ms': 3000,
    'controller.quorum.election.timeout.ms': 1000,
    'controller.quorum.fetch.timeout.ms': 2000,
    'unclean.leader.election.enable': 'false',
  };
}

const LOG4J2 = `status = error
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = out
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = info
`;
const STARTED = 'Kafka Server started';
const START_ATTEMPTS = 3;

/** repository root from testkit/dist/src/kafka.js (or testkit/src/kafka.ts) */
function repoRoot(): string {
  const here = import.meta.url;
  return fileURLToPath(new URL(here.includes('/dist/') ? '../../../' : '../../', here));
}

export function kafkaLibsDir(version = KAFKA_VERSION): string {
  const cache = process.env.REPLICANT_CACHE ?? join(homedir(), '.cache', 'replicant');
  return join(cache, `kafka-${version}`, 'libs');
}

let installing: Promise<string> | undefined;

/** The classpath directory of the pinned Kafka, fetched by scripts/install-kafka.sh if not cached. */
export function ensureKafkaInstalled(): Promise<string> {
  installing ??= (async () => {
    const libs = kafkaLibsDir();
    if (existsSync(join(libs, '..', '.complete'))) return libs;
    await run('scripts/install-kafka.sh', 'bash', [join(repoRoot(), 'scripts', 'install-kafka.sh')], 600_000);
    if (!existsSync(join(libs, '..', '.complete'))) throw new Error(`install-kafka.sh did not fill ${libs}`);
    return libs;
  })();
  installing.catch(() => (installing = undefined));
  return installing;
}

function javaBin(): string {
  if (process.env.JAVA) return process.env.JAVA;
  if (process.env.JAVA_HOME) return join(process.env.JAVA_HOME, 'bin', 'java');
  return 'java';
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function properties(p: Record<string, string | number>): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}

interface NodeState {
  id: number;
  port: number;
  controllerPort: number;
  /** `secure`: the brokers' own PLAINTEXT listener (port is the SASL_SSL one) */
  internalPort?: number;
  propsFile: string;
  child?: ChildProcess;
  paused: boolean;
}

/** Starts a real Kafka cluster and resolves once every node is up and registered. */
export async function startKafka(opts: KafkaClusterOptions = {}): Promise<KafkaCluster> {
  const count = opts.nodes ?? 3;
  if (!Number.isInteger(count) || count < 1) throw new RangeError('nodes must be a positive integer');
  const libs = await ensureKafkaInstalled();
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(count, libs, opts);
    } catch (err) {
      // a port taken between freePort() and the bind: the quorum's addresses are in every node's
      // config, so start over with fresh ports and fresh storage
      if (err instanceof PortInUseError && attempt < START_ATTEMPTS) continue;
      throw err;
    }
  }
}

async function startOnce(count: number, libs: string, opts: KafkaClusterOptions): Promise<KafkaCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'replicant-kafka-'));
  ownDir(dir);
  const heap = opts.heapMb ?? 384;
  const startTimeoutMs = opts.startTimeoutMs ?? 90_000;
  const java = javaBin();
  const log4j = join(dir, 'log4j2.properties');
  writeFileSync(log4j, LOG4J2);
  const jvm = [
    `-Xmx${heap}m`,
    '-Xms64m',
    '-XX:+UseSerialGC',
    ...(opts.jit === 'full' ? [] : ['-XX:TieredStopAtLevel=1']),
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4j}`,
    '-cp',
    join(libs, '*'),
  ];

  const nodes: NodeState[] = [];
  const taken = new Set<number>();
  const port = async () => {
    for (;;) {
      const p = await freePort();
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
  };
  for (let id = 1; id <= count; id++) {
    nodes.push({
      id,
      port: await port(),
      controllerPort: await port(),
      internalPort: opts.secure ? await port() : undefined,
      propsFile: join(dir, `node-${id}.properties`),
      paused: false,
    });
  }
  const certs = opts.secure ? await makeTestCertificates(join(dir, 'tls')) : undefined;
  const voters = nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(',');
  for (const n of nodes) {
    const data = join(dir, `data-${n.id}`);
    mkdirSync(data);
    const listeners: Record<string, string> = certs
      ? {
          listeners: `SASL_SSL://127.0.0.1:${n.port},PLAINTEXT://127.0.0.1:${n.internalPort},CONTROLLER://127.0.0.1:${n.controllerPort}`,
          'advertised.listeners': `SASL_SSL://127.0.0.1:${n.port},PLAINTEXT://127.0.0.1:${n.internalPort}`,
          'listener.security.protocol.map': 'SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
          'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
          'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
          'ssl.keystore.type': 'PEM',
          'ssl.keystore.location': certs.keyAndCertFile,
          'ssl.client.auth': 'none',
        }
      : {
          listeners: `PLAINTEXT://127.0.0.1:${n.port},CONTROLLER://127.0.0.1:${n.controllerPort}`,
          'advertised.listeners': `PLAINTEXT://127.0.0.1:${n.port}`,
          'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        };
    writeFileSync(
      n.propsFile,
      properties({
        'process.roles': 'broker,controller',
        'node.id': n.id,
        'controller.quorum.voters': voters,
        ...listeners,
        'inter.broker.listener.name': 'PLAINTEXT',
        'controller.listener.names': 'CONTROLLER',
        'log.dirs': data,
        ...brokerDefaults(count),
        ...opts.config,
      }),
    );
  }
  const scram = Object.entries(opts.secure?.users ?? {}).flatMap(([name, password]) => ['--add-scram', `SCRAM-SHA-512=[name=${name},password=${password}]`]);

  // an id starting with '-' would be read as an option by kafka-storage (`-t -x…`: "expected one
  // argument", 1 start in 64); Kafka's own Uuid.randomUuid() skips those too
  let clusterId: string;
  do clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-'));
  const start = async (n: NodeState) => {
    const child = await launch({
      name: `kafka node ${n.id} (port ${n.port})`,
      bin: java,
      args: [...jvm, 'kafka.Kafka', n.propsFile],
      ready: STARTED,
      startTimeoutMs,
      portInUse: /Address already in use|BindException/,
      dieWithParent: true,
    });
    if (opts.verbose) {
      for (const s of [child.stdout, child.stderr]) s?.on('data', (d: Buffer) => process.stderr.write(`[kafka ${n.id}] ${d}`));
    }
    n.child = child;
    n.paused = false;
    child.once('exit', () => {
      if (n.child === child) n.child = undefined;
    });
  };

  const bootstraps = nodes.map((n) => `127.0.0.1:${n.port}`);
  // the testkit's own clients use the brokers' PLAINTEXT listener of a secure cluster
  const adminPort = (n: NodeState) => n.internalPort ?? n.port;
  const admin = new Kafka({ clientId: 'testkit', brokers: nodes.map((n) => `127.0.0.1:${adminPort(n)}`), logLevel: logLevel.NOTHING }).admin();
  let adminConnected = false;
  const withAdmin = async <T>(f: (a: typeof admin) => Promise<T>): Promise<T> => {
    if (!adminConnected) {
      await admin.connect();
      adminConnected = true;
    }
    return f(admin);
  };
  const stopAll = async () => {
    // the nodes first: a kafkajs disconnect can wait on a request to a node that no longer answers
    await Promise.all(nodes.map((n) => (n.child ? halt(n.child, 'SIGTERM', 10_000) : undefined)));
    if (adminConnected) await withTimeout(admin.disconnect(), 2000).catch(() => {});
    adminConnected = false;
    releaseDir(dir);
  };

  try {
    // the formatter writes each node's meta.properties and the bootstrap metadata checkpoint
    await Promise.all(
      nodes.map((n) =>
        run(`kafka storage format (node ${n.id})`, java, [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', n.propsFile, ...scram], 120_000),
      ),
    );
    await Promise.all(nodes.map(start));
    // "started" means this node is up; wait until the controller sees every broker registered
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      const seen = await withAdmin((a) => a.describeCluster()).then(
        (d) => d.brokers.length,
        () => 0,
      );
      if (seen === count) break;
      if (Date.now() > deadline) throw new Error(`kafka: only ${seen} of ${count} brokers registered after ${startTimeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // the group coordinator: __consumer_offsets is created on the first FindCoordinator and each
    // of its partitions loads after that; a consumer that joins meanwhile fails ("the coordinator
    // is loading"). Ask once for a group on every partition (kafkajs retries until it is served).
    const groups = groupsCoveringOffsetsPartitions(OFFSETS_PARTITIONS);
    for (;;) {
      const served = await withAdmin((a) => a.describeGroups(groups)).then(
        () => true,
        () => false,
      );
      if (served) break;
      if (Date.now() > deadline) throw new Error(`kafka: the group coordinator was not ready after ${startTimeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stopAll();
    throw err;
  }

  const node = (id: number): NodeState => {
    const n = nodes[id - 1];
    if (!Number.isInteger(id) || n === undefined) throw new RangeError(`no kafka node ${id} (nodes are 1..${count})`);
    return n;
  };
  let stopping: Promise<void> | undefined;
  return {
    bootstraps,
    security: certs ? { caFile: certs.caFile, saslMechanism: 'scram-sha-512', users: { ...opts.secure!.users } } : undefined,
    nodes: nodes.map((n) => ({
      id: n.id,
      port: n.port,
      controllerPort: n.controllerPort,
      address: `127.0.0.1:${n.port}`,
      get state() {
        return n.child ? (n.paused ? 'paused' : 'running') : 'stopped';
      },
      get pid() {
        return n.child?.pid;
      },
    })),
    async createTopic(name, spec) {
      await withAdmin(async (a) => {
        const created = await a.createTopics({
          topics: [
            {
              topic: name,
              numPartitions: spec.partitions,
              replicationFactor: spec.replicationFactor ?? Math.min(3, count),
              configEntries: Object.entries(spec.config ?? {}).map(([k, v]) => ({ name: k, value: v })),
            },
          ],
          waitForLeaders: false,
        });
        if (!created) throw new Error(`kafka: topic ${name} already exists`);
        // kafkajs' own waitForLeaders gives up when the broker it asks has not learned of the topic
        // yet (UNKNOWN_TOPIC_OR_PARTITION, seen on a loaded machine), and KRaft brokers learn of it
        // one by one: ask every node itself, until each one names a leader for every partition
        // (the metadata has no event to await, so this polls)
        const deadline = Date.now() + 60_000;
        await Promise.all(
          nodes.map(async (n) => {
            if (!n.child || n.paused) return;
            const one = new Kafka({ clientId: 'testkit-meta', brokers: [`127.0.0.1:${adminPort(n)}`], logLevel: logLevel.NOTHING }).admin();
            try {
              await one.connect();
              for (;;) {
                const led = await one.fetchTopicMetadata({ topics: [name] }).then(
                  (m) => m.topics[0]?.partitions.length === spec.partitions && m.topics[0].partitions.every((p) => p.leader >= 0),
                  () => false,
                );
                if (led) return;
                if (Date.now() > deadline) throw new Error(`kafka: node ${n.id} knows no leader for every partition of ${name} after 60 s`);
                await new Promise((r) => setTimeout(r, 100));
              }
            } finally {
              await withTimeout(one.disconnect(), 2000).catch(() => {});
            }
          }),
        );
      });
    },
    async deleteRecords(topic, partition, offset) {
      await withAdmin(async (a) => {
        // kafkajs finds the leader in its cached metadata: load the topic's first
        await a.fetchTopicMetadata({ topics: [topic] });
        try {
          await a.deleteTopicRecords({ topic, partitions: [{ partition, offset: String(offset) }] });
        } catch (err) {
          const parts = (err as { partitions?: { error?: Error }[] }).partitions ?? [];
          throw new Error(`kafka: DeleteRecords ${topic}/${partition} to ${offset}: ${parts.map((x) => x.error?.message).join('; ') || (err as Error).message}`);
        }
      });
    },
    async leaders(topic) {
      const meta = await withAdmin((a) => a.fetchTopicMetadata({ topics: [topic] }));
      const t = meta.topics.find((x) => x.name === topic);
      if (!t) throw new Error(`kafka: no topic ${topic}`);
      return new Map(t.partitions.map((p) => [p.partitionId, p.leader]));
    },
    async kill9(id) {
      const n = node(id);
      const c = n.child;
      if (!c) return;
      n.child = undefined;
      n.paused = false;
      await halt(c, 'SIGKILL');
    },
    async restart(id) {
      const n = node(id);
      if (n.child) {
        const c = n.child;
        n.child = undefined;
        await halt(c, 'SIGTERM', 10_000);
      }
      await start(n);
    },
    async pause(id) {
      const n = node(id);
      if (!n.child) throw new Error(`kafka node ${id} is not running`);
      n.child.kill('SIGSTOP');
      n.paused = true;
      await stoppedState(n.child.pid!);
    },
    resume(id) {
      const n = node(id);
      if (!n.child) throw new Error(`kafka node ${id} is not running`);
      n.child.kill('SIGCONT');
      n.paused = false;
    },
    stop: () => (stopping ??= stopAll()),
  };
}
