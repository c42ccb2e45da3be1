#!/usr/bin/env node
/**
 * `replicant-scale` (npm run scale / scale:sim / scale:validate):
 *   table     the capacity table for 1 M, 100 M and 1 B connections under the named workloads
 *   sim       run simulator scenarios (--scenario <name>|all, --seed, --connections)
 *   validate  simulate the configurations the benches measured; predicted vs measured
 * Inputs: --fanout, --cluster, --writes (BENCH_JSON outputs; default: the checked-in scale/fixtures);
 * --affinity a (what-if: the share of a doc's subscribers that share its affinity key; default 0).
 */
import { parseArgs } from 'node:util';
import { BenchInputError, fixturePaths, readMeasuredFiles } from './bench-input.js';
import { costsFrom, TUNED, values } from './costs.js';
import { affinityTable, AFFINITY_WHAT_IF, capacityTable, coresTable, costsTable, plans, regionTable, treeTable } from './capacity-table.js';

const USAGE = `usage: replicant-scale <table|sim|validate> [--fanout f] [--cluster f] [--writes f] [--affinity a]
  --affinity a  what-if: a fraction 0..1 of each doc's subscribers give its affinity key and share one
                gateway (default 0: uniform random placement); every table and scenario uses it
  sim: [--scenario <name>|all] [--seed n] [--connections n] [--workload chat|live-comments|dashboards]
       [--util f]  plan replicas and origins to this fraction of a core (default 0.6; gateways: the storm reserve)`;

async function main(): Promise<number> {
  const { values: flags, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      fanout: { type: 'string' },
      cluster: { type: 'string' },
      writes: { type: 'string' },
      scenario: { type: 'string', default: 'all' },
      seed: { type: 'string', default: '1' },
      connections: { type: 'string' },
      workload: { type: 'string' },
      util: { type: 'string' },
      affinity: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const cmd = positionals[0] ?? 'table';
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  const def = fixturePaths();
  const measured = readMeasuredFiles({ fanout: flags.fanout ?? def.fanout, cluster: flags.cluster ?? def.cluster, writes: flags.writes ?? def.writes });
  const costs = costsFrom(measured);
  if (flags.affinity !== undefined) {
    const a = Number(flags.affinity);
    if (flags.affinity.trim() === '' || !(a >= 0 && a <= 1)) {
      console.error('--affinity must be a fraction of a doc\'s subscribers between 0 and 1');
      return 2;
    }
    costs.affinity = { ...costs.affinity, value: a, provenance: 'config', why: `--affinity ${flags.affinity}` };
  }
  if (cmd === 'table') {
    const ps = plans(costs);
    console.log('Inputs (measured figures from the BENCH_JSON files, assumptions marked):\n');
    console.log(costsTable(costs));
    console.log('\nCapacity (steady state; replicas and origins planned to 60 % of a core, gateways so a 10 % loss\'s reconnect storm fits under 90 %):\n');
    console.log(capacityTable(ps));
    console.log('\nWhere the cores go:\n');
    console.log(coresTable(ps));
    console.log('\nFan-out tree:\n');
    console.log(treeTable(ps));
    const tuned = plans(costs, TUNED);
    console.log(`\nThe same with the settings the model recommends (${Object.entries(TUNED).map(([k, v]) => `${k}=${v}`).join(', ')}):\n`);
    console.log(capacityTable(tuned));
    console.log('\nWhere the cores go (recommended settings):\n');
    console.log(coresTable(tuned));
    console.log('\nFan-out tree (recommended settings):\n');
    console.log(treeTable(tuned));
    const rate = values(costs).admissionRate;
    console.log(`\nThree regions at 1 B connections (recommended settings; ADMISSION_RATE ${rate}/s):\n`);
    console.log(regionTable(costs, TUNED, rate));
    console.log(
      `\nAffinity what-if (default settings): a share a of each room's members give the room's affinity key and share one gateway, the rest land at random (a = ${AFFINITY_WHAT_IF.join(', ')}):\n`,
    );
    console.log(affinityTable(costs));
    return 0;
  }
  if (cmd === 'sim' || cmd === 'validate') {
    const { runCommand } = await import('./sim-command.js');
    return runCommand(cmd, measured, costs, flags);
  }
  console.error(USAGE);
  return 2;
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    if (err instanceof BenchInputError || (err as any)?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      console.error(`replicant-scale: ${(err as Error).message}`);
      process.exitCode = 2;
    } else {
      console.error(err);
      process.exitCode = 1;
    }
  },
);
