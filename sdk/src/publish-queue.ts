/**
 * Publishes waiting for their ack. Every unacknowledged publish stays here, in issue order, until
 * the server answers it: on reconnect all of them are re-sent with the same idempotency id (the
 * server applies an id once per document, so a re-send of a write that did land is harmless).
 * The queue is bounded; at the bound a new publish is refused at once rather than buffered.
 */
import type { PublishFrame } from '@replicant/protocol';
import { ClientErrorCode, ReplicantError } from './errors.js';

export const DEFAULT_MAX_PENDING_PUBLISHES = 1000;

interface Pending {
  frame: PublishFrame & { id: string };
  resolve: (seq: bigint) => void;
  reject: (err: ReplicantError) => void;
}

export class PublishQueue {
  private readonly pending = new Map<string, Pending>(); // insertion order = issue order

  constructor(readonly max: number = DEFAULT_MAX_PENDING_PUBLISHES) {}

  get size(): number {
    return this.pending.size;
  }

  /**
   * Adds a publish; the promise settles on its ack or error. A refusal throws synchronously, so
   * the caller knows not to send the frame.
   */
  add(frame: PublishFrame & { id: string }): Promise<bigint> {
    if (this.pending.has(frame.id)) {
      throw new ReplicantError(ClientErrorCode.DuplicateId, `publish id ${frame.id} is already pending`, frame.doc, frame.id);
    }
    if (this.pending.size >= this.max) {
      throw new ReplicantError(ClientErrorCode.Unavailable, `publish queue is full (${this.max} pending)`, frame.doc, frame.id);
    }
    return new Promise<bigint>((resolve, reject) => {
      this.pending.set(frame.id, { frame, resolve, reject });
    });
  }

  /** Frames to (re-)send, oldest first. */
  frames(): PublishFrame[] {
    return [...this.pending.values()].map((p) => p.frame);
  }

  /** Settles the publish with this id; false when no publish is waiting for it. */
  ack(id: string, seq: bigint): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    this.pending.delete(id);
    p.resolve(seq);
    return true;
  }

  fail(id: string, err: ReplicantError): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    this.pending.delete(id);
    p.reject(err);
    return true;
  }

  failAll(err: (frame: PublishFrame) => ReplicantError): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err(p.frame));
  }
}

/** A random idempotency key (RFC 4122 v4 UUID where the platform has one). */
export function newPublishId(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  // randomUUID is missing in insecure browser contexts; getRandomValues is not.
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(b);
  else for (let i = 0; i < b.length; i++) b[i] = Math.floor(Math.random() * 256);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
