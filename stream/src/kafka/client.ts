/**
 * What the parts of the Kafka log (producer, tail, reader) share about kafkajs: its log levels and
 * one-line log output, error messages, the conversion of fetched messages into LogRecords, and
 * the context a tail or reader needs from its KafkaLog, and THE builder of kafkajs client configs
 * (`kafkaClientConfig`: brokers, TLS and SASL) that every kafkajs client of the project is made from.
 */
import type { EventEmitter } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { logLevel as KafkaLevel } from 'kafkajs';
import type { EachBatchPayload, ISocketFactory, Kafka, KafkaConfig, KafkaMessage, LogEntry, RetryOptions, SASLOptions } from 'kafkajs';
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

const AUTH_FAILED = /SASL .*authentication failed|Authentication failed during authentication/i;

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
    // a refused SASL login is reported once, by whoever made the connection (KafkaAuthError)
    if (AUTH_FAILED.test(message) || (error !== undefined && AUTH_FAILED.test(error))) return;
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

export type KafkaSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/**
 * How to reach a secured cluster (Strimzi, MSK with SCRAM, Confluent Cloud): TLS, optionally with a
 * CA of its own and a client certificate (mTLS), and a SASL login. kafkajs 2.2 supports PLAIN,
 * SCRAM-SHA-256/512 and (not offered here) OAUTHBEARER and AWS (the old IAM-user mechanism, not
 * MSK IAM, which kafkajs cannot do).
 */
export interface KafkaSecurity {
  /** TLS to the brokers (implied by a CA, certificate or key file) */
  ssl?: boolean;
  /** PEM CA bundle the brokers' certificates are verified with (default: the system CAs) */
  sslCaFile?: string;
  /** PEM client certificate (mTLS), with sslKeyFile */
  sslCertFile?: string;
  sslKeyFile?: string;
  saslMechanism?: KafkaSaslMechanism;
  saslUsername?: string;
  saslPassword?: string;
}

export interface KafkaClientSettings {
  clientId: string;
  brokers: string[];
  security?: KafkaSecurity;
  connectionTimeout?: number;
  requestTimeout?: number;
  retry?: RetryOptions;
  logLevel?: KafkaLogLevel;
}

/**
 * The kafkajs config for `new Kafka(...)`: TLS and SASL from `security` (files read now), our log
 * lines, TCP_NODELAY sockets. Every kafkajs client (the log's admin, producers, consumers and the
 * private Cluster of offsets.ts, which kafkajs builds from the same config) gets the same TLS and
 * SASL. Throws (naming the setting, never a secret) when a file cannot be read or SASL lacks a user.
 */
export function kafkaClientConfig(o: KafkaClientSettings): KafkaConfig {
  const sec = o.security ?? {};
  const read = (what: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`kafka: cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
    }
  };
  const tlsOn = sec.ssl === true || sec.sslCaFile !== undefined || sec.sslCertFile !== undefined || sec.sslKeyFile !== undefined;
  if ((sec.sslCertFile === undefined) !== (sec.sslKeyFile === undefined)) {
    throw new Error('kafka: a client certificate needs both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE');
  }
  const ssl = tlsOn
    ? {
        ...(sec.sslCaFile !== undefined ? { ca: [read('KAFKA_SSL_CA_FILE', sec.sslCaFile)] } : {}),
        ...(sec.sslCertFile !== undefined ? { cert: read('KAFKA_SSL_CERT_FILE', sec.sslCertFile) } : {}),
        ...(sec.sslKeyFile !== undefined ? { key: read('KAFKA_SSL_KEY_FILE', sec.sslKeyFile) } : {}),
      }
    : undefined;
  let sasl: SASLOptions | undefined;
  if (sec.saslMechanism !== undefined) {
    if (!sec.saslUsername || sec.saslPassword === undefined) {
      throw new Error(`kafka: SASL ${sec.saslMechanism} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`);
    }
    sasl = { mechanism: sec.saslMechanism, username: sec.saslUsername, password: sec.saslPassword } as SASLOptions;
  }
  return {
    clientId: o.clientId,
    brokers: o.brokers,
    ssl,
    sasl,
    connectionTimeout: o.connectionTimeout,
    requestTimeout: o.requestTimeout,
    retry: o.retry,
    logLevel: LEVELS[o.logLevel ?? 'warn'],
    logCreator: kafkaLogCreator,
    socketFactory: noDelaySocketFactory,
  };
}

/** The brokers refused the SASL login: retrying cannot help (the CLI exits 2). */
export class KafkaAuthError extends Error {}

/** is `err` (or a cause of it) kafkajs' SASL authentication failure */
export function isKafkaAuthError(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = (e as { cause?: unknown }).cause ?? (e as { originalError?: unknown }).originalError, depth++) {
    if (e instanceof KafkaAuthError || e.name === 'KafkaJSSASLAuthenticationError' || /SASL .*authentication failed/i.test(e.message)) return true;
  }
  return false;
}
