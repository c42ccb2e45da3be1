/**
 * @replicant/react: `<ReplicantProvider client={client}>`, `usePresence(docId)` and `useDoc(docId)` →
 * `{ state, seq, pending, status, synced, publish }`, where `state` is the SDK's optimistic view
 * (server state + this client's pending ops). Built on useSyncExternalStore, so it works with
 * React 18 and 19, with concurrent rendering, and in server-side rendering: on the server (and
 * while hydrating) useDoc returns the empty never-written view and subscribes to nothing, so
 * nothing touches `window` or opens a socket during render. Written with createElement (no JSX),
 * so the package needs no JSX transform.
 */
import { createContext, createElement, useContext, useMemo, useSyncExternalStore, type ReactNode } from 'react';
import type { ClientStatus, JsonObject, LiveDoc, PresenceState, PublishOptions, ReplicantClient } from '@replicant/sdk';

const ClientContext = createContext<ReplicantClient | null>(null);

export interface ReplicantProviderProps {
  /** the client from `connect()`; null renders every useDoc as the empty view (e.g. on a server) */
  client: ReplicantClient | null;
  children?: ReactNode;
}

export function ReplicantProvider(props: ReplicantProviderProps): ReactNode {
  return createElement(ClientContext.Provider, { value: props.client }, props.children);
}

/** The client of the nearest ReplicantProvider (null when there is none, or it has none). */
export function useReplicantClient(): ReplicantClient | null {
  return useContext(ClientContext);
}

export interface DocView {
  /** optimistic view: server state + pending ops, in order */
  readonly state: JsonObject;
  /** the server's seq of the document (0 before the first snapshot) */
  readonly seq: bigint;
  /** this client's ops on the document not acknowledged yet */
  readonly pending: number;
  /** the connection's status */
  readonly status: ClientStatus;
  /** true once the server's snapshot arrived */
  readonly synced: boolean;
  /** publishes a merge patch to this document (see ReplicantClient.publish) */
  publish(patch: JsonObject, opts?: PublishOptions): Promise<bigint>;
}

const EMPTY: JsonObject = Object.freeze({}) as JsonObject;

/** One (client, doc) pair as an external store: a cached snapshot, replaced only on change. */
class DocStore {
  private snap: DocView;
  readonly server: DocView;
  private readonly publish: DocView['publish'];

  constructor(
    private readonly client: ReplicantClient | null,
    private readonly docId: string,
  ) {
    this.publish = (patch, opts) =>
      client ? client.publish(docId, patch, opts) : Promise.reject(new Error('useDoc: no client in ReplicantProvider'));
    this.snap = { state: EMPTY, seq: 0n, pending: 0, status: client?.status ?? 'connecting', synced: false, publish: this.publish };
    this.server = this.snap;
  }

  subscribe = (onChange: () => void): (() => void) => {
    const client = this.client;
    if (!client || client.status === 'closed') return () => {};
    const sub = client.subscribe(this.docId, (d) => this.update(d, client.status, onChange));
    const update = () => this.update(sub.doc, client.status, onChange);
    const offStatus = client.on('status', update);
    const offPending = client.on('pending', update);
    update(); // ops may be pending, or the doc already live, before the first callback
    return () => {
      offStatus();
      offPending();
      sub.unsubscribe();
    };
  };

  private update(d: LiveDoc, status: ClientStatus, onChange: () => void): void {
    const s = this.snap;
    if (s.state === d.state && s.seq === d.seq && s.pending === d.pending && s.status === status && s.synced === d.synced) return;
    this.snap = { state: d.state, seq: d.seq, pending: d.pending, status, synced: d.synced, publish: this.publish };
    onChange();
  }

  getSnapshot = (): DocView => this.snap;
  getServerSnapshot = (): DocView => this.server;
}

/** The live, optimistic view of one document; re-renders on every change of it. */
export function useDoc(docId: string): DocView {
  const client = useContext(ClientContext);
  const store = useMemo(() => new DocStore(client, docId), [client, docId]);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getServerSnapshot);
}

export interface PresenceView {
  /** member connections of the doc, exact (0 before the first snapshot) */
  readonly connections: number;
  /** at most PRESENCE_MAX_USERS users: sub -> its connections and info */
  readonly users: PresenceState['users'];
  readonly status: ClientStatus;
  readonly synced: boolean;
}

/**
 * Who is here in `docId`: the live `<docId>~presence` document (readable with the doc's read
 * scope). Joining is the SDK's `client.subscribe(docId, cb, { presence: { info } })`.
 */
export function usePresence(docId: string): PresenceView {
  const v = useDoc(`${docId}~presence`);
  return useMemo(
    () => ({
      connections: typeof v.state.connections === 'number' ? v.state.connections : 0,
      users: (isObject(v.state.users) ? v.state.users : EMPTY) as PresenceState['users'],
      status: v.status,
      synced: v.synced,
    }),
    [v],
  );
}

function isObject(x: unknown): x is JsonObject {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
