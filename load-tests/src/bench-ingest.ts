/**
 * `npm run bench:ingest`: Kafka-native ingestion (origin/src/ingest.ts) on real processes: a real
 * Apache Kafka cluster from the test kit (3 KRaft brokers, full JIT), a redis-server, `replicant
 * origin` with INGEST_TOPICS, one fanout replica and one gateway.
 *
 * 1. Throughput: a plain kafkajs producer (not Replicant) fills a 4-partition ingest topic with N
 *    JSON merge patches of ~200 bytes over D keys before the measured window; the window runs from
 *    the first to the last record counted `ok` by the origin (replicant_ingest_records_total).
 *    Reported: records/s, and records/s per origin core (records over the origin's CPU-seconds in
 *    the window, /proc/<pid>/stat).
 * 2. Latency: the producer sends R records/s (open loop, each carrying its send time) while a
 *    WebSocket client on the gateway subscribes to every doc; record-to-subscriber latency is the
 *    receive time minus the send time of the record a delta ends at (p50 / p99 / max).
 *
 * Flags: --records <n> (200000), --docs <n> (1000), --rate <r/s> (2000), --latency-s <s> (10),
 * --partitions <n> (4: of the ingest topic), --quick (50000 records, 5 s of latency).
 * Run it alone: `flock /tmp/replicant-load.lock npm run bench:ingest`.
 */
import WebSocket from 'ws';
import { Kafka, Partitioners, logLevel, type Message } from 'kafkajs';
import { Histogram } from './histogram.js';
import { cpuSeconds, machineBusySeconds } from './procfs.js';
import { CLI_MAIN, replicantBuilt } from './servers.js';
import { KAFKA_VERSION, startCluster } from './cluster.js';
import { getText, metric } from './prom.js';
import { readArgs } from './args.js';
import { hostInfo, sleep } from './report.js';

const TOPIC = 'bench.ingest';

function parseArgs(argv: string[]) {
  const { num, has } = readArgs(argv, ['--docs', '--latency-s', '--partitions', '--quick', '--rate', '--records'], 'node load-tests/dist/src/bench-ingest.js');
  const quick = has('--quick') || process.env.BENCH_QUICK === '1';
  return {
    records: Math.floor(num('--records', quick ? 50_000 : 200_000)),
    docs: Math.floor(num('--docs', 1000)),
    rate: num('--rate', 2000),
    latencyS: num('--latency-s', quick ? 5 : 10),
    partitions: Math.floor(num('--partitions', 4)),
  };
}

/** a ~200-byte merge patch (the JSON text) for record i */
function patch(i: number, sentAt: number): string {
  return JSON.stringify({ n: i, t: sentAt, status: i % 3 === 0 ? 'open' : 'closed', note: 'x'.repeat(120), [`f${i % 16}`]: { v: i } });
}

async function main(): Promise<void> {
  const cfg = parseArgs(process.argv.slice(2));
  if (!replicantBuilt()) throw new Error(`${CLI_MAIN} does not exist: run \`npx tsc -b\` first`);
  console.log(`bench:ingest: ${cfg.records} records over ${cfg.docs} docs on a ${cfg.partitions}-partition topic, then ${cfg.rate} records/s for ${cfg.latencyS} s; cli ${CLI_MAIN}`);
  const cluster = await startCluster({
    brokers: 3,
    partitions: 8,
    replicas: 1,
    gateways: 1,
    env: { INGEST_TOPICS: `${TOPIC}=merge-patch:b:`, KAFKA_FETCH_MAX_WAIT_MS: '100' },
  });
  try {
    await cluster.kafka.createTopic(TOPIC, { partitions: cfg.partitions });
    const kafka = new Kafka({ clientId: 'bench-producer', brokers: cluster.kafka.bootstraps, logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const origin = cluster.origin;
    const ok = async () => metric(await getText(origin.port, '/metrics'), 'replicant_ingest_records_total', `topic="${TOPIC}",result="ok"`);

    // ---- 1. throughput from a backlog ----
    await producer.send({ topic: TOPIC, acks: -1, messages: [{ key: 'warm', value: '{"warm":true}' }] });
    while ((await ok()) < 1) await sleep(50);
    const base = await ok();
    const BATCH = 2000;
    for (let i = 0; i < cfg.records; i += BATCH) {
      const messages: Message[] = [];
      for (let j = i; j < Math.min(cfg.records, i + BATCH); j++) messages.push({ key: `d${j % cfg.docs}`, value: patch(j, 0) });
      await producer.send({ topic: TOPIC, acks: -1, messages });
    }
    // the origin ingests while the producer fills the topic; the window starts at the first record of the backlog
    // counted and ends at the last (polled every 20 ms)
    let t0 = 0;
    let cpu0 = 0;
    let m0 = 0;
    for (;;) {
      const n = (await ok()) - base;
      if (t0 === 0 && n > 0) {
        t0 = performance.now();
        cpu0 = cpuSeconds(origin.pid);
        m0 = n;
      }
      if (n >= cfg.records) break;
      await sleep(20);
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(origin.pid) - cpu0;
    const counted = cfg.records - m0;
    const perS = counted / seconds;
    const perCore = counted / cpu;
    console.log(`  throughput: ${Math.round(perS)} records/s, origin ${(cpu / seconds).toFixed(2)} cores busy: ${Math.round(perCore)} records/s per origin core`);

    // ---- 2. record-to-subscriber latency at a fixed rate ----
    // the replica first catches up with the backlog the origin appended (its own tail of the log)
    const fanout = cluster.fanouts[0];
    const fanoutLag = async () => metric(await getText(fanout.adminPort, '/metrics'), 'replicant_fanout_consumer_lag_records');
    for (let lag = await fanoutLag(); lag > 0; lag = await fanoutLag()) await sleep(100);
    const gw = cluster.gateways[0];
    const delivery = async () => {
      const text = await getText(gw.port, '/metrics');
      return { sum: metric(text, 'replicant_gateway_delivery_latency_seconds_sum'), count: metric(text, 'replicant_gateway_delivery_latency_seconds_count') };
    };
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/v1/stream`, ['replicant.v1.json']);
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    const lat = new Histogram();
    let measuring = false;
    let snapshots = 0;
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      if (f.type === 'snapshot') snapshots++;
      else if (f.type === 'delta' && measuring && typeof f.patch?.t === 'number' && f.patch.t > 0) lat.record(Date.now() - f.patch.t);
    });
    for (let d = 0; d < cfg.docs; d++) ws.send(JSON.stringify({ type: 'subscribe', doc: `b:d${d}` }));
    while (snapshots < cfg.docs) await sleep(20);
    measuring = true;
    const d0 = await delivery();
    const age = async () => {
      const text = await getText(origin.port, '/metrics');
      return { sum: metric(text, 'replicant_ingest_record_age_seconds_sum'), count: metric(text, 'replicant_ingest_record_age_seconds_count') };
    };
    const a0 = await age();
    const machine0 = machineBusySeconds();
    const start = Date.now();
    const tick = 10;
    let sent = 0;
    // open loop with group commit, as a real producer's linger does: records due while a send is
    // in flight go out together in the next one. (One send per tick instead queues requests behind
    // each other: a broker handles one request per connection at a time, each waiting for acks=-1.)
    let pending: Message[] = [];
    let inFlight: Promise<unknown> | undefined;
    const flush = (): void => {
      if (inFlight !== undefined || pending.length === 0) return;
      const messages = pending;
      pending = [];
      inFlight = producer.send({ topic: TOPIC, acks: -1, messages }).finally(() => {
        inFlight = undefined;
        flush();
      });
    };
    for (let k = 0; Date.now() - start < cfg.latencyS * 1000; k++) {
      const due = Math.floor(((Date.now() - start) / 1000) * cfg.rate);
      while (sent < due) {
        pending.push({ key: `d${sent % cfg.docs}`, value: patch(cfg.records + sent, Date.now()) });
        sent++;
      }
      flush();
      await sleep(tick);
    }
    while (lat.count < sent * 0.99 && Date.now() - start < (cfg.latencyS + 10) * 1000) await sleep(50);
    const machineCores = (machineBusySeconds() - machine0) / ((Date.now() - start) / 1000);
    const d1 = await delivery();
    const a1 = await age();
    // producer send to the origin's round being durable (the record's Kafka timestamp is set by the producer)
    const recordToOriginMs = a1.count > a0.count ? ((a1.sum - a0.sum) / (a1.count - a0.count)) * 1000 : NaN;
    console.log(`  record-to-origin mean ${recordToOriginMs.toFixed(1)} ms (replicant_ingest_record_age_seconds, per round)`);
    // origin accepting the op (its timestamp) to the gateway handing it to its sockets
    const originToGatewayMs = d1.count > d0.count ? ((d1.sum - d0.sum) / (d1.count - d0.count)) * 1000 : NaN;
    console.log(`  origin-to-gateway mean ${originToGatewayMs.toFixed(1)} ms (replicant_gateway_delivery_latency_seconds)`);
    console.log(`  latency at ${cfg.rate} records/s: p50 ${lat.quantile(0.5).toFixed(1)} ms, p99 ${lat.quantile(0.99).toFixed(1)} ms, max ${lat.max.toFixed(1)} ms over ${lat.count} deltas (${sent} records sent)`);
    ws.close();
    await producer.disconnect();
    console.log('');
    console.log(`| Kafka ${KAFKA_VERSION}, 3 brokers; ${cfg.partitions}-partition ingest topic, ~200-byte merge patches | |`);
    console.log('| --- | ---: |');
    console.log(`| records ingested / s (backlog of ${counted.toLocaleString('en-US')}) | ${Math.round(perS).toLocaleString('en-US')} |`);
    console.log(`| origin CPU (cores busy) | ${(cpu / seconds).toFixed(2)} |`);
    console.log(`| records / s per origin core | ${Math.round(perCore).toLocaleString('en-US')} |`);
    console.log(`| record-to-subscriber p50 / p99 / max at ${cfg.rate} records/s (ms) | ${lat.quantile(0.5).toFixed(1)} / ${lat.quantile(0.99).toFixed(1)} / ${lat.max.toFixed(1)} |`);
    console.log(`| of which the record's timestamp to its ingest round durable, mean per round (ms) | ${recordToOriginMs.toFixed(1)} |`);
    console.log(`| of which origin accepting the op to the gateway's sockets, mean (ms) | ${originToGatewayMs.toFixed(1)} |`);
    console.log(`| whole machine during the latency run (cores busy) | ${machineCores.toFixed(2)} |`);
    console.log(`BENCH_JSON ${JSON.stringify({ bench: 'ingest', config: cfg, perS, perCore, originCores: cpu / seconds, latency: lat.toJSON(), recordToOriginMs, originToGatewayMs, sent, host: hostInfo() })}`);
  } finally {
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
