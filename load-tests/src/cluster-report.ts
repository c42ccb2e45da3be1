/** bench:cluster's report: the comparison table, the per-hop tables, and the problems that fail the run. */
import * as os from 'node:os';
import type { ClusterBenchConfig } from './cluster-config.js';
import type { ConfigResult, Hop } from './cluster-run.js';
import { placement } from './cluster-placement.js';
import { fmt, fmtInt, table } from './report.js';

export function report(cfg: ClusterBenchConfig, results: ConfigResult[]): string {
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
        row('delta frames / ops delivered (of expected)', (r) => `${fmtInt(r.delivered)} / ${fmtInt(r.opsDelivered)} (${fmt(r.completeness * 100, 2)}%)`),
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
export function problems(results: ConfigResult[]): string[] {
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