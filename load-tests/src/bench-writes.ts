/**
 * `npm run bench:writes`: write throughput of the origin, two stream logs side by side in one run.
 *
 *   kafka: `replicant origin` over a real Apache Kafka cluster from the test kit (3 KRaft brokers,
 *          full JIT, acks=-1, idempotent producer on, min.insync.replicas 2) and a redis-server;
 *   file:  `replicant dev` with the embedded file log (group commit, one fsync per batch) and file
 *          snapshots in a temporary DATA_DIR.
 *
 * W closed-loop writers (default 16) POST `{"w":<writer>,"n":<i>}` to `POST /v1/docs/{id}` over
 * keep-alive connections, each with its own Idempotency-Key, spread over D documents, for a warm-up
 * and then a measured window. A write counts when its 200 arrives (durable and applied: acks=-1 /
 * fsync, then folded by the materializer). Reported per target: writes/s, ack latency p50/p99/max,
 * non-200 answers, durability operations/s (Kafka produce requests, from
 * `replicant_kafka_send_batch_size_count`; file log fsyncs, from `replicant_log_fsyncs_total`) and
 * writes per operation (the group-commit factor), mean produce latency, and CPU-seconds of the
 * server, the Kafka brokers (summed) and Redis over the window (/proc/<pid>/stat), and the server's
 * CPU-µs per acknowledged write (its CPU-seconds over the window / writes acked: the scale model's
 * origin input; for `file` the one `replicant dev` process, origin with its replica). Before the
 * writers start, the server's idle CPU is sampled for --idle seconds; the marginal CPU-µs per write
 * ((cores busy − idle cores) / writes per second) separates the per-write cost from what the origin
 * spends with no writes at all (Kafka fetch loops, heartbeats, timers), which dominates the plain
 * figure when the brokers limit the write rate (a 2-core box running three brokers). A table and one
 * `BENCH_JSON {…}` line.
 *
 * Flags: --writers <n> (16), --duration <s> (10), --warmup <s> (2), --docs <n> (64),
 * --targets kafka,file, --repeat <n> (1; runs alternate targets, the table shows medians),
 * --brokers <n> (3), --partitions <n> (8), --fetch-wait <ms> (KAFKA_FETCH_MAX_WAIT_MS of origin's
 * tail, 500: a real broker answers a fetch as soon as data arrives), --wait-quiet <s> (60, quick: 0: before each run wait for the machine to go idle),
 * --no-wait-quiet, --idle <s> (3, quick: 1: idle CPU sample), --quick (3 s window, 1 s warm-up). Env REPLICANT_CLI benchmarks another build.
 * Run it alone: `flock /tmp/replicant-load.lock npm run bench:writes`.
 */
import * as http from 'node:http';
import { freePort } from '@replicant/testkit';
import { Histogram } from './histogram.js';
import { cpuSeconds, machineBusySeconds, waitQuiet } from './procfs.js';
import { CLI_MAIN, benchDir, replicantBuilt } from './servers.js';
import { KAFKA_VERSION, startBackends, startNode, type NodeProc } from './cluster.js';
import { post } from './open-loop-writer.js';
import { getText, metric } from './prom.js';
import { readArgs } from './args.js';
import { hostInfo, median } from './report.js';

type Target = 'kafka' | 'file';

interface Config {
  writers: number;
  durationS: number;
  warmupS: number;
  docs: number;
  targets: Target[];
  repeat: number;
  brokers: number;
  partitions: number;
  fetchWaitMs: number;
  /** before each run, wait up to this long for the machine to go idle (< 0.25 cores busy) */
  quietWaitS: number;
  /** seconds of server idle CPU sampled before the writers start */
  idleS: number;
}

function parseArgs(argv: string[]): Config {
  const { val, num, has } = readArgs(argv, ['--brokers', '--docs', '--duration', '--fetch-wait', '--idle', '--no-wait-quiet', '--partitions', '--quick', '--repeat', '--targets', '--wait-quiet', '--warmup', '--writers'], 'node load-tests/dist/src/bench-writes.js');
  const quick = has('--quick') || process.env.BENCH_QUICK === '1';
  const targets = (val('--targets') ?? 'kafka,file').split(',').map((s) => s.trim()) as Target[];
  for (const t of targets) if (t !== 'kafka' && t !== 'file') throw new Error(`--targets: unknown target ${t}`);
  return {
    writers: Math.floor(num('--writers', 16)),
    durationS: num('--duration', quick ? 3 : 10),
    warmupS: num('--warmup', quick ? 1 : 2),
    docs: Math.floor(num('--docs', 64)),
    targets,
    repeat: Math.floor(num('--repeat', 1)),
    brokers: Math.floor(num('--brokers', 3)),
    partitions: Math.floor(num('--partitions', 8)),
    fetchWaitMs: Math.floor(num('--fetch-wait', 500)),
    idleS: num('--idle', quick ? 1 : 3),
    quietWaitS: has('--no-wait-quiet') ? 0 : val('--wait-quiet') !== undefined ? num('--wait-quiet', 60) : quick ? 0 : 60,
  };
}

// ---------------------------------------------------------------------------------------------
// the writers

interface WindowResult {
  acked: number;
  errors: number;
  errorSamples: string[];
  latency: Histogram;
  seconds: number;
}

/** closed loop: each writer sends its next write when the previous one is answered */
async function drive(cfg: Config, port: number, tag: string, onWindow: (phase: 'start' | 'end') => Promise<void>): Promise<WindowResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: cfg.writers });
  const latency = new Histogram();
  const t0 = performance.now();
  const winStart = t0 + cfg.warmupS * 1000;
  const winEnd = winStart + cfg.durationS * 1000;
  let acked = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  let n = 0;
  let started = false;
  let startHook: Promise<void> | undefined;
  const writer = async (w: number) => {
    while (performance.now() < winEnd) {
      const i = n++;
      const body = JSON.stringify({ w, n: i });
      const s = performance.now();
      let r: { status: number; body: string };
      try {
        r = await post(port, `/v1/docs/bw-${tag}-${i % cfg.docs}`, body, { 'idempotency-key': `bw-${tag}-${i}` }, agent);
      } catch (err) {
        r = { status: 0, body: (err as Error).message };
      }
      const e = performance.now();
      if (!started && e >= winStart) {
        started = true;
        startHook = onWindow('start');
      }
      if (e < winStart || e >= winEnd) continue;
      if (r.status === 200) {
        acked++;
        latency.record(e - s);
      } else {
        errors++;
        if (errorSamples.length < 5) errorSamples.push(`${r.status} ${r.body.slice(0, 200)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: cfg.writers }, (_, w) => writer(w)));
  await startHook;
  await onWindow('end');
  agent.destroy();
  return { acked, errors, errorSamples, latency, seconds: cfg.durationS };
}

// ---------------------------------------------------------------------------------------------
// one run of one target

interface RunResult {
  target: Target;
  writesPerS: number;
  acked: number;
  errors: number;
  errorSamples: string[];
  p50: number;
  p99: number;
  max: number;
  mean: number;
  /** Kafka produce requests or fsyncs per second */
  durabilityOpsPerS: number;
  writesPerDurabilityOp: number;
  /** mean produce latency (kafka) / append-to-durable latency (file), ms */
  durabilityLatencyMs: number;
  serverCores: number;
  /** CPU-µs of the server process per acknowledged write: its CPU-seconds over the window / writes acked */
  serverUsPerWrite: number;
  /** server cores busy with no writes, sampled just before the writers start */
  serverIdleCores: number;
  /** (serverCores − serverIdleCores) / writes per second, in µs */
  serverUsPerWriteMarginal: number;
  kafkaCores?: number;
  redisCores?: number;
  machineCores: number;
  /** machine cores busy just before the run (the wait-quiet probe; NaN when skipped) */
  busyBefore: number;
}

async function runTarget(cfg: Config, target: Target, runIndex: number): Promise<RunResult> {
  const busyBefore = await waitQuiet(cfg.quietWaitS, target);
  const cleanup: (() => Promise<void>)[] = [];
  try {
    let server: NodeProc;
    /** where its /metrics are: origin's ADMIN_PORT, dev's main port */
    let metricsPort: number;
    let kafkaPids: number[] = [];
    let redisPid: number | undefined;
    if (target === 'kafka') {
      const b = await startBackends(cfg.brokers, cfg.partitions);
      cleanup.push(() => b.stop());
      kafkaPids = b.kafkaPids;
      redisPid = b.redisPid;
      metricsPort = await freePort();
      // open, as `replicant dev` is: the write path is measured, not auth (bench:cluster measures
      // authenticated links; `npm run bench` auth vs open)
      server = await startNode('origin', 'bench-origin', { ...b.env, KAFKA_FETCH_MAX_WAIT_MS: String(cfg.fetchWaitMs), AUTH_DISABLED: 'true' }, metricsPort);
    } else {
      const tmp = benchDir('replicant-bench-writes-');
      cleanup.push(async () => tmp.remove());
      server = await startNode('dev', 'bench-dev', { DATA_DIR: tmp.dir });
      metricsPort = server.port;
    }
    cleanup.unshift(() => server.stop(10_000));

    let m0 = '';
    let m1 = '';
    const cpu0: Record<string, number> = {};
    const cpu1: Record<string, number> = {};
    const pids: Record<string, number[]> = { server: [server.pid], kafka: kafkaPids, redis: redisPid === undefined ? [] : [redisPid] };
    const sample = (into: Record<string, number>) => {
      for (const [k, ps] of Object.entries(pids)) if (ps.length > 0) into[k] = ps.reduce((a, pid) => a + cpuSeconds(pid), 0);
      into.machine = machineBusySeconds();
    };
    // idle CPU of the server: what it spends with no writes (subtracted for the marginal figure)
    const idle0 = cpuSeconds(server.pid);
    await new Promise((r) => setTimeout(r, cfg.idleS * 1000));
    const idleCores = cfg.idleS > 0 ? (cpuSeconds(server.pid) - idle0) / cfg.idleS : NaN;
    const w = await drive(cfg, server.port, `${target}${runIndex}`, async (phase) => {
      if (phase === 'start') {
        sample(cpu0);
        m0 = await getText(metricsPort, '/metrics');
      } else {
        sample(cpu1);
        m1 = await getText(metricsPort, '/metrics');
      }
    });
    const file = 'log="file"';
    const d = (name: string, labels = '') => metric(m1, name, labels) - metric(m0, name, labels);
    const ops = target === 'kafka' ? d('replicant_kafka_send_batch_size_count') : d('replicant_log_fsyncs_total', file);
    const opsAppends = target === 'kafka' ? d('replicant_kafka_send_batch_size_sum') : d('replicant_log_group_commit_batch_size_sum', file);
    const latSum = target === 'kafka' ? d('replicant_kafka_send_latency_seconds_sum') : d('replicant_log_append_latency_seconds_sum', file);
    const latCount = target === 'kafka' ? d('replicant_kafka_send_latency_seconds_count') : d('replicant_log_append_latency_seconds_count', file);
    const cores = (k: string) => (cpu1[k] !== undefined && cpu0[k] !== undefined ? (cpu1[k] - cpu0[k]) / w.seconds : undefined);
    return {
      target,
      writesPerS: w.acked / w.seconds,
      acked: w.acked,
      errors: w.errors,
      errorSamples: w.errorSamples,
      p50: w.latency.quantile(0.5),
      p99: w.latency.quantile(0.99),
      max: w.latency.max,
      mean: w.latency.mean,
      durabilityOpsPerS: ops / w.seconds,
      writesPerDurabilityOp: ops > 0 ? opsAppends / ops : NaN,
      durabilityLatencyMs: latCount > 0 ? (latSum / latCount) * 1000 : NaN,
      serverCores: cores('server')!,
      serverUsPerWrite: w.acked > 0 ? (cores('server')! * w.seconds * 1e6) / w.acked : NaN,
      serverIdleCores: idleCores,
      serverUsPerWriteMarginal: w.acked > 0 ? ((cores('server')! - idleCores) * w.seconds * 1e6) / w.acked : NaN,
      kafkaCores: cores('kafka'),
      redisCores: cores('redis'),
      machineCores: cores('machine')!,
      busyBefore,
    };
  } finally {
    for (const c of cleanup) await c().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------

const fmt = (x: number | undefined, digits = 0) =>
  x === undefined || !Number.isFinite(x) ? '–' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

async function main(): Promise<void> {
  const cfg = parseArgs(process.argv.slice(2));
  if (!replicantBuilt()) throw new Error(`${CLI_MAIN} does not exist: run \`npx tsc -b\` first`);
  console.log(
    `bench:writes: ${cfg.writers} closed-loop writers, ${cfg.docs} docs, ${cfg.warmupS} s warm-up + ${cfg.durationS} s window, ` +
      `targets ${cfg.targets.join(', ')}, ${cfg.repeat} run(s) each; cli ${CLI_MAIN}`,
  );
  const runs: RunResult[] = [];
  for (let r = 0; r < cfg.repeat; r++) {
    const order = r % 2 === 0 ? cfg.targets : [...cfg.targets].reverse();
    for (const t of order) {
      const res = await runTarget(cfg, t, r);
      runs.push(res);
      console.log(
        `  run ${r + 1} ${t}: ${fmt(res.writesPerS)} writes/s, p50 ${fmt(res.p50, 2)} ms, p99 ${fmt(res.p99, 2)} ms, ` +
          `${fmt(res.durabilityOpsPerS)} ${t === 'kafka' ? 'produce requests' : 'fsyncs'}/s, ` +
          `origin CPU ${fmt(res.serverUsPerWrite, 1)} µs/write (${fmt(res.serverCores, 2)} cores; idle ${fmt(res.serverIdleCores, 2)}, ` +
          `marginal ${fmt(res.serverUsPerWriteMarginal, 1)} µs/write), ${res.errors} errors` +
          (res.errorSamples.length ? ` (${res.errorSamples.join('; ')})` : ''),
      );
    }
  }
  const of = (t: Target) => runs.filter((x) => x.target === t);
  const med = (t: Target, f: (x: RunResult) => number | undefined) => median(of(t).map((x) => f(x) ?? NaN));
  const cols = cfg.targets;
  const title: Record<Target, string> = {
    kafka: `Kafka ${KAFKA_VERSION} (${cfg.brokers} brokers, acks=-1)`,
    file: 'file log (`replicant dev`, fsync)',
  };
  const rows: [string, (t: Target) => string][] = [
    [
      'writes acknowledged / s',
      (t) => {
        const xs = of(t).map((x) => x.writesPerS);
        const range = xs.length > 1 ? ` [${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}]` : '';
        return `${fmt(med(t, (x) => x.writesPerS))}${range}`;
      },
    ],
    ['ack latency p50 / p99 (ms)', (t) => `${fmt(med(t, (x) => x.p50), 2)} / ${fmt(med(t, (x) => x.p99), 2)}`],
    ['ack latency mean / max (ms)', (t) => `${fmt(med(t, (x) => x.mean), 2)} / ${fmt(Math.max(...of(t).map((x) => x.max)), 1)}`],
    ['non-200 answers', (t) => fmt(of(t).reduce((a, x) => a + x.errors, 0))],
    ['durability ops / s (Kafka: produce requests; file: fsyncs)', (t) => fmt(med(t, (x) => x.durabilityOpsPerS))],
    ['writes per durability op', (t) => fmt(med(t, (x) => x.writesPerDurabilityOp), 1)],
    ['mean produce request / append-to-fsync latency (ms)', (t) => fmt(med(t, (x) => x.durabilityLatencyMs), 2)],
    ['server CPU (cores busy)', (t) => fmt(med(t, (x) => x.serverCores), 2)],
    ['origin CPU per acknowledged write (CPU-µs; server CPU-s / writes acked)', (t) => fmt(med(t, (x) => x.serverUsPerWrite), 1)],
    ['server idle CPU before the writers (cores)', (t) => fmt(med(t, (x) => x.serverIdleCores), 3)],
    ['origin CPU per write, marginal (CPU-µs; cores above idle / writes/s)', (t) => fmt(med(t, (x) => x.serverUsPerWriteMarginal), 1)],
    ['Kafka brokers / Redis CPU (cores busy)', (t) => (t === 'kafka' ? `${fmt(med(t, (x) => x.kafkaCores), 2)} / ${fmt(med(t, (x) => x.redisCores), 2)}` : '–')],
    ['whole machine (cores busy)', (t) => fmt(med(t, (x) => x.machineCores), 2)],
    ['machine busy before the run (cores)', (t) => fmt(med(t, (x) => x.busyBefore), 2)],
  ];
  console.log('');
  console.log(`| ${cfg.repeat > 1 ? `medians of ${cfg.repeat} runs` : ''} | ${cols.map((t) => title[t]).join(' | ')} |`);
  console.log(`| --- | ${cols.map(() => '---:').join(' | ')} |`);
  for (const [label, f] of rows) console.log(`| ${label} | ${cols.map(f).join(' | ')} |`);
  console.log(
    `BENCH_JSON ${JSON.stringify({
      bench: 'writes',
      config: cfg,
      runs,
      cli: CLI_MAIN,
      host: hostInfo(),
    })}`,
  );
  process.exitCode = runs.some((x) => x.acked === 0) ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
