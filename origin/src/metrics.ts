/**
 * Metric sets of the origin write path and its checkpointer (prefix `replicant_`), declared
 * through the one registration path (@replicant/stream process-metrics): each is created in the
 * process registry when the first origin / checkpointer is constructed.
 */
import { LATENCY_BUCKETS, defineMetrics } from '@replicant/stream';

export const originMetrics = defineMetrics((m) => ({
  writes: m.counter({ name: 'replicant_origin_writes_total', help: 'Origin writes by outcome', labelNames: ['result'] }),
  inflight: m.gauge({ name: 'replicant_origin_inflight_writes', help: 'Origin writes in flight' }),
  writeLatency: m.histogram({ name: 'replicant_origin_write_latency_seconds', help: 'Origin write latency (durable and applied)', buckets: LATENCY_BUCKETS }),
  rebuilds: m.counter({
    name: 'replicant_origin_rebuilds_total',
    help: 'Materialized views rebuilt from the log because the snapshot store lost its checkpoints',
  }),
  reads: m.counter({
    name: 'replicant_origin_reads_total',
    help: 'Origin document reads (GET) by mode: barrier (linearizable), local (?read=local) or history (?at=, /history, /restore)',
    labelNames: ['read'],
  }),
  barrierWait: m.histogram({
    name: 'replicant_origin_read_barrier_wait_seconds',
    help: "Time a linearizable read waited for the log's end offset and for this origin to apply up to it",
    buckets: LATENCY_BUCKETS,
  }),
  barrierRequests: m.counter({
    name: 'replicant_origin_read_barrier_requests_total',
    help: 'End-offset requests (Kafka ListOffsets) sent by the read barrier: at most one in flight per partition',
  }),
  barrierTimeouts: m.counter({
    name: 'replicant_origin_read_barrier_timeouts_total',
    help: 'Reads answered 503 because the barrier was not passed within READ_BARRIER_TIMEOUT_MS',
  }),
  barrierAbandoned: m.counter({
    name: 'replicant_origin_read_barrier_abandoned_total',
    help: 'End-offset requests given up after READ_BARRIER_TIMEOUT_MS without an answer (the next round is sent at once)',
  }),
  barrierStuck: m.counter({
    name: 'replicant_origin_read_barrier_stuck_total',
    help: "Reads that timed out with their end offset known, waiting for this origin's view to reach it (position below the log end: the view is behind or stalled)",
  }),
  presenceWrites: m.counter({ name: 'replicant_origin_presence_writes_total', help: 'Merge patches written to presence documents (d~presence) by this origin' }),
  presenceExpired: m.counter({ name: 'replicant_origin_presence_gateways_expired_total', help: 'Gateways removed from presence after PRESENCE_TTL_MS without a report' }),
  presenceLeader: m.gauge({ name: 'replicant_origin_presence_leader', help: '1 while this origin aggregates presence (holds the presence lease, or runs dev)' }),
  opsApplied: m.counter({ name: 'replicant_materializer_ops_total', help: 'Ops folded by the origin materializer', labelNames: ['result'] }),
  clusterRefused: m.counter({
    name: 'replicant_origin_cluster_requests_refused_total',
    help: 'Gateway-signed requests refused: bad_signature (wrong, malformed or outside the window), replay (nonce already used), replay_cache_full (503)',
    labelNames: ['reason'],
  }),
}));

/** what a checkpointer reports at scrape time */
export interface CheckpointLagSource {
  /** per partition: log end offset minus the offset the committed snapshots cover */
  lag(): Promise<Map<number, bigint>>;
}
/** live checkpointers of this process, read by the lag gauge at scrape time */
export const checkpointLagSources = new Set<CheckpointLagSource>();

export const checkpointMetrics = defineMetrics((m) => ({
  duration: m.histogram({ name: 'replicant_checkpoint_duration_seconds', help: 'Duration of one snapshot checkpoint commit', buckets: LATENCY_BUCKETS }),
  docs: m.counter({ name: 'replicant_checkpoint_docs_total', help: 'Document snapshots written by checkpoints' }),
  errors: m.counter({ name: 'replicant_checkpoint_errors_total', help: 'Failed checkpoint commits' }),
  docFailures: m.counter({
    name: 'replicant_checkpoint_doc_failures_total',
    help: 'Document snapshots a checkpoint could not write (the doc stays dirty; its partition stays covered only up to its first unwritten record)',
  }),
  failingDocs: m.gauge({ name: 'replicant_checkpoint_failing_docs', help: 'Documents whose snapshot the last checkpoint could not write' }),
  lag: m.gauge({
    name: 'replicant_checkpoint_lag_records',
    help: 'Per partition: records in the log not yet covered by committed snapshots (what a restart replays)',
    labelNames: ['partition'],
    async collect() {
      this.reset();
      const worst = new Map<number, bigint>();
      for (const s of checkpointLagSources) {
        for (const [p, l] of await s.lag()) if (l > (worst.get(p) ?? -1n)) worst.set(p, l);
      }
      for (const [p, l] of worst) this.set({ partition: String(p) }, Number(l));
    },
  }),
}));
