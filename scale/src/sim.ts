/**
 * The discrete-event simulator: clients → gateways → replicas → partitions, for what the capacity
 * model's averages hide (losses, storms, hot docs, leadership moves). It reuses the model's costs
 * and steady state: every gateway and replica starts with the background load the model plans
 * for it, and the scenario's extra work (reconnects, bases, cold loads, bursts) queues on top.
 *
 * Aggregation (what makes 100 M connections fast): clients are never objects. A lost gateway's
 * clients become **cohorts** of at most `cohortSize` clients that share one backoff draw, one
 * target gateway and one fate at the admission bucket (a cohort is cut to what the bucket holds;
 * the rest retry together). Documents are never objects either: each doc class contributes
 * expected counts (how many of a cohort's subscriptions need a new upstream subscription, how many
 * of those miss the replica's cache), and a cohort's bases are spread over at most
 * `replicaFanout` replicas of its cell, as rendezvous hashing spreads many docs. A cohort's clients
 * resume together: when both its gateway and its slowest replica have done their work.
 *
 * Bounds modelled at their real values: the admission token bucket (ADMISSION_RATE /
 * ADMISSION_BURST) per gateway, the SDK's full-jitter backoff (its own `fullJitterDelay`) and
 * Retry-After, HISTORY_SIZE / HISTORY_BYTES / HISTORY_BUDGET_BYTES (a resume is a delta only while
 * the gateway's ring covers the outage; past it a snapshot from the gateway's mirror, no replica work),
 * LINK_BACKLOG (a doc's link backlog past it collapses into a snapshot), LINK_WINDOW (a link's burst
 * past it waits for credit), MAX_SEND_BUFFER_BYTES (a client whose catch-up burst passes it goes
 * inactive until it drains), REGISTRY_TTL_MS (a replica whose event loop lags past it misses heartbeats and
 * would be dropped), Kafka's in-flight append bound (writes past it are refused with 503).
 *
 * Deterministic: every random choice comes from one seeded Prng, events at equal times run in
 * scheduling order.
 */
import { fullJitterDelay, DEFAULT_BACKOFF_INITIAL_MS, DEFAULT_BACKOFF_MAX_MS } from '@replicant/sdk';
import { EventQueue, type SimEvent } from './event-queue.js';
import { Prng } from './prng.js';
import { CpuServer } from './cpu-server.js';
import type { CostValues } from './costs.js';
import { connectUsPerClient, distinctGateways, placedGateways, plan, type Plan } from './model.js';
import type { Workload } from './workloads.js';

export interface Admission {
  /** ADMISSION_RATE: upgrades per second per gateway */
  rate: number;
  /** ADMISSION_BURST */
  burst: number;
}

export type Action =
  | { atMs: number; kind: 'kill-gateways'; fraction: number }
  | { atMs: number; kind: 'kill-replicas'; fraction: number; detectMs: number; paceMs?: number }
  | { atMs: number; kind: 'hot-doc'; subscribers: number; writesPerS: number; rampMs: number; deltaBytes: number }
  | { atMs: number; kind: 'leader-move'; partitions: number; pauseMs: number };

export interface SimParams {
  seed: number;
  workload: Workload;
  costs: CostValues;
  /** null: admission control off */
  admission: Admission | null;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** the 503's Retry-After, ms (HTTP has whole seconds) */
  retryAfterMs?: number;
  cohortSize?: number;
  replicaFanout?: number;
  tickMs?: number;
  /** stop at this simulated time even if work remains */
  untilMs: number;
  actions: Action[];
}

export interface Series {
  /** simulated seconds */
  t: number;
  /** highest replica utilization (background + work arrived) over the second */
  replicaUtilMax: number;
  /** longest replica queue at the end of the second, ms */
  replicaQueueMs: number;
  gatewayUtilMax: number;
  /** clients whose resume completed by this second, of those that lost their gateway */
  resumed: number;
  refusalsPerS: number;
  redisOpsPerS: number;
}

export interface SimResult {
  plan: Plan;
  admission: Admission | null;
  lostClients: number;
  resumedClients: number;
  /** replica loss: (gateway, doc) subscriptions that had to move, and those moved */
  lostPairs: number;
  reroutedPairs: number;
  /** ms from the loss until the p50 / p99 / last lost client had every subscription live again */
  resumeMs: Quantiles | null;
  /** ms from a replica loss until the p50 / p99 / last re-routed (gateway, doc) subscription was live again */
  rerouteMs: Quantiles | null;
  /** a surviving gateway's memory once it holds the lost gateways' clients too, against the per-process budget */
  gatewayMemAfterLoss: number;
  gatewayMemBudget: number;
  /** the highest ADMISSION_RATE per gateway the replicas' spare CPU absorbs (gateway loss) */
  admissionRateBound: number;
  /** highest 1-s replica utilization (1.0 = one core); > 1 means the work arrived faster than a core */
  peakReplicaUtil: number;
  peakReplicaQueueMs: number;
  /** the same over single ticks (100 ms): the storm's instantaneous demand */
  peakReplicaUtilTick: number;
  peakGatewayUtil: number;
  /** replicas whose event loop lagged past REGISTRY_TTL_MS: they miss heartbeats and leave the registry */
  replicasPastTtl: number;
  refusals: number;
  /** frames that brought resuming clients up to date */
  clientSnapshots: number;
  clientDeltas: number;
  /** replica work for resumes: bases for docs it held, cold loads for docs it had to fetch */
  replicaBases: number;
  replicaColdLoads: number;
  peakRedisOpsPerS: number;
  /** (doc, link) backlogs that passed LINK_BACKLOG and collapsed into a snapshot */
  linkCollapses: number;
  /** clients whose catch-up burst (snapshots + deltas on resume, or a leader move's burst) passed MAX_SEND_BUFFER_BYTES: inactive until it drains */
  sendBufferOverflows: number;
  /** links whose burst after a leader move exceeded LINK_WINDOW: the replica waits for credit (backpressure) */
  linksOutOfCredit: number;
  /** writes refused (503) while a partition had no leader and the in-flight bound was full */
  writesRefused: number;
  /** longest a write waited for its append, ms */
  maxAppendWaitMs: number;
  /** hot doc: replicas it ended on in its first cell, and its home replica's peak before the spread */
  hotDoc: { spreadTo: number; spreadAtMs: number | null; homePeakUtil: number; maxDeliveryMs: number } | null;
  series: Series[];
  events: number;
  wallMs: number;
}

type Ev =
  | (SimEvent & { kind: 'tick' })
  | (SimEvent & { kind: 'action'; action: Action })
  | (SimEvent & { kind: 'arrive'; n: number; attempt: number; lostAt: number })
  | (SimEvent & { kind: 'resubscribe'; gw: number; pairs: number; lostAt: number })
  | (SimEvent & { kind: 'hot-write' })
  | (SimEvent & { kind: 'hot-subscribe'; n: number })
  | (SimEvent & { kind: 'partition-resume'; partitions: number; startedAt: number; pauseMs: number });

/** Kafka in-flight appends per origin process (the bounds table: 100,000 / 64 MiB) */
export const KAFKA_INFLIGHT_APPENDS = 100_000;

export interface Quantiles {
  p50: number;
  p99: number;
  max: number;
}

/**
 * Resume times, weighted by clients: a histogram of 10 ms bins (a cohort adds its clients to one
 * bin), so 10^7 resumes cost no memory per client. Quantiles are read at the bin's upper edge.
 */
class TimeHistogram {
  static readonly BIN_MS = 10;
  private bins = new Float64Array(1024);
  private total = 0;
  private maxMs = 0;

  add(ms: number, n: number): void {
    const i = Math.max(0, Math.floor(ms / TimeHistogram.BIN_MS));
    if (i >= this.bins.length) {
      const grown = new Float64Array(Math.max(i + 1, this.bins.length * 2));
      grown.set(this.bins);
      this.bins = grown;
    }
    this.bins[i] += n;
    this.total += n;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** weight of the samples at or below `ms` (to the bin) */
  countUpTo(ms: number): number {
    let acc = 0;
    const end = Math.min(this.bins.length, Math.floor(ms / TimeHistogram.BIN_MS) + 1);
    for (let i = 0; i < end; i++) acc += this.bins[i];
    return acc;
  }

  quantiles(): Quantiles | null {
    if (this.total === 0) return null;
    const at = (f: number) => {
      let acc = 0;
      for (let i = 0; i < this.bins.length; i++) {
        acc += this.bins[i];
        if (acc >= f * this.total) return Math.min(this.maxMs, (i + 1) * TimeHistogram.BIN_MS);
      }
      return this.maxMs;
    };
    return { p50: at(0.5), p99: at(0.99), max: this.maxMs };
  }
}

export function simulate(p: SimParams): SimResult {
  const wall = performance.now();
  const k = p.costs;
  const w = p.workload;
  const rng = new Prng(p.seed);
  const tickMs = p.tickMs ?? 100;
  // a cohort arrives at one instant, so it must be small against the bucket's burst or the
  // bucket's lumps show in the tail: a fifth of the burst converges (docs/scale.md, Aggregation)
  const cohortSize = p.cohortSize ?? Math.max(1, Math.min(100, Math.floor((p.admission?.burst ?? 100) / 5)));
  const replicaFanout = p.replicaFanout ?? 8;
  const backoffInitial = p.backoffInitialMs ?? DEFAULT_BACKOFF_INITIAL_MS;
  const backoffMax = p.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS;
  const retryAfterMs = p.retryAfterMs ?? 1000;
  const pl = plan(w, k);
  const G = pl.gateways.processes;
  const cells = pl.cells;
  const R = pl.replicas.processes;
  const rPerCell = Math.max(1, Math.floor(R / cells));
  const gwBg = Math.min(0.95, pl.gateways.coresBusyEach);
  const rBg = Math.min(0.95, pl.replicas.coresBusyEach);
  const gateways = Array.from({ length: G }, (_, i) => new CpuServer(i, gwBg));
  const replicas = Array.from({ length: rPerCell * cells }, (_, i) => new CpuServer(i, rBg));
  const cellOfGw = (g: number) => Math.min(cells - 1, Math.floor((g * cells) / G));
  const connsPerGw = w.connections / G;
  const subsPerConn = pl.subscriptions / w.connections;
  const connectUs = connectUsPerClient(w, k);
  const rejectUs = k.gatewayUsPerReject;
  const tokens = new Float64Array(G).fill(p.admission?.burst ?? 0);
  const tokensAt = new Float64Array(G);
  let aliveGw: number[] = gateways.map((g) => g.id);
  // per doc class, for a resuming client: subscriptions, the chance its new gateway holds none of
  // the doc's other subscribers (a new upstream subscription), and the chance every gateway that
  // held the doc was lost (the replica dropped it: a cold load); recomputed when gateways die
  const subsPerConnOf = w.classes.map((x) => (x.docs * x.subscribersPerDoc) / w.connections);
  let pNewOf = w.classes.map(() => 1);
  let coldFracOf = w.classes.map(() => 0);
  const onGatewaysChanged = () => {
    const lostFraction = 1 - aliveGw.length / G;
    pNewOf = w.classes.map((x) => Math.pow(1 - 1 / Math.max(1, aliveGw.length), Math.max(0, x.subscribersPerDoc - 1)));
    coldFracOf = w.classes.map((x) => Math.pow(lostFraction, Math.max(0, x.subscribersPerDoc - 1)));
  };

  // a resuming client needs about basesPerClient upstream bases (nobody on its new gateway held
  // the doc); the cell's replicas have (1 − background) spare; the bucket must not admit faster
  const basesPerClient = w.classes.reduce((s, x) => s + ((x.docs * x.subscribersPerDoc) / w.connections) * Math.pow(1 - 1 / G, Math.max(0, x.subscribersPerDoc - 1)), 0);
  const admissionRateBound = ((1 - rBg) * rPerCell) / ((G / cells) * basesPerClient * k.replicaUsPerBase * 1e-6);

  const q = new EventQueue<Ev>();
  const res: SimResult = {
    plan: pl,
    admission: p.admission,
    lostClients: 0,
    resumedClients: 0,
    lostPairs: 0,
    reroutedPairs: 0,
    resumeMs: null,
    rerouteMs: null,
    admissionRateBound: 0,
    gatewayMemAfterLoss: 0,
    gatewayMemBudget: k.processMemBytes,
    peakReplicaUtil: 0,
    peakReplicaQueueMs: 0,
    peakReplicaUtilTick: 0,
    peakGatewayUtil: 0,
    replicasPastTtl: 0,
    refusals: 0,
    clientSnapshots: 0,
    clientDeltas: 0,
    replicaBases: 0,
    replicaColdLoads: 0,
    peakRedisOpsPerS: 0,
    linkCollapses: 0,
    sendBufferOverflows: 0,
    linksOutOfCredit: 0,
    writesRefused: 0,
    maxAppendWaitMs: 0,
    hotDoc: null,
    series: [],
    events: 0,
    wallMs: 0,
  };
  // resume times, weighted by clients: [ms, clients]
  const resumes = new TimeHistogram();
  // by completion time, for the time line's "resumed so far"
  const resumedAt = new TimeHistogram();
  const reroutes = new TimeHistogram();
  // of a gateway's (gateway, doc) pairs, the share that is the first of its doc in the cell
  const coldShareOfReroutes =
    pl.classes.reduce((s, c) => s + (c.docs * c.gatewaysPerDoc) / Math.max(1, c.gatewaysPerDoc / c.cellsPerDoc), 0) /
    Math.max(1, pl.classes.reduce((s, c) => s + c.docs * c.gatewaysPerDoc, 0));
  const pastTtl = new Set<number>();
  let refusalsInSecond = 0;
  let redisInSecond = 0;
  const winTicks = Math.max(1, Math.round(1000 / tickMs));
  const gwWin = new Float64Array(G);
  const rWin = new Float64Array(replicas.length);
  let tickNo = 0;

  /** spread `us` of work over up to `replicaFanout` live replicas of a cell; returns when the slowest is done */
  const liveByCell: number[][] = Array.from({ length: cells }, (_, c) => Array.from({ length: rPerCell }, (_, i) => c * rPerCell + i));
  const toReplicas = (cell: number, now: number, us: number, count: number): number => {
    const live = liveByCell[cell];
    if (live.length === 0 || us <= 0) return now;
    const fan = Math.max(1, Math.min(live.length, replicaFanout, Math.ceil(count)));
    let done = now;
    const start = rng.int(live.length);
    for (let j = 0; j < fan; j++) done = Math.max(done, replicas[live[(start + j) % live.length]].serve(now, us / fan));
    return done;
  };

  const pickGateway = (): number => aliveGw[rng.int(aliveGw.length)];

  /** clients of a lost gateway try again: cohorts with one backoff draw each */
  const scheduleReconnects = (now: number, n: number, attempt: number, lostAt: number, extraMs: number) => {
    while (n > 0) {
      const c = Math.min(cohortSize, n);
      n -= c;
      const delay = extraMs + fullJitterDelay(attempt, backoffInitial, backoffMax, rng.next());
      q.push({ t: now + delay, kind: 'arrive', n: c, attempt, lostAt });
    }
  };

  const admit = (now: number, ev: { n: number; attempt: number; lostAt: number }) => {
    if (aliveGw.length === 0) return;
    const g = pickGateway();
    const gw = gateways[g];
    let admitted = ev.n;
    if (p.admission) {
      const a = p.admission;
      tokens[g] = Math.min(a.burst, tokens[g] + ((now - tokensAt[g]) / 1000) * a.rate);
      tokensAt[g] = now;
      admitted = Math.min(ev.n, Math.floor(tokens[g]));
      tokens[g] -= admitted;
    }
    const rejected = ev.n - admitted;
    if (rejected > 0) {
      gw.serve(now, rejected * rejectUs);
      res.refusals += rejected;
      refusalsInSecond += rejected;
      // the SDK waits the Retry-After, with jitter from its backoff window, and widens the window
      scheduleReconnects(now, rejected, ev.attempt + 1, ev.lostAt, retryAfterMs);
    }
    if (admitted === 0) return;
    const gwDone = gw.serve(now, admitted * connectUs);
    // per doc class: subscriptions this gateway must open upstream (nobody there held the doc),
    // and of those, the ones whose replica dropped the doc with the lost gateways (cold)
    let bases = 0;
    let cold = 0;
    let snapshots = 0;
    const outageS = (gwDone - ev.lostAt) / 1000;
    for (let c = 0; c < w.classes.length; c++) {
      const subs = admitted * subsPerConnOf[c];
      const pNew = pNewOf[c];
      const coldFrac = coldFracOf[c];
      bases += subs * pNew;
      cold += subs * pNew * coldFrac;
      // a held doc resumes with a delta while the gateway's ring covers the outage (HISTORY_SIZE,
      // HISTORY_BYTES and the process's HISTORY_BUDGET_BYTES horizon), else a snapshot from its mirror
      const covered = outageS <= pl.classes[c].gatewayHistoryS;
      snapshots += subs * pNew + (covered ? 0 : subs * (1 - pNew));
    }
    // one client's catch-up bytes: its snapshots and deltas, sent at once on resume
    let catchUp = 0;
    for (let c = 0; c < w.classes.length; c++) {
      const x = w.classes[c];
      catchUp += subsPerConnOf[c] * (pNewOf[c] * x.stateBytes + (1 - pNewOf[c]) * x.deltaBytes);
    }
    if (catchUp > k.maxSendBufferBytes) res.sendBufferOverflows += admitted;
    res.clientSnapshots += snapshots;
    res.clientDeltas += admitted * subsPerConn - snapshots;
    res.replicaBases += bases - cold;
    res.replicaColdLoads += cold;
    redisInSecond += cold; // a cold load reads the snapshot store
    const us = (bases - cold) * k.replicaUsPerBase + cold * k.replicaUsPerColdLoad;
    const rDone = toReplicas(cellOfGw(g), now, us, bases);
    const done = Math.max(gwDone, rDone);
    res.resumedClients += admitted;
    resumes.add(done - ev.lostAt, admitted);
    resumedAt.add(done, admitted);
  };

  // hot doc state
  let hot: { subs: number; target: number; writesPerS: number; deltaBytes: number; spread: number; spreadAt: number | null; homePeak: number; maxDelivery: number; started: number; rampMs: number } | null = null;
  // leader moves: paused partitions buffer their writes
  const partitionWriteRate = pl.writesPerS / pl.kafka.partitions;

  const handle = (ev: Ev) => {
    const now = ev.t;
    switch (ev.kind) {
      case 'tick': {
        tickNo++;
        let rMax = 0;
        let rQ = 0;
        let gMax = 0;
        for (const r of replicas) {
          if (!r.alive) continue;
          const u = r.background + r.workInTick / (tickMs * 1000);
          if (u > res.peakReplicaUtilTick) res.peakReplicaUtilTick = u;
          rWin[r.id] += u;
          r.workInTick = 0;
          const d = r.delay(now);
          if (d > rQ) rQ = d;
          if (d > k.registryTtlMs) pastTtl.add(r.id);
        }
        for (const g of gateways) {
          if (!g.alive) continue;
          gwWin[g.id] += g.background + g.workInTick / (tickMs * 1000);
          g.workInTick = 0;
        }
        if (tickNo % winTicks === 0) {
          for (let i = 0; i < rWin.length; i++) {
            const u = rWin[i] / winTicks;
            if (u > rMax) rMax = u;
            rWin[i] = 0;
          }
          for (let i = 0; i < gwWin.length; i++) {
            const u = gwWin[i] / winTicks;
            if (u > gMax) gMax = u;
            gwWin[i] = 0;
          }
          const redisOps = pl.redis.opsPerS + redisInSecond;
          res.series.push({
            t: now / 1000,
            replicaUtilMax: rMax,
            replicaQueueMs: rQ,
            gatewayUtilMax: gMax,
            resumed: resumedAt.countUpTo(now),
            refusalsPerS: refusalsInSecond,
            redisOpsPerS: redisOps,
          });
          res.peakReplicaUtil = Math.max(res.peakReplicaUtil, rMax);
          res.peakGatewayUtil = Math.max(res.peakGatewayUtil, gMax);
          res.peakRedisOpsPerS = Math.max(res.peakRedisOpsPerS, redisOps);
          refusalsInSecond = 0;
          redisInSecond = 0;
        }
        res.peakReplicaQueueMs = Math.max(res.peakReplicaQueueMs, rQ);
        if (now + tickMs <= p.untilMs) q.push({ t: now + tickMs, kind: 'tick' });
        break;
      }
      case 'action':
        act(now, ev.action);
        break;
      case 'arrive':
        admit(now, ev);
        break;
      case 'resubscribe': {
        // a gateway re-routes the docs it had on lost replicas to survivors, which do not hold
        // them: the first gateway to ask for a doc costs a cold load, the doc's other gateways in
        // the cell a base
        const cold = ev.pairs * coldShareOfReroutes;
        const us = cold * k.replicaUsPerColdLoad + (ev.pairs - cold) * k.replicaUsPerBase;
        res.replicaColdLoads += cold;
        res.replicaBases += ev.pairs - cold;
        redisInSecond += cold;
        const done = toReplicas(cellOfGw(ev.gw), now, us, ev.pairs);
        reroutes.add(done - ev.lostAt, ev.pairs);
        res.reroutedPairs += ev.pairs;
        break;
      }
      case 'hot-subscribe': {
        if (!hot) break;
        const before = distinctGateways(hot.subs, G);
        hot.subs = Math.min(hot.target, hot.subs + ev.n);
        const newGw = distinctGateways(hot.subs, G) - before;
        // each new subscription: a subscribe frame + snapshot at its gateway; each newly holding
        // gateway: one base from a replica of its cell
        for (const g of aliveGw) gateways[g].serve(now, (ev.n / aliveGw.length) * k.gatewayUsPerResubscribe);
        replicas[0].serve(now, (newGw / cells) * k.replicaUsPerBase);
        const perCellGw = distinctGateways(hot.subs, G) / cells;
        if (hot.spread === 1 && perCellGw > k.hotDocGateways) {
          hot.spread = k.hotDocSpread;
          hot.spreadAt = now;
          // make-before-break: each moving gateway gets a base from its new replica
          const moving = (perCellGw * (k.hotDocSpread - 1)) / k.hotDocSpread;
          for (let i = 1; i < k.hotDocSpread; i++) replicas[i % rPerCell].serve(now, (moving / (k.hotDocSpread - 1)) * k.replicaUsPerBase);
        }
        break;
      }
      case 'hot-write': {
        if (!hot) break;
        const holding = distinctGateways(hot.subs, G);
        const perCell = holding / cells;
        // the doc's replicas in the first cell (the others are alike): apply once, one link delta per gateway
        let last = now;
        for (let i = 0; i < hot.spread; i++) {
          const r = replicas[i % rPerCell];
          const d = r.delay(now);
          // the doc's link backlog grows with the replica's lag; past LINK_BACKLOG it collapses
          if (d * (hot.writesPerS / 1000) > k.linkBacklog) res.linkCollapses += perCell / hot.spread;
          last = Math.max(last, r.serve(now, k.replicaUsPerOpApplied + (perCell / hot.spread) * k.replicaUsPerLinkDelta));
        }
        // one gateway's share of the local fan-out, on a gateway picked at random
        const local = holding > 0 ? hot.subs / holding : 0;
        const gDone = gateways[pickGateway()].serve(last, k.gatewayUsPerLinkDeltaIn + local * k.gatewayUsPerDelivery);
        hot.maxDelivery = Math.max(hot.maxDelivery, gDone - now);
        if (hot.spread === 1) hot.homePeak = Math.max(hot.homePeak, replicas[0].background + (perCell * k.replicaUsPerLinkDelta * hot.writesPerS) / 1e6);
        if (now + 1000 / hot.writesPerS <= p.untilMs) q.push({ t: now + 1000 / hot.writesPerS, kind: 'hot-write' });
        break;
      }
      case 'partition-resume': {
        // the new leader takes the buffered appends: every reader of these partitions gets the burst
        const buffered = Math.min(partitionWriteRate * ev.partitions * (ev.pauseMs / 1000), KAFKA_INFLIGHT_APPENDS * pl.origin.processes);
        const refused = partitionWriteRate * ev.partitions * (ev.pauseMs / 1000) - buffered;
        res.writesRefused += Math.max(0, refused);
        res.maxAppendWaitMs = Math.max(res.maxAppendWaitMs, ev.pauseMs);
        const perReader = buffered * (k.replicaUsPerRecordScanned + k.replicaUsPerOpApplied);
        // a partition's readers: REPLICATION root replicas when the second tier pays, else every cell's
        const readers = Math.min(replicas.length, (pl.secondTier ? k.replication : pl.readersPerPartition) * ev.partitions);
        // link deltas: every gateway holding a written doc gets the burst; per doc, pause × w deltas at once
        const linkUs = (pl.linkDeltasPerS / pl.kafka.partitions) * ev.partitions * (ev.pauseMs / 1000) * k.replicaUsPerLinkDelta;
        for (let i = 0; i < Math.min(readers, replicas.length); i++) replicas[(i * 7919) % replicas.length].serve(now, perReader + linkUs / readers);
        // a link carries every delta of its docs in these partitions: past LINK_WINDOW frames the
        // replica stops and waits for the gateway's credit
        const perLink = ((pl.linkDeltasPerS / pl.kafka.partitions) * ev.partitions * (ev.pauseMs / 1000)) / Math.max(1, pl.links);
        if (perLink > k.linkWindow) res.linksOutOfCredit += pl.links;
        // a subscriber of these partitions' docs gets the burst too: pause × w deltas per doc
        // (coalescing aside), for its subscriptions in these partitions (at least one)
        const share = ev.partitions / pl.kafka.partitions;
        const subsHere = Math.max(1, subsPerConn * share);
        const perDoc = w.classes.reduce((s, x, c) => s + subsPerConnOf[c] * x.writesPerDocPerS * (ev.pauseMs / 1000) * (x.deltaBytes + 60), 0) / subsPerConn;
        if (subsHere * perDoc > k.maxSendBufferBytes) res.sendBufferOverflows += w.connections * Math.min(1, subsPerConn * share);
        for (const x of w.classes) {
          if (x.writesPerDocPerS * (ev.pauseMs / 1000) > k.linkBacklog) {
            res.linkCollapses += ((x.docs * ev.partitions) / pl.kafka.partitions) * placedGateways(x.subscribersPerDoc, G, k.affinity);
          }
        }
        break;
      }
    }
  };

  const act = (now: number, a: Action) => {
    switch (a.kind) {
      case 'kill-gateways': {
        const n = Math.round(a.fraction * G);
        const order = [...aliveGw];
        for (let i = 0; i < n; i++) {
          const j = i + rng.int(order.length - i);
          [order[i], order[j]] = [order[j], order[i]];
          gateways[order[i]].alive = false;
        }
        aliveGw = aliveGw.filter((g) => gateways[g].alive);
        onGatewaysChanged();
        res.gatewayMemAfterLoss = (pl.gateways.memBytesEach * G) / aliveGw.length;
        const lost = n * connsPerGw;
        res.lostClients += lost;
        // the lost gateways' steady load moves to the survivors with their clients
        for (const g of aliveGw) gateways[g].background = Math.min(0.95, gwBg * (G / aliveGw.length));
        // the links drop at once (RST); clients start their backoff from attempt 0
        scheduleReconnects(now, Math.round(lost), 0, now, 0);
        break;
      }
      case 'kill-replicas': {
        for (let c = 0; c < cells; c++) {
          const base = c * rPerCell;
          const n = Math.round(a.fraction * rPerCell);
          // n distinct replicas of the cell, chosen by the seeded PRNG (partial Fisher-Yates)
          const idx = Array.from({ length: rPerCell }, (_, i) => base + i);
          for (let i = 0; i < n; i++) {
            const j = i + rng.int(rPerCell - i);
            [idx[i], idx[j]] = [idx[j], idx[i]];
            replicas[idx[i]].alive = false;
          }
          const alive = replicas.slice(base, base + rPerCell).filter((r) => r.alive);
          liveByCell[c] = alive.map((r) => r.id);
          for (const r of alive) r.background = Math.min(0.95, rBg * (rPerCell / alive.length));
        }
        // every gateway re-routes the docs it had there, once it notices (RST or registry TTL)
        const pairsPerGw = pl.gateways.docsEach * a.fraction;
        // all at once (what a gateway does today), or paced: spread over paceMs in 20 steps
        const steps = a.paceMs ? 20 : 1;
        for (const g of aliveGw) {
          for (let s = 0; s < steps; s++) {
            const at = now + a.detectMs + (a.paceMs ? ((s + rng.next()) * a.paceMs) / steps : rng.next() * 100);
            q.push({ t: at, kind: 'resubscribe', gw: g, pairs: pairsPerGw / steps, lostAt: now });
          }
        }
        res.lostPairs += pairsPerGw * aliveGw.length;
        break;
      }
      case 'hot-doc': {
        hot = {
          subs: 0,
          target: a.subscribers,
          writesPerS: a.writesPerS,
          deltaBytes: a.deltaBytes,
          spread: 1,
          spreadAt: null,
          homePeak: 0,
          maxDelivery: 0,
          started: now,
          rampMs: a.rampMs,
        };
        const steps = 100;
        for (let i = 1; i <= steps; i++) q.push({ t: now + (a.rampMs * i) / steps, kind: 'hot-subscribe', n: a.subscribers / steps });
        q.push({ t: now + 1000 / a.writesPerS, kind: 'hot-write' });
        break;
      }
      case 'leader-move':
        q.push({ t: now + a.pauseMs, kind: 'partition-resume', partitions: a.partitions, startedAt: now, pauseMs: a.pauseMs });
        break;
    }
  };

  q.push({ t: tickMs, kind: 'tick' });
  for (const a of p.actions) q.push({ t: a.atMs, kind: 'action', action: a });
  for (;;) {
    const ev = q.pop();
    if (ev === undefined || ev.t > p.untilMs) break;
    res.events++;
    handle(ev);
  }
  res.replicasPastTtl = pastTtl.size;
  res.admissionRateBound = admissionRateBound;
  if (hot !== null) {
    const h = hot as NonNullable<typeof hot>;
    res.hotDoc = { spreadTo: h.spread, spreadAtMs: h.spreadAt, homePeakUtil: h.homePeak, maxDeliveryMs: h.maxDelivery };
  }
  res.resumeMs = resumes.quantiles();
  res.rerouteMs = reroutes.quantiles();
  res.wallMs = performance.now() - wall;
  return res;
}
