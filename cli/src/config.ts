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
  /** stream-log partitions (embedded log; must match the Kafka topic in cluster mode) */
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
  };
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
