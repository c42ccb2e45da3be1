/**
 * Where the outbox keeps pending ops: the client's write-ahead log. Three implementations:
 * `memoryStorage()` (default: survives reconnects, not reloads), `fileStorage(dir)` (Node: an
 * fsynced append-only file) and `indexedDbStorage(name)` (browsers: IndexedDB with strict
 * durability, shared by the tabs of one origin; Web Locks keep two tabs from sending one op).
 *
 * A storage only stores; ordering, bounds and sending are the outbox's. `put` resolves once the op
 * is durable; ops are loaded back in the order they were put.
 */

/** One pending op as stored. `id` is its idempotency key; `owner` the client instance that made it. */
export interface StoredOp {
  id: string;
  doc: string;
  /** the merge patch as JSON text, exactly as it will be sent */
  patch: string;
  /** decimal seq for optimistic concurrency, when the publish had one */
  ifSeq?: string;
  owner: string;
  /** the owner's op counter: orders one owner's ops */
  n: number;
  /** creation time (ms since epoch): orders ops of different owners */
  t: number;
}

export interface OutboxStorage {
  /**
   * Stable name shared by every client using the same stored outbox (the Web Locks namespace);
   * undefined for storages only one client can ever see.
   */
  readonly sharedName?: string;
  /** every stored op, oldest first */
  load(): Promise<StoredOp[]>;
  /** stores an op durably */
  put(op: StoredOp): Promise<void>;
  /** forgets an op (acknowledged or rejected) */
  remove(id: string): Promise<void>;
  close(): Promise<void>;
}

export function compareStored(a: StoredOp, b: StoredOp): number {
  return a.t - b.t || (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : a.n - b.n);
}

/**
 * An outbox kept in memory: ops survive reconnects of the client, not the process. One storage
 * object may be handed to successive clients (tests simulate a restart that way).
 */
export function memoryStorage(): OutboxStorage {
  const ops = new Map<string, StoredOp>();
  return {
    load: async () => [...ops.values()].map((o) => ({ ...o })).sort(compareStored),
    put: async (op) => void ops.set(op.id, { ...op }),
    remove: async (id) => void ops.delete(id),
    close: async () => {},
  };
}

/** Checks a record read back from storage (it is ours, but a torn or foreign write must not crash us). */
export function isStoredOp(o: unknown): o is StoredOp {
  const r = o as StoredOp;
  return (
    typeof r === 'object' && r !== null && typeof r.id === 'string' && typeof r.doc === 'string' &&
    typeof r.patch === 'string' && typeof r.owner === 'string' && Number.isSafeInteger(r.n) &&
    typeof r.t === 'number' && (r.ifSeq === undefined || typeof r.ifSeq === 'string')
  );
}
