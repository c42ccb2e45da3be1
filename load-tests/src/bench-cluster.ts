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
 *
 * Modules: cluster-config (flags), cluster (the processes), cluster-run (one configuration,
 * measured), cluster-placement (the hot doc's spread), cluster-report (tables, failures).
 */
import { CLI_MAIN, replicantBuilt } from './paths.js';
import { agent } from './open-loop-writer.js';
import { parseConfig } from './cluster-config.js';
import { runConfig, type ConfigResult } from './cluster-run.js';
import { problems, report } from './cluster-report.js';
import { hostInfo, log } from './report.js';

export type { ClusterBenchConfig } from './cluster-config.js';
export type { ConfigResult, Hop } from './cluster-run.js';
export type { ReplicaSpread } from './cluster-placement.js';

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
    host: hostInfo(),
    results,
  };
  process.stdout.write(`BENCH_JSON ${JSON.stringify(json)}\n`);
  const p = problems(results);
  for (const x of p) log(`FAIL ${x}`);
  process.exitCode = p.length > 0 ? 1 : 0;
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    // exiting runs the test kit's exit hook: every process this run started is SIGKILLed
    log(`${sig}: stopping every process this run started`);
    process.exit(130);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
