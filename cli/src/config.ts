/**
 * Typed configuration in ONE table (`SETTINGS`): each row is a setting's env name, flag, parser
 * (type and bounds), default per mode, the roles that read it and its help line. Everything else
 * is derived from the table: the `Config` type, the `node:util` parseArgs options, validation and
 * `replicant --help`. Adding a setting is adding one row.
 *
 * Precedence: flag (`--max-body-bytes 100`, the env name in kebab case) over env over default.
 * A bad or missing value is a `ConfigError` whose message names the setting; the CLI prints it as
 * one line and exits 2.
 */
import { parseArgs as parseArgv } from 'node:util';
import { accessSync, constants, readFileSync } from 'node:fs';
import type { KafkaSecurity, RedisTarget } from '@replicant/stream';
import { ViewRules, ViewsError } from '@replicant/protocol';

export type Mode = 'dev' | 'origin' | 'fanout' | 'gateway';
export const MODES: readonly Mode[] = ['dev', 'origin', 'fanout', 'gateway'];

export const MODE_HELP: Record<Mode, string> = {
  dev: 'origin + one replica + gateway in one process on one port, file log and snapshots under DATA_DIR (no Kafka, no Redis)',
  origin: 'the write API (POST/GET /v1/docs/{id}), materializer and checkpointer over Kafka and Redis',
  fanout: 'a fan-out replica: tails its partitions, serves gateway links on PORT',
  gateway: 'the WebSocket edge at /v1/stream; routes docs to replicas found in Redis, publishes to ORIGIN_URL',
};

export class ConfigError extends Error {}

/** how a raw string (env or flag) becomes a typed value; `type` is shown in --help */
export interface Parser<T> {
  type: string;
  parse(raw: string | undefined, name: string): T;
}

function required(raw: string | undefined, name: string): string {
  if (raw === undefined) throw new ConfigError(`${name} is required`);
  return raw;
}

const str = (pattern?: RegExp, what?: string): Parser<string> => ({
  type: what ?? 'string',
  parse(raw, name) {
    const v = required(raw, name);
    if (pattern && !pattern.test(v)) throw new ConfigError(`${name} must be ${what ?? pattern} (got ${JSON.stringify(v)})`);
    return v;
  },
});

const int = (min: number, max: number): Parser<number> => ({
  type: `integer ${min}..${max}`,
  parse(raw, name) {
    const v = required(raw, name);
    if (!/^-?\d+$/.test(v)) throw new ConfigError(`${name} must be an integer (got ${JSON.stringify(v)})`);
    const n = Number(v);
    if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max} (got ${n})`);
    return n;
  },
});

const bool: Parser<boolean> = {
  type: 'true|false',
  parse(raw, name) {
    const v = required(raw, name);
    if (/^(1|true|yes|on)$/i.test(v)) return true;
    if (/^(0|false|no|off)$/i.test(v)) return false;
    throw new ConfigError(`${name} must be true or false (got ${JSON.stringify(v)})`);
  },
};

const oneOf = <T extends string>(...allowed: T[]): Parser<T> => ({
  type: allowed.join('|'),
  parse(raw, name) {
    const v = required(raw, name);
    if ((allowed as string[]).includes(v)) return v as T;
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')} (got ${JSON.stringify(v)})`);
  },
});

/** comma list, each entry checked against `entry` */
const list = (entry: RegExp, what: string): Parser<string[]> => ({
  type: `comma list of ${what}`,
  parse(raw, name) {
    const items = required(raw, name).split(',').map((s) => s.trim()).filter(Boolean);
    for (const b of items) if (!entry.test(b)) throw new ConfigError(`${name} entries must be ${what} (got ${JSON.stringify(b)})`);
    return items;
  },
});

/** absent (unset or empty) is `undefined` instead of an error */
const optional = <T>(p: Parser<T>): Parser<T | undefined> => ({
  type: p.type,
  parse: (raw, name) => (raw === undefined ? undefined : p.parse(raw, name)),
});

const HOST_PORT = /^[^\s:]+:\d{1,5}$/;

/** a credential: checked for length only, and never echoed in an error (secrets stay out of logs) */
const secret = (minLen: number): Parser<string> => ({
  type: `secret, at least ${minLen} characters`,
  parse(raw, name) {
    const v = required(raw, name);
    if (v.length < minLen) throw new ConfigError(`${name} must be at least ${minLen} characters`);
    return v;
  },
});

/** a redis:// or rediss:// URL; never echoed (it may hold a password) */
const redisUrl: Parser<string> = {
  type: 'a redis:// or rediss:// URL',
  parse(raw, name) {
    const v = required(raw, name);
    let ok = /^rediss?:\/\//.test(v);
    try {
      new URL(v);
    } catch {
      ok = false;
    }
    if (!ok) throw new ConfigError(`${name} must be a redis:// or rediss:// URL, [user:password@]host:port[/db] (the value is not shown: it may hold a password)`);
    return v;
  },
};

/** a path that must name a readable file (checked in validate) */
const file = (what: string): Parser<string> => ({ type: `path to a ${what}`, parse: (raw, name) => required(raw, name) });

/** comma list of credentials, each at least `minLen` characters, never echoed */
const secretList = (minLen: number): Parser<string[]> => ({
  type: `comma list of secrets, each at least ${minLen} characters`,
  parse(raw, name) {
    const items = required(raw, name).split(',').map((s) => s.trim()).filter(Boolean);
    if (items.some((k) => k.length < minLen)) throw new ConfigError(`${name} entries must be at least ${minLen} characters each`);
    return items;
  },
});

/** one entry of INGEST_TOPICS: a Kafka topic, how its values read, and the prefix of its doc ids */
export interface IngestTopicSpec {
  topic: string;
  format: 'merge-patch' | 'upsert' | 'debezium';
  prefix: string;
}

const INGEST_FORMATS = ['merge-patch', 'upsert', 'debezium'] as const;
const KAFKA_TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
const DOC_PREFIX = /^(?:[A-Za-z0-9][A-Za-z0-9._:~-]{0,199})?$/;

/** INGEST_TOPICS: comma list of `<topic>=<format>[:<doc prefix>]` (DESIGN.md "Kafka-native") */
export const ingestTopics: Parser<IngestTopicSpec[]> = {
  type: 'comma list of <topic>=<merge-patch|upsert|debezium>[:<doc prefix>]',
  parse(raw, name) {
    const out: IngestTopicSpec[] = [];
    for (const item of (raw ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
      const m = /^([^=]+)=([a-z-]+)(?::(.*))?$/.exec(item);
      if (!m) throw new ConfigError(`${name}: ${JSON.stringify(item)} is not <topic>=<format>[:<doc prefix>]`);
      const [, topic, format, prefix = ''] = m;
      if (!KAFKA_TOPIC_NAME.test(topic)) throw new ConfigError(`${name}: ${JSON.stringify(topic)} is not a Kafka topic name ([A-Za-z0-9._-], at most 249)`);
      if (!(INGEST_FORMATS as readonly string[]).includes(format)) {
        throw new ConfigError(`${name}: format ${JSON.stringify(format)} of topic ${topic} must be one of ${INGEST_FORMATS.join(', ')}`);
      }
      if (!DOC_PREFIX.test(prefix)) {
        throw new ConfigError(`${name}: doc prefix ${JSON.stringify(prefix)} of topic ${topic} must start a document id ([A-Za-z0-9][A-Za-z0-9._:~-]*, at most 200)`);
      }
      if (out.some((t) => t.topic === topic)) throw new ConfigError(`${name}: topic ${topic} is listed twice`);
      out.push({ topic, format: format as IngestTopicSpec['format'], prefix });
    }
    return out;
  },
};

/** VIEWS_FILE: a JSON file of per-user view rules, read and compiled at start (DESIGN.md "Per-user views") */
export const viewsFile: Parser<ViewRules> = {
  type: 'path to a JSON views file',
  parse(raw, name) {
    if (raw === undefined || raw === '') return ViewRules.NONE;
    let text: string;
    try {
      text = readFileSync(raw, 'utf8');
    } catch (err) {
      throw new ConfigError(`${name} ${JSON.stringify(raw)} is not a readable file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`${name} ${JSON.stringify(raw)} is not JSON (${(err as Error).message})`);
    }
    try {
      return ViewRules.parse(json);
    } catch (err) {
      if (err instanceof ViewsError) throw new ConfigError(`${name} ${JSON.stringify(raw)}: ${err.message}`);
      throw err;
    }
  },
};

/** a raw default: the same for every mode, per mode (a mode not listed has none), or computed */
type Default = string | Partial<Record<Mode, string>> | ((mode: Mode) => string);

export interface Setting<T> {
  /** environment variable (the DESIGN contract name); the flag is its kebab case unless `flag` says otherwise */
  env: string;
  flag?: string;
  parser: Parser<T>;
  def?: Default;
  /** what the default is when it is computed (shown in --help instead of `def`) */
  defHelp?: string;
  /** the roles that read it (default: all); `replicant <role> --help` lists these */
  roles?: readonly Mode[];
  /** roles that refuse to start without it */
  requiredIn?: readonly Mode[];
  /** a secret: `<ENV>_FILE` may name a file holding the value instead (a mounted Secret; one trailing newline dropped) */
  fromFile?: boolean;
  help: string;
}

const CLUSTER: readonly Mode[] = ['origin', 'fanout', 'gateway'];
/** the roles that talk to Kafka (the KAFKA_SSL* and KAFKA_SASL_* rows) */
export const KAFKA_ROLES: readonly Mode[] = ['origin', 'fanout'];
const set = <T>(s: Setting<T>): Setting<T> => s;

/** THE table. Keys are the `Config` field names. */
export const SETTINGS = {
  host: set({ env: 'HOST', parser: str(/^(?:[A-Za-z0-9_.:-]+|::1)$/, 'an IP address or host name'), def: '127.0.0.1', help: 'address to listen on' }),
  port: set({
    env: 'PORT',
    parser: int(0, 65535),
    def: { dev: '8080', origin: '8081', fanout: '8082', gateway: '8080' },
    help: 'main port: HTTP + WebSocket (dev), HTTP (origin), gateway links (fanout), WebSocket (gateway); 0 = any free port',
  }),
  adminPort: set({ env: 'ADMIN_PORT', parser: int(0, 65535), def: '0', help: 'separate port for /metrics, /healthz, /readyz (0 = none; dev also serves them on PORT)' }),
  dataDir: set({ env: 'DATA_DIR', parser: str(), def: './data', roles: ['dev'], help: 'where the embedded file log and snapshots live' }),
  kafkaBrokers: set({
    env: 'KAFKA_BROKERS',
    parser: list(HOST_PORT, 'host:port'),
    def: '',
    roles: ['origin', 'fanout'],
    requiredIn: ['origin', 'fanout'],
    help: 'Kafka bootstrap brokers',
  }),
  kafkaTopic: set({ env: 'KAFKA_TOPIC', parser: str(), def: 'replicant.docs', roles: CLUSTER, help: 'the topic holding every document (key = doc id); also the Redis key prefix' }),
  redisUrl: set({
    env: 'REDIS_URL',
    parser: optional(redisUrl),
    roles: CLUSTER,
    requiredIn: CLUSTER,
    fromFile: true,
    help: 'Redis for snapshots, covered offsets and the replica registry: redis[s]://[user:password@]host:port[/db] (an ACL user in the URL); with REDIS_SENTINELS only its credentials, TLS and db are used, with REDIS_CLUSTER it is a seed node',
  }),
  // ---- secure Kafka and Redis (docs/security.md "Kafka and Redis") ----
  kafkaSsl: set({ env: 'KAFKA_SSL', parser: bool, def: 'false', roles: KAFKA_ROLES, help: 'TLS to the brokers (implied by KAFKA_SSL_CA_FILE, _CERT_FILE, _KEY_FILE)' }),
  kafkaSslCaFile: set({ env: 'KAFKA_SSL_CA_FILE', parser: optional(file('PEM CA bundle')), roles: KAFKA_ROLES, help: "PEM CA the brokers' certificates are verified with (default: the system CAs)" }),
  kafkaSslCertFile: set({ env: 'KAFKA_SSL_CERT_FILE', parser: optional(file('PEM certificate')), roles: KAFKA_ROLES, help: 'PEM client certificate for mutual TLS (with KAFKA_SSL_KEY_FILE)' }),
  kafkaSslKeyFile: set({ env: 'KAFKA_SSL_KEY_FILE', parser: optional(file('PEM private key')), roles: KAFKA_ROLES, help: 'PEM private key of KAFKA_SSL_CERT_FILE' }),
  kafkaSaslMechanism: set({
    env: 'KAFKA_SASL_MECHANISM',
    parser: optional(oneOf('plain', 'scram-sha-256', 'scram-sha-512')),
    roles: KAFKA_ROLES,
    help: 'SASL login to the brokers (with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD); use TLS with it',
  }),
  kafkaSaslUsername: set({ env: 'KAFKA_SASL_USERNAME', parser: optional(str()), roles: KAFKA_ROLES, fromFile: true, help: 'SASL user' }),
  kafkaSaslPassword: set({ env: 'KAFKA_SASL_PASSWORD', parser: optional(secret(1)), roles: KAFKA_ROLES, fromFile: true, help: 'SASL password (never logged)' }),
  redisTlsCaFile: set({ env: 'REDIS_TLS_CA_FILE', parser: optional(file('PEM CA bundle')), roles: CLUSTER, help: "PEM CA a rediss:// server's certificate is verified with (default: the system CAs)" }),
  redisSentinels: set({
    env: 'REDIS_SENTINELS',
    parser: list(HOST_PORT, 'host:port'),
    def: '',
    roles: CLUSTER,
    help: 'Redis Sentinel: the sentinels to ask for the master of REDIS_SENTINEL_MASTER (failovers are followed)',
  }),
  redisSentinelMaster: set({ env: 'REDIS_SENTINEL_MASTER', parser: str(), def: 'mymaster', roles: CLUSTER, help: 'the master name the sentinels monitor' }),
  redisCluster: set({ env: 'REDIS_CLUSTER', parser: bool, def: 'false', roles: CLUSTER, help: 'REDIS_URL is a seed node of a Redis Cluster (every multi-key script keeps to one hash slot)' }),
  redisWaitReplicas: set({
    env: 'REDIS_WAIT_REPLICAS',
    parser: optional(int(0, 100)),
    defHelp: '1 with REDIS_SENTINELS or REDIS_CLUSTER, else 0',
    roles: ['origin'],
    help: 'replicas every snapshot write must reach (WAIT) before a checkpoint counts, so a failover loses no checkpoint',
  }),
  nodeId: set({ env: 'NODE_ID', parser: str(), def: (m) => `${m}-${process.pid}`, defHelp: '<mode>-<pid>', help: 'this process in logs and the replica registry' }),
  jwtSecret: set({
    env: 'AUTH_JWT_SECRET',
    parser: optional(secret(16)),
    roles: ['dev', 'origin', 'gateway'],
    fromFile: true,
    help: 'HS* JWT secret clients authenticate with',
  }),
  jwtPublicKey: set({
    env: 'AUTH_JWT_PUBLIC_KEY',
    parser: optional(str(/BEGIN/, 'a PEM public key (-----BEGIN PUBLIC KEY-----...)')),
    roles: ['dev', 'origin', 'gateway'],
    help: 'PEM public key (RS*, PS*, ES*, EdDSA) clients authenticate with',
  }),
  // ---- security (docs/security.md) ----
  jwksUrl: set({
    env: 'AUTH_JWKS_URL',
    parser: optional(str(/^https?:\/\/[^/\s]+/, 'an http(s) URL')),
    roles: ['dev', 'origin', 'gateway'],
    help: 'remote JSON Web Key Set for token verification (cached, refetched on an unknown kid)',
  }),
  authIssuer: set({ env: 'AUTH_ISSUER', parser: optional(str()), roles: ['dev', 'origin', 'gateway'], help: 'required `iss` of client tokens' }),
  authAudience: set({ env: 'AUTH_AUDIENCE', parser: optional(str()), roles: ['dev', 'origin', 'gateway'], help: 'required `aud` of client tokens' }),
  authClockSkewSec: set({ env: 'AUTH_CLOCK_SKEW_S', parser: int(0, 3600), def: '30', roles: ['dev', 'origin', 'gateway'], help: 'tolerated clock skew for exp/nbf (seconds)' }),
  apiKeys: set({
    env: 'API_KEYS',
    parser: secretList(16),
    def: '',
    roles: ['dev', 'origin'],
    fromFile: true,
    help: 'comma list of full-access HTTP bearer keys for backends (never logged)',
  }),
  authRefreshGraceMs: set({
    env: 'AUTH_REFRESH_GRACE_MS',
    parser: int(0, 3_600_000),
    def: '10000',
    roles: ['dev', 'gateway'],
    help: 'after token_expired, time to send a fresh auth frame before the 4001 close',
  }),
  clientPublishRate: set({ env: 'CLIENT_PUBLISH_RATE', parser: int(1, 1_000_000), def: '100', roles: ['dev', 'gateway'], help: 'publishes per second per connection (burst 2x); over it rate_limited' }),
  clusterSecret: set({
    env: 'CLUSTER_SECRET',
    parser: optional(secret(16)),
    roles: CLUSTER,
    fromFile: true,
    help: 'authenticates gateway<->replica links (HMAC challenge) and gateway->origin writes (signed requests)',
  }),
  authDisabled: set({ env: 'AUTH_DISABLED', parser: bool, def: 'false', roles: CLUSTER, help: 'let a cluster role run without client auth and CLUSTER_SECRET' }),
  tlsCertFile: set({ env: 'TLS_CERT_FILE', parser: optional(str()), roles: ['dev', 'origin', 'gateway'], help: 'PEM certificate: serve wss/https (with TLS_KEY_FILE)' }),
  tlsKeyFile: set({ env: 'TLS_KEY_FILE', parser: optional(str()), roles: ['dev', 'origin', 'gateway'], help: 'PEM private key for TLS_CERT_FILE' }),
  partitions: set({
    env: 'PARTITIONS',
    parser: int(1, 4096),
    def: '8',
    roles: ['dev', 'origin'],
    help: 'partitions of the embedded log; in cluster mode those origin creates a missing topic with',
  }),
  maxBodyBytes: set({ env: 'MAX_BODY_BYTES', parser: int(1, 64 * 1024 * 1024), def: String(1024 * 1024), roles: ['dev', 'origin'], help: 'largest POST body; larger ones get 413' }),
  maxFrameBytes: set({ env: 'MAX_FRAME_BYTES', parser: int(1024, 64 * 1024 * 1024), def: String(1024 * 1024), roles: ['dev', 'gateway'], help: 'largest client WebSocket frame' }),
  maxSendBuffer: set({
    env: 'MAX_SEND_BUFFER_BYTES',
    parser: int(1024, 1024 * 1024 * 1024),
    def: String(1024 * 1024),
    roles: ['dev', 'gateway'],
    help: 'per-connection send buffer bound; over it the connection is inactive',
  }),
  maxSubscriptions: set({ env: 'MAX_SUBSCRIPTIONS', parser: int(1, 1_000_000), def: '1000', roles: ['dev', 'gateway'], help: 'subscriptions per connection' }),
  historySize: set({ env: 'HISTORY_SIZE', parser: int(0, 1_000_000), def: '1024', roles: ['dev', 'fanout', 'gateway'], help: 'deltas kept per document for resume' }),
  // ---- size bounds (docs/architecture.md "Size bounds") ----
  maxDocBytes: set({
    env: 'MAX_DOC_BYTES',
    // at most 32 MiB: a link base (the state plus its history) must fit the 64 MiB link frame
    parser: int(1024, 32 * 1024 * 1024),
    def: String(16 * 1024 * 1024),
    roles: ['dev', 'origin'],
    help: "largest document state as JSON (UTF-8 bytes); a write that would grow a doc past it is not applied: 413 / error doc_too_large",
  }),
  historyBytes: set({
    env: 'HISTORY_BYTES',
    parser: int(0, 1024 * 1024 * 1024),
    def: String(1024 * 1024),
    roles: ['dev', 'fanout', 'gateway'],
    help: 'bytes of history kept per document for resume, with HISTORY_SIZE (a delta is charged 3x its patch + 256: text, parsed form, encoded frame); older resumes get a snapshot',
  }),
  historyBudgetBytes: set({
    env: 'HISTORY_BUDGET_BYTES',
    parser: int(0, 64 * 1024 * 1024 * 1024),
    def: String(256 * 1024 * 1024),
    roles: ['dev', 'fanout', 'gateway'],
    help: "bytes of history kept per process over all documents (replica and gateway rings); idle, then least recently used documents' history is dropped first",
  }),
  checkpointIntervalMs: set({ env: 'CHECKPOINT_INTERVAL_MS', parser: int(10, 60_000), def: '200', roles: ['dev', 'origin'], help: 'snapshot checkpoint period (bounded lag)' }),
  readBarrierTimeoutMs: set({
    env: 'READ_BARRIER_TIMEOUT_MS',
    parser: int(1, 600_000),
    def: '5000',
    roles: ['dev', 'origin'],
    help: "a GET (linearizable: waits until this origin has applied the log up to its end offset) not answered in this time gets 503; ?read=local skips the wait",
  }),
  maxInflightWrites: set({ env: 'MAX_INFLIGHT_WRITES', parser: int(1, 10_000_000), def: '10000', roles: ['dev', 'origin'], help: 'writes awaiting durability before the write API sheds with 503' }),
  drainGraceMs: set({ env: 'DRAIN_GRACE_MS', parser: int(0, 600_000), def: '1000', roles: ['dev', 'gateway'], help: 'time between goaway and closing connections on SIGTERM' }),
  // ---- presence (docs/presence-and-server-api.md "Presence") ----
  presenceMaxUsers: set({
    env: 'PRESENCE_MAX_USERS',
    parser: int(0, 10_000),
    def: '1000',
    roles: ['dev', 'origin'],
    help: 'users a d~presence document lists at most (its connections count stays exact; each entry up to ~1 KiB of info, so the doc stays within ~12 MiB)',
  }),
  presenceIntervalMs: set({ env: 'PRESENCE_INTERVAL_MS', parser: int(10, 600_000), def: '1000', roles: ['dev', 'origin', 'gateway'], help: 'presence changes are coalesced into at most one write of d~presence per doc per interval' }),
  presenceTtlMs: set({
    env: 'PRESENCE_TTL_MS',
    parser: int(300, 3_600_000),
    def: '10000',
    roles: ['dev', 'origin', 'gateway'],
    help: 'members of a gateway origin has not heard from for this long leave presence (gateways report every TTL/3); set the same on origins and gateways',
  }),
  // ---- client hop flow control (docs/protocol.md "Flow control") ----
  slowConsumerTimeoutMs: set({
    env: 'SLOW_CONSUMER_TIMEOUT_MS',
    parser: int(100, 3_600_000),
    def: '30000',
    roles: ['dev', 'gateway'],
    help: 'a send buffer over MAX_SEND_BUFFER_BYTES this long closes the connection with 4008 (a client withholding credit is never closed)',
  }),
  admissionRate: set({ env: 'ADMISSION_RATE', parser: int(1, 1_000_000), def: '2000', roles: ['dev', 'gateway'], help: 'WebSocket upgrades admitted per second (token bucket); over it 503 + Retry-After' }),
  admissionBurst: set({ env: 'ADMISSION_BURST', parser: int(1, 10_000_000), def: '4000', roles: ['dev', 'gateway'], help: 'upgrades admitted at once before ADMISSION_RATE applies' }),
  drainSpreadMs: set({ env: 'DRAIN_SPREAD_MS', parser: int(0, 600_000), def: '1000', roles: ['dev', 'gateway'], help: 'drain: goaway.reconnectMs is spread uniformly over [0, DRAIN_SPREAD_MS)' }),
  fanoutCoalesce: set({
    env: 'FANOUT_COALESCE',
    parser: bool,
    def: 'true',
    roles: ['dev', 'fanout', 'gateway'],
    help: "coalesce a doc's pending ops into exactly composed deltas (gateway flushes and replica links)",
  }),
  hotDocFlushMs: set({
    env: 'HOT_DOC_FLUSH_MS',
    parser: int(0, 1000),
    def: '10',
    roles: ['dev', 'gateway'],
    help: 'a doc written at HOT_DOC_FLUSH_RATE ops/s or more reaches its subscribers every this many ms, several ops per frame (0 = every doc on the next event-loop turn)',
  }),
  hotDocFlushRate: set({
    env: 'HOT_DOC_FLUSH_RATE',
    parser: int(1, 10_000_000),
    def: '200',
    roles: ['dev', 'gateway'],
    help: 'ops/s from which a doc is hot for HOT_DOC_FLUSH_MS (judged every 250 ms per doc)',
  }),
  logRetentionBytes: set({
    env: 'LOG_RETENTION_BYTES',
    parser: int(0, Number.MAX_SAFE_INTEGER),
    def: '0',
    roles: ['dev', 'origin'],
    help: 'per partition: the embedded log deletes its oldest whole segments beyond this (0 = keep all); origin sets retention.bytes on a topic it creates',
  }),
  logRetentionMs: set({
    env: 'LOG_RETENTION_MS',
    parser: int(0, Number.MAX_SAFE_INTEGER),
    def: '0',
    roles: ['dev', 'origin'],
    help: 'the embedded log deletes whole segments older than this (0 = keep all); origin sets retention.ms on a topic it creates',
  }),
  logSegmentBytes: set({ env: 'LOG_SEGMENT_BYTES', parser: int(4096, 1024 * 1024 * 1024), def: String(64 * 1024 * 1024), roles: ['dev'], help: 'embedded log: segment file size (the unit retention deletes)' }),
  kafkaMinInsyncReplicas: set({
    env: 'KAFKA_MIN_INSYNC_REPLICAS',
    parser: optional(int(1, 100)),
    defHelp: 'min(2, replication factor)',
    roles: ['origin'],
    help: 'min.insync.replicas origin sets on a topic it creates',
  }),
  // ---- cluster mode (extensions, docs/operations.md) ----
  originUrl: set({ env: 'ORIGIN_URL', parser: str(/^https?:\/\/[^/\s]+/, 'an http(s) URL'), def: 'http://127.0.0.1:8081', roles: ['gateway'], help: "origin's HTTP base URL for publishes" }),
  advertiseAddress: set({
    env: 'ADVERTISE_ADDRESS',
    parser: optional(str(HOST_PORT, 'host:port')),
    defHelp: 'HOST:PORT',
    roles: ['fanout'],
    help: 'host:port gateways dial to reach this replica (e.g. the pod IP)',
  }),
  fanoutPartitions: set({ env: 'FANOUT_PARTITIONS', parser: optional(str()), roles: ['fanout'], help: 'explicit partition list ("0-3,7"); overrides REPLICA_INDEX/COUNT' }),
  replicaIndex: set({ env: 'REPLICA_INDEX', parser: optional(int(0, 100_000)), roles: ['fanout'], help: 'replica i of REPLICA_COUNT serves partition p when (p - i) mod n < REPLICATION; unset = all partitions' }),
  replicaCount: set({ env: 'REPLICA_COUNT', parser: int(1, 100_000), def: '1', roles: ['fanout'], help: 'replicas the partitions are divided over' }),
  replication: set({ env: 'REPLICATION', parser: int(1, 100_000), def: '2', roles: ['fanout'], help: 'replicas per partition when partitions are derived from REPLICA_INDEX' }),
  kafkaIdempotent: set({ env: 'KAFKA_IDEMPOTENT', parser: bool, def: 'true', roles: ['origin', 'fanout'], help: 'idempotent producer (correctness never depends on it)' }),
  kafkaRetries: set({
    env: 'KAFKA_RETRIES',
    parser: int(0, 100),
    def: '5',
    roles: ['origin', 'fanout'],
    help: 'kafkajs retries of a failed request: how long an append rides out a broker outage before 503',
  }),
  kafkaFetchMaxWaitMs: set({ env: 'KAFKA_FETCH_MAX_WAIT_MS', parser: int(1, 60_000), def: '500', roles: ['origin', 'fanout'], help: "longest a tail's fetch waits for data" }),
  kafkaCompression: set({ env: 'KAFKA_COMPRESSION', parser: oneOf('none', 'gzip'), def: 'none', roles: ['origin', 'fanout'], help: 'produce compression' }),
  registryTtlMs: set({ env: 'REGISTRY_TTL_MS', parser: int(500, 600_000), def: '3000', roles: ['fanout', 'gateway'], help: 'replica registration TTL; heartbeats every TTL/3' }),
  linkBacklog: set({ env: 'LINK_BACKLOG', parser: int(1, 1_000_000), def: '256', roles: ['fanout'], help: 'deltas queued per doc per gateway link before collapsing into a snapshot' }),
  linkWindow: set({ env: 'LINK_WINDOW', parser: int(1, 1_000_000), def: '4096', roles: ['gateway'], help: 'credit window per replica link (data frames)' }),
  hotDocGateways: set({ env: 'HOT_DOC_GATEWAYS', parser: int(1, 1_000_000), def: '8', roles: ['fanout'], help: 'a doc watched by more gateway links than this is hot' }),
  // ---- Kafka-native ingestion (docs/ingest.md) ----
  ingestTopics: set({
    env: 'INGEST_TOPICS',
    parser: ingestTopics,
    def: '',
    roles: ['dev', 'origin'],
    help: 'Kafka topics whose records become document ops, exactly once (group replicant-ingest): <topic>=<merge-patch|upsert|debezium>[:<doc prefix>], doc id = prefix + record key',
  }),
  ingestBrokers: set({
    env: 'INGEST_BROKERS',
    parser: list(HOST_PORT, 'host:port'),
    def: '',
    defHelp: 'KAFKA_BROKERS',
    roles: ['dev', 'origin'],
    help: 'the Kafka cluster INGEST_TOPICS are read from (required with INGEST_TOPICS in dev)',
  }),
  hotDocSpread: set({ env: 'HOT_DOC_SPREAD', parser: int(1, 1000), def: '3', roles: ['fanout'], help: 'replicas gateways spread a hot doc over' }),
  // ---- per-user views (docs/security.md "Per-user views") ----
  viewsFile: set({
    env: 'VIEWS_FILE',
    parser: viewsFile,
    def: '',
    roles: ['dev', 'origin', 'gateway'],
    help: 'JSON per-user view rules {"views":[{"docs":"game:*","private":{"/hands/{sub}":"owner","/admin":"claim:role=admin","/seed":"nobody"}}]}: members readers outside a rule do not see or write',
  }),
};

type Table = typeof SETTINGS;
export type SettingKey = keyof Table;

/** derived from the table: one typed field per row, plus the mode */
export type Config = { mode: Mode } & { -readonly [K in SettingKey]: Table[K] extends Setting<infer T> ? T : never };

const kebab = (env: string) => env.toLowerCase().replace(/_/g, '-');
export const flagOf = (k: SettingKey): string => (SETTINGS[k] as Setting<unknown>).flag ?? kebab(SETTINGS[k].env);
const rows = () => Object.entries(SETTINGS) as [SettingKey, Setting<unknown>][];

function defaultOf(s: Setting<unknown>, mode: Mode): string | undefined {
  if (s.def === undefined || typeof s.def === 'string') return s.def;
  if (typeof s.def === 'function') return s.def(mode);
  return s.def[mode];
}

export interface ParsedArgs {
  mode: string | undefined;
  help: boolean;
  flags: Map<SettingKey, string>;
}

/** flags via node:util parseArgs, with options generated from the table */
export function parseArgs(argv: string[]): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  const byFlag = new Map<string, SettingKey>();
  for (const [k] of rows()) {
    options[flagOf(k)] = { type: 'string' };
    byFlag.set(flagOf(k), k);
  }
  let parsed: ReturnType<typeof parseArgv>;
  try {
    parsed = parseArgv({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs' messages are one line already ("Unknown option '--x'..."); keep the first
    throw new ConfigError(String((err as Error).message).split('\n')[0]);
  }
  if (parsed.positionals.length > 1) throw new ConfigError(`unexpected argument ${JSON.stringify(parsed.positionals[1])}`);
  const flags = new Map<SettingKey, string>();
  for (const [flag, v] of Object.entries(parsed.values)) {
    const k = byFlag.get(flag);
    if (k !== undefined && typeof v === 'string') flags.set(k, v.trim());
  }
  return { mode: parsed.positionals[0], help: parsed.values.help === true, flags };
}

/** `replicant --help` (no mode: every role and setting) or `replicant <mode> --help` */
export function helpText(mode?: Mode): string {
  const out: string[] = [];
  out.push(`usage: replicant <${MODES.join('|')}> [--flag value ...]`);
  out.push('       replicant [<mode>] --help');
  out.push('');
  out.push(mode ? `${mode}: ${MODE_HELP[mode]}` : 'roles:');
  if (!mode) for (const m of MODES) out.push(`  ${m.padEnd(8)} ${MODE_HELP[m]}`);
  out.push('');
  out.push(`settings${mode ? ` read by ${mode}` : ''} (env variable, or --flag; a flag wins over the env):`);
  for (const [k, s] of rows()) {
    if (mode && s.roles && !s.roles.includes(mode)) continue;
    let def: string;
    if (s.defHelp) def = s.defHelp;
    else if (mode) def = defaultOf(s, mode) ?? '';
    else if (typeof s.def === 'object') def = Object.entries(s.def).map(([m, v]) => `${m} ${v}`).join(', ');
    else def = typeof s.def === 'string' ? s.def : '';
    const req = s.requiredIn && (mode ? s.requiredIn.includes(mode) : true) ? ` (required${mode ? '' : ` by ${s.requiredIn.join(', ')}`})` : '';
    const fromFile = s.fromFile ? ` (or ${s.env}_FILE: a file holding it)` : '';
    const roles = !mode && s.roles ? ` [${s.roles.join(', ')}]` : '';
    out.push(`  ${s.env}  --${flagOf(k)} <${s.parser.type}>  default: ${def === '' ? '(none)' : def}${req}${roles}${fromFile}`);
    out.push(`      ${s.help}`);
  }
  return out.join('\n') + '\n';
}

export type LoadResult = { help: string } | { config: Config };

/** parses argv + env into a validated Config, or the help text when --help is given */
export function load(argv: string[], env: NodeJS.ProcessEnv = process.env): LoadResult {
  const args = parseArgs(argv);
  const known = args.mode !== undefined && MODES.includes(args.mode as Mode);
  if (args.help) {
    if (args.mode !== undefined && !known) throw new ConfigError(`unknown mode ${JSON.stringify(args.mode)}; one of ${MODES.join(', ')}`);
    return { help: helpText(args.mode as Mode | undefined) };
  }
  if (!known) {
    throw new ConfigError(`usage: replicant <${MODES.join('|')}> [--flag value ...]${args.mode ? ` (unknown mode ${JSON.stringify(args.mode)})` : ''}; replicant --help lists the settings`);
  }
  const mode = args.mode as Mode;
  const cfg: Record<string, unknown> = { mode };
  const missing: string[] = [];
  for (const [k, s] of rows()) {
    let raw = args.flags.get(k) ?? env[s.env];
    if (raw === '') raw = undefined;
    if (s.fromFile) raw = fromFile(s.env, raw, env[`${s.env}_FILE`]);
    if (raw === undefined && s.requiredIn?.includes(mode)) {
      missing.push(s.env);
      continue;
    }
    cfg[k] = s.parser.parse(raw ?? defaultOf(s, mode), s.env);
  }
  if (missing.length > 0) {
    throw new ConfigError(
      `${mode} needs ${missing.join(' and ')} (cluster mode); for one process without Kafka or Redis use \`replicant dev\``,
    );
  }
  const c = cfg as Config;
  validate(c);
  return { config: c };
}

/** `<ENV>_FILE`: the value read from the named file (one trailing newline dropped); never both */
function fromFile(name: string, raw: string | undefined, path: string | undefined): string | undefined {
  if (path === undefined || path === '') return raw;
  if (raw !== undefined) throw new ConfigError(`set ${name} or ${name}_FILE, not both`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${name}_FILE ${JSON.stringify(path)} is not a readable file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const v = text.replace(/\r?\n$/, '');
  return v === '' ? undefined : v;
}

/** the config for `argv` + `env`; throws ConfigError for --help too (use `load` to honour it) */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  const r = load(argv, env);
  if ('help' in r) throw new ConfigError('--help given');
  return r.config;
}

/** checks that span several settings */
function validate(cfg: Config): void {
  if (cfg.replicaIndex !== undefined && cfg.replicaIndex >= cfg.replicaCount) {
    throw new ConfigError(`REPLICA_INDEX must be below REPLICA_COUNT (${cfg.replicaIndex} >= ${cfg.replicaCount})`);
  }
  if (cfg.fanoutPartitions !== undefined) parsePartitionList(cfg.fanoutPartitions, cfg.partitions);
  if ((cfg.mode === 'dev' || cfg.mode === 'origin') && cfg.ingestTopics.length > 0 && ingestBrokersOf(cfg).length === 0) {
    throw new ConfigError('INGEST_TOPICS needs INGEST_BROKERS (the Kafka cluster to read them from)');
  }
  validateSecurity(cfg);
  validateBackends(cfg);
}

/** the Kafka and Redis connection settings fit together (secrets are never echoed) */
function validateBackends(cfg: Config): void {
  for (const [name, f] of [
    ['KAFKA_SSL_CA_FILE', cfg.kafkaSslCaFile],
    ['KAFKA_SSL_CERT_FILE', cfg.kafkaSslCertFile],
    ['KAFKA_SSL_KEY_FILE', cfg.kafkaSslKeyFile],
    ['REDIS_TLS_CA_FILE', cfg.redisTlsCaFile],
  ] as const) {
    if (f === undefined) continue;
    try {
      accessSync(f, constants.R_OK);
    } catch {
      throw new ConfigError(`${name} ${JSON.stringify(f)} is not a readable file`);
    }
  }
  if ((cfg.kafkaSslCertFile === undefined) !== (cfg.kafkaSslKeyFile === undefined)) {
    throw new ConfigError('KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE must be set together');
  }
  const user = cfg.kafkaSaslUsername !== undefined;
  const pass = cfg.kafkaSaslPassword !== undefined;
  if (cfg.kafkaSaslMechanism !== undefined && !(user && pass)) {
    throw new ConfigError(`KAFKA_SASL_MECHANISM ${cfg.kafkaSaslMechanism} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or their _FILE variants)`);
  }
  if (cfg.kafkaSaslMechanism === undefined && (user || pass)) {
    throw new ConfigError('KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD need KAFKA_SASL_MECHANISM (plain, scram-sha-256 or scram-sha-512)');
  }
  if (cfg.redisSentinels.length > 0 && cfg.redisCluster) throw new ConfigError('set REDIS_SENTINELS or REDIS_CLUSTER, not both');
  if (cfg.redisTlsCaFile !== undefined && cfg.redisUrl !== undefined && !cfg.redisUrl.startsWith('rediss://')) {
    throw new ConfigError('REDIS_TLS_CA_FILE needs a rediss:// REDIS_URL');
  }
}

/** TLS and SASL for every kafkajs client of a role (stream's kafkaClientConfig builds the client from it) */
export function kafkaSecurity(cfg: Config): KafkaSecurity {
  return {
    ssl: cfg.kafkaSsl,
    sslCaFile: cfg.kafkaSslCaFile,
    sslCertFile: cfg.kafkaSslCertFile,
    sslKeyFile: cfg.kafkaSslKeyFile,
    saslMechanism: cfg.kafkaSaslMechanism,
    saslUsername: cfg.kafkaSaslUsername,
    saslPassword: cfg.kafkaSaslPassword,
  };
}

/** where Redis is, for every Redis client of a role (stream's createRedisClient) */
export function redisTarget(cfg: Config): RedisTarget {
  return {
    url: cfg.redisUrl!,
    tlsCaFile: cfg.redisTlsCaFile,
    sentinels: cfg.redisSentinels.length > 0 ? cfg.redisSentinels : undefined,
    sentinelMaster: cfg.redisSentinelMaster,
    cluster: cfg.redisCluster,
  };
}

/** REDIS_WAIT_REPLICAS, defaulting to 1 where a failover can happen (Sentinel, Cluster) */
export function redisWaitReplicas(cfg: Config): number {
  return cfg.redisWaitReplicas ?? (cfg.redisSentinels.length > 0 || cfg.redisCluster ? 1 : 0);
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

/** security settings: shapes, and the cluster roles' refusal to run open (values are never echoed) */
function validateSecurity(cfg: Config): void {
  if (cfg.jwtPublicKey !== undefined && cfg.jwksUrl !== undefined) {
    throw new ConfigError('set one of AUTH_JWT_PUBLIC_KEY and AUTH_JWKS_URL, not both');
  }
  if (cfg.jwksUrl !== undefined && !/^https?:\/\/[^/\s]+/.test(cfg.jwksUrl)) {
    throw new ConfigError('AUTH_JWKS_URL must be an http(s) URL');
  }
  if (cfg.apiKeys.some((k) => k.length < 16)) throw new ConfigError('API_KEYS entries must be at least 16 characters each');
  if (cfg.clusterSecret !== undefined && cfg.clusterSecret.length < 16) {
    throw new ConfigError('CLUSTER_SECRET must be at least 16 characters');
  }
  if ((cfg.tlsCertFile === undefined) !== (cfg.tlsKeyFile === undefined)) {
    throw new ConfigError('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  }
  for (const [name, file] of [['TLS_CERT_FILE', cfg.tlsCertFile], ['TLS_KEY_FILE', cfg.tlsKeyFile]] as const) {
    if (file === undefined) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch {
      throw new ConfigError(`${name} ${JSON.stringify(file)} is not a readable file`);
    }
  }
  if (cfg.authDisabled || cfg.mode === 'dev') return;
  const jwt = cfg.jwtSecret !== undefined || cfg.jwtPublicKey !== undefined || cfg.jwksUrl !== undefined;
  const need: Record<Exclude<Mode, 'dev'>, [boolean, string]> = {
    origin: [(jwt || cfg.apiKeys.length > 0) && cfg.clusterSecret !== undefined, 'AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY, AUTH_JWKS_URL or API_KEYS, and CLUSTER_SECRET'],
    fanout: [cfg.clusterSecret !== undefined, 'CLUSTER_SECRET'],
    gateway: [jwt && cfg.clusterSecret !== undefined, 'AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY or AUTH_JWKS_URL, and CLUSTER_SECRET'],
  };
  const [ok, what] = need[cfg.mode];
  if (!ok) throw new ConfigError(`replicant ${cfg.mode} refuses to start without auth: set ${what} (or AUTH_DISABLED=true to run open)`);
}

/** the brokers INGEST_TOPICS are read from: INGEST_BROKERS, else KAFKA_BROKERS */
export function ingestBrokersOf(cfg: Config): string[] {
  return cfg.ingestBrokers.length > 0 ? cfg.ingestBrokers : cfg.kafkaBrokers;
}

/** the embedded default unless both distributed backends are configured */
export function isDistributed(cfg: Config): boolean {
  return cfg.kafkaBrokers.length > 0 && cfg.redisUrl !== undefined;
}
