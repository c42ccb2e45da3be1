/**
 * The typed failure the sdk reports: a server `error` frame (its code verbatim, e.g. `bad_patch`,
 * `forbidden`) or a client-side condition with one of the codes below.
 */
export const ClientErrorCode = {
  /** the server is overloaded; retry later (the outbox retries publishes that get it by itself) */
  Unavailable: 'unavailable',
  /** the outbox is at its bound (ops or bytes): the publish was not stored; nothing else was dropped */
  OutboxFull: 'outbox_full',
  /** the outbox storage failed to store the op: it was not sent */
  Storage: 'storage_failed',
  /** the client was closed before the operation completed */
  Closed: 'closed',
  /** the server API disconnected this user with reconnect: false (status `disconnected`): new work is refused */
  Disconnected: 'disconnected',
  /** a publish reused an id that is still waiting for its ack */
  DuplicateId: 'duplicate_id',
  /** connecting failed (token provider threw, WebSocket could not be constructed, ...) */
  Connect: 'connect_failed',
  /** a subscription listener threw; the client carries on */
  Listener: 'listener_error',
} as const;

export class ReplicantError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly doc?: string,
    readonly id?: string,
  ) {
    super(message);
    this.name = 'ReplicantError';
  }
}
