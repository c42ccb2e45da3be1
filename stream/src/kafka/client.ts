/**
 * What the parts of the Kafka log (producer, tail, reader) share about kafkajs: its log levels and
 * one-line log output, error messages, the conversion of fetched messages into LogRecords, and
 * the context a tail or reader needs from its KafkaLog.
 */
import type { EventEmitter } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { logLevel as KafkaLevel } from 'kafkajs';
import type { EachBatchPayload, ISocketFactory, Kafka, KafkaMessage, LogEntry, RetryOptions } from 'kafkajs';
import type { LogRecord } from '../stream-log.js';
import { RECORD_OVERHEAD } from '../stream-log-base.js';

export type KafkaLogLevel = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

/** What a KafkaTail and the KafkaReader use of their KafkaLog. */
export interface KafkaLogContext {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly brokers: string[];
  readonly partitions: number;
  readonly clientId: string;
  readonly retry: RetryOptions;
  readonly fetchMaxWaitMs: number;
  readonly fetchMaxBytesPerPartition: number;
  readonly tailBufferBytes: number;
  readonly readTimeoutMs: number;
  readonly readerIdleMs: number;
  /** logLevel 'nothing': no console lines of our own either */
  readonly quiet: boolean;
  /** see KafkaLogEventName */
  readonly events: EventEmitter;
  noteJoin(kind: 'tail' | 'read'): void;
  notePause(partition: number, queuedBytes: number): void;
  noteQueued(queuedBytes: number): void;
  /** records a tail received from a fetch at `coveredFrom` (no record in [coveredFrom, first) exists) */
  rememberFetched(partition: number, coveredFrom: bigint, recs: readonly LogRecord[], sizes: readonly number[]): void;
}

export const LEVELS: Record<KafkaLogLevel, KafkaLevel> = {
  nothing: KafkaLevel.NOTHING,
  error: KafkaLevel.ERROR,
  warn: KafkaLevel.WARN,
  info: KafkaLevel.INFO,
  debug: KafkaLevel.DEBUG,
};

/** One line per kafkajs log entry, naming the broker and error when kafkajs gives them. */
export function kafkaLogCreator() {
  return ({ namespace, level, label, log }: LogEntry) => {
    const { message, broker, error, topic, groupId } = log as {
      message: string;
      broker?: string;
      error?: string;
      topic?: string;
      groupId?: string;
    };
    const extra = [
      broker && `broker=${broker}`,
      topic && `topic=${topic}`,
      groupId && `group=${groupId}`,
      error && error !== message && `error=${error}`,
    ]
      .filter(Boolean)
      .join(' ');
    // known and intended: retries are finite so that a failing request rejects its appends
    if (message.startsWith('Limiting retries for the idempotent producer')) return;
    const line = `kafka ${label.toLowerCase()} [${namespace}] ${message}${extra ? ` (${extra})` : ''}`;
    if (level <= KafkaLevel.ERROR) console.error(line);
    else if (level === KafkaLevel.WARN) console.warn(line);
    else console.log(line);
  };
}


/**
 * kafkajs' default socket factory (net/tls connect, keep-alive 60 s) plus TCP_NODELAY, as the Java
 * client sets it: without it Nagle's algorithm holds a small request (a ListOffsets of the read
 * barrier, a produce request) while an earlier one on the same connection is unacknowledged.
 */
export const noDelaySocketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const socket = ssl
    ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...(ssl as tls.ConnectionOptions) }, onConnect)
    : net.connect({ host, port }, onConnect);
  socket.setKeepAlive(true, 60_000);
  socket.setNoDelay(true);
  return socket;
};

export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error && cause.message !== err.message ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}

/** The record a kafkajs message stands for; the value is copied so it does not pin the fetch buffer. */
export function toRecord(partition: number, m: KafkaMessage): LogRecord {
  return {
    partition,
    offset: BigInt(m.offset),
    key: m.key ? m.key.toString('utf8') : '',
    value: m.value ? new Uint8Array(m.value) : new Uint8Array(0),
  };
}

export function recordSize(r: LogRecord): number {
  return RECORD_OVERHEAD + r.key.length + r.value.length;
}

/** kafkajs' Batch has the offset it was fetched from, but its types do not declare it. */
export function fetchedOffset(batch: EachBatchPayload['batch']): bigint {
  return BigInt((batch as unknown as { fetchedOffset: string }).fetchedOffset);
}
