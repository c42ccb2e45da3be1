/**
 * Reads the benchmarks' `BENCH_JSON {…}` lines (load-tests/src/bench.ts, bench-cluster.ts,
 * bench-writes.ts) into the measured figures the capacity model needs.
 *
 * Tolerant by design: every other line (tables, progress, `#` comments) is ignored, unknown fields
 * are ignored, and a field the model does not need may be missing. A figure the model does need
 * and cannot find is an error naming the figure, the bench that produces it and the source.
 * Only the format is read here: this module never runs a benchmark.
 */
import { readFileSync } from 'node:fs';

/** one measured figure with where it came from, so every table can say what is measured */
export interface Figure {
  value: number;
  unit: string;
  /** e.g. `bench-cluster.txt: (a) 1 replica, hops.gatewaysTotal.perMillionDeliveries` */
  source: string;
}

/** every figure the model reads from the benches */
export interface Measured {
  /** `replicant dev` (origin+replica+gateway in one process) CPU-µs per client delivery */
  devUsPerDelivery: Figure;
  /** bare uWS ceiling, same run */
  bareUsPerDelivery?: Figure;
  /** RSS bytes per subscribed idle connection (user space only) */
  bytesPerIdleConn: Figure;
  /** upper bound on gateway CPU-µs to accept + subscribe + snapshot one client (connect time × 1 core / clients) */
  connectUsUpperBound?: Figure;
  /** gateway tier CPU-µs per client delivery, 10 gateways via 1 replica */
  gatewayUsPerDelivery: Figure;
  /** same, via 3 replicas (hot doc spread) */
  gatewayUsPerDelivery3?: Figure;
  /** replica cores busy per replica process under load (mostly the partition tail's fixed cost) */
  replicaCoresEach: Figure;
  /** replica cores per replica with no writes (idle baseline) */
  replicaIdleCoresEach?: Figure;
  /** upper bound on replica CPU-µs per link delta: one CLK_TCK tick over the fewest link deltas a replica sent */
  replicaUsPerLinkDeltaUpperBound: Figure;
  /** origin cores busy at the cluster bench's rate (fixed cost of its tail + checkpointer) */
  originCores: Figure;
  /** writes/s per origin core, file log (fsync) */
  originWritesPerCoreFile: Figure;
  /** writes/s per origin core, Kafka log (mock cluster) */
  originWritesPerCoreKafka: Figure;
  /** writes/s the Kafka-backed origin acknowledged (latency-bound against the mock, not CPU) */
  kafkaWritesPerS?: Figure;
  /** the configurations bench-cluster measured, for validation */
  cluster: ClusterRun[];
  /** the single-process fan-out bench run, for validation */
  fanout: FanoutRun;
}

export interface FanoutRun {
  subscribers: number;
  writeRate: number;
  deliveredPerSec: number;
  serverCpuUtil: number;
  cpuSPerMillion: number;
}

export interface ClusterRun {
  name: string;
  replicas: number;
  gateways: number;
  clientsPerGateway: number;
  writeRate: number;
  deliveredPerSec: number;
  linkDeltas: number;
  gatewaysCores: number;
  gatewaysUsPerDelivery: number;
  replicasCores: number;
  /** per replica: gateways (links carrying the doc) from its link deltas / writes */
  replicaLinkDeltas: number[];
  originCores: number;
  windowS: number;
}

export class BenchInputError extends Error {}

/** All `BENCH_JSON` objects in a text, in order. A line that is not valid JSON is an error naming its line. */
export function parseBenchLines(text: string, file = '<text>'): Record<string, any>[] {
  const out: Record<string, any>[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const at = line.indexOf('BENCH_JSON ');
    if (at !== 0) continue;
    try {
      out.push(JSON.parse(line.slice('BENCH_JSON '.length)));
    } catch (err) {
      throw new BenchInputError(`${file}:${i + 1}: BENCH_JSON line is not valid JSON (${(err as Error).message})`);
    }
  }
  return out;
}

/** the object at `path` (dot separated) or undefined */
function at(obj: any, path: string): any {
  let cur = obj;
  for (const k of path.split('.')) {
    if (cur === null || cur === undefined) return undefined;
    cur = cur[k];
  }
  return cur;
}

function num(obj: any, path: string): number | undefined {
  const v = at(obj, path);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function need<T>(v: T | undefined, what: string, where: string): T {
  if (v === undefined) throw new BenchInputError(`missing input: ${what} (expected ${where})`);
  return v;
}

export interface BenchTexts {
  /** output of `npm run bench` (bench: "replicant-fanout") */
  fanout: { text: string; file: string };
  /** output of `npm run bench:cluster` (bench: "replicant-cluster-fanout") */
  cluster: { text: string; file: string };
  /** output of `npm run bench:writes` (bench: "writes") */
  writes: { text: string; file: string };
}

function find(texts: { text: string; file: string }, bench: string): { json: Record<string, any>; file: string } {
  const all = parseBenchLines(texts.text, texts.file).filter((j) => j.bench === bench);
  if (all.length === 0) throw new BenchInputError(`missing input: no BENCH_JSON line with "bench":"${bench}" in ${texts.file}`);
  // the last run in a file wins: an appended re-run replaces an older one
  return { json: all[all.length - 1], file: texts.file };
}

const rowOf = (json: Record<string, any>, phase: string, target: string): any =>
  (Array.isArray(json[phase]) ? json[phase] : []).find((r: any) => r?.target === target && r.error === undefined);

/**
 * Idle RSS per connection. A run whose every server reported a settled reading (`settled: true`,
 * the bench's heap-settled RSS) counts; with several, their median. Without any, the last run's
 * reading (older benches read RSS 3 s after the burst, before the heap settled).
 */
function idleMemory(fan: { json: Record<string, any>; file: string }, all: Record<string, any>[]): Figure {
  const settled = all
    .map((j) => rowOf(j, 'memory', 'replicant'))
    .filter((r) => r && num(r, 'bytesPerConn') !== undefined && Array.isArray(r.servers) && r.servers.length > 0 && r.servers.every((x: any) => x?.settled === true));
  if (settled.length > 0) {
    return {
      value: median(settled.map((r) => r.bytesPerConn)),
      unit: 'B/conn',
      source: `${fan.file}: memory[target=replicant].bytesPerConn, median of ${settled.length} settled run${settled.length > 1 ? 's' : ''} (${settled.map((r) => r.bytesPerConn).join(', ')})`,
    };
  }
  const repMem = rowOf(fan.json, 'memory', 'replicant');
  return {
    value: need(num(repMem, 'bytesPerConn'), 'idle memory bytesPerConn', `${fan.file}: memory[target=replicant]`),
    unit: 'B/conn',
    source: `${fan.file}: memory[target=replicant].bytesPerConn`,
  };
}

export function readMeasured(texts: BenchTexts): Measured {
  // a memory-only run (--no-fanout) carries no fan-out rows: the fan-out figures come from the
  // last run that has them, the idle memory from the settled runs (idleMemory)
  const fanAll = parseBenchLines(texts.fanout.text, texts.fanout.file).filter((j) => j.bench === 'replicant-fanout');
  const withFanout = fanAll.filter((j) => rowOf(j, 'fanout', 'replicant') !== undefined);
  const fan = withFanout.length > 0 ? { json: withFanout[withFanout.length - 1], file: texts.fanout.file } : find(texts.fanout, 'replicant-fanout');
  const rep = rowOf(fan.json, 'fanout', 'replicant');
  const bare = rowOf(fan.json, 'fanout', 'bare');
  const fanWhere = `${fan.file}: fanout[target=replicant]`;

  const cl = find(texts.cluster, 'replicant-cluster-fanout');
  const clRows: any[] = (Array.isArray(cl.json.results) ? cl.json.results : []).filter((r: any) => r && r.error === undefined);
  const clientsPerGateway = num(cl.json, 'config.clientsPerGateway');
  const gateways = num(cl.json, 'config.gateways');
  const clkTck = num(cl.json, 'host.clkTck') ?? 100;
  const cluster: ClusterRun[] = clRows.map((r) => {
    const where = `${cl.file}: results[${r.name}]`;
    const replicas: any[] = Array.isArray(at(r, 'hops.replicas')) ? r.hops.replicas : [];
    return {
      name: String(r.name),
      replicas: need(num(r, 'replicas'), 'replicas', where),
      gateways: need(gateways, 'config.gateways', cl.file),
      clientsPerGateway: need(clientsPerGateway, 'config.clientsPerGateway', cl.file),
      writeRate: need(num(r, 'writeRate') ?? num(cl.json, 'config.rate'), 'writeRate', where),
      deliveredPerSec: need(num(r, 'deliveredPerSec'), 'deliveredPerSec', where),
      linkDeltas: need(num(r, 'hops.replicasTotal.linkDeltas'), 'hops.replicasTotal.linkDeltas', where),
      gatewaysCores: need(num(r, 'hops.gatewaysTotal.cores'), 'hops.gatewaysTotal.cores', where),
      gatewaysUsPerDelivery: need(num(r, 'hops.gatewaysTotal.perMillionDeliveries'), 'hops.gatewaysTotal.perMillionDeliveries', where),
      replicasCores: need(num(r, 'hops.replicasTotal.cores'), 'hops.replicasTotal.cores', where),
      replicaLinkDeltas: replicas.map((x) => num(x, 'linkDeltas') ?? 0),
      originCores: need(num(r, 'hops.origin.cores'), 'hops.origin.cores', where),
      windowS: num(r, 'cpuWindowS') ?? num(r, 'windowS') ?? need(num(r, 'durationS'), 'durationS', where),
    };
  });
  const one = cluster.find((c) => c.replicas === 1);
  const three = cluster.find((c) => c.replicas > 1);
  const oneRun = need(one, 'a configuration with 1 replica (results[].replicas = 1, no error)', cl.file);

  const wr = find(texts.writes, 'writes');
  const runs: any[] = Array.isArray(wr.json.runs) ? wr.json.runs : [];
  const perCore = (target: string): Figure | undefined => {
    const rs = runs.filter((r) => r?.target === target && num(r, 'writesPerS') !== undefined && num(r, 'serverCores'));
    if (rs.length === 0) return undefined;
    const v = median(rs.map((r) => r.writesPerS / r.serverCores));
    return { value: v, unit: 'writes/s/core', source: `${wr.file}: runs[target=${target}] writesPerS / serverCores (median of ${rs.length})` };
  };
  const kafkaRate = runs.filter((r) => r?.target === 'kafka').map((r) => num(r, 'writesPerS')).filter((x): x is number => x !== undefined);

  // the fewest link deltas any replica sent: one CLK_TCK tick of CPU over that many is the most a
  // link delta can cost and still be invisible in the counters (the bench's own reading)
  const minLink = Math.min(...cluster.flatMap((c) => c.replicaLinkDeltas.filter((x) => x > 0)));
  const fanoutRun = need(rep, 'a replicant fan-out result (fanout[target=replicant], no error)', fan.file);
  return {
    devUsPerDelivery: {
      value: need(num(rep, 'cpuSPerMillion'), 'cpuSPerMillion', fanWhere),
      unit: 'CPU-µs/delivery',
      source: `${fanWhere}.cpuSPerMillion`,
    },
    bareUsPerDelivery:
      num(bare, 'cpuSPerMillion') !== undefined
        ? { value: bare.cpuSPerMillion, unit: 'CPU-µs/delivery', source: `${fan.file}: fanout[target=bare].cpuSPerMillion` }
        : undefined,
    bytesPerIdleConn: idleMemory(fan, fanAll),
    connectUsUpperBound:
      num(rep, 'connectMs') !== undefined && num(rep, 'subscribers')
        ? {
            value: (rep.connectMs * 1000) / rep.subscribers,
            unit: 'CPU-µs/connect (upper bound)',
            source: `${fanWhere}: connectMs × 1 core / subscribers`,
          }
        : undefined,
    gatewayUsPerDelivery: {
      value: oneRun.gatewaysUsPerDelivery,
      unit: 'CPU-µs/delivery',
      source: `${cl.file}: results[${oneRun.name}].hops.gatewaysTotal.perMillionDeliveries`,
    },
    gatewayUsPerDelivery3: three
      ? { value: three.gatewaysUsPerDelivery, unit: 'CPU-µs/delivery', source: `${cl.file}: results[${three.name}].hops.gatewaysTotal.perMillionDeliveries` }
      : undefined,
    replicaCoresEach: {
      value: oneRun.replicasCores / oneRun.replicas,
      unit: 'cores/replica',
      source: `${cl.file}: results[${oneRun.name}].hops.replicasTotal.cores / replicas`,
    },
    replicaIdleCoresEach:
      num(clRows.find((r) => r.replicas === 1), 'idleCores.replicas') !== undefined
        ? {
            value: clRows.find((r) => r.replicas === 1).idleCores.replicas,
            unit: 'cores/replica',
            source: `${cl.file}: results[${oneRun.name}].idleCores.replicas`,
          }
        : undefined,
    replicaUsPerLinkDeltaUpperBound: {
      value: 1e6 / clkTck / need(Number.isFinite(minLink) ? minLink : undefined, 'hops.replicas[].linkDeltas of some replica', cl.file),
      unit: 'CPU-µs/link delta (upper bound)',
      source: `${cl.file}: 1 tick (1/${clkTck} s) / fewest hops.replicas[].linkDeltas (${minLink})`,
    },
    originCores: { value: oneRun.originCores, unit: 'cores', source: `${cl.file}: results[${oneRun.name}].hops.origin.cores` },
    originWritesPerCoreFile: need(perCore('file'), 'file-log writes/s per core (runs[target=file].writesPerS, serverCores)', wr.file),
    originWritesPerCoreKafka: need(perCore('kafka'), 'Kafka-log writes/s per core (runs[target=kafka].writesPerS, serverCores)', wr.file),
    kafkaWritesPerS: kafkaRate.length > 0 ? { value: median(kafkaRate), unit: 'writes/s', source: `${wr.file}: runs[target=kafka].writesPerS` } : undefined,
    cluster,
    fanout: {
      subscribers: need(num(fanoutRun, 'subscribers'), 'subscribers', fanWhere),
      writeRate: need(num(fanoutRun, 'writeRate'), 'writeRate', fanWhere),
      deliveredPerSec: need(num(fanoutRun, 'deliveredPerSec'), 'deliveredPerSec', fanWhere),
      serverCpuUtil: need(num(fanoutRun, 'serverCpuUtil'), 'serverCpuUtil', fanWhere),
      cpuSPerMillion: need(num(fanoutRun, 'cpuSPerMillion'), 'cpuSPerMillion', fanWhere),
    },
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** the checked-in sample outputs (scale/fixtures), or files given by the caller */
export function readMeasuredFiles(files: { fanout: string; cluster: string; writes: string }): Measured {
  const load = (file: string) => ({ text: readFileSync(file, 'utf8'), file: file.replace(/^.*\//, '') });
  return readMeasured({ fanout: load(files.fanout), cluster: load(files.cluster), writes: load(files.writes) });
}

export function fixturePaths(): { fanout: string; cluster: string; writes: string } {
  // compiled to scale/dist/src: the fixtures stay in scale/fixtures
  const dir = new URL('../../fixtures/', import.meta.url).pathname;
  return { fanout: `${dir}bench-fanout.txt`, cluster: `${dir}bench-cluster.txt`, writes: `${dir}bench-writes.txt` };
}
