// `npm run cluster`: the local distributed cluster of the DESIGN contracts, without Docker.
// Starts real Apache Kafka (3 KRaft brokers, or --brokers 1 on a small laptop), a redis-server,
// `replicant origin`, 2 x `replicant fanout` and 2 x `replicant gateway` as child processes on
// 127.0.0.1, prints one `ready` line naming the gateway and origin URLs, and stops everything on
// Ctrl-C (SIGINT) or SIGTERM. The caller's environment is passed to every replicant process
// (e.g. AUTH_DISABLED=true, AUTH_JWT_SECRET, CLUSTER_SECRET); children's output is prefixed.
//
// Flags: --brokers <1|3> (3), --partitions <n> (8), --port <n> (8080: gateways on n and n+1,
// origin on n+2, the origin's ADMIN_PORT (its console) on n+3; 0 picks free ports). Kafka and Redis always get free ports and temporary data.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { freePort, startKafka, startRedis } from '../testkit/dist/src/index.js';

const MAIN = new URL('../cli/dist/src/main.js', import.meta.url).pathname;
const TOPIC = process.env.KAFKA_TOPIC || 'replicant.docs';

function fail(message) {
  console.error(`cluster: ${message}`);
  process.exit(2);
}

let flags;
try {
  ({ values: flags } = parseArgs({
    options: {
      brokers: { type: 'string', default: '3' },
      partitions: { type: 'string', default: '8' },
      port: { type: 'string', default: '8080' },
    },
  }));
} catch (err) {
  fail(err.message);
}
const brokers = Number(flags.brokers);
const partitions = Number(flags.partitions);
const basePort = Number(flags.port);
if (brokers !== 1 && brokers !== 3) fail('--brokers must be 1 or 3');
if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024) fail('--partitions must be an integer in [1, 1024]');
if (!Number.isInteger(basePort) || basePort < 0 || basePort > 65533) fail('--port must be an integer in [0, 65533]');

const children = [];
let kafka;
let redis;
let stopping;

/** starts `replicant <mode>`; resolves with its port once it printed its ready line */
function start(mode, id, port, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, mode], {
      env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), NODE_ID: id, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push({ id, child });
    let ready = false;
    for (const s of [child.stdout, child.stderr]) {
      createInterface({ input: s }).on('line', (line) => {
        process.stdout.write(`[${id}] ${line}\n`);
        const m = !ready && / ready on [^:\s]+:(\d+)/.exec(line);
        if (m) {
          ready = true;
          resolve(Number(m[1]));
        }
      });
    }
    child.once('exit', (code, signal) => {
      if (!ready) reject(new Error(`${id} exited (${signal ?? code}) before it was ready`));
      else if (!stopping) {
        console.error(`cluster: ${id} exited (${signal ?? code}); stopping the cluster`);
        void stop(1);
      }
    });
  });
}

async function stop(code) {
  stopping ??= (async () => {
    // gateways first (they drain their clients), the origin last; SIGKILL after 10 s
    for (const { child } of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    await redis?.close();
    await kafka?.stop();
    console.log('cluster: stopped');
    process.exit(code);
  })();
  return stopping;
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

try {
  const t0 = Date.now();
  console.log(`cluster: starting Kafka (${brokers} broker${brokers > 1 ? 's' : ''}) and redis-server`);
  [kafka, redis] = await Promise.all([startKafka({ nodes: brokers }), startRedis()]);
  await kafka.createTopic(TOPIC, { partitions });
  const port = async (offset) => (basePort === 0 ? freePort() : basePort + offset);
  const env = { KAFKA_BROKERS: kafka.bootstraps.join(','), KAFKA_TOPIC: TOPIC, REDIS_URL: redis.url, PARTITIONS: String(partitions) };
  // every node has an ADMIN_PORT (the console reads each one's /stats); the origin's serves the console URL printed below
  const admin = async () => ({ ADMIN_PORT: String(await freePort()) });
  const consolePort = await port(3);
  const originPort = await start('origin', 'origin-1', await port(2), { ...env, ADMIN_PORT: String(consolePort) });
  const origin = `http://127.0.0.1:${originPort}`;
  await Promise.all([1, 2].map(async (i) => start('fanout', `fanout-${i}`, 0, { ...env, ...(await admin()) })));
  const gateways = await Promise.all([0, 1].map(async (i) => start('gateway', `gateway-${i + 1}`, await port(i), { ...env, ORIGIN_URL: origin, ...(await admin()) })));
  console.log(
    `cluster ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: gateways ${gateways.map((p) => `ws://127.0.0.1:${p}/v1/stream`).join(' ')} ` +
      `origin ${origin} console http://127.0.0.1:${consolePort}/console/ kafka ${kafka.bootstraps.join(',')} redis ${redis.url} (Ctrl-C stops it all)`,
  );
} catch (err) {
  console.error(`cluster: ${err.message}`);
  await stop(1);
}
