/**
 * A bounded window of recent records of one partition, shared by every stream log: the file and
 * memory logs keep their last durable records in it (tails and catch-up reads skip the disk), the
 * Kafka log keeps what its tails fetched (catch-up reads skip a fetch).
 *
 * Invariant: the window answers for the offsets [start, end): it holds every record of the
 * partition in that range (offsets may have holes where the log has none, e.g. Kafka's
 * transaction markers or compaction, but no record in the range is missing). Adding a run that
 * does not continue at `end` starts the window over at what that run covers.
 *
 * Bound: at most `limitBytes` of framed record size (the oldest records are dropped first; one
 * record larger than the limit is dropped at once, leaving the window empty at its end).
 */
import type { LogRecord } from './stream-log.js';

export class RecentWindow {
  /** first offset the window answers for */
  start: bigint;
  /** offset after the last record held */
  end: bigint;
  bytes = 0;
  private recs: LogRecord[] = [];
  private sizes: number[] = [];
  private head = 0;

  constructor(
    private readonly limitBytes: number,
    at = 0n,
  ) {
    this.start = this.end = at;
  }

  get empty(): boolean {
    return this.head === this.recs.length;
  }

  /** true when a read from `from` is answered here (some record at or after it is held) */
  covers(from: bigint): boolean {
    return !this.empty && from >= this.start && from < this.end;
  }

  /**
   * Adds records in offset order (`sizes[i]` is the framed size of `recs[i]`); `coveredFrom` is the
   * first offset the run answers for (no record exists in [coveredFrom, recs[0].offset)).
   */
  add(recs: readonly LogRecord[], sizes: readonly number[], coveredFrom: bigint = recs[0]?.offset ?? this.end): void {
    if (this.empty || coveredFrom > this.end) {
      this.recs = [];
      this.sizes = [];
      this.head = 0;
      this.bytes = 0;
      this.start = this.end = coveredFrom;
    }
    for (let i = 0; i < recs.length; i++) {
      const r = recs[i];
      if (r.offset < this.end) continue; // already held
      this.recs.push(r);
      this.sizes.push(sizes[i]);
      this.bytes += sizes[i];
      this.end = r.offset + 1n;
    }
    while (this.bytes > this.limitBytes && this.head < this.recs.length) {
      this.bytes -= this.sizes[this.head];
      this.start = this.recs[this.head].offset + 1n;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.recs.length) {
      this.recs = this.recs.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  }

  /** Records from the first at or after `from`: at most `maxRecords`, and stopping once past `maxBytes`. */
  read(from: bigint, maxRecords: number, maxBytes: number): LogRecord[] {
    let lo = this.head;
    let hi = this.recs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.recs[mid].offset < from) lo = mid + 1;
      else hi = mid;
    }
    const out: LogRecord[] = [];
    let bytes = 0;
    for (let j = lo; j < this.recs.length && out.length < maxRecords && bytes < maxBytes; j++) {
      out.push(this.recs[j]);
      bytes += this.sizes[j];
    }
    return out;
  }
}
