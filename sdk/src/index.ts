/** @replicant/sdk: live documents over the Replicant gateway, for browsers and Node. */
export { connect, ReplicantClient } from './client.js';
export type { ClientOptions, DocListener, PresenceListener, PresenceState, PublishOptions, SubscribeOptions, Subscription, Timers } from './client.js';
export type { LiveDoc, DeltaOutcome } from './live-doc.js';
export type { JsonObject } from '@replicant/protocol';
export { ReplicantError, ClientErrorCode } from './errors.js';
export type {
  AckEvent,
  ClientEvent,
  ClientEventOf,
  ClientEventType,
  ClientStatus,
  DeltaEvent,
  DrainedEvent,
  ErrorEvent,
  PendingEvent,
  GoawayEvent,
  ReconnectEvent,
  SnapshotEvent,
  StatusEvent,
  MessageEvent,
  DisconnectEvent,
  WelcomeEvent,
} from './events.js';
export { Backoff, fullJitterDelay, DEFAULT_BACKOFF_INITIAL_MS, DEFAULT_BACKOFF_MAX_MS } from '@replicant/protocol';
export type { BackoffOptions } from '@replicant/protocol';
// the pure form: never mutates the state it is given (protocol/src/merge-patch.ts)
export { mergePatch } from '@replicant/protocol';
export { DEFAULT_MAX_PENDING_PUBLISHES, DEFAULT_MAX_OUTBOX_BYTES, MAX_IN_FLIGHT } from './outbox.js';
export { memoryStorage } from './storage.js';
export type { OutboxStorage, StoredOp } from './storage.js';
export { fileStorage } from './storage-file.js';
export { indexedDbStorage } from './storage-idb.js';
export { STREAM_PATH, streamUrl } from './transport.js';
export type { WebSocketConstructor, WebSocketLike, WireProtocol } from './transport.js';
export { HistoryError, httpBase } from './history.js';
export type { HistoryOp, HistoryOptions, HistoryPage } from './history.js';
