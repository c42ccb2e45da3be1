/**
 * Workloads: what the clients subscribe to and how fast those documents change, as classes of
 * documents that share a popularity and a write rate. A workload is a function of the connection
 * count, so one definition gives the 1 M, 100 M and 1 B rows of the table.
 */

export interface DocClass {
  name: string;
  /** documents in the class */
  docs: number;
  /** subscribed connections per document */
  subscribersPerDoc: number;
  /** writes per second per document, after any client-side batching (what the origin appends) */
  writesPerDocPerS: number;
  /** bytes of one delta's patch on the wire */
  deltaBytes: number;
  /** bytes of a document's state (a snapshot) */
  stateBytes: number;
}

export interface Workload {
  name: string;
  description: string;
  connections: number;
  classes: DocClass[];
}

export type WorkloadName = 'chat' | 'live-comments' | 'dashboards';

export const WORKLOADS: Record<WorkloadName, (connections: number) => Workload> = {
  /** messaging: every connection in 5 rooms of 20 members; a room gets a message every 20 s */
  chat: (n) => ({
    name: 'chat',
    description: '5 rooms/conn, 20 members/room, 1 msg/20 s/room, 300 B msgs, 4 KiB state',
    connections: n,
    classes: [{ name: 'rooms', docs: (n * 5) / 20, subscribersPerDoc: 20, writesPerDocPerS: 0.05, deltaBytes: 300, stateBytes: 4096 }],
  }),
  /**
   * a live event: 1 % of all connections watch ONE hot doc (comments batched into 20 deltas/s), the
   * rest watch 1000-viewer streams at 1 write/s; every connection also has its own notification doc
   */
  'live-comments': (n) => ({
    name: 'live-comments',
    description: '1 hot doc watched by 1 % of conns at 20 w/s; streams of 1000 viewers at 1 w/s; a per-user doc',
    connections: n,
    classes: [
      { name: 'hot doc', docs: 1, subscribersPerDoc: n * 0.01, writesPerDocPerS: 20, deltaBytes: 500, stateBytes: 8192 },
      { name: 'streams', docs: (n * 0.99) / 1000, subscribersPerDoc: 1000, writesPerDocPerS: 1, deltaBytes: 300, stateBytes: 8192 },
      { name: 'per-user', docs: n, subscribersPerDoc: 1, writesPerDocPerS: 0.01, deltaBytes: 200, stateBytes: 1024 },
    ],
  }),
  /** monitoring: each connection shows 10 tiles out of 100 000 metric docs updated every 2 s */
  dashboards: (n) => {
    const docs = Math.min(100_000, n * 10);
    return {
      name: 'dashboards',
      description: '10 tiles/conn over 100 000 metric docs, 0.5 w/s each, 100 B deltas, 1 KiB state',
      connections: n,
      classes: [{ name: 'metrics', docs, subscribersPerDoc: (n * 10) / docs, writesPerDocPerS: 0.5, deltaBytes: 100, stateBytes: 1024 }],
    };
  },
};

export const WORKLOAD_NAMES = Object.keys(WORKLOADS) as WorkloadName[];

export function workload(name: string, connections: number): Workload {
  const f = WORKLOADS[name as WorkloadName];
  if (f === undefined) throw new Error(`unknown workload ${JSON.stringify(name)} (expected one of ${WORKLOAD_NAMES.join(', ')})`);
  return f(connections);
}
