/**
 * Metrics people need, from a real process: a process exposes only the tiers it runs (per-process
 * registry; no other tier's series as zeros), and `replicant dev` reports end-to-end delivery
 * latency, consumer lag per partition for the replica and the checkpointer, and client send-queue
 * depth.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { post, RawClient, startDevProcess, tempDir } from './harness.js';

/** metric names (without _bucket/_sum/_count) in Prometheus text */
function names(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) /.exec(line);
    if (m) out.add(m[1]);
  }
  return out;
}

function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  return undefined;
}

test('a process that only loads a gateway exposes gateway metrics, no replica, origin or log series', () => {
  // a child process: this test process's registry already holds every tier the other tests ran
  const script = `
    import { processMetrics } from '@replicant/stream';
    import { Gateway } from '@replicant/gateway';
    const before = (await processMetrics.getMetricsAsJSON()).map((m) => m.name);
    new Gateway({ upstream: { subscribe() {}, unsubscribe() {} }, writer: { write: async () => 1n } });
    const after = (await processMetrics.getMetricsAsJSON()).map((m) => m.name);
    console.log(JSON.stringify({ before, after }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: new URL('../../', import.meta.url).pathname });
  assert.equal(r.status, 0, r.stderr);
  const { before, after } = JSON.parse(r.stdout) as { before: string[]; after: string[] };
  assert.deepEqual(before, [], 'importing the packages registers nothing');
  assert.ok(after.includes('replicant_gateway_connections'));
  assert.ok(after.includes('replicant_gateway_delivery_latency_seconds'));
  // replicant_history_bytes is the per-process HISTORY_BUDGET_BYTES gauge, shared by whichever tiers'
  // history rings the process runs (a gateway's rings are charged to it too)
  assert.deepEqual(after.filter((n) => !n.startsWith('replicant_gateway_') && n !== 'replicant_history_bytes'), [], 'only the gateway tier');
  assert.ok(after.includes('replicant_history_bytes'));
});

test('replicant dev: delivery latency, replica and checkpoint lag per partition, send-queue depth', async (t) => {
  const tmp = tempDir();
  const dev = await startDevProcess({ dataDir: tmp.dir, env: { PARTITIONS: '2' } });
  t.after(async () => {
    await dev.stop();
    tmp.cleanup();
  });
  const c = await RawClient.open(dev.wsUrl);
  t.after(() => c.close());
  c.send({ type: 'subscribe', doc: 'm' });
  await c.next((f) => f.type === 'snapshot');
  let last = '';
  for (let i = 0; i < 5; i++) last = (await post(dev.url, 'm', { i })).body.seq;
  await c.next((f) => f.type === 'delta' && f.seq === last);

  const text = await (await fetch(`${dev.url}/metrics`)).text();
  const n = names(text);
  assert.ok((sample(text, 'replicant_gateway_delivery_latency_seconds_count') ?? 0) >= 5, 'every delta timed');
  assert.ok((sample(text, 'replicant_gateway_delivery_latency_seconds_sum') ?? -1) >= 0);
  for (const p of ['0', '1']) {
    assert.notEqual(sample(text, `replicant_fanout_consumer_lag_records{partition="${p}"}`), undefined, `replica lag p${p}`);
    assert.notEqual(sample(text, `replicant_checkpoint_lag_records{partition="${p}"}`), undefined, `checkpoint lag p${p}`);
  }
  assert.equal(sample(text, 'replicant_fanout_consumer_lag_records{partition="0"}'), 0, 'the replica has applied everything delivered');
  assert.notEqual(sample(text, 'replicant_gateway_send_buffer_bytes{stat="max"}'), undefined);
  assert.ok(n.has('replicant_process_process_cpu_user_seconds_total'));
  // dev runs no Kafka log, no replica link server and no remote upstream
  for (const absent of ['replicant_kafka_appends_total', 'replicant_fanout_links', 'replicant_gateway_upstream_links']) {
    assert.ok(!n.has(absent), `${absent} is not exposed by dev`);
  }
});
