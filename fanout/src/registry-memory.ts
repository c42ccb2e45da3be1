/**
 * In-process Registry: the embedded default (`replicant dev`) and tests. Registries sharing a
 * MemoryRegistryHub see each other's replicas, as processes sharing one Redis do; a single
 * MemoryRegistry can equally be shared by a replica and a gateway in one process. No TTL: entries
 * live until deregister() or the close() of the registry that registered them.
 */
import type { Registry, ReplicaInfo, ReplicaRegistration } from './registry.js';
import { ChangeListeners, normalizeReplica, routingChanged, validateRegistration } from './registry.js';

export class MemoryRegistryHub {
  private readonly entries = new Map<string, ReplicaInfo>();
  private view: ReplicaInfo[] | undefined;
  readonly listeners = new ChangeListeners();

  set(info: ReplicaInfo): void {
    const prev = this.entries.get(info.id);
    this.entries.set(info.id, info);
    this.view = undefined;
    if (prev === undefined || routingChanged(prev, info)) this.listeners.emit();
  }

  delete(id: string): void {
    if (!this.entries.delete(id)) return;
    this.view = undefined;
    this.listeners.emit();
  }

  list(): ReplicaInfo[] {
    this.view ??= [...this.entries.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return this.view;
  }
}

export interface MemoryRegistryOptions {
  /** share a hub between registries to make them see each other (default: a hub of its own) */
  hub?: MemoryRegistryHub;
}

export class MemoryRegistry implements Registry {
  readonly hub: MemoryRegistryHub;
  private readonly own = new Set<string>();
  private readonly unsubscribes = new Set<() => void>();
  private closed = false;

  constructor(opts: MemoryRegistryOptions = {}) {
    this.hub = opts.hub ?? new MemoryRegistryHub();
  }

  async start(): Promise<void> {}

  async register(info: ReplicaRegistration): Promise<void> {
    if (this.closed) throw new Error('registry is closed');
    validateRegistration(info);
    this.own.add(info.id);
    this.hub.set(normalizeReplica(info, Date.now()));
  }

  async deregister(id: string): Promise<void> {
    this.own.delete(id);
    this.hub.delete(id);
  }

  list(): ReplicaInfo[] {
    return this.hub.list();
  }

  onChange(cb: () => void): () => void {
    const off = this.hub.listeners.add(cb);
    const unsubscribe = () => {
      off();
      this.unsubscribes.delete(unsubscribe);
    };
    this.unsubscribes.add(unsubscribe);
    return unsubscribe;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const off of [...this.unsubscribes]) off();
    for (const id of [...this.own]) await this.deregister(id);
  }
}
