import type { Seq } from './seq.js';

/** JSON object value (a document state or a merge patch). */
export type JsonObject = { [key: string]: unknown };

// ---- client -> server ----
export interface AuthFrame { type: 'auth'; token: string }
/** `meta`: routing metadata for the server API (flat string values, at most MAX_META_BYTES as JSON) */
export interface HelloFrame { type: 'hello'; window: number; meta?: Record<string, string> }
export interface CreditFrame { type: 'credit'; n: number }
/**
 * `presence: true` joins the doc's presence (`<doc>~presence`) for as long as the subscription
 * lasts; `info` (a JSON object, at most MAX_PRESENCE_INFO_BYTES as JSON) is shown to others.
 */
export interface SubscribeFrame { type: 'subscribe'; doc: string; lastSeq?: Seq; presence?: boolean; info?: JsonObject }
export interface UnsubscribeFrame { type: 'unsubscribe'; doc: string }
/**
 * `patch` is the merge patch as compact JSON text (validated to be a JSON object). `ifSeq`
 * (optimistic concurrency): applied only if the document is at exactly that seq, else `conflict`.
 */
export interface PublishFrame { type: 'publish'; doc: string; patch: string; id?: string; ifSeq?: Seq }
export interface PingFrame { type: 'ping' }

export type ClientFrame =
  | AuthFrame
  | HelloFrame
  | CreditFrame
  | SubscribeFrame
  | UnsubscribeFrame
  | PublishFrame
  | PingFrame;

// ---- server -> client ----
/** `state` is the document state as JSON text. */
export interface SnapshotFrame { type: 'snapshot'; doc: string; seq: Seq; state: string }
/** `patch` is the merge patch as JSON text, exactly as written to the log. */
export interface DeltaFrame { type: 'delta'; doc: string; seq: Seq; prevSeq: Seq; patch: string }
export interface AckFrame { type: 'ack'; id: string; seq: Seq }
export interface ErrorFrame { type: 'error'; code: string; message: string; doc?: string; id?: string }
export interface GoawayFrame { type: 'goaway'; reconnectMs: number }
export interface PongFrame { type: 'pong' }
/** sent once after auth: the connection's cluster-unique id (server API, docs/presence-and-server-api.md) */
export interface WelcomeFrame { type: 'welcome'; connection: string }
/** a server-API message: ephemeral, not stored, not resumed; `data` is a JSON object as JSON text */
export interface MessageFrame { type: 'message'; id: string; data: string }
/** the server API disconnected this connection's user (close 4003 follows); `reconnect: false` = stay away */
export interface DisconnectFrame { type: 'disconnect'; reconnect: boolean }

export type ServerFrame = SnapshotFrame | DeltaFrame | AckFrame | ErrorFrame | GoawayFrame | PongFrame | WelcomeFrame | MessageFrame | DisconnectFrame;

/** The two WebSocket subprotocols of the contract. */
export const SUBPROTOCOL_BINARY = 'replicant.v1';
export const SUBPROTOCOL_JSON = 'replicant.v1.json';
export type Subprotocol = typeof SUBPROTOCOL_BINARY | typeof SUBPROTOCOL_JSON;

/** WebSocket close codes used by the gateway (4000-4999 is the application range). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  FrameTooLarge: 1009,
  Unauthorized: 4001,
  AuthTimeout: 4002,
  /** the server API disconnected the user (POST /v1/users/{sub}/disconnect) */
  Disconnected: 4003,
  SlowConsumer: 4008,
  Overloaded: 4013,
} as const;

/**
 * The close reasons of 4003: the reconnect flag rides the close too, because the `disconnect`
 * frame before it can be lost (a send buffer over its bound drops it) while the close arrives.
 */
export const DisconnectReason = { Reconnect: 'disconnect', NoReconnect: 'disconnect:noreconnect' } as const;

/** A server frame as a client sees it after decoding: JSON text parsed into objects. */
export type ReceivedFrame =
  | { type: 'snapshot'; doc: string; seq: Seq; state: JsonObject }
  | { type: 'delta'; doc: string; seq: Seq; prevSeq: Seq; patch: JsonObject }
  | AckFrame
  | ErrorFrame
  | GoawayFrame
  | PongFrame
  | WelcomeFrame
  | { type: 'message'; id: string; data: JsonObject }
  | DisconnectFrame;
