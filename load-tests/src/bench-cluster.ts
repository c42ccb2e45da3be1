/**
 * `npm run bench:cluster`: the cluster fan-out benchmark. One write stream (one doc, open-loop
 * writer POSTing `{"t":<wall ms>,"n":<i>}` to `replicant origin`) fanned out through the fanout
 * replica tier to G `replicant gateway` processes × C subscribed clients each, in two
 * configurations in the same run:
 *
 *   (a) 1 fanout replica;
 *   (b) 3 fanout replicas, the doc spread over them (G gateway links > HOT_DOC_GATEWAYS makes it
 *       hot; the spread is verified by reading every replica's /stats and printed).
 *
 * Every configuration is a fresh cluster of real processes, as in cli/test/cluster-harness.ts: the
 * test kit's real Apache Kafka cluster (KRaft brokers, full JIT) and a throwaway redis-server, then `replicant origin`,
 * N `replicant fanout`, G `replicant gateway`. Receivers are child processes (receiver.ts, the
 * net-based WebSocket client), one per gateway by default, each on its own 127.x source addresses.
 *
 * Reported per configuration: delivered messages/s, write→receive latency p50/p99, deliveries vs
 * expected, sampled seq/prevSeq chain violations, and CPU-seconds (/proc/<pid>/stat utime+stime
 * over the measured window) at each hop: origin (also per write), each replica and the replicas
 * together (per million deltas sent to gateways and per million client deliveries), the gateways
 * together (per million client deliveries), the Kafka brokers, Redis, the receivers and the rest of
 * the machine. A table and one `BENCH_JSON {…}` line.
 *
 * Flags: --quick (2 gateways × 100 clients, short; HOT_DOC_GATEWAYS=1 so the spread is exercised),
 * --gateways, --clients <per gateway>, --rate <writes/s>, --duration <s>, --warmup <s>,
 * --replicas <list, default 1,3>, --receivers-per-gateway, --brokers, --partitions,
 * --sample-every <k>, --hot-gateways <HOT_DOC_GATEWAYS>, --doc, --wait-quiet <s>, --no-wait-quiet.
 * Env REPLICANT_CLI=<path to cli/dist/src/main.js> benchmarks another build.
 * Run it alone: `flock /tmp/replicant-load.lock npm run bench:cluster`.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Histogram, wallMs } from './histogram.js';
import { clockTicks, cpuSeconds, machineBusySeconds, processTree } from './procfs.js';
import { CLI_MAIN, REPO_ROOT, freePort, replicantBuilt } from './servers.js';
import type { ConnectCmd, ConnectedMsg, ReceiverCmd, StatsMsg } from './receiver.js';
import { agent, post, writeAtRate } from './open-loop-writer.js';
import { readArgs } from './args.js';

const here = dirname(fileURLToPath(import.meta.url));
const RECEIVER_MAIN = join(here, 'receiver.js');
const TOPIC = 'replicant.docs';

// ---------------------------------------------------------------------------------------------
// configuration
// ---------------------------------------------------------------------------------------------

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

function parseConfig(argv: string[]): ClusterBenchConfig {
  const { has, val, num } = readArgs(argv);
  const known = new Set([
    '--quick', '--gateways', '--clients', '--rate', '--duration', '--warmup', '--replicas', '--receivers-per-gateway', '--brokers',
    '--partitions', '--sample-every', '--hot-gateways', '--doc', '--wait-quiet', '--no-wait-quiet', '--idle',
  ]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const name = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (!known.has(name)) throw new Error(`unknown flag ${name} (known: ${[...known].join(' ')})`);
  }
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
  if (perReceiver > 19000) throw new Error('more than 19000 sockets per receiver process (fd limit): raise --receivers-per-gateway');
  if (cfg.clientsPerGateway > 19000) throw new Error('--clients must stay below 19000 per gateway process (fd limit)');
  if (cfg.gateways * cfg.receiversPerGateway > 120) throw new Error('at most 120 receiver processes');
  return cfg;
}

// ---------------------------------------------------------------------------------------------
// process bookkeeping: everything this run starts is killed on exit / Ctrl-C
// ---------------------------------------------------------------------------------------------

const liveChildren = new Set<ChildProcess>();
const tempDirs = new Set<string>();

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

const round = (x: number, d = 2): number => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** descendants of this process by command name (the test kit's redis-server) */
function descendantsNamed(name: string): number[] {
  return processTree(process.pid).filter((p) => p !== process.pid && commOf(p) === name);
}

/**
 * CPU ticks and command name of every process on the box: utime + stime (threads summed in) plus
 * cutime + cstime, so a short-lived process that exits inside the window still shows up, in its
 * parent (a test runner, npm, a shell), once it has been reaped
 */
function allProcessTicks(): Map<number, { comm: string; ticks: number }> {
  const out = new Map<number, { comm: string; ticks: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const st = readFileSync(`/proc/${name}/stat`, 'utf8');
      const open = st.indexOf('(');
      const close = st.lastIndexOf(')');
      const f = st.slice(close + 2).split(' ');
      out.set(Number(name), { comm: st.slice(open + 1, close), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** the busiest processes outside this run between two snapshots (who the "rest of machine" is) */
function topOthers(before: Map<number, { comm: string; ticks: number }>, after: Map<number, { comm: string; ticks: number }>, seconds: number): { pid: number; comm: string; cores: number }[] {
  const ours = new Set(processTree(process.pid));
  const rows: { pid: number; comm: string; cores: number }[] = [];
  for (const [pid, a] of after) {
    if (ours.has(pid)) continue;
    const d = a.ticks - (before.get(pid)?.ticks ?? 0);
    if (d > 0) rows.push({ pid, comm: a.comm, cores: round(d / clockTicks() / seconds, 3) });
  }
  return rows.sort((x, y) => y.cores - x.cores).slice(0, 5);
}

/** synchronous last-resort cleanup (exit, signals) */
function killEverything(): void {
  for (const c of liveChildren) {
    try {
      c.kill('SIGKILL');
    } catch {
      // gone
    }
  }
  // the Kafka JVMs die with this process on their own (parent-death signal, see testkit/src/process.ts)
  for (const name of ['redis-server']) {
    for (const pid of descendantsNamed(name)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}
process.on('exit', killEverything);

// ---------------------------------------------------------------------------------------------
// the test kit (Kafka, redis-server), loaded at run time: it is a workspace package that
// load-tests does not build against, so only the shape used here is declared
// ---------------------------------------------------------------------------------------------

interface KafkaCluster {
  readonly bootstraps: string[];
  readonly nodes: readonly { pid: number | undefined }[];
  createTopic(name: string, spec: { partitions: number }): Promise<void>;
  stop(): Promise<void>;
}
interface RedisServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}
interface Testkit {
  startKafka(opts: { nodes?: number; jit?: 'fast-start' | 'full' }): Promise<KafkaCluster>;
  startRedis(opts?: Record<string, never>): Promise<RedisServer>;
}

async function loadTestkit(): Promise<Testkit> {
  const spec = '@replicant/testkit';
  try {
    return (await import(spec)) as Testkit;
  } catch (err) {
    throw new Error(`cannot load ${spec} (build it with \`npx tsc -b\`; it needs Java 17 (the Kafka jars are fetched by scripts/install-kafka.sh) and redis-server): ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// replicant processes
// ---------------------------------------------------------------------------------------------

interface NodeProc {
  id: string;
  mode: 'origin' | 'fanout' | 'gateway';
  child: ChildProcess;
  pid: number;
  /** main port (origin HTTP, fanout link listener, gateway WebSocket + /stats + /metrics) */
  port: number;
  /** fanout: /stats and /metrics */
  adminPort: number;
  readonly exited: boolean;
  output(): string;
  stop(graceMs?: number): Promise<void>;
}

async function startNode(mode: NodeProc['mode'], id: string, env: Record<string, string>, adminPort = 0, timeoutMs = 60000): Promise<NodeProc> {
  const fullEnv: Record<string, string | undefined> = { ...process.env };
  for (const k of ['AUTH_JWT_SECRET', 'AUTH_JWT_PUBLIC_KEY', 'PORT', 'ADMIN_PORT', 'NODE_ID', 'REPLICA_INDEX', 'REPLICA_COUNT', 'FANOUT_PARTITIONS']) delete fullEnv[k];
  Object.assign(fullEnv, env, { PORT: '0', HOST: '127.0.0.1', NODE_ID: id, ADMIN_PORT: String(adminPort) });
  const child = spawn(process.execPath, [CLI_MAIN, mode], { cwd: REPO_ROOT, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  const lines: string[] = [];
  let exited = false;
  let onReady!: (port: number) => void;
  let onFail!: (e: Error) => void;
  const ready = new Promise<number>((res, rej) => {
    onReady = res;
    onFail = rej;
  });
  // keep draining both pipes for the whole life of the process: a full pipe would block it
  const onChunk = (() => {
    let partial = '';
    return (d: Buffer): void => {
      const parts = (partial + d.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (lines.length > 200) lines.shift();
        const m = /\bready on [^\s]*?:(\d+)/.exec(line);
        if (m) onReady(Number(m[1]));
      }
    };
  })();
  child.stdout!.on('data', onChunk);
  child.stderr!.on('data', onChunk);
  const exitPromise = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = true;
      liveChildren.delete(child);
      onFail(new Error(`replicant ${mode} ${id} exited (code ${code}, signal ${signal}) before ready:\n${lines.slice(-30).join('\n')}`));
      resolve();
    });
  });
  const stop = async (graceMs = 3000): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exitPromise;
    clearTimeout(t);
  };
  const timer = setTimeout(() => onFail(new Error(`replicant ${mode} ${id} not ready after ${timeoutMs} ms:\n${lines.slice(-30).join('\n')}`)), timeoutMs);
  let port: number;
  try {
    port = await ready;
  } catch (err) {
    await stop(500);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return {
    id,
    mode,
    child,
    pid: child.pid!,
    port,
    adminPort,
    get exited() {
      return exited;
    },
    output: () => lines.join('\n'),
    stop,
  };
}

async function getText(port: number, path: string): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(10000) });
  if (r.status !== 200) throw new Error(`GET 127.0.0.1:${port}${path}: HTTP ${r.status}`);
  return r.text();
}

/** sum of a Prometheus series over the lines whose labels contain `labels` */
function metric(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const c = line[name.length];
    if (c !== ' ' && c !== '{') continue;
    if (labels !== '' && !line.includes(labels)) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}

interface FanoutStats {
  node: string;
  replica: { docs: number; idleDocs: number; subscriptions: number } | null;
  links: { node: string; docs: number; credit: number; queuedDeltas: number; pendingBases: number; socketBuffered: number; collapses: number }[];
}

interface Cluster {
  kafka: KafkaCluster;
  redis: RedisServer;
  origin: NodeProc;
  fanouts: NodeProc[];
  gateways: NodeProc[];
  dataDir: string;
  kafkaPids: number[];
  redisPid: number | undefined;
  stop(): Promise<void>;
}

async function startCluster(cfg: ClusterBenchConfig, replicas: number): Promise<Cluster> {
  const tk = await loadTestkit();
  const dataDir = mkdtempSync(join(os.tmpdir(), 'replicant-bench-cluster-'));
  tempDirs.add(dataDir);
  const before = new Set(descendantsNamed('redis-server'));
  const nodes: NodeProc[] = [];
  let kafka: KafkaCluster | undefined;
  let redis: RedisServer | undefined;
  const stop = async (): Promise<void> => {
    // gateways first (their clients are gone already), then replicas, origin, backends
    const order = [...nodes].reverse();
    await Promise.all(order.filter((n) => n.mode === 'gateway').map((n) => n.stop()));
    await Promise.all(order.filter((n) => n.mode !== 'gateway').map((n) => n.stop()));
    await redis?.close().catch(() => {});
    await kafka?.stop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
    tempDirs.delete(dataDir);
  };
  try {
    kafka = await tk.startKafka({ nodes: cfg.brokers, jit: 'full' });
    await kafka.createTopic(TOPIC, { partitions: cfg.partitions });
    redis = await tk.startRedis();
    const kafkaPids = kafka.nodes.map((n) => n.pid!);
    const redisPid = descendantsNamed('redis-server').find((p) => !before.has(p));
    const env: Record<string, string> = {
      KAFKA_BROKERS: kafka.bootstraps.join(','),
      KAFKA_TOPIC: TOPIC,
      REDIS_URL: redis.url,
      REGISTRY_TTL_MS: '3000',
      DATA_DIR: dataDir,
      DRAIN_GRACE_MS: '0',
      // authenticated links and writes, as deployed; clients stay open (the fan-out bench is the auth one)
      CLUSTER_SECRET: 'bench-cluster-secret-0123456789',
      AUTH_DISABLED: 'true',
    };
    if (cfg.hotGateways !== undefined) env.HOT_DOC_GATEWAYS = String(cfg.hotGateways);
    const origin = await startNode('origin', 'origin-1', env);
    nodes.push(origin);
    env.ORIGIN_URL = `http://127.0.0.1:${origin.port}`;
    // every replica serves every partition (no REPLICA_INDEX): the doc's partition has them all
    const fanouts = await Promise.all(
      Array.from({ length: replicas }, async (_, i) => {
        const n = await startNode('fanout', `fanout-${i + 1}`, env, await freePort());
        nodes.push(n);
        return n;
      }),
    );
    // gateways learn the partition count from the registry: start them once every replica is in
    const gateways: NodeProc[] = [];
    for (let i = 0; i < cfg.gateways; i += 5) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(5, cfg.gateways - i) }, async (_, k) => {
          const n = await startNode('gateway', `gateway-${i + k + 1}`, env);
          nodes.push(n);
          return n;
        }),
      );
      gateways.push(...batch);
    }
    return { kafka, redis, origin, fanouts, gateways, dataDir, kafkaPids, redisPid, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function fanoutStats(f: NodeProc): Promise<FanoutStats> {
  return JSON.parse(await getText(f.adminPort, '/stats')) as FanoutStats;
}

// ---------------------------------------------------------------------------------------------
// receivers (receiver.ts child processes)
// ---------------------------------------------------------------------------------------------

class Receiver {
  readonly child: ChildProcess;
  private waiters = new Map<string, ((m: any) => void)[]>();
  private exited = false;

  constructor() {
    this.child = fork(RECEIVER_MAIN, [], {
      env: { ...process.env, REPLICANT_RECEIVER: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    liveChildren.add(this.child);
    this.child.on('message', (m: { ev: string }) => {
      const w = this.waiters.get(m.ev)?.shift();
      if (w !== undefined) w(m);
    });
    this.child.on('exit', () => {
      this.exited = true;
      liveChildren.delete(this.child);
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  send(cmd: ReceiverCmd): void {
    if (!this.exited) this.child.send(cmd);
  }

  next<T>(ev: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`receiver ${this.child.pid}: no ${ev} after ${timeoutMs} ms`)), timeoutMs);
      const list = this.waiters.get(ev) ?? [];
      list.push((m) => {
        clearTimeout(t);
        resolve(m as T);
      });
      this.waiters.set(ev, list);
    });
  }

  connect(cmd: ConnectCmd): Promise<ConnectedMsg> {
    const p = this.next<ConnectedMsg>('connected', cmd.deadlineMs + 10000);
    this.send(cmd);
    return p;
  }

  stats(): Promise<StatsMsg> {
    const p = this.next<StatsMsg>('stats', 30000);
    this.send({ cmd: 'stats' });
    return p;
  }

  async exit(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.send({ cmd: 'exit' });
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
  }
}

function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------
// the writer (open loop: write i is sent at t0 + i/rate whatever the latency)
// ---------------------------------------------------------------------------------------------


// ---------------------------------------------------------------------------------------------
// one configuration
// ---------------------------------------------------------------------------------------------

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

export interface ReplicaSpread {
  replica: string;
  /** (gateway, doc) subscriptions the replica holds (its /stats `replica.subscriptions`) */
  subscriptions: number;
  /** gateways whose link carries the doc */
  gateways: string[];
}

export interface ConfigResult {
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
  writeRate: number;
  durationS: number;
  writesSent: number;
  writesAcked: number;
  writesFailed: number;
  writesSkipped: number;
  firstWriteError: string | null;
  expectedDeliveries: number;
  delivered: number;
  completeness: number;
  /** messages handed to sockets by the gateways over the window (replicant_gateway_deliveries_total) */
  gatewayDeliveries: number;
  windowS: number;
  /** seconds between the two CPU samples (window start to the end of the drain) */
  cpuWindowS: number;
  deliveredPerSec: number;
  /** p1: the first sockets of each burst, close to the pipeline's latency without the fan-out burst */
  latencyMs: { p1: number; p50: number; p90: number; p99: number; max: number; mean: number };
  writeAckMs: { p50: number; p99: number };
  resyncSnapshots: number;
  closedAfterReady: number;
  errorFrames: number;
  goaways: number;
  sampledDeltas: number;
  seqViolations: number;
  firstViolation: string | null;
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


/** On a shared box: wait (bounded) until the machine is nearly idle before starting a cluster. */
async function waitQuiet(cfg: ClusterBenchConfig, label: string): Promise<void> {
  if (cfg.quietWaitS <= 0) return;
  const until = Date.now() + cfg.quietWaitS * 1000;
  let busy = NaN;
  while (Date.now() < until) {
    const b0 = machineBusySeconds();
    await sleep(1000);
    busy = machineBusySeconds() - b0;
    if (busy < 0.25) return;
  }
  log(`[${label}] machine still busy (${busy.toFixed(2)} cores) after ${cfg.quietWaitS} s: measuring anyway`);
}

function spreadOf(cluster: Cluster, stats: FanoutStats[]): ReplicaSpread[] {
  return stats.map((s, i) => ({
    replica: s.node || cluster.fanouts[i].id,
    subscriptions: s.replica?.subscriptions ?? 0,
    gateways: s.links.filter((l) => l.docs > 0).map((l) => l.node).sort((a, b) => Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, ''))),
  }));
}

/** polls the replicas until every gateway's subscription is placed and the placement is stable */
async function settleSpread(cluster: Cluster, cfg: ClusterBenchConfig, label: string): Promise<ReplicaSpread[]> {
  const deadline = Date.now() + 20000;
  let last = '';
  let stableSince = 0;
  let spread: ReplicaSpread[] = [];
  while (Date.now() < deadline) {
    spread = spreadOf(cluster, await Promise.all(cluster.fanouts.map(fanoutStats)));
    const key = JSON.stringify(spread);
    const total = spread.reduce((a, s) => a + s.subscriptions, 0);
    if (total === cfg.gateways && key === last) {
      if (Date.now() - stableSince >= 1000) return spread;
    } else {
      last = key;
      stableSince = Date.now();
    }
    await sleep(250);
  }
  log(`[${label}] replica placement did not settle in 20 s: ${JSON.stringify(spread)}`);
  return spread;
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

async function runConfig(cfg: ClusterBenchConfig, replicas: number, index: number): Promise<ConfigResult> {
  const name = `(${String.fromCharCode(97 + index)}) ${replicas} replica${replicas === 1 ? '' : 's'}`;
  const label = name;
  await waitQuiet(cfg, label);
  log(`[${label}] starting Kafka (${cfg.brokers} brokers), redis, origin, ${replicas} fanout, ${cfg.gateways} gateways`);
  const t0Start = Date.now();
  const cluster = await startCluster(cfg, replicas);
  const receivers: Receiver[] = [];
  try {
    log(`[${label}] cluster ready in ${Date.now() - t0Start} ms (origin :${cluster.origin.port}, fanouts ${cluster.fanouts.map((f) => `:${f.port}`).join(' ')})`);
    // the doc exists before anyone subscribes (write index -1: outside every measured window)
    const first = await post(cluster.origin.port, `/v1/docs/${cfg.doc}`, `{"t":${wallMs().toFixed(3)},"n":-1}`);
    if (first.status !== 200) throw new Error(`first write failed: HTTP ${first.status} ${first.body}`);

    // clients: receivers per gateway, each on its own 127.<block>.<k>.1 source addresses
    const tConn = Date.now();
    const counts = split(cfg.clientsPerGateway, cfg.receiversPerGateway);
    const jobs: Promise<ConnectedMsg>[] = [];
    let block = 60 + index * 60;
    for (const g of cluster.gateways) {
      for (const count of counts) {
        const r = new Receiver();
        receivers.push(r);
        const b = block++;
        jobs.push(
          r.connect({
            cmd: 'connect',
            host: '127.0.0.1',
            port: g.port,
            path: '/v1/stream',
            protocol: 'replicant.v1.json',
            doc: cfg.doc,
            count,
            localAddresses: [`127.${b}.1.1`, `127.${b}.2.1`],
            concurrency: 64,
            sampleEvery: cfg.sampleEvery,
            deadlineMs: 120000,
          }),
        );
      }
    }
    const conns = await Promise.all(jobs);
    const ready = conns.reduce((a, c) => a + c.ready, 0);
    const wanted = cfg.gateways * cfg.clientsPerGateway;
    const connectMs = Date.now() - tConn;
    const failed = conns.reduce((a, c) => a + c.failedAttempts, 0);
    const firstErr = conns.find((c) => c.firstError !== null)?.firstError ?? null;
    log(`[${label}] ${ready}/${wanted} clients have their snapshot in ${connectMs} ms (${failed} failed attempts${firstErr ? `, first: ${firstErr}` : ''})`);
    if (ready < wanted) throw new Error(`only ${ready} of ${wanted} clients got their snapshot within 120 s (first error: ${firstErr})`);

    const spread = await settleSpread(cluster, cfg, label);
    log(`[${label}] placement: ${spread.map((s) => `${s.replica} ${s.subscriptions} [${s.gateways.join(',')}]`).join('; ')}`);

    // idle baseline: every client connected, no writes (after a pause, so the garbage and timers of
    // the connection burst are mostly behind us)
    await sleep(2000);
    const i0 = sampleCpu(cluster, receivers);
    await sleep(cfg.idleS * 1000);
    const i1 = sampleCpu(cluster, receivers);
    const idleSecs = (i1.at - i0.at) / 1000;
    const sumArr = (xs: number[]): number => xs.reduce((a, x) => a + x, 0);
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
    const idleKnown = (x: CpuSample): number => x.origin + sumArr(x.fanouts) + sumArr(x.gateways) + x.kafka + x.redis + x.receivers + x.self;
    idleCores.rest = round((i1.machine - i0.machine - (idleKnown(i1) - idleKnown(i0))) / idleSecs, 3);

    // warm-up (JIT, pools, the spread), excluded from the window by write index
    const warmN = Math.round(cfg.rate * cfg.warmupS);
    log(`[${label}] warm-up: ${warmN} writes at ${cfg.rate}/s`);
    const warm = await writeAtRate(cluster.origin.port, cfg.doc, cfg.rate, cfg.warmupS, 0);
    if (warm.acked === 0) throw new Error(`no warm-up write was acknowledged: ${warm.firstError}`);
    await sleep(1000);

    const total = Math.round(cfg.rate * cfg.durationS);
    for (const r of receivers) r.send({ cmd: 'window', minN: warmN, maxN: warmN + total - 1 });
    await Promise.all(receivers.map((r) => r.stats())); // barrier: IPC is ordered
    const metrics0 = await Promise.all([...cluster.fanouts.map((f) => getText(f.adminPort, '/metrics')), ...cluster.gateways.map((g) => getText(g.port, '/metrics'))]);
    const procs0 = allProcessTicks();
    const c0 = sampleCpu(cluster, receivers);

    log(`[${label}] measuring: ${total} writes at ${cfg.rate}/s to ${ready} clients`);
    const w = await writeAtRate(cluster.origin.port, cfg.doc, cfg.rate, cfg.durationS, warmN);
    const expected = w.acked * ready;
    const drainUntil = Date.now() + 10000;
    let stats = await Promise.all(receivers.map((r) => r.stats()));
    while (Date.now() < drainUntil && stats.reduce((a, s) => a + s.windowDeltas, 0) < expected) {
      await sleep(100);
      stats = await Promise.all(receivers.map((r) => r.stats()));
    }
    const c1 = sampleCpu(cluster, receivers);
    const procs1 = allProcessTicks();
    const metrics1 = await Promise.all([...cluster.fanouts.map((f) => getText(f.adminPort, '/metrics')), ...cluster.gateways.map((g) => getText(g.port, '/metrics'))]);
    const finalStats = await Promise.all(cluster.fanouts.map(fanoutStats));
    const spreadAfter = spreadOf(cluster, finalStats);
    for (const n of [cluster.origin, ...cluster.fanouts, ...cluster.gateways]) {
      if (n.exited) throw new Error(`${n.id} exited during the run:\n${n.output().split('\n').slice(-20).join('\n')}`);
    }

    const lat = new Histogram();
    for (const s of stats) lat.merge(s.latency);
    const delivered = stats.reduce((a, s) => a + s.windowDeltas, 0);
    const sum = (f: (s: StatsMsg) => number): number => stats.reduce((a, s) => a + f(s), 0);
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
    const known = (x: CpuSample): number => x.origin + sumArr(x.fanouts) + sumArr(x.gateways) + x.kafka + x.redis + x.receivers + x.self;
    const machineCpu = c1.machine - c0.machine;
    const restCpu = machineCpu - (known(c1) - known(c0));
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
      writeRate: cfg.rate,
      durationS: cfg.durationS,
      writesSent: w.sent,
      writesAcked: w.acked,
      writesFailed: w.failed,
      writesSkipped: w.skipped,
      firstWriteError: w.firstError,
      expectedDeliveries: expected,
      delivered,
      completeness: expected > 0 ? delivered / expected : 0,
      gatewayDeliveries,
      windowS: round(windowS, 3),
      cpuWindowS: round(cpuWindowS, 3),
      deliveredPerSec: round(delivered / windowS, 0),
      latencyMs: { p1: round(lat.quantile(0.01)), p50: round(lat.quantile(0.5)), p90: round(lat.quantile(0.9)), p99: round(lat.quantile(0.99)), max: round(lat.max), mean: round(lat.mean) },
      writeAckMs: { p50: round(w.ack.quantile(0.5)), p99: round(w.ack.quantile(0.99)) },
      resyncSnapshots: sum((s) => s.resyncSnapshots),
      closedAfterReady: sum((s) => s.closedAfterReady),
      errorFrames: sum((s) => s.errorFrames),
      goaways: sum((s) => s.goaways),
      sampledDeltas: sum((s) => s.sampledDeltas),
      seqViolations: sum((s) => s.seqViolations),
      firstViolation: stats.find((s) => s.firstViolation !== null)?.firstViolation ?? null,
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

// ---------------------------------------------------------------------------------------------
// report
// ---------------------------------------------------------------------------------------------

const fmtInt = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const fmt = (x: number | undefined, d = 2): string => (x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '-');

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('   ')).join('\n');
}

const placement = (s: ReplicaSpread[]): string => s.map((x) => `${x.replica}:${x.subscriptions}`).join(' ');

function report(cfg: ClusterBenchConfig, results: ConfigResult[]): string {
  const out: string[] = [];
  out.push(
    `Cluster fan-out: 1 doc, ${cfg.rate} writes/s for ${cfg.durationS} s (after ${cfg.warmupS} s warm-up) -> ${cfg.gateways} gateways x ${cfg.clientsPerGateway} clients ` +
      `(replicant.v1.json), Kafka ${cfg.brokers} brokers / ${cfg.partitions} partitions, HOT_DOC_GATEWAYS=${cfg.hotGateways ?? '8 (default)'}; ` +
      `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, node ${process.version}`,
  );
  const ok = results.filter((r) => r.error === undefined);
  if (ok.length > 0) {
    const row = (label: string, f: (r: ConfigResult) => string): string[] => [label, ...ok.map(f)];
    out.push(
      table([
        ['', ...ok.map((r) => r.name)],
        row('placement (replica:gateway subscriptions)', (r) => placement(r.spread)),
        row('spread verified', (r) => (r.replicas === 1 ? 'n/a (1 replica)' : r.spreadOk ? `yes, ${r.replicasUsed} replicas` : `NO (${r.replicasUsed} replica)`)),
        row('clients with snapshot', (r) => fmtInt(r.subscribers)),
        row('writes acked / sent', (r) => `${r.writesAcked}/${r.writesSent}`),
        row('deliveries (of expected)', (r) => `${fmtInt(r.delivered)} (${fmt(r.completeness * 100, 2)}%)`),
        row('delivered msgs/s', (r) => fmtInt(r.deliveredPerSec)),
        row('latency p50 / p99 ms', (r) => `${fmt(r.latencyMs.p50)} / ${fmt(r.latencyMs.p99)}`),
        row('latency p1 / p90 / max ms', (r) => `${fmt(r.latencyMs.p1)} / ${fmt(r.latencyMs.p90)} / ${fmt(r.latencyMs.max)}`),
        row('write ack p50 / p99 ms', (r) => `${fmt(r.writeAckMs.p50)} / ${fmt(r.writeAckMs.p99)}`),
        row('seq checks (sampled) / violations', (r) => `${fmtInt(r.sampledDeltas)} / ${r.seqViolations}`),
        row('resyncs / closes / errors / collapses', (r) => `${r.resyncSnapshots} / ${r.closedAfterReady} / ${r.errorFrames} / ${r.linkCollapses}`),
        row('CPU-s per 1M deliveries: origin', (r) => `${fmt(r.hops.origin.perMillionDeliveries, 3)} (${fmt(r.hops.origin.msPerWrite, 2)} ms/write)`),
        row('  replicas total', (r) => `${fmt(r.hops.replicasTotal.perMillionDeliveries, 3)} (${fmt(r.hops.replicasTotal.perMillionLinkDeltas, 0)}/1M link deltas)`),
        row('  gateways total', (r) => fmt(r.hops.gatewaysTotal.perMillionDeliveries, 3)),
        row('  Kafka + redis', (r) => fmt(r.hops.kafka.perMillionDeliveries + r.hops.redis.perMillionDeliveries, 3)),
        row('  whole machine', (r) => fmt(r.hops.machine.perMillionDeliveries, 3)),
        row('cores busy: origin / replicas / gateways', (r) => `${fmt(r.hops.origin.cores)} / ${fmt(r.hops.replicasTotal.cores)} / ${fmt(r.hops.gatewaysTotal.cores)}`),
        row('  kafka / redis / receivers / rest', (r) => `${fmt(r.hops.kafka.cores)} / ${fmt(r.hops.redis.cores)} / ${fmt(r.hops.receivers.cores)} / ${fmt(r.hops.rest.cores)}`),
        row('  idle, no writes: origin / replicas / gateways / kafka', (r) =>
          `${fmt(r.idleCores.origin)} / ${fmt(r.idleCores.replicas)} / ${fmt(r.idleCores.gateways)} / ${fmt(r.idleCores.kafka)}`,
        ),
      ]),
    );
    for (const r of ok) {
      out.push('');
      out.push(
        `${r.name}: per hop over the ${fmt(r.cpuWindowS, 1)} s CPU window; ` +
          `${fmtInt(r.delivered)} client deliveries, gateway sockets handed ${fmtInt(r.gatewayDeliveries)}`,
      );
      const hops: Hop[] = [r.hops.origin, ...r.hops.replicas, r.hops.replicasTotal, r.hops.gatewaysTotal, r.hops.kafka, r.hops.redis, r.hops.receivers, r.hops.orchestrator, r.hops.rest, r.hops.machine];
      out.push(
        table([
          ['hop', 'CPU-s', 'cores', 'CPU-s/1M deliveries', 'link deltas', 'CPU-s/1M link deltas', 'CPU-ms/write'],
          ...hops.map((h) => [
            h.name,
            fmt(h.cpuS),
            fmt(h.cores, 3),
            fmt(h.perMillionDeliveries, 3),
            h.linkDeltas === undefined ? '' : fmtInt(h.linkDeltas),
            h.perMillionLinkDeltas === undefined ? '' : fmt(h.perMillionLinkDeltas, 1),
            h.msPerWrite === undefined ? '' : fmt(h.msPerWrite, 3),
          ]),
        ]),
      );
      const others = r.otherProcesses.filter((o) => o.cores >= 0.01);
      if (others.length > 0) out.push(`  busiest processes outside this run (cores, incl. reaped children): ${others.map((o) => `${o.comm}[${o.pid}] ${fmt(o.cores, 3)}`).join(', ')}`);
      const gw = r.hops.gateways.map((g) => g.cores);
      out.push(`  gateways: cores busy each min ${fmt(Math.min(...gw), 3)} / max ${fmt(Math.max(...gw), 3)}`);
      out.push(`  placement: ${r.spread.map((s) => `${s.replica} holds ${s.subscriptions} [${s.gateways.join(', ')}]`).join('; ')}`);
      if (placement(r.spreadAfter) !== placement(r.spread)) out.push(`  placement after the window: ${placement(r.spreadAfter)}`);
    }
  }
  for (const r of results) if (r.error !== undefined) out.push(`${r.name}: ERROR ${r.error}`);
  for (const r of ok) if (r.firstViolation !== null) out.push(`${r.name}: first violation: ${r.firstViolation}`);
  for (const r of ok) if (r.firstWriteError !== null) out.push(`${r.name}: first write error: ${r.firstWriteError}`);
  return out.join('\n');
}

/** problems that make the run fail (exit code 1) */
function problems(results: ConfigResult[]): string[] {
  const p: string[] = [];
  for (const r of results) {
    if (r.error !== undefined) {
      p.push(`${r.name}: ${r.error.split('\n')[0]}`);
      continue;
    }
    if (r.seqViolations > 0) p.push(`${r.name}: ${r.seqViolations} seq/prevSeq violations`);
    if (!r.spreadOk) p.push(`${r.name}: the hot doc was not spread over the replicas`);
    if (r.completeness < 0.999) p.push(`${r.name}: only ${(r.completeness * 100).toFixed(2)}% of the expected deliveries`);
    if (r.writesFailed > 0) p.push(`${r.name}: ${r.writesFailed} writes failed`);
  }
  return p;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const cfg = parseConfig(process.argv.slice(2));
  if (!replicantBuilt()) throw new Error(`${CLI_MAIN} is not built: run \`npx tsc -b && node scripts/copy-generated.mjs\``);
  const results: ConfigResult[] = [];
  for (let i = 0; i < cfg.replicas.length; i++) {
    const n = cfg.replicas[i];
    try {
      results.push(await runConfig(cfg, n, i));
    } catch (err) {
      const name = `(${String.fromCharCode(97 + i)}) ${n} replica${n === 1 ? '' : 's'}`;
      log(`[${name}] failed: ${(err as Error).message}`);
      results.push({ name, replicas: n, error: (err as Error).message } as ConfigResult);
    }
  }
  agent.destroy();
  process.stdout.write(`${report(cfg, results)}\n`);
  const json = {
    bench: 'replicant-cluster-fanout',
    quick: cfg.quick,
    config: cfg,
    replicantCli: CLI_MAIN,
    host: { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? '', node: process.version, clkTck: clockTicks() },
    results,
  };
  process.stdout.write(`BENCH_JSON ${JSON.stringify(json)}\n`);
  const p = problems(results);
  for (const x of p) log(`FAIL ${x}`);
  process.exitCode = p.length > 0 ? 1 : 0;
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${sig}: stopping every process this run started`);
    killEverything();
    process.exit(130);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
