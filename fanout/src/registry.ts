/**
 * The replica-registry seam: fan-out replicas announce themselves (address of their gateway-link
 * listener, the partitions they serve, their load); gateways keep a current view of the healthy
 * replicas and route each doc by rendezvous hashing over it (rendezvous.ts).
 *
 * Implementations side by side: registry-memory.ts (in-process: the embedded default and tests) and
 * registry-redis.ts (ioredis: TTL heartbeats, pub/sub notifications, periodic resync).
 */

export interface ReplicaInfo {
  /** unique per replica process (NODE_ID) */
  id: string;
  /** host:port of its gateway-link listener */
  address: string;
  /** partitions it serves */
  partitions: number[];
  /** the stream log's total partition count (gateways map docs to partitions with it) */
  partitionCount?: number;
  /** a load figure (e.g. subscriptions served): higher = busier */
  load: number;
  /** ms since the epoch at the last announcement (set by the registry on every heartbeat) */
  updatedAt: number;
}

/** What a replica announces; `updatedAt` is filled in by the registry. */
export type ReplicaRegistration = Omit<ReplicaInfo, 'updatedAt'> & { updatedAt?: number };

export interface Registry {
  /**
   * Announces a replica (again: updates it, e.g. its load) and keeps it alive with TTL heartbeats
   * until deregister() or close().
   */
  register(info: ReplicaRegistration): Promise<void>;
  /** Stops the heartbeats of `id` and removes it from every view. */
  deregister(id: string): Promise<void>;
  /** The current healthy view, sorted by id (synchronous; the entries must not be mutated). */
  list(): ReplicaInfo[];
  /**
   * `cb` runs after the view changed: a replica appeared or disappeared, or its address or partitions
   * changed. Load-only updates are visible in list() without a notification. Returns an unsubscribe.
   */
  onChange(cb: () => void): () => void;
  /** Starts watching (connects, loads the initial view). Idempotent; register() starts it too. */
  start(): Promise<void>;
  /** Deregisters the replicas registered through this instance and stops watching. */
  close(): Promise<void>;
}

export function validateRegistration(info: ReplicaRegistration): void {
  if (typeof info.id !== 'string' || info.id.length === 0 || info.id.length > 256) {
    throw new TypeError('replica id must be a non-empty string of at most 256 characters');
  }
  if (typeof info.address !== 'string' || !/^.+:\d{1,5}$/.test(info.address)) {
    throw new TypeError(`replica ${info.id}: address must be host:port, got ${JSON.stringify(info.address)}`);
  }
  if (!Array.isArray(info.partitions) || !info.partitions.every((p) => Number.isInteger(p) && p >= 0)) {
    throw new TypeError(`replica ${info.id}: partitions must be non-negative integers`);
  }
  if (typeof info.load !== 'number' || !Number.isFinite(info.load)) {
    throw new TypeError(`replica ${info.id}: load must be a finite number`);
  }
}

/** A frozen copy with sorted, de-duplicated partitions and `updatedAt` set. */
export function normalizeReplica(info: ReplicaRegistration, updatedAt: number): ReplicaInfo {
  return Object.freeze({
    id: info.id,
    address: info.address,
    partitions: Object.freeze([...new Set(info.partitions)].sort((a, b) => a - b)) as number[],
    ...(info.partitionCount !== undefined ? { partitionCount: info.partitionCount } : {}),
    load: info.load,
    updatedAt,
  });
}

/** Whether two entries route differently (membership aside): address or partitions differ. */
export function routingChanged(a: ReplicaInfo, b: ReplicaInfo): boolean {
  return (
    a.address !== b.address ||
    a.partitionCount !== b.partitionCount ||
    a.partitions.length !== b.partitions.length ||
    a.partitions.some((p, i) => p !== b.partitions[i])
  );
}

/** The replicas of `list` serving `partition`. */
export function replicasForPartition(list: readonly ReplicaInfo[], partition: number): ReplicaInfo[] {
  return list.filter((r) => r.partitions.includes(partition));
}

/** Listener set whose callbacks are isolated from each other (a throwing callback is logged). */
export class ChangeListeners {
  private readonly cbs = new Set<() => void>();

  add(cb: () => void): () => void {
    const entry = () => cb();
    this.cbs.add(entry);
    return () => {
      this.cbs.delete(entry);
    };
  }

  emit(): void {
    for (const cb of [...this.cbs]) {
      try {
        cb();
      } catch (err) {
        console.error('registry onChange listener failed:', err);
      }
    }
  }

  clear(): void {
    this.cbs.clear();
  }
}
