/**
 * The stream-log seam: an append-only, partitioned log of document ops (key = docId).
 *
 * Implementations side by side: stream-log-file.ts (embedded default: segment files, group commit),
 * stream-log-memory.ts (tests) and kafka/kafka-log.ts (kafkajs, the distributed log).
 *
 * Offsets are per partition and start at 0, as in Kafka. A document's seq is `offset + 1` of its
 * latest op (so 0 means "never written"; see docs/protocol.md).
 */
import { ErrorCode } from '@replicant/protocol';

export interface LogRecord {
  partition: number;
  offset: bigint;
  /** docId */
  key: string;
  /** an encoded `Op` (protocol/replicant.proto) */
  value: Uint8Array;
}

export interface AppendResult {
  partition: number;
  offset: bigint;
}

/**
 * Receives ordered batches of one partition. Returning a promise applies backpressure: the reader
 * delivers nothing more from that partition until it settles.
 */
export type BatchHandler = (partition: number, records: LogRecord[]) => void | Promise<void>;

export interface TailOptions {
  /** partitions to read; all when omitted */
  partitions?: number[];
  /** first offset to deliver for a partition (default: the current end, i.e. only new records) */
  from?: (partition: number) => bigint;
  /** most records per handler call (default 512; implementations may also cap a batch by bytes) */
  maxBatchRecords?: number;
  /**
   * Called when the handler (or a read) fails. The same batch is then delivered again after a short
   * backoff (at-least-once), so handlers must tolerate redelivery. Default: console.error.
   */
  onError?: (err: unknown, partition: number) => void;
  /**
   * Called, in order with the handler's calls (after the previous one settled), when every offset
   * of `partition` below `next` was either delivered or is not a data record (Kafka: transaction
   * markers, aborted transactional records, offsets removed by compaction): a reader's position
   * may move to `next`. Logs whose offsets are all data records never call it.
   */
  onPosition?: (partition: number, next: bigint) => void;
}

export interface Tail {
  /** stop delivering; resolves when no handler call is in flight */
  close(): Promise<void>;
}

export interface StreamLog {
  readonly partitions: number;
  /** partition of a docId: Kafka's default partitioner (murmur2) so placement survives a backend change */
  partitionOf(docId: string): number;
  /** appends one op; resolves only once the record is durable (fsync / acks=-1) */
  append(docId: string, value: Uint8Array): Promise<AppendResult>;
  /** delivers durable records in offset order per partition, from the given offsets, until closed */
  tail(handler: BatchHandler, opts?: TailOptions): Promise<Tail>;
  /**
   * Bounded catch-up read: at most `maxRecords` durable records of `partition`, in offset order,
   * starting at the first offset >= `fromOffset` (empty at the end of the log).
   */
  read(partition: number, fromOffset: bigint, maxRecords: number): Promise<LogRecord[]>;
  /**
   * The next offset to be assigned in a partition (log end offset) among durable records, asked
   * now: every record whose append was acknowledged (by any process) before this call is below it,
   * and every record below it is durable (origin's read barrier relies on both; Kafka: the high
   * watermark from the partition's leader).
   */
  endOffset(partition: number): Promise<bigint>;
  /**
   * The first offset still stored in `partition` (records below it were deleted by retention);
   * absent means the log keeps everything (offset 0). History reads (origin/src/history.ts) use it
   * to tell "replayable from the start" from "expired".
   */
  logStart?(partition: number): Promise<bigint>;
  close(): Promise<void>;
}

/**
 * Rejection of `append` when the log sheds load (pending bound reached) or cannot accept writes
 * (closed, failed, broker down). Callers answer 503 with Retry-After; the write was not acknowledged.
 */
export class LogUnavailableError extends Error {
  readonly code = ErrorCode.Unavailable;
  constructor(
    message: string,
    readonly retryAfterSec = 1,
  ) {
    super(message);
    this.name = 'LogUnavailableError';
  }
}
