import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { BenchInputError, fixturePaths, parseBenchLines, readMeasured } from '../src/bench-input.js';
import { costsFrom } from '../src/costs.js';

const paths = fixturePaths();
const load = (f: string) => readFileSync(f, 'utf8');
const texts = () => ({
  fanout: { text: load(paths.fanout), file: 'bench-fanout.txt' },
  cluster: { text: load(paths.cluster), file: 'bench-cluster.txt' },
  writes: { text: load(paths.writes), file: 'bench-writes.txt' },
});

test('the checked-in bench output gives the measured figures', () => {
  const m = readMeasured(texts());
  assert.equal(m.devUsPerDelivery.value, 3.147);
  assert.equal(m.bareUsPerDelivery?.value, 2.587);
  // the median of the settled idle-memory runs appended on 7 Dec (the 1 Dec run read 1451 B before the heap settled)
  assert.equal(m.bytesPerIdleConn.value, 2183); // of 2183, 2409, 2144
  assert.equal(m.gatewayUsPerDelivery.value, 4.38);
  assert.equal(m.gatewayUsPerDelivery3?.value, 4.693);
  assert.equal(m.replicaCoresEach.value, 0.05);
  assert.equal(m.cluster.length, 2);
  assert.deepEqual(m.cluster.map((c) => c.replicas), [1, 3]);
  assert.deepEqual(m.cluster[1].replicaLinkDeltas, [600, 450, 450]);
  // one 10 ms tick over the fewest link deltas a replica sent (450)
  assert.ok(Math.abs(m.replicaUsPerLinkDeltaUpperBound.value - 10_000 / 450) < 1e-9);
  assert.ok(Math.abs(m.originWritesPerCoreFile.value - 9460 / 1.06) < 1e-9);
  assert.ok(Math.abs(m.originWritesPerCoreKafka.value - 1258 / 0.4) < 1e-9);
  assert.match(m.gatewayUsPerDelivery.source, /bench-cluster\.txt: results\[\(a\) 1 replica\]/);
});

test('tolerant: other lines, unknown and optional fields missing', () => {
  const t = texts();
  const json = parseBenchLines(t.fanout.text)[0];
  json.fanout = json.fanout.filter((r: any) => r.target === 'replicant'); // no bare ceiling
  delete json.fanout[0].connectMs;
  json.extra = { anything: true };
  t.fanout.text = `some table line\n# a comment\nBENCH_JSON ${JSON.stringify(json)}\ntrailing`;
  const m = readMeasured(t);
  assert.equal(m.bareUsPerDelivery, undefined);
  assert.equal(m.connectUsUpperBound, undefined);
  assert.equal(costsFrom(m).gatewayUsPerConnect.value, 120);
});

test('the last run in a file wins', () => {
  const t = texts();
  const json = parseBenchLines(t.fanout.text)[0];
  json.fanout.find((r: any) => r.target === 'replicant').cpuSPerMillion = 9.5;
  json.memory[0].bytesPerConn = 2000;
  t.fanout.text += `\nBENCH_JSON ${JSON.stringify(json)}\n`;
  assert.equal(readMeasured(t).devUsPerDelivery.value, 9.5);
  // ... but an RSS read before the heap settled does not replace the settled runs' median
  assert.equal(readMeasured(t).bytesPerIdleConn.value, readMeasured(texts()).bytesPerIdleConn.value);
  t.fanout.text = `BENCH_JSON ${JSON.stringify(json)}\n`;
  assert.equal(readMeasured(t).bytesPerIdleConn.value, 2000);
});

test('idle memory: the median of the settled runs; a memory-only run leaves the fan-out figures to the last run that has them', () => {
  const t = texts();
  const json = parseBenchLines(t.fanout.text)[0];
  const memOnly = (bytesPerConn: number, settled: boolean) =>
    `BENCH_JSON ${JSON.stringify({
      bench: 'replicant-fanout',
      fanout: [],
      memory: [{ target: 'replicant', servers: [{ connections: 10, bytesPerConn, settled }, { connections: 10, bytesPerConn, settled }], bytesPerConn }],
    })}\n`;
  t.fanout.text = `BENCH_JSON ${JSON.stringify(json)}\n${memOnly(2400, true)}${memOnly(2100, true)}${memOnly(9999, false)}${memOnly(2200, true)}`;
  const m = readMeasured(t);
  // 9999 was read before the heap settled: not counted; the rest's median
  assert.equal(m.bytesPerIdleConn.value, 2200);
  assert.match(m.bytesPerIdleConn.source, /median of 3 settled runs \(2400, 2100, 2200\)/);
  // the fan-out figures still come from the run that measured fan-out
  assert.equal(m.devUsPerDelivery.value, json.fanout.find((r: any) => r.target === 'replicant').cpuSPerMillion);
  assert.equal(m.fanout.subscribers, 5000);
});

test('a required input that is absent is a clear error naming it', () => {
  const noGw = texts();
  const json = parseBenchLines(noGw.cluster.text)[0];
  delete json.results[0].hops.gatewaysTotal;
  noGw.cluster.text = `BENCH_JSON ${JSON.stringify(json)}`;
  assert.throws(() => readMeasured(noGw), (e: Error) => e instanceof BenchInputError && /hops\.gatewaysTotal\.cores.*bench-cluster\.txt: results\[\(a\) 1 replica\]/.test(e.message));

  const failedRuns = texts();
  const j2 = parseBenchLines(failedRuns.cluster.text)[0];
  for (const r of j2.results) r.error = 'could not compile the Kafka mock';
  failedRuns.cluster.text = `BENCH_JSON ${JSON.stringify(j2)}`;
  assert.throws(() => readMeasured(failedRuns), /missing input: a configuration with 1 replica/);

  const empty = texts();
  empty.writes.text = 'no json here';
  assert.throws(() => readMeasured(empty), /no BENCH_JSON line with "bench":"writes" in bench-writes\.txt/);

  assert.throws(() => parseBenchLines('ok\nBENCH_JSON {oops', 'x.txt'), /x\.txt:2: BENCH_JSON line is not valid JSON/);
});

test('the CLI prints the table from the fixtures and exits 2 naming a missing input', () => {
  const main = new URL('../src/main.js', import.meta.url).pathname;
  const ok = spawnSync(process.execPath, [main, 'table'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  for (const w of ['chat', 'live-comments', 'dashboards']) assert.match(ok.stdout, new RegExp(`\\| ${w} \\| 100 M \\|`));
  const bad = spawnSync(process.execPath, [main, 'table', '--writes', paths.fanout], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /replicant-scale: missing input: no BENCH_JSON line with "bench":"writes"/);
});
