/**
 * Stream-log metric sets (prefix `replicant_`), declared through the one registration path
 * (process-metrics.ts): each is created in the process registry when the first log of its kind is
 * constructed, so a process shows only the logs it runs.
 */
import { LATENCY_BUCKETS, defineMetrics } from './process-metrics.js';

const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

export const logMetrics = defineMetrics((m) => ({
  appends: m.counter({ name: 'replicant_log_appends_total', help: 'Records appended durably to the stream log', labelNames: ['log'] }),
  appendsShed: m.counter({
    name: 'replicant_log_appends_shed_total',
    help: 'Appends rejected because the pending (unsynced) bound was reached or the log was unavailable',
    labelNames: ['log'],
  }),
  fsyncs: m.counter({ name: 'replicant_log_fsyncs_total', help: 'fsyncs (group commits) performed by the stream log', labelNames: ['log'] }),
  batchSize: m.histogram({ name: 'replicant_log_group_commit_batch_size', help: 'Appends covered by one group commit', buckets: BATCH_BUCKETS, labelNames: ['log'] }),
  appendLatency: m.histogram({ name: 'replicant_log_append_latency_seconds', help: 'Time from append to durability', buckets: LATENCY_BUCKETS, labelNames: ['log'] }),
}));

/** the Kafka log (kafka/): one set per process registry, shared by every KafkaLog */
export const kafkaMetrics = defineMetrics((m) => ({
  appends: m.counter({ name: 'replicant_kafka_appends_total', help: 'Appends acknowledged by Kafka (acks=-1)' }),
  appendsShed: m.counter({ name: 'replicant_kafka_appends_shed_total', help: 'Appends rejected at once: in-flight bound reached or log closed' }),
  appendsFailed: m.counter({ name: 'replicant_kafka_appends_failed_total', help: 'Appends rejected because their produce request failed' }),
  sendErrors: m.counter({ name: 'replicant_kafka_send_errors_total', help: 'Produce requests that failed after kafkajs retries' }),
  producerResets: m.counter({
    name: 'replicant_kafka_producer_resets_total',
    help: 'Idempotent producers replaced by a fresh producer id after a failed produce request',
  }),
  batchSize: m.histogram({ name: 'replicant_kafka_send_batch_size', help: 'Appends carried by one produce request (group commit)', buckets: BATCH_BUCKETS }),
  sendLatency: m.histogram({
    name: 'replicant_kafka_send_latency_seconds',
    help: 'Produce request latency until acknowledged by all in-sync replicas',
    buckets: [...LATENCY_BUCKETS, 30],
  }),
  inflight: m.gauge({ name: 'replicant_kafka_inflight_appends', help: 'Appends accepted and not yet acknowledged or rejected' }),
  tailPauses: m.counter({ name: 'replicant_kafka_tail_pauses_total', help: 'Tail partitions paused because the handler fell behind' }),
  reads: m.counter({ name: 'replicant_kafka_fallback_reads_total', help: 'read() calls not covered by the recent window' }),
}));
