/**
 * The outbox: the client's write-ahead log of pending ops. A publish is put here (and handed to
 * storage) before anything is sent; it leaves when the server acknowledges it or rejects it for
 * good. Ops are sent in order once stored; every unacknowledged op is re-sent after a reconnect,
 * and after a reload the next client instance finds them in storage and sends them, with the same
 * idempotency ids, so the origin applies each exactly once (docs/protocol.md, "Exactly once").
 *
 * Bounds: at most `maxOps` ops and `maxBytes` bytes of patch text; at the bound `publish` rejects
 * with `outbox_full` and nothing already stored is dropped. Unacknowledged sends are limited to
 * MAX_IN_FLIGHT, and a sequenced writer's ops in flight stay within SEND_SPAN n's of its oldest
 * pending op (what lets the origin's dedupe window be small).
 *
 * Tabs sharing an `indexedDbStorage` name: each client instance holds a Web Lock named for itself
 * for its whole life and sends only its own ops. Ops whose owner's lock is free (the tab was closed
 * or reloaded) are adopted by whichever instance gets that lock first, so no two tabs send one op.
 */
import { parseSequencedKey, SEND_SPAN, type JsonObject, type SequencedKey } from '@replicant/protocol';
import { ClientErrorCode, ReplicantError } from './errors.js';
import { compareStored, type OutboxStorage, type StoredOp } from './storage.js';

export const DEFAULT_MAX_PENDING_PUBLISHES = 1000;
export const DEFAULT_MAX_OUTBOX_BYTES = 4 * 1024 * 1024;
/** sends awaiting their ack at once (the gateway allows 64 per connection by default) */
export const MAX_IN_FLIGHT = SEND_SPAN;

export interface OutboxEntry {
  readonly op: StoredOp;
  readonly patch: JsonObject;
  readonly bytes: number;
  readonly key: SequencedKey | undefined;
  /** stored durably (only stored ops are sent: write-ahead) */
  stored: boolean;
  /** sent on the current connection and not answered yet */
  sent: boolean;
  /** transient failures so far, and when the op may be sent again */
  attempts: number;
  retryAt: number;
  /** refused with `token_expired`: not sent again until a fresh `auth` frame went out before it */
  heldForAuth: boolean;
  /** the client's auth epoch (auth frames sent so far) when it was last sent */
  sentEpoch: number;
  /** this instance's publish promise (none for ops adopted from an earlier instance) */
  settle?: { resolve: (seq: bigint) => void; reject: (err: ReplicantError) => void };
}

/** The Web Locks API subset the outbox uses (navigator.locks). */
interface LockManagerLike {
  request(name: string, options: { ifAvailable?: boolean }, cb: (lock: unknown) => Promise<void> | void): Promise<unknown>;
}

function webLocks(): LockManagerLike | undefined {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return nav?.locks && typeof nav.locks.request === 'function' ? nav.locks : undefined;
}

export interface OutboxOptions {
  storage: OutboxStorage;
  /** this client instance: the `owner` of the ops it creates */
  owner: string;
  maxOps?: number;
  maxBytes?: number;
}

export class Outbox {
  readonly storage: OutboxStorage;
  readonly owner: string;
  readonly maxOps: number;
  readonly maxBytes: number;
  private readonly list: OutboxEntry[] = []; // send order
  private readonly byId = new Map<string, OutboxEntry>();
  private bytesUsed = 0;
  private writes = new Set<Promise<void>>();
  private readonly locks: LockManagerLike | undefined;
  /** lock releases: own, and one per adopted owner (released once its ops are settled) */
  private readonly held = new Map<string, () => void>();
  private closed = false;
  /** resolves once this instance holds its own lock (puts wait for it) */
  private readonly owned: Promise<void>;

  constructor(opts: OutboxOptions) {
    this.storage = opts.storage;
    this.owner = opts.owner;
    this.maxOps = opts.maxOps ?? DEFAULT_MAX_PENDING_PUBLISHES;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_OUTBOX_BYTES;
    this.locks = opts.storage.sharedName !== undefined ? webLocks() : undefined;
    this.owned = this.locks ? this.hold(this.owner, false).then(() => undefined) : Promise.resolve();
  }

  private lockName(owner: string): string {
    return `replicant-outbox:${this.storage.sharedName}:${owner}`;
  }

  /** Requests the lock of `owner` and keeps it until released; false when it is taken (ifAvailable). */
  private hold(owner: string, ifAvailable: boolean): Promise<boolean> {
    return new Promise<boolean>((granted, failed) => {
      this.locks!.request(this.lockName(owner), { ifAvailable }, (lock) => {
        if (lock === null || this.closed) {
          granted(false);
          return;
        }
        granted(true);
        return new Promise<void>((release) => this.held.set(owner, release));
      }).catch(failed);
    });
  }

  get size(): number {
    return this.list.length;
  }

  get bytes(): number {
    return this.bytesUsed;
  }

  get(id: string): OutboxEntry | undefined {
    return this.byId.get(id);
  }

  entries(): readonly OutboxEntry[] {
    return this.list;
  }

  /**
   * Loads stored ops this instance may send: with Web Locks, those whose owner's lock it obtains;
   * otherwise (a storage only this client sees) all of them. Returns the entries it adopted. Run at
   * start and after every reconnect (a tab closed meanwhile leaves its ops to the others).
   */
  async adopt(): Promise<OutboxEntry[]> {
    await this.owned;
    const stored = await this.storage.load();
    const owners = new Map<string, StoredOp[]>();
    for (const op of stored) {
      if (this.byId.has(op.id) || op.owner === this.owner || (this.locks && this.held.has(op.owner))) continue;
      let l = owners.get(op.owner);
      if (!l) owners.set(op.owner, (l = []));
      l.push(op);
    }
    const adopted: OutboxEntry[] = [];
    for (const [owner, ops] of owners) {
      if (this.closed) break;
      if (this.locks && !(await this.hold(owner, true))) continue; // its tab is alive and sends them
      let fresh = ops;
      if (this.locks) {
        // re-read under the lock: an earlier holder may have settled some meanwhile
        const now = new Set((await this.storage.load()).map((o) => o.id));
        fresh = ops.filter((o) => now.has(o.id) && !this.byId.has(o.id));
      }
      for (const op of fresh) {
        let patch: JsonObject;
        try {
          patch = JSON.parse(op.patch) as JsonObject;
        } catch {
          continue; // not ours to fix; left in storage
        }
        const e = this.entry(op, patch, true);
        this.insert(e);
        adopted.push(e);
      }
      if (this.locks && fresh.length === 0) this.releaseIfDone(owner);
    }
    return adopted;
  }

  private entry(op: StoredOp, patch: JsonObject, stored: boolean): OutboxEntry {
    return { op, patch, bytes: op.patch.length, key: parseSequencedKey(op.id), stored, sent: false, attempts: 0, retryAt: 0, heldForAuth: false, sentEpoch: 0 };
  }

  private insert(e: OutboxEntry): void {
    this.byId.set(e.op.id, e);
    this.bytesUsed += e.bytes;
    // adopted ops are older than most of ours: keep the list in creation order
    let i = this.list.length;
    while (i > 0 && compareStored(this.list[i - 1].op, e.op) > 0) i--;
    this.list.splice(i, 0, e);
  }

  /**
   * Adds a new op and starts storing it; `onStored` runs once it is durable. Throws (before anything
   * is stored) `duplicate_id` for an id already pending and `outbox_full` at the bound.
   */
  add(op: StoredOp, patch: JsonObject, onStored: (e: OutboxEntry) => void): { entry: OutboxEntry; result: Promise<bigint> } {
    if (this.byId.has(op.id)) {
      throw new ReplicantError(ClientErrorCode.DuplicateId, `publish id ${op.id} is already pending`, op.doc, op.id);
    }
    const e = this.entry(op, patch, false);
    if (this.list.length >= this.maxOps || this.bytesUsed + e.bytes > this.maxBytes) {
      throw new ReplicantError(
        ClientErrorCode.OutboxFull,
        `outbox is full (${this.list.length} ops, ${this.bytesUsed} bytes pending; bounds ${this.maxOps} ops, ${this.maxBytes} bytes)`,
        op.doc,
        op.id,
      );
    }
    const result = new Promise<bigint>((resolve, reject) => (e.settle = { resolve, reject }));
    this.list.push(e);
    this.byId.set(op.id, e);
    this.bytesUsed += e.bytes;
    const w = this.owned
      .then(() => this.storage.put(op))
      .then(
        () => {
          e.stored = true;
          if (this.byId.get(op.id) === e) onStored(e);
        },
        (err: unknown) => {
          // not durable, so never sent: the publish fails and the op leaves the outbox
          if (this.remove(e)) e.settle?.reject(new ReplicantError(ClientErrorCode.Storage, `outbox storage failed: ${String(err)}`, op.doc, op.id));
        },
      );
    this.writes.add(w);
    void w.finally(() => this.writes.delete(w));
    return { entry: e, result };
  }

  /** Resolves once every op added so far is durable in storage (or failed to be). */
  async persisted(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }

  /**
   * The ops to send now, in order, marked sent. Nothing overtakes an op that is not stored yet or
   * waits for a retry, so ops go out in publish order.
   */
  takeSendable(now: number): OutboxEntry[] {
    let inflight = 0;
    const oldest = new Map<string, number>(); // sequenced writer -> smallest pending n
    for (const e of this.list) {
      if (e.sent) inflight++;
      if (e.key) {
        const o = oldest.get(e.key.client);
        if (o === undefined || e.key.n < o) oldest.set(e.key.client, e.key.n);
      }
    }
    const out: OutboxEntry[] = [];
    for (const e of this.list) {
      if (e.sent) continue;
      if (!e.stored || e.heldForAuth || e.retryAt > now || inflight >= MAX_IN_FLIGHT) break;
      if (e.key && e.key.n - oldest.get(e.key.client)! >= SEND_SPAN) break;
      e.sent = true;
      inflight++;
      out.push(e);
    }
    return out;
  }

  /** ms until the earliest retry is due, undefined when none waits */
  nextRetryIn(now: number): number | undefined {
    let min: number | undefined;
    for (const e of this.list) if (!e.sent && e.retryAt > now) min = Math.min(min ?? Infinity, e.retryAt - now);
    return min;
  }

  /** A new connection (its first frame is a fresh `auth`): nothing is in flight on it, nothing waits for auth. */
  unsendAll(): void {
    for (const e of this.list) {
      e.sent = false;
      e.heldForAuth = false;
    }
  }

  /**
   * Refused with `token_expired`: kept (the same id, so still applied exactly once) and not sent
   * again, nor overtaken, until releaseHeld() after a fresh `auth` frame.
   */
  holdForAuth(id: string): OutboxEntry | undefined {
    const e = this.byId.get(id);
    if (!e) return undefined;
    e.sent = false;
    e.heldForAuth = true;
    return e;
  }

  /** A fresh `auth` frame was sent: ops held for it may go (they follow it on the wire). */
  releaseHeld(): void {
    for (const e of this.list) e.heldForAuth = false;
  }

  /** A transient failure (`unavailable`, `rate_limited`, ...): send it again after `delayMs`. */
  retry(id: string, delayMs: number, now: number): OutboxEntry | undefined {
    const e = this.byId.get(id);
    if (!e) return undefined;
    e.sent = false;
    e.attempts++;
    e.retryAt = now + delayMs;
    return e;
  }

  /** Acknowledged: the op leaves the outbox (and storage); its publish resolves. */
  ack(id: string, seq: bigint): OutboxEntry | undefined {
    const e = this.byId.get(id);
    if (!e || !this.remove(e)) return undefined;
    e.settle?.resolve(seq);
    return e;
  }

  /** Rejected for good: the op leaves the outbox (and storage); its publish rejects. */
  fail(id: string, err: ReplicantError): OutboxEntry | undefined {
    const e = this.byId.get(id);
    if (!e || !this.remove(e)) return undefined;
    e.settle?.reject(err);
    return e;
  }

  private remove(e: OutboxEntry): boolean {
    if (this.byId.get(e.op.id) !== e) return false;
    this.byId.delete(e.op.id);
    this.list.splice(this.list.indexOf(e), 1);
    this.bytesUsed -= e.bytes;
    const owner = e.op.owner;
    void this.storage
      .remove(e.op.id)
      .catch(() => {}) // the op is settled; a stale stored copy is re-sent later and deduplicated
      .then(() => this.releaseIfDone(owner));
    return true;
  }

  /** An adopted owner's lock is released once none of its ops is pending here. */
  private releaseIfDone(owner: string): void {
    if (owner === this.owner || this.list.some((x) => x.op.owner === owner)) return;
    const release = this.held.get(owner);
    this.held.delete(owner);
    release?.();
  }

  /**
   * Closes: pending publishes reject with `err`, but the ops stay in storage for the next client.
   * Releases every lock and closes the storage once the writes in progress are done.
   */
  async close(err: (op: StoredOp) => ReplicantError): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = this.list.splice(0);
    this.byId.clear();
    this.bytesUsed = 0;
    for (const e of all) e.settle?.reject(err(e.op));
    await this.persisted();
    for (const release of this.held.values()) release();
    this.held.clear();
    await this.storage.close();
  }
}

/** A random id of `len` characters from [A-Za-z0-9_-] (client instance ids). */
export function randomId(len = 16): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const b = new Uint8Array(len);
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(b);
  else for (let i = 0; i < b.length; i++) b[i] = Math.floor(Math.random() * 256);
  return Array.from(b, (x) => alphabet[x & 63]).join('');
}
