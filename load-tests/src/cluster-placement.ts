/**
 * Where the bench doc's (gateway, doc) subscriptions sit among the fanout replicas, read from each
 * replica's /stats: the spread of a hot doc that bench:cluster verifies and prints.
 */
import type { Cluster, NodeProc } from './cluster.js';
import { getText } from './prom.js';
import { log, sleep } from './report.js';

export interface ReplicaSpread {
  replica: string;
  /** (gateway, doc) subscriptions the replica holds (its /stats `replica.subscriptions`) */
  subscriptions: number;
  /** gateways whose link carries the doc */
  gateways: string[];
}

export interface FanoutStats {
  node: string;
  replica: { docs: number; idleDocs: number; subscriptions: number } | null;
  links: { node: string; docs: number; credit: number; queuedDeltas: number; pendingBases: number; socketBuffered: number; collapses: number }[];
}

export async function fanoutStats(f: NodeProc): Promise<FanoutStats> {
  return JSON.parse(await getText(f.adminPort, '/stats')) as FanoutStats;
}

export function spreadOf(cluster: Cluster, stats: FanoutStats[]): ReplicaSpread[] {
  return stats.map((s, i) => ({
    replica: s.node || cluster.fanouts[i].id,
    subscriptions: s.replica?.subscriptions ?? 0,
    gateways: s.links.filter((l) => l.docs > 0).map((l) => l.node).sort((a, b) => Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, ''))),
  }));
}

/** polls the replicas (bounded: 20 s) until every gateway's subscription is placed and the placement is stable */
export async function settleSpread(cluster: Cluster, gateways: number, label: string): Promise<ReplicaSpread[]> {
  const deadline = Date.now() + 20000;
  let last = '';
  let stableSince = 0;
  let spread: ReplicaSpread[] = [];
  while (Date.now() < deadline) {
    spread = spreadOf(cluster, await Promise.all(cluster.fanouts.map(fanoutStats)));
    const key = JSON.stringify(spread);
    const total = spread.reduce((a, s) => a + s.subscriptions, 0);
    if (total === gateways && key === last) {
      if (Date.now() - stableSince >= 1000) return spread;
    } else {
      last = key;
      stableSince = Date.now();
    }
    await sleep(250);
  }
  log(`[${label}] replica placement did not settle in 20 s: ${JSON.stringify(spread)}`);
  return spread;
}

export const placement = (s: ReplicaSpread[]): string => s.map((x) => `${x.replica}:${x.subscriptions}`).join(' ');
