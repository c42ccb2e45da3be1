/**
 * `indexedDbStorage(name)`: the browser outbox storage. One IndexedDB database per name
 * (`replicant-outbox:<name>`), one object store of ops keyed by id. Puts commit with
 * `durability: 'strict'` (flushed to disk before the transaction completes), so a reload or a crash
 * right after `put` resolved keeps the op. Every tab of the origin using the same name sees the same
 * ops; the outbox coordinates them with Web Locks (outbox.ts).
 */
import { compareStored, isStoredOp, type OutboxStorage, type StoredOp } from './storage.js';

const STORE = 'ops';

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

export function indexedDbStorage(name: string): OutboxStorage {
  if (typeof name !== 'string' || name === '') throw new TypeError('indexedDbStorage needs a non-empty name');
  let db: Promise<IDBDatabase> | undefined;
  const open = () =>
    (db ??= (async () => {
      const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
      if (!idb) throw new Error('indexedDbStorage: IndexedDB is not available here');
      const r = idb.open(`replicant-outbox:${name}`, 1);
      r.onupgradeneeded = () => {
        if (!r.result.objectStoreNames.contains(STORE)) r.result.createObjectStore(STORE, { keyPath: 'id' });
      };
      return req(r);
    })());
  const tx = async (mode: IDBTransactionMode, strict: boolean) => {
    const d = await open();
    // 'strict' is a hint older browsers ignore (they then commit as they always did)
    return d.transaction(STORE, mode, { durability: strict ? 'strict' : 'relaxed' });
  };
  return {
    sharedName: name,
    async load() {
      const t = await tx('readonly', false);
      const all = (await req(t.objectStore(STORE).getAll())) as unknown[];
      return all.filter(isStoredOp).sort(compareStored);
    },
    async put(op: StoredOp) {
      const t = await tx('readwrite', true);
      t.objectStore(STORE).put({ ...op });
      await done(t);
    },
    async remove(id: string) {
      const t = await tx('readwrite', false);
      t.objectStore(STORE).delete(id);
      await done(t);
    },
    async close() {
      if (db) (await db).close();
      db = undefined;
    },
  };
}
