/**
 * Origin metrics (write path, materializer, checkpoints) on prom-client's default registry (prefix `replicant_`). Created once per process
 * and looked up by name, so several logs/origins in one process (tests, `dev`) share them.
 */
import { Counter, Gauge, Histogram, register } from 'prom-client';

function counter<L extends string>(name: string, help: string, labelNames: L[] = []): Counter<L> {
  return (register.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames });
}
function gauge<L extends string>(name: string, help: string, labelNames: L[] = []): Gauge<L> {
  return (register.getSingleMetric(name) as Gauge<L> | undefined) ?? new Gauge({ name, help, labelNames });
}
function histogram<L extends string>(name: string, help: string, buckets: number[], labelNames: L[] = []): Histogram<L> {
  return (register.getSingleMetric(name) as Histogram<L> | undefined) ?? new Histogram({ name, help, buckets, labelNames });
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export const originWrites = counter('replicant_origin_writes_total', 'Origin writes by outcome', ['result']);
export const originInflight = gauge('replicant_origin_inflight_writes', 'Origin writes in flight');
export const originWriteLatency = histogram(
  'replicant_origin_write_latency_seconds',
  'Origin write latency (durable and applied)',
  LATENCY_BUCKETS,
);
export const originRebuilds = counter(
  'replicant_origin_rebuilds_total',
  'Materialized views rebuilt from the log because the snapshot store lost its checkpoints',
);
export const opsApplied = counter('replicant_materializer_ops_total', 'Ops folded by the origin materializer', ['result']);
export const checkpointDuration = histogram(
  'replicant_checkpoint_duration_seconds',
  'Duration of one snapshot checkpoint commit',
  LATENCY_BUCKETS,
);
export const checkpointDocs = counter('replicant_checkpoint_docs_total', 'Document snapshots written by checkpoints');
export const checkpointErrors = counter('replicant_checkpoint_errors_total', 'Failed checkpoint commits');
