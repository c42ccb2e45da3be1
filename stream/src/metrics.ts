/**
 * Stream-log metrics on prom-client's default registry (prefix `replicant_`). Created once per
 * process and looked up by name, so several logs in one process (tests, `dev`) share them.
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

export const logAppends = counter('replicant_log_appends_total', 'Records appended durably to the stream log', ['log']);
export const logAppendsShed = counter(
  'replicant_log_appends_shed_total',
  'Appends rejected because the pending (unsynced) bound was reached or the log was unavailable',
  ['log'],
);
export const logFsyncs = counter('replicant_log_fsyncs_total', 'fsyncs (group commits) performed by the stream log', ['log']);
export const logBatchSize = histogram(
  'replicant_log_group_commit_batch_size',
  'Appends covered by one group commit',
  [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
  ['log'],
);
export const logAppendLatency = histogram(
  'replicant_log_append_latency_seconds',
  'Time from append to durability',
  LATENCY_BUCKETS,
  ['log'],
);

// Kafka log (stream/src/kafka/): one set per process, shared by every KafkaLog
export const kafkaAppends = counter('replicant_kafka_appends_total', 'Appends acknowledged by Kafka (acks=-1)');
export const kafkaAppendsShed = counter(
  'replicant_kafka_appends_shed_total',
  'Appends rejected at once: in-flight bound reached or log closed',
);
export const kafkaAppendsFailed = counter('replicant_kafka_appends_failed_total', 'Appends rejected because their produce request failed');
export const kafkaSendErrors = counter('replicant_kafka_send_errors_total', 'Produce requests that failed after kafkajs retries');
export const kafkaBatchSize = histogram(
  'replicant_kafka_send_batch_size',
  'Appends carried by one produce request (group commit)',
  [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
);
export const kafkaSendLatency = histogram(
  'replicant_kafka_send_latency_seconds',
  'Produce request latency until acknowledged by all in-sync replicas',
  [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
);
export const kafkaInflight = gauge('replicant_kafka_inflight_appends', 'Appends accepted and not yet acknowledged or rejected');
export const kafkaTailPauses = counter('replicant_kafka_tail_pauses_total', 'Tail partitions paused because the handler fell behind');
export const kafkaReads = counter('replicant_kafka_fallback_reads_total', 'read() calls not covered by the recent window');
