/**
 * Bounded per-document history of recent deltas, for resume: a receiver that last saw `lastSeq`
 * gets exactly the deltas after it when the ring still covers it, and a snapshot otherwise.
 *
 * Bounds (docs/architecture.md "Size bounds"): per ring `capacity` deltas (HISTORY_SIZE) and
 * `maxBytes` (HISTORY_BYTES); per process a shared `HistoryBudget` (HISTORY_BUDGET_BYTES) over every
 * ring given it. A delta is charged `deltaCost` bytes: its patch text three times (the text, its
 * parsed form and one cached encoded frame) plus a fixed overhead, so the charge tracks what the
 * delta keeps alive on the heap. Entries only ever leave from the oldest end (or all at once), so
 * what a ring holds is always one unbroken chain ending at the newest delta: a resume is served
 * exactly the deltas after its seq, or nothing (a snapshot), never a gap.
 * Over the budget the least recently used rings lose their oldest deltas first; rings marked idle
 * (documents nobody watches) go before any active one. "Used" = a delta pushed or history read.
 */
import { defineMetrics } from '@replicant/stream';
import type { Delta } from './delta.js';

/** budgets of this process, read at scrape time */
const liveBudgets = new Set<WeakRef<HistoryBudget>>();

const historyMetrics = defineMetrics((m) => ({
  bytes: m.gauge({
    name: 'replicant_history_bytes',
    help: 'History kept for resume by the replica and gateway rings of this process, as charged against HISTORY_BUDGET_BYTES',
    collect() {
      let sum = 0;
      for (const r of liveBudgets) {
        const b = r.deref();
        if (b === undefined) liveBudgets.delete(r);
        else sum += b.used;
      }
      this.set(sum);
    },
  }),
}));

/** HISTORY_BYTES default: per document */
export const DEFAULT_HISTORY_BYTES = 1024 * 1024;
/** HISTORY_BUDGET_BYTES default: per process */
export const DEFAULT_HISTORY_BUDGET_BYTES = 256 * 1024 * 1024;

/** bytes a retained delta is charged (see the module header) */
export function deltaCost(d: Delta): number {
  return 3 * d.patch.length + 256;
}

/** The per-process byte budget shared by history rings, evicting least recently used history first. */
export class HistoryBudget {
  /** bytes charged by every ring of this budget */
  used = 0;
  /** deltas dropped to stay within the budget (tests, metrics) */
  evicted = 0;
  // rings holding bytes, least recently used first (Set insertion order)
  private readonly active = new Set<HistoryRing>();
  private readonly idle = new Set<HistoryRing>();

  constructor(readonly maxBytes: number) {
    if (!(maxBytes >= 0)) throw new RangeError('history budget must be >= 0');
    historyMetrics();
    liveBudgets.add(new WeakRef(this));
  }

  /** @internal the ring was used: most recently used of its class (or out of the lists when empty) */
  touch(ring: HistoryRing): void {
    const set = ring.idle ? this.idle : this.active;
    set.delete(ring);
    if (ring.bytes > 0) set.add(ring);
  }

  /** @internal the ring changed class (idle <-> active) */
  moved(ring: HistoryRing): void {
    this.active.delete(ring);
    this.idle.delete(ring);
    this.touch(ring);
  }

  /** drops the oldest deltas of the least recently used rings (idle ones first) until within budget */
  trim(): void {
    while (this.used > this.maxBytes) {
      const ring = first(this.idle) ?? first(this.active);
      if (ring === undefined) return;
      while (this.used > this.maxBytes && ring.bytes > 0) {
        ring.dropOldest();
        this.evicted++;
      }
      if (ring.bytes === 0) {
        this.idle.delete(ring);
        this.active.delete(ring);
      }
    }
  }
}

function first<T>(s: Set<T>): T | undefined {
  for (const x of s) return x;
  return undefined;
}

export class HistoryRing {
  private buf: (Delta | undefined)[];
  private costs: number[];
  private start = 0; // index of the oldest entry
  private len = 0;
  /** bytes charged by the retained deltas (deltaCost) */
  bytes = 0;
  /** a ring of a document nobody watches: its history goes first when over the budget */
  idle = false;

  constructor(
    readonly capacity: number,
    readonly maxBytes = Infinity,
    private readonly budget?: HistoryBudget,
  ) {
    if (!(capacity >= 0)) throw new RangeError('history ring capacity must be >= 0');
    this.buf = [];
    this.costs = [];
  }

  get size(): number {
    return this.len;
  }

  push(d: Delta): void {
    if (this.capacity === 0) return;
    const cost = deltaCost(d);
    if (cost > this.maxBytes) {
      // cannot be kept: nothing older is useful without it (a resume from before it needs a snapshot)
      this.drop();
    } else {
      if (this.len === this.capacity) this.dropOldest();
      this.buf[(this.start + this.len) % this.capacity] = d;
      this.costs[(this.start + this.len) % this.capacity] = cost;
      this.len++;
      this.bytes += cost;
      if (this.budget) this.budget.used += cost;
      while (this.bytes > this.maxBytes) this.dropOldest();
    }
    if (this.budget) {
      this.budget.touch(this);
      this.budget.trim();
    }
  }

  /** @internal drops the oldest entry (the budget's `used` follows) */
  dropOldest(): void {
    if (this.len === 0) return;
    const cost = this.costs[this.start];
    this.buf[this.start] = undefined;
    this.start = (this.start + 1) % this.capacity;
    this.len--;
    this.bytes -= cost;
    if (this.budget) this.budget.used -= cost;
  }

  private drop(): void {
    this.buf = [];
    this.costs = [];
    this.start = 0;
    this.len = 0;
    if (this.budget) this.budget.used -= this.bytes;
    this.bytes = 0;
  }

  /** drops every entry and gives its bytes back to the budget */
  clear(): void {
    this.drop();
    this.budget?.touch(this);
  }

  /** marks the ring idle (its document has no receiver) or active again */
  setIdle(idle: boolean): void {
    if (this.idle === idle) return;
    this.idle = idle;
    this.budget?.moved(this);
  }

  private at(i: number): Delta {
    return this.buf[(this.start + i) % this.capacity]!;
  }

  /** every retained delta, oldest first */
  all(): Delta[] {
    this.budget?.touch(this);
    const out: Delta[] = new Array(this.len);
    for (let i = 0; i < this.len; i++) out[i] = this.at(i);
    return out;
  }

  private upTo(from: number, currentSeq: bigint): Delta[] {
    const out: Delta[] = [];
    for (let i = from; i < this.len; i++) {
      const d = this.at(i);
      if (d.seq > currentSeq) break;
      out.push(d);
    }
    return out;
  }

  /**
   * The deltas a receiver at `lastSeq` is missing to reach `currentSeq`: [] when it is current,
   * undefined when the ring does not reach back to `lastSeq` (the receiver needs a snapshot).
   * Entries after `currentSeq` (not yet delivered to the caller's receivers) are left out.
   */
  since(lastSeq: bigint, currentSeq: bigint): Delta[] | undefined {
    if (lastSeq === currentSeq) return [];
    if (lastSeq > currentSeq || this.len === 0) return undefined;
    this.budget?.touch(this);
    // seqs are log positions, strictly increasing but not contiguous: lastSeq must be a seq the
    // ring knows (the prevSeq of the oldest entry or the seq of an entry).
    if (this.at(0).prevSeq === lastSeq) return this.upTo(0, currentSeq);
    let lo = 0;
    let hi = this.len - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.at(mid).seq;
      if (s === lastSeq) return this.upTo(mid + 1, currentSeq);
      if (s < lastSeq) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }
}
