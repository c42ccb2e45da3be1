/**
 * Multi-region arithmetic (docs/scale.md, "Multi-region"): documents are homed in one region (the
 * region of their partition's leader); every region has its own gateways and replicas. A remote
 * region's replicas are fed either by replicating the whole topic into the region (MirrorMaker-style)
 * or by replica-to-replica links that carry only the docs someone in that region watches.
 *
 * Subscribers of a shared doc are spread uniformly over the regions (the worst case for
 * cross-region traffic); docs with one subscriber (per-user docs) are homed in their user's region.
 */
import type { CostValues } from './costs.js';
import { LINK_FRAME_BYTES, plan, RECORD_OVERHEAD_BYTES } from './model.js';
import type { Workload } from './workloads.js';

export interface RegionPlan {
  workload: string;
  connections: number;
  regions: number;
  /** bytes/s leaving each home region for the others, all regions together */
  mirrorBytesPerS: number;
  linkBytesPerS: number;
  /** clients that reconnect elsewhere when one region is lost */
  regionLossClients: number;
  /** writes/s that have no leader until the lost region's partitions fail over */
  regionLossWritesPerS: number;
  /** gateways per surviving region needed to hold the lost region's clients too, against the planned */
  gatewaysPerRegion: number;
  gatewaysPerRegionAfterLoss: number;
  /** lower bound on the time to readmit the lost region's clients at ADMISSION_RATE, s */
  readmitS: number;
}

export function regionPlan(w: Workload, k: CostValues, regions: number, admissionRate: number): RegionPlan {
  const perRegion = plan({ ...w, connections: w.connections / regions, classes: w.classes.map((x) => scaleClass(x, regions)) }, k);
  const after = plan({ ...w, connections: w.connections / (regions - 1), classes: w.classes.map((x) => scaleClass(x, regions - 1)) }, k);
  let mirror = 0;
  let links = 0;
  for (const x of w.classes) {
    const bytes = x.docs * x.writesPerDocPerS;
    mirror += bytes * (x.deltaBytes + RECORD_OVERHEAD_BYTES) * (regions - 1);
    if (x.subscribersPerDoc <= 1) continue; // homed with its only reader
    const watchedRemote = 1 - Math.pow(1 - 1 / regions, x.subscribersPerDoc);
    links += bytes * (x.deltaBytes + LINK_FRAME_BYTES) * (regions - 1) * watchedRemote;
  }
  const lostClients = w.connections / regions;
  const survivors = perRegion.gateways.processes * (regions - 1);
  return {
    workload: w.name,
    connections: w.connections,
    regions,
    mirrorBytesPerS: mirror,
    linkBytesPerS: links,
    regionLossClients: lostClients,
    regionLossWritesPerS: w.classes.reduce((s, x) => s + x.docs * x.writesPerDocPerS, 0) / regions, // docs homed uniformly
    gatewaysPerRegion: perRegion.gateways.processes,
    gatewaysPerRegionAfterLoss: after.gateways.processes,
    readmitS: lostClients / (survivors * admissionRate),
  };
}

/** a region's share of a doc class: a shared doc keeps 1/regions of its subscribers; per-user docs split */
function scaleClass(x: Workload['classes'][number], regions: number): Workload['classes'][number] {
  if (x.subscribersPerDoc <= 1) return { ...x, docs: x.docs / regions };
  return { ...x, subscribersPerDoc: x.subscribersPerDoc / regions };
}
