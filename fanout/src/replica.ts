/**
 * A fan-out replica: tails the partitions it serves, materializes only the documents some receiver
 * subscribed to, keeps a bounded history ring per document for resume, and pushes ordered deltas to
 * its listeners (gateway hubs in-process, gateway links in cluster mode).
 *
 * A cold document is bootstrapped without stopping the tail: records of that doc that arrive while
 * it loads are parked (bounded), the snapshot store gives a state at least as new as the store's
 * covered offset C for the partition, the log is read from C up to where the tail was when loading
 * began, and the parked records are applied last. DocState ignores ops at or below its seq, so the
 * overlaps between those three sources are harmless.
 */
import type { JsonObject } from '@replicant/protocol';
import { DocState, decodeOp, defineMetrics, type LogRecord, type SnapshotStore, type StreamLog, type Tail } from '@replicant/stream';
import { Delta } from './delta.js';
import { DEFAULT_HISTORY_BUDGET_BYTES, DEFAULT_HISTORY_BYTES, HistoryBudget, HistoryRing } from './history-ring.js';
import type { Upstream, UpstreamListener } from './upstream.js';

export interface ReplicaOptions {
  log: StreamLog;
  store: SnapshotStore;
  /** partitions this replica serves (default: all) */
  partitions?: number[];
  /** deltas retained per document for resume (default 1024) */
  historySize?: number;
  /** bytes of history retained per document (HISTORY_BYTES, default 1 MiB; history-ring.ts) */
  historyBytes?: number;
  /**
   * the process's history budget (HISTORY_BUDGET_BYTES), shared with the gateway's rings in one
   * process; default: a budget of 256 MiB of this replica's own
   */
  historyBudget?: HistoryBudget;
  /** documents kept materialized after their last listener left, LRU (default 1000) */
  idleDocs?: number;
  /** records parked per document while it loads; past it the load restarts (default 10000) */
  maxPendingPerDoc?: number;
  /** records per catch-up read from the log (default 1000) */
  readBatch?: number;
}

interface DocEntry {
  doc: string;
  partition: number;
  state: DocState | undefined; // undefined while loading
  pending: LogRecord[] | undefined; // records parked during load
  overflow: boolean;
  ring: HistoryRing;
  listeners: Set<UpstreamListener>;
}

/** live replicas of this process, read by the lag gauge at scrape time */
const liveReplicas = new Set<Replica>();

const replicaMetrics = defineMetrics((m) => ({
  docs: m.gauge({ name: 'replicant_fanout_docs', help: 'Documents materialized by this replica' }),
  subscriptions: m.gauge({ name: 'replicant_fanout_subscriptions', help: 'Upstream subscriptions (listener, doc) served' }),
  deltas: m.counter({ name: 'replicant_fanout_deltas_total', help: 'Deltas produced by replica materialization' }),
  loads: m.counter({ name: 'replicant_fanout_doc_loads_total', help: 'Cold document bootstraps', labelNames: ['result'] }),
  lag: m.gauge({
    name: 'replicant_fanout_consumer_lag_records',
    help: "Per partition: records in the log this replica has not yet applied (log end minus the replica's position)",
    labelNames: ['partition'],
    async collect() {
      this.reset();
      const worst = new Map<number, bigint>();
      for (const r of liveReplicas) for (const [p, l] of await r.lag()) if (l > (worst.get(p) ?? -1n)) worst.set(p, l);
      for (const [p, l] of worst) this.set({ partition: String(p) }, Number(l));
    },
  }),
}));

export class Replica implements Upstream {
  private readonly metrics = replicaMetrics();
  private readonly docs = new Map<string, DocEntry>();
  /** docs with no listener, oldest first (Map insertion order) */
  private readonly idle = new Map<string, DocEntry>();
  private readonly position = new Map<number, bigint>(); // next offset to process, per partition
  private readonly served: Set<number>;
  private tail: Tail | undefined;
  private closed = false;
  private readonly historySize: number;
  private readonly historyBytes: number;
  private readonly historyBudget: HistoryBudget;
  private readonly idleDocs: number;
  private readonly maxPending: number;
  private readonly readBatch: number;

  private constructor(private readonly opts: ReplicaOptions) {
    const all = Array.from({ length: opts.log.partitions }, (_, i) => i);
    this.served = new Set(opts.partitions ?? all);
    this.historySize = opts.historySize ?? 1024;
    this.historyBytes = opts.historyBytes ?? DEFAULT_HISTORY_BYTES;
    this.historyBudget = opts.historyBudget ?? new HistoryBudget(DEFAULT_HISTORY_BUDGET_BYTES);
    this.idleDocs = opts.idleDocs ?? 1000;
    this.maxPending = opts.maxPendingPerDoc ?? 10_000;
    this.readBatch = opts.readBatch ?? 1000;
  }

  static async start(opts: ReplicaOptions): Promise<Replica> {
    const r = new Replica(opts);
    for (const p of r.served) r.position.set(p, await opts.log.endOffset(p));
    r.tail = await opts.log.tail((p, records) => r.onRecords(p, records), {
      partitions: [...r.served],
      from: (p) => r.position.get(p)!,
    });
    liveReplicas.add(r);
    return r;
  }

  serves(doc: string): boolean {
    return this.served.has(this.opts.log.partitionOf(doc));
  }

  subscribe(doc: string, listener: UpstreamListener): void {
    if (this.closed) {
      listener.onError(doc, 'unavailable', 'replica is shutting down');
      return;
    }
    const partition = this.opts.log.partitionOf(doc);
    if (!this.served.has(partition)) {
      listener.onError(doc, 'unavailable', `this replica does not serve partition ${partition}`);
      return;
    }
    let e = this.docs.get(doc);
    if (!e) {
      e = { doc, partition, state: undefined, pending: [], overflow: false, ring: new HistoryRing(this.historySize, this.historyBytes, this.historyBudget), listeners: new Set() };
      this.docs.set(doc, e);
      this.metrics.docs.inc();
      void this.load(e);
    } else if (this.idle.delete(doc)) {
      e.ring.setIdle(false);
    }
    if (e.listeners.has(listener)) return;
    e.listeners.add(listener);
    this.metrics.subscriptions.inc();
    if (e.state) listener.onBase(doc, e.state.seq, e.state.state, e.ring.all());
  }

  unsubscribe(doc: string, listener: UpstreamListener): void {
    const e = this.docs.get(doc);
    if (!e || !e.listeners.delete(listener)) return;
    this.metrics.subscriptions.dec();
    if (e.listeners.size === 0) this.park(e);
  }

  /** current materialized view of a subscribed doc (for tests and admin) */
  peek(doc: string): { seq: bigint; state: JsonObject; listeners: number } | undefined {
    const e = this.docs.get(doc);
    return e?.state ? { seq: e.state.seq, state: e.state.state, listeners: e.listeners.size } : undefined;
  }

  /**
   * The current base of a loaded doc for a (re)subscribing receiver: state at seq plus the
   * retained deltas after `fromSeq` when the ring covers it, else the newest `maxHistory` deltas.
   * Undefined while the doc is still loading (its listeners get onBase when it is ready).
   */
  base(doc: string, fromSeq: bigint | undefined, maxHistory: number): { seq: bigint; state: JsonObject; history: Delta[] } | undefined {
    const e = this.docs.get(doc);
    if (!e?.state) return undefined;
    const seq = e.state.seq;
    let history = fromSeq === undefined ? undefined : e.ring.since(fromSeq, seq);
    if (history === undefined) {
      const all = e.ring.all();
      history = maxHistory <= 0 ? [] : all.slice(Math.max(0, all.length - maxHistory));
    }
    return { seq, state: e.state.state, history };
  }

  stats(): { docs: number; idleDocs: number; subscriptions: number } {
    let subscriptions = 0;
    for (const e of this.docs.values()) subscriptions += e.listeners.size;
    return { docs: this.docs.size, idleDocs: this.idle.size, subscriptions };
  }

  /** per served partition: log end minus the next offset this replica applies (scrape time) */
  async lag(): Promise<Map<number, bigint>> {
    const out = new Map<number, bigint>();
    for (const [p, pos] of this.position) {
      const end = await this.opts.log.endOffset(p);
      out.set(p, end > pos ? end - pos : 0n);
    }
    return out;
  }

  async close(): Promise<void> {
    liveReplicas.delete(this);
    this.closed = true;
    await this.tail?.close();
    this.metrics.docs.dec(this.docs.size);
    this.metrics.subscriptions.dec(this.stats().subscriptions);
    for (const e of this.docs.values()) e.ring.clear(); // gives the shared budget its bytes back
    this.docs.clear();
    this.idle.clear();
  }

  /** keep an unwatched doc materialized for a while (cheap resubscribe); evict the oldest past the bound */
  private park(e: DocEntry): void {
    this.idle.set(e.doc, e);
    e.ring.setIdle(true); // its history goes first when the process is over its history budget
    while (this.idle.size > this.idleDocs) {
      const oldest = this.idle.keys().next().value as string;
      this.idle.get(oldest)!.ring.clear();
      this.idle.delete(oldest);
      this.docs.delete(oldest);
      this.metrics.docs.dec();
    }
  }

  private onRecords(partition: number, records: LogRecord[]): void {
    for (let i = 0; i < records.length; i++) {
      const rec = records[i];
      const e = this.docs.get(rec.key);
      if (e === undefined) continue;
      if (e.state === undefined) {
        if (e.pending!.length >= this.maxPending) e.overflow = true;
        else e.pending!.push(rec);
        continue;
      }
      this.applyRecord(e, rec, true);
    }
    if (records.length > 0) this.position.set(partition, records[records.length - 1].offset + 1n);
  }

  private applyRecord(e: DocEntry, rec: LogRecord, live: boolean): void {
    const op = decodeOp(rec.value);
    if (op instanceof Error) return; // not written by origin; origin validates every op it appends
    const seq = rec.offset + 1n;
    const r = e.state!.apply(seq, op.patch, op.key, op.ifSeq, op.maxDocBytes, op.replace);
    if (!r.applied) return;
    // a replace op (Kafka ingest) travels as the merge patch the fold applied it as
    const d = r.patch ? new Delta(e.doc, seq, r.prevSeq, JSON.stringify(r.patch), r.patch, op.tsMs) : new Delta(e.doc, seq, r.prevSeq, op.patchText, op.patch, op.tsMs);
    e.ring.push(d);
    this.metrics.deltas.inc();
    if (live) for (const l of e.listeners) l.onDelta(d);
  }

  private async load(e: DocEntry): Promise<void> {
    for (;;) {
      const until = this.position.get(e.partition)!; // records from here on are parked in e.pending
      try {
        const covered = await this.opts.store.covered(e.partition);
        const snap = await this.opts.store.get(e.doc);
        const state = snap ? DocState.from(snap) : new DocState(e.doc);
        const replay: LogRecord[] = [];
        for (let from = covered; from < until; ) {
          const batch = await this.opts.log.read(e.partition, from, this.readBatch);
          if (batch.length === 0) break;
          for (const r of batch) if (r.offset < until && r.key === e.doc) replay.push(r);
          from = batch[batch.length - 1].offset + 1n;
        }
        if (this.docs.get(e.doc) !== e) return; // evicted while loading
        if (e.overflow) {
          // too many records arrived while loading: start over from the new tail position
          e.overflow = false;
          e.pending = [];
          this.metrics.loads.inc({ result: 'restart' });
          continue;
        }
        e.state = state;
        for (const r of replay) this.applyRecord(e, r, false);
        for (const r of e.pending!) this.applyRecord(e, r, false);
        e.pending = undefined;
        this.metrics.loads.inc({ result: 'ok' });
        for (const l of e.listeners) l.onBase(e.doc, state.seq, state.state, e.ring.all());
        return;
      } catch (err) {
        if (this.docs.get(e.doc) !== e) return;
        e.ring.clear();
        this.docs.delete(e.doc);
        this.idle.delete(e.doc);
        this.metrics.docs.dec();
        this.metrics.loads.inc({ result: 'error' });
        // the cause (e.g. a snapshot store's host:port) is for the log only: this message travels
        // over the link to gateways and on to clients
        console.error(`fanout replica: could not load ${e.doc}: ${(err as Error).message}`);
        for (const l of e.listeners) l.onError(e.doc, 'unavailable', 'could not load document; retry');
        this.metrics.subscriptions.dec(e.listeners.size);
        return;
      }
    }
  }
}
