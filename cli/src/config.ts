/**
 * Typed configuration, in one place: read from the environment (the DESIGN contract names) and
 * from command-line flags (`--port 8080` or `--port=8080` overrides PORT), validated at start with
 * messages that name the variable, the value and what is expected.
 */

export type Mode = 'dev' | 'origin' | 'fanout' | 'gateway';
export const MODES: readonly Mode[] = ['dev', 'origin', 'fanout', 'gateway'];

export interface Config {
  mode: Mode;
  host: string;
  port: number;
  /** separate port for /metrics, /healthz, /readyz (0 = none; dev also serves them on PORT) */
  adminPort: number;
  dataDir: string;
  kafkaBrokers: string[];
  kafkaTopic: string;
  redisUrl: string | undefined;
  nodeId: string;
  jwtSecret: string | undefined;
  jwtPublicKey: string | undefined;
  /** stream-log partitions (embedded log; in cluster mode the partitions origin creates a missing topic with) */
  partitions: number;
  /** largest POST body (bytes) */
  maxBodyBytes: number;
  /** largest client WebSocket frame (bytes) */
  maxFrameBytes: number;
  /** per-connection send buffer bound (bytes) */
  maxSendBuffer: number;
  maxSubscriptions: number;
  /** deltas retained per document for resume */
  historySize: number;
  checkpointIntervalMs: number;
  /** writes awaiting durability before the write API sheds with 503 */
  maxInflightWrites: number;
  /** how long a drain waits between goaway and closing connections */
  drainGraceMs: number;
  // ---- client hop flow control (docs/protocol.md) ----
  /** a send buffer over MAX_SEND_BUFFER_BYTES this long closes the connection with 4008 */
  slowConsumerTimeoutMs: number;
  /** WebSocket upgrades admitted per second per gateway (token bucket) */
  admissionRate: number;
  /** upgrades admitted at once before ADMISSION_RATE applies */
  admissionBurst: number;
  /** drain: goaway.reconnectMs is spread over [0, DRAIN_SPREAD_MS) */
  drainSpreadMs: number;
  /** coalesce pending ops of a doc into exactly composed deltas (gateway flushes and replica links) */
  fanoutCoalesce: boolean;
  // ---- cluster mode (extensions, docs/operations.md) ----
  /** gateway: origin's HTTP base URL for publishes */
  originUrl: string;
  /** fanout: host:port gateways use to reach this replica's link listener (default HOST:PORT) */
  advertiseAddress: string | undefined;
  /** fanout: explicit partition list ("0-3,7"); else derived from REPLICA_INDEX/COUNT/REPLICATION */
  fanoutPartitions: string | undefined;
  replicaIndex: number | undefined;
  replicaCount: number;
  /** fanout: replicas per partition when partitions are derived from the replica index */
  replication: number;
  kafkaIdempotent: boolean;
  /** kafkajs retries of a failed request (produce, fetch, admin) before it fails: how long an append rides out a broker outage before 503 */
  kafkaRetries: number;
  /** longest a tail's fetch waits for data (a real broker answers as soon as data arrives) */
  kafkaFetchMaxWaitMs: number;
  kafkaCompression: 'none' | 'gzip';
  /** registry heartbeat TTL */
  registryTtlMs: number;
  /** fanout: deltas queued per doc per gateway link before collapsing into a snapshot */
  linkBacklog: number;
  /** gateway: credit window per replica link (frames) */
  linkWindow: number;
  /** fanout: a doc watched by more gateways than this is hot */
  hotDocGateways: number;
  /** fanout: replicas gateways spread a hot doc over */
  hotDocSpread: number;
}

export class ConfigError extends Error {}

interface Spec {
  env: string;
  def?: string;
}

const SPECS = {
  host: { env: 'HOST', def: '127.0.0.1' },
  port: { env: 'PORT' },
  adminPort: { env: 'ADMIN_PORT', def: '0' },
  dataDir: { env: 'DATA_DIR', def: './data' },
  kafkaBrokers: { env: 'KAFKA_BROKERS', def: '' },
  kafkaTopic: { env: 'KAFKA_TOPIC', def: 'replicant.docs' },
  redisUrl: { env: 'REDIS_URL' },
  nodeId: { env: 'NODE_ID' },
  jwtSecret: { env: 'AUTH_JWT_SECRET' },
  jwtPublicKey: { env: 'AUTH_JWT_PUBLIC_KEY' },
  partitions: { env: 'PARTITIONS', def: '8' },
  maxBodyBytes: { env: 'MAX_BODY_BYTES', def: String(1024 * 1024) },
  maxFrameBytes: { env: 'MAX_FRAME_BYTES', def: String(1024 * 1024) },
  maxSendBuffer: { env: 'MAX_SEND_BUFFER_BYTES', def: String(1024 * 1024) },
  maxSubscriptions: { env: 'MAX_SUBSCRIPTIONS', def: '1000' },
  historySize: { env: 'HISTORY_SIZE', def: '1024' },
  checkpointIntervalMs: { env: 'CHECKPOINT_INTERVAL_MS', def: '200' },
  maxInflightWrites: { env: 'MAX_INFLIGHT_WRITES', def: '10000' },
  drainGraceMs: { env: 'DRAIN_GRACE_MS', def: '1000' },
  slowConsumerTimeoutMs: { env: 'SLOW_CONSUMER_TIMEOUT_MS', def: '30000' },
  admissionRate: { env: 'ADMISSION_RATE', def: '2000' },
  admissionBurst: { env: 'ADMISSION_BURST', def: '4000' },
  drainSpreadMs: { env: 'DRAIN_SPREAD_MS', def: '1000' },
  fanoutCoalesce: { env: 'FANOUT_COALESCE', def: 'true' },
  originUrl: { env: 'ORIGIN_URL', def: 'http://127.0.0.1:8081' },
  advertiseAddress: { env: 'ADVERTISE_ADDRESS' },
  fanoutPartitions: { env: 'FANOUT_PARTITIONS' },
  replicaIndex: { env: 'REPLICA_INDEX' },
  replicaCount: { env: 'REPLICA_COUNT', def: '1' },
  replication: { env: 'REPLICATION', def: '2' },
  kafkaIdempotent: { env: 'KAFKA_IDEMPOTENT', def: 'true' },
  kafkaRetries: { env: 'KAFKA_RETRIES', def: '5' },
  kafkaFetchMaxWaitMs: { env: 'KAFKA_FETCH_MAX_WAIT_MS', def: '500' },
  kafkaCompression: { env: 'KAFKA_COMPRESSION', def: 'none' },
  registryTtlMs: { env: 'REGISTRY_TTL_MS', def: '3000' },
  linkBacklog: { env: 'LINK_BACKLOG', def: '256' },
  linkWindow: { env: 'LINK_WINDOW', def: '4096' },
  hotDocGateways: { env: 'HOT_DOC_GATEWAYS', def: '8' },
  hotDocSpread: { env: 'HOT_DOC_SPREAD', def: '3' },
} satisfies Record<Exclude<keyof Config, 'mode'>, Spec>;

const DEFAULT_PORT: Record<Mode, number> = { dev: 8080, origin: 8081, fanout: 8082, gateway: 8080 };

/** `--admin-port` -> `adminPort`; also accepts the env name itself (`--ADMIN_PORT`) */
function flagKey(flag: string): keyof typeof SPECS | undefined {
  const camel = flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  if (camel in SPECS) return camel as keyof typeof SPECS;
  for (const [k, s] of Object.entries(SPECS)) if (s.env === flag) return k as keyof typeof SPECS;
  return undefined;
}

export function parseArgs(argv: string[]): { mode: string | undefined; flags: Map<keyof typeof SPECS, string> } {
  const flags = new Map<keyof typeof SPECS, string>();
  let mode: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      if (mode !== undefined) throw new ConfigError(`unexpected argument ${JSON.stringify(a)}`);
      mode = a;
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const key = flagKey(name);
    if (!key) throw new ConfigError(`unknown flag --${name}`);
    let value: string | undefined = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(`flag --${name} needs a value`);
    value = value.trim();
    flags.set(key, value);
  }
  return { mode, flags };
}

function bool(name: string, v: string): boolean {
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ConfigError(`${name} must be true or false (got ${JSON.stringify(v)})`);
}

function oneOf<T extends string>(name: string, v: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new ConfigError(`${name} must be one of ${allowed.join(', ')} (got ${JSON.stringify(v)})`);
}

/** "0-3,7" -> [0,1,2,3,7], each below `partitions` */
export function parsePartitionList(spec: string, partitions: number): number[] {
  const out = new Set<number>();
  for (const part of spec.split(',').map((x) => x.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new ConfigError(`FANOUT_PARTITIONS: ${JSON.stringify(part)} is not N or N-M`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b >= partitions) throw new ConfigError(`FANOUT_PARTITIONS: ${part} is outside 0-${partitions - 1}`);
    for (let p = a; p <= b; p++) out.add(p);
  }
  if (out.size === 0) throw new ConfigError('FANOUT_PARTITIONS lists no partition');
  return [...out].sort((x, y) => x - y);
}

/**
 * Partitions a fanout replica serves: FANOUT_PARTITIONS when given; else, with REPLICA_INDEX i of
 * REPLICA_COUNT n, partition p is served by the REPLICATION replicas i where
 * (p - i) mod n < REPLICATION, so every partition has min(REPLICATION, n) replicas; else all.
 */
export function servedPartitions(cfg: Config, partitions: number): number[] {
  if (cfg.fanoutPartitions !== undefined) return parsePartitionList(cfg.fanoutPartitions, partitions);
  const all = Array.from({ length: partitions }, (_, p) => p);
  if (cfg.replicaIndex === undefined) return all;
  const n = cfg.replicaCount;
  const i = cfg.replicaIndex;
  return all.filter((p) => (((p - i) % n) + n) % n < Math.min(cfg.replication, n));
}

function int(name: string, v: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(v)) throw new ConfigError(`${name} must be an integer (got ${JSON.stringify(v)})`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max} (got ${n})`);
  return n;
}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  const { mode, flags } = parseArgs(argv);
  if (mode === undefined || !MODES.includes(mode as Mode)) {
    throw new ConfigError(`usage: replicant <${MODES.join('|')}> [--flag value ...]${mode ? ` (unknown mode ${JSON.stringify(mode)})` : ''}`);
  }
  const m = mode as Mode;
  const raw = (k: keyof typeof SPECS): string | undefined => {
    const s: Spec = SPECS[k];
    const v = flags.get(k) ?? env[s.env];
    return v === undefined || v === '' ? s.def : v;
  };
  const name = (k: keyof typeof SPECS) => SPECS[k].env;
  const num = (k: keyof typeof SPECS, min: number, max: number) => int(name(k), raw(k)!, min, max);
  const portRaw = raw('port');
  const cfg: Config = {
    mode: m,
    host: raw('host')!,
    port: portRaw === undefined ? DEFAULT_PORT[m] : int('PORT', portRaw, 0, 65535),
    adminPort: num('adminPort', 0, 65535),
    dataDir: raw('dataDir')!,
    kafkaBrokers: raw('kafkaBrokers')!.split(',').map((s) => s.trim()).filter(Boolean),
    kafkaTopic: raw('kafkaTopic')!,
    redisUrl: raw('redisUrl'),
    nodeId: raw('nodeId') ?? `${m}-${process.pid}`,
    jwtSecret: raw('jwtSecret'),
    jwtPublicKey: raw('jwtPublicKey'),
    partitions: num('partitions', 1, 4096),
    maxBodyBytes: num('maxBodyBytes', 1, 64 * 1024 * 1024),
    maxFrameBytes: num('maxFrameBytes', 1024, 64 * 1024 * 1024),
    maxSendBuffer: num('maxSendBuffer', 1024, 1024 * 1024 * 1024),
    maxSubscriptions: num('maxSubscriptions', 1, 1_000_000),
    historySize: num('historySize', 0, 1_000_000),
    checkpointIntervalMs: num('checkpointIntervalMs', 10, 60_000),
    maxInflightWrites: num('maxInflightWrites', 1, 10_000_000),
    drainGraceMs: num('drainGraceMs', 0, 600_000),
    slowConsumerTimeoutMs: num('slowConsumerTimeoutMs', 100, 3_600_000),
    admissionRate: num('admissionRate', 1, 1_000_000),
    admissionBurst: num('admissionBurst', 1, 10_000_000),
    drainSpreadMs: num('drainSpreadMs', 0, 600_000),
    fanoutCoalesce: bool('FANOUT_COALESCE', raw('fanoutCoalesce')!),
    originUrl: raw('originUrl')!,
    advertiseAddress: raw('advertiseAddress'),
    fanoutPartitions: raw('fanoutPartitions'),
    replicaIndex: raw('replicaIndex') === undefined ? undefined : num('replicaIndex', 0, 100_000),
    replicaCount: num('replicaCount', 1, 100_000),
    replication: num('replication', 1, 100_000),
    kafkaIdempotent: bool('KAFKA_IDEMPOTENT', raw('kafkaIdempotent')!),
    kafkaRetries: num('kafkaRetries', 0, 100),
    kafkaFetchMaxWaitMs: num('kafkaFetchMaxWaitMs', 1, 60_000),
    kafkaCompression: oneOf('KAFKA_COMPRESSION', raw('kafkaCompression')!, ['none', 'gzip'] as const),
    registryTtlMs: num('registryTtlMs', 500, 600_000),
    linkBacklog: num('linkBacklog', 1, 1_000_000),
    linkWindow: num('linkWindow', 1, 1_000_000),
    hotDocGateways: num('hotDocGateways', 1, 1_000_000),
    hotDocSpread: num('hotDocSpread', 1, 1000),
  };
  if (!/^https?:\/\/[^/\s]+/.test(cfg.originUrl)) {
    throw new ConfigError(`ORIGIN_URL must be an http(s) URL (got ${JSON.stringify(cfg.originUrl)})`);
  }
  if (cfg.advertiseAddress !== undefined && !/^[^\s:]+:\d{1,5}$/.test(cfg.advertiseAddress)) {
    throw new ConfigError(`ADVERTISE_ADDRESS must be host:port (got ${JSON.stringify(cfg.advertiseAddress)})`);
  }
  if (cfg.replicaIndex !== undefined && cfg.replicaIndex >= cfg.replicaCount) {
    throw new ConfigError(`REPLICA_INDEX must be below REPLICA_COUNT (${cfg.replicaIndex} >= ${cfg.replicaCount})`);
  }
  if (cfg.fanoutPartitions !== undefined) parsePartitionList(cfg.fanoutPartitions, cfg.partitions);
  if (!/^[A-Za-z0-9_.:-]+$/.test(cfg.host) && cfg.host !== '::1') {
    throw new ConfigError(`HOST must be an IP address or host name (got ${JSON.stringify(cfg.host)})`);
  }
  for (const b of cfg.kafkaBrokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(b)) throw new ConfigError(`KAFKA_BROKERS entries must be host:port (got ${JSON.stringify(b)})`);
  }
  if (cfg.redisUrl !== undefined && !/^rediss?:\/\//.test(cfg.redisUrl)) {
    throw new ConfigError(`REDIS_URL must start with redis:// or rediss:// (got ${JSON.stringify(cfg.redisUrl)})`);
  }
  if (cfg.jwtPublicKey !== undefined && !cfg.jwtPublicKey.includes('BEGIN')) {
    throw new ConfigError('AUTH_JWT_PUBLIC_KEY must be a PEM public key (-----BEGIN PUBLIC KEY-----…)');
  }
  if (cfg.jwtSecret !== undefined && cfg.jwtSecret.length < 16) {
    throw new ConfigError('AUTH_JWT_SECRET must be at least 16 characters');
  }
  return cfg;
}

/** the embedded default unless both distributed backends are configured */
export function isDistributed(cfg: Config): boolean {
  return cfg.kafkaBrokers.length > 0 && cfg.redisUrl !== undefined;
}
