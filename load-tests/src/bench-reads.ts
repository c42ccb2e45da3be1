/**
 * `npm run bench:reads`: what the read barrier costs. One `replicant origin` over a real Kafka
 * cluster from the test kit (3 KRaft brokers, full JIT, replication factor 3, min.insync.replicas
 * 2) and a redis-server. R closed-loop readers (default 64) GET one of D documents (default 16) at
 * random over keep-alive connections, while open-loop writers POST W writes/s (default 200) spread
 * over the same documents. Two modes, alternated (`--repeat` rounds, medians reported):
 *
 *   barrier: `GET /v1/docs/{id}`, linearizable: the origin asks the partition leader for its end
 *            offset (one ListOffsets per partition per round, reads arriving meanwhile join the
 *            next round) and answers once it has applied up to it;
 *   local:   `GET /v1/docs/{id}?read=local`, the origin's view as it is.
 *
 * Reported per mode: GETs/s, latency p50/p99/max, non-200 answers, and for the barrier the
 * end-offset requests per GET (from replicant_origin_read_barrier_requests_total: the batching).
 * Targets (DESIGN "Consistency" cost): barrier throughput >= 0.5 x local, barrier p99 <= 2 x local
 * p99 + 10 ms; printed as met / not met. A table and one `BENCH_JSON {…}` line.
 *
 * Before the rounds both modes run once unmeasured (--warm-round <s>, 8: the brokers run with the
 * full JIT), and before starting anything the bench waits for the machine to go idle (--wait-quiet <s>, 60;
 * --no-wait-quiet).
 *
 * Flags: --readers <n> (64), --docs <n> (16), --write-rate <n/s> (200), --duration <s> (10),
 * --warmup <s> (2), --repeat <n> (2), --partitions <n> (8), --quick (3 s windows, 1 round).
 * Run it alone: `flock /tmp/replicant-load.lock npm run bench:reads`.
 */
import * as http from 'node:http';
import { freePort } from '@replicant/testkit';
import { Histogram } from './histogram.js';
import { CLI_MAIN, replicantBuilt } from './paths.js';
import { KAFKA_VERSION, startBackends, startNode } from './cluster.js';
import { writeAtRate, type WriteResult } from './open-loop-writer.js';
import { getText, metric } from './prom.js';
import { readArgs } from './args.js';
import { waitQuiet } from './procfs.js';
import { fmt, fmtInt, hostInfo, log, median, round, table } from './report.js';

type Mode = 'barrier' | 'local';

interface Config {
  readers: number;
  docs: number;
  writeRate: number;
  durationS: number;
  warmupS: number;
  repeat: number;
  partitions: number;
  /** unmeasured seconds of both modes before the first round (the brokers' JIT warms up) */
  warmRoundS: number;
  /** before starting, wait up to this long for the machine to go idle */
  quietWaitS: number;
}

function parseArgs(argv: string[]): Config {
  const { num, has } = readArgs(argv, ['--docs', '--duration', '--no-wait-quiet', '--partitions', '--quick', '--readers', '--repeat', '--wait-quiet', '--warm-round', '--warmup', '--write-rate'], 'node load-tests/dist/src/bench-reads.js');
  const quick = has('--quick') || process.env.BENCH_QUICK === '1';
  return {
    readers: Math.floor(num('--readers', 64)),
    docs: Math.floor(num('--docs', 16)),
    writeRate: num('--write-rate', 200),
    durationS: num('--duration', quick ? 3 : 10),
    warmupS: num('--warmup', quick ? 1 : 2),
    repeat: Math.floor(num('--repeat', quick ? 1 : 2)),
    partitions: Math.floor(num('--partitions', 8)),
    warmRoundS: num('--warm-round', quick ? 1 : 8),
    quietWaitS: has('--no-wait-quiet') ? 0 : num('--wait-quiet', quick ? 1 : 60),
  };
}

/** one GET over `agent`; status 0 on a transport error */
function get(port: number, path: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end();
  });
}

interface Window {
  mode: Mode;
  gets: number;
  getsPerS: number;
  errors: number;
  p50: number;
  p99: number;
  max: number;
  /** barrier end-offset requests per GET (0 for local) */
  requestsPerGet: number;
}

/** R closed-loop readers for warm-up + window; counts only the GETs that end inside the window */
async function readWindow(cfg: Config, port: number, adminPort: number, mode: Mode): Promise<Window> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: cfg.readers });
  const query = mode === 'local' ? '?read=local' : '';
  const latency = new Histogram();
  let gets = 0;
  let errors = 0;
  const t0 = performance.now();
  const winStart = t0 + cfg.warmupS * 1000;
  const winEnd = winStart + cfg.durationS * 1000;
  let m0: Promise<string> | undefined;
  let m1: Promise<string> | undefined;
  const reader = async () => {
    for (;;) {
      const s = performance.now();
      if (s >= winEnd) return;
      const status = await get(port, `/v1/docs/br-${Math.floor(Math.random() * cfg.docs)}${query}`, agent);
      const e = performance.now();
      if (e >= winStart) m0 ??= getText(adminPort, '/metrics');
      if (e >= winEnd) m1 ??= getText(adminPort, '/metrics');
      if (s < winStart || e >= winEnd) continue;
      if (status === 200) {
        gets++;
        latency.record(e - s);
      } else errors++;
    }
  };
  await Promise.all(Array.from({ length: cfg.readers }, reader));
  agent.destroy();
  const requests = metric(await m1!, 'replicant_origin_read_barrier_requests_total') - metric(await m0!, 'replicant_origin_read_barrier_requests_total');
  return {
    mode,
    gets,
    getsPerS: gets / cfg.durationS,
    errors,
    p50: latency.quantile(0.5),
    p99: latency.quantile(0.99),
    max: latency.quantile(1),
    requestsPerGet: gets > 0 ? requests / gets : 0,
  };
}

async function main(): Promise<void> {
  const cfg = parseArgs(process.argv.slice(2));
  if (!replicantBuilt()) throw new Error(`${CLI_MAIN} does not exist: run \`npx tsc -b\` first`);
  log(`bench:reads: ${cfg.readers} readers on ${cfg.docs} docs, ${cfg.writeRate} writes/s, ${cfg.durationS} s windows, ${cfg.repeat} round(s); Kafka ${KAFKA_VERSION} x3`);
  const busyBefore = await waitQuiet(cfg.quietWaitS, 'bench:reads');
  log(`  machine busy before starting: ${fmt(busyBefore)} cores`);
  const b = await startBackends(3, cfg.partitions);
  const adminPort = await freePort();
  const origin = await startNode('origin', 'bench-origin', { ...b.env, AUTH_DISABLED: 'true' }, adminPort).catch(async (err) => {
    await b.stop();
    throw err;
  });
  const windows: Window[] = [];
  const writes: WriteResult[] = [];
  try {
    // every doc exists before the first read
    await Promise.all(Array.from({ length: cfg.docs }, (_, d) => writeAtRate(origin.port, `br-${d}`, 50, 0.1, 0)));
    let n = 1000;
    // unmeasured: both modes once, so the brokers' C2 JIT and the origin are warm for the first round
    for (const mode of ['barrier', 'local'] as Mode[]) {
      const writing = Promise.all(Array.from({ length: cfg.docs }, (_, d) => writeAtRate(origin.port, `br-${d}`, cfg.writeRate / cfg.docs, cfg.warmRoundS, n)));
      n += Math.ceil((cfg.writeRate / cfg.docs) * cfg.warmRoundS) + 1;
      await readWindow({ ...cfg, warmupS: 0, durationS: cfg.warmRoundS }, origin.port, adminPort, mode);
      await writing;
    }
    for (let round = 0; round < cfg.repeat; round++) {
      for (const mode of (round % 2 === 0 ? ['barrier', 'local'] : ['local', 'barrier']) as Mode[]) {
        const seconds = cfg.warmupS + cfg.durationS;
        const perDoc = cfg.writeRate / cfg.docs;
        const writing = Promise.all(Array.from({ length: cfg.docs }, (_, d) => writeAtRate(origin.port, `br-${d}`, perDoc, seconds, n)));
        n += Math.ceil(perDoc * seconds) + 1;
        const w = await readWindow(cfg, origin.port, adminPort, mode);
        writes.push(...(await writing));
        windows.push(w);
        log(`  ${mode}: ${fmtInt(w.getsPerS)} GETs/s, p50 ${fmt(w.p50)} ms, p99 ${fmt(w.p99)} ms, ${w.errors} errors` +
          (mode === 'barrier' ? `, ${fmt(w.requestsPerGet, 3)} end-offset requests per GET` : ''));
      }
    }
  } finally {
    await origin.stop(10_000);
    await b.stop();
  }
  const of = (m: Mode) => windows.filter((w) => w.mode === m);
  const summary = (m: Mode) => ({
    getsPerS: median(of(m).map((w) => w.getsPerS)),
    p50: median(of(m).map((w) => w.p50)),
    p99: median(of(m).map((w) => w.p99)),
    max: Math.max(...of(m).map((w) => w.max)),
    errors: of(m).reduce((a, w) => a + w.errors, 0),
    requestsPerGet: median(of(m).map((w) => w.requestsPerGet)),
  });
  const barrier = summary('barrier');
  const local = summary('local');
  const acked = writes.reduce((a, w) => a + w.acked, 0);
  const writeFailures = writes.reduce((a, w) => a + w.failed + w.skipped, 0);
  const throughputOk = barrier.getsPerS >= 0.5 * local.getsPerS;
  const p99Ok = barrier.p99 <= 2 * local.p99 + 10;
  console.log(
    table([
      ['mode', 'GETs/s', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'end-offset req/GET'],
      ...(['barrier', 'local'] as Mode[]).map((m) => {
        const s = m === 'barrier' ? barrier : local;
        return [m, fmtInt(s.getsPerS), fmt(s.p50), fmt(s.p99), fmt(s.max), String(s.errors), m === 'barrier' ? fmt(s.requestsPerGet, 3) : '-'];
      }),
    ]),
  );
  console.log(`writes during the runs: ${acked} acknowledged, ${writeFailures} failed or skipped`);
  console.log(`target: barrier throughput >= 0.5 x local: ${round(barrier.getsPerS / local.getsPerS, 2)} x (${throughputOk ? 'met' : 'NOT met'})`);
  console.log(`target: barrier p99 <= 2 x local p99 + 10 ms = ${fmt(2 * local.p99 + 10)} ms: ${fmt(barrier.p99)} ms (${p99Ok ? 'met' : 'NOT met'})`);
  console.log(`BENCH_JSON ${JSON.stringify({ bench: 'reads', config: cfg, barrier, local, windows, writesAcked: acked, writeFailures, throughputOk, p99Ok, busyBefore, host: hostInfo() })}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
