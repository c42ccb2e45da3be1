/**
 * Observable client events: every received data frame with how it was handled, errors, status
 * changes and scheduled reconnects. Applications use them for logging and metrics; tests use them
 * to assert exact sequences without sleeping.
 */
import type { AckFrame, GoawayFrame, JsonObject } from '@replicant/protocol';
import type { DeltaOutcome } from './live-doc.js';
import type { ReplicantError } from './errors.js';

/**
 * 'disconnected': the server API disconnected this user with `reconnect: false`; the client does
 * not reconnect (call `close()` to release it, or make a new client).
 */
export type ClientStatus = 'connecting' | 'open' | 'closed' | 'disconnected';

export interface SnapshotEvent { type: 'snapshot'; doc: string; seq: bigint; state: JsonObject }
export interface DeltaEvent {
  type: 'delta';
  doc: string;
  seq: bigint;
  prevSeq: bigint;
  patch: JsonObject;
  /** how the delta was handled; 'unsubscribed' when no subscription wants the doc any more */
  outcome: DeltaOutcome | 'unsubscribed';
}
export type AckEvent = AckFrame;
export type GoawayEvent = GoawayFrame;
export interface ErrorEvent { type: 'error'; error: ReplicantError }
export interface StatusEvent {
  type: 'status';
  status: ClientStatus;
  /** close code / reason of the socket that went away, when this change was caused by one */
  code?: number;
  reason?: string;
}
export interface ReconnectEvent {
  type: 'reconnect';
  /** 0-based index of this retry within the current outage (0 after a healthy connection) */
  attempt: number;
  delayMs: number;
  cause: 'close' | 'error' | 'goaway';
}

/** the gateway named this connection (`client.connectionId` is set from now until it closes) */
export interface WelcomeEvent { type: 'welcome'; connection: string }
/** a server-API message (POST /v1/messages): ephemeral, delivered to live connections only */
export interface MessageEvent { type: 'message'; id: string; data: JsonObject }
/** the server API disconnected this user; with `reconnect: false` the client stays disconnected */
export interface DisconnectEvent { type: 'disconnect'; reconnect: boolean }

/** a connection opened over another transport than the last one ('auto' fell back to SSE, or is back on WebSocket) */
export interface TransportEvent { type: 'transport'; transport: 'websocket' | 'sse' }

/** the outbox changed: `pending` ops are not acknowledged yet (all of this client's, every doc) */
export interface PendingEvent { type: 'pending'; pending: number }
/** the outbox became empty: every publish so far is acknowledged or rejected */
export interface DrainedEvent { type: 'drained' }

export type ClientEvent =
  | TransportEvent
  | PendingEvent
  | DrainedEvent
  | SnapshotEvent
  | DeltaEvent
  | AckEvent
  | GoawayEvent
  | ErrorEvent
  | StatusEvent
  | ReconnectEvent
  | MessageEvent
  | DisconnectEvent
  | WelcomeEvent;
export type ClientEventType = ClientEvent['type'];
export type ClientEventOf<K extends ClientEventType> = Extract<ClientEvent, { type: K }>;

/** A minimal typed emitter: listener errors are isolated from each other and from the client. */
export class Emitter {
  private readonly byType = new Map<ClientEventType, Set<(ev: ClientEvent) => void>>();
  private readonly all = new Set<(ev: ClientEvent) => void>();

  on<K extends ClientEventType>(type: K, fn: (ev: ClientEventOf<K>) => void): () => void {
    let set = this.byType.get(type);
    if (!set) this.byType.set(type, (set = new Set()));
    const f = fn as (ev: ClientEvent) => void;
    set.add(f);
    return () => void set.delete(f);
  }

  onAny(fn: (ev: ClientEvent) => void): () => void {
    this.all.add(fn);
    return () => void this.all.delete(fn);
  }

  emit(ev: ClientEvent): void {
    for (const fn of [...(this.byType.get(ev.type) ?? []), ...this.all]) {
      try {
        fn(ev);
      } catch {
        // An observer's bug must not break frame processing; it is the observer's to report.
      }
    }
  }
}
