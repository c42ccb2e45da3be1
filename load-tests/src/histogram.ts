/**
 * A fixed-size log-linear latency histogram (milliseconds): 10 µs buckets below 10 ms, then
 * buckets 1 % wide up to ~10 minutes. Recording is O(1) with no allocation; histograms from several
 * processes merge exactly (sparse [bucket, count] pairs over IPC).
 */
const LINEAR_MS = 10;
const LINEAR_STEP = 0.01;
const LINEAR_BUCKETS = LINEAR_MS / LINEAR_STEP; // 1000
const GROWTH = Math.log(1.01);
const LOG_BUCKETS = Math.ceil(Math.log(600_000 / LINEAR_MS) / GROWTH) + 1;
const SIZE = LINEAR_BUCKETS + LOG_BUCKETS;

function bucketOf(ms: number): number {
  if (!(ms > 0)) return 0; // negatives (clock skew between processes) and NaN count as 0
  if (ms < LINEAR_MS) return Math.floor(ms / LINEAR_STEP);
  const b = LINEAR_BUCKETS + Math.floor(Math.log(ms / LINEAR_MS) / GROWTH);
  return b < SIZE ? b : SIZE - 1;
}

/** upper bound of a bucket (what percentiles report: "p99 <= x") */
function upperOf(b: number): number {
  if (b < LINEAR_BUCKETS) return (b + 1) * LINEAR_STEP;
  return LINEAR_MS * Math.exp((b - LINEAR_BUCKETS + 1) * GROWTH);
}

export class Histogram {
  private counts = new Uint32Array(SIZE);
  count = 0;
  sum = 0;
  max = 0;
  min = Infinity;

  record(ms: number): void {
    this.counts[bucketOf(ms)]++;
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
    if (ms < this.min) this.min = ms;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.max = 0;
    this.min = Infinity;
  }

  /** value at quantile q in [0, 1] (bucket upper bound, capped by the observed max) */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let b = 0; b < SIZE; b++) {
      seen += this.counts[b];
      if (seen >= rank) return Math.min(upperOf(b), this.max);
    }
    return this.max;
  }

  get mean(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }

  toJSON(): SerializedHistogram {
    const buckets: number[] = [];
    for (let b = 0; b < SIZE; b++) if (this.counts[b] !== 0) buckets.push(b, this.counts[b]);
    return { buckets, count: this.count, sum: this.sum, max: this.max, min: this.min === Infinity ? null : this.min };
  }

  merge(h: SerializedHistogram): void {
    for (let i = 0; i < h.buckets.length; i += 2) this.counts[h.buckets[i]] += h.buckets[i + 1];
    this.count += h.count;
    this.sum += h.sum;
    if (h.max > this.max) this.max = h.max;
    if (h.min !== null && h.min < this.min) this.min = h.min;
  }
}

export interface SerializedHistogram {
  buckets: number[];
  count: number;
  sum: number;
  max: number;
  min: number | null;
}

/** Wall-clock milliseconds with sub-ms resolution, comparable across processes on one host. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}
