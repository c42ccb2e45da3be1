/**
 * Bounded per-document history of recent deltas, for resume: a receiver that last saw `lastSeq`
 * gets exactly the deltas after it when the ring still covers it, and a snapshot otherwise.
 */
import type { Delta } from './delta.js';

export class HistoryRing {
  private buf: (Delta | undefined)[];
  private start = 0; // index of the oldest entry
  private len = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 0)) throw new RangeError('history ring capacity must be >= 0');
    this.buf = [];
  }

  get size(): number {
    return this.len;
  }

  push(d: Delta): void {
    if (this.capacity === 0) return;
    if (this.len < this.capacity) {
      this.buf[(this.start + this.len) % this.capacity] = d;
      this.len++;
    } else {
      this.buf[this.start] = d; // overwrite the oldest
      this.start = (this.start + 1) % this.capacity;
    }
  }

  clear(): void {
    this.buf = [];
    this.start = 0;
    this.len = 0;
  }

  private at(i: number): Delta {
    return this.buf[(this.start + i) % this.capacity]!;
  }

  /** every retained delta, oldest first */
  all(): Delta[] {
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
