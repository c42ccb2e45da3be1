/** @replicant/sdk: live documents over the Replicant gateway, for browsers and Node. */
export { connect, ReplicantClient } from './client.js';
export type { ClientOptions, DocListener, PublishOptions, Subscription, Timers } from './client.js';
export type { LiveDoc, DeltaOutcome } from './live-doc.js';
export { ReplicantError, ClientErrorCode } from './errors.js';
export type {
  AckEvent,
  ClientEvent,
  ClientEventOf,
  ClientEventType,
  ClientStatus,
  DeltaEvent,
  ErrorEvent,
  GoawayEvent,
  ReconnectEvent,
  SnapshotEvent,
  StatusEvent,
} from './events.js';
export { Backoff, fullJitterDelay, DEFAULT_BACKOFF_INITIAL_MS, DEFAULT_BACKOFF_MAX_MS } from '@replicant/protocol';
export type { BackoffOptions } from '@replicant/protocol';
// the pure form: never mutates the state it is given (protocol/src/merge-patch.ts)
export { mergePatch } from '@replicant/protocol';
export { DEFAULT_MAX_PENDING_PUBLISHES } from './publish-queue.js';
export { STREAM_PATH, streamUrl } from './transport.js';
export type { WebSocketConstructor, WebSocketLike, WireProtocol } from './transport.js';
