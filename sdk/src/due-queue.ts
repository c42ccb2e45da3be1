/**
 * A min-heap of (due time, doc) for the client's subscribe / unsubscribe retries, so scheduling one
 * refused frame costs O(log n) instead of a scan of every doc (1,000 refusals: O(n log n), not
 * O(n^2)). Entries are not removed when a retry is cancelled or rescheduled: the owner checks the
 * doc's current due time when one is popped and skips stale ones. At most one live entry per doc
 * waits, plus stale ones until their time comes; clear() on every new connection and on close.
 */
export class DueQueue {
  private readonly at: number[] = [];
  private readonly keys: string[] = [];
  /** comparisons made so far (tests check the work done, not the time taken) */
  work = 0;

  get size(): number {
    return this.at.length;
  }

  /** the earliest due time, undefined when empty */
  peek(): number | undefined {
    return this.at.length > 0 ? this.at[0] : undefined;
  }

  push(at: number, key: string): void {
    let i = this.at.length;
    this.at.push(at);
    this.keys.push(key);
    while (i > 0) {
      const p = (i - 1) >> 1;
      this.work++;
      if (this.at[p] <= at) break;
      this.move(p, i);
      i = p;
    }
    this.at[i] = at;
    this.keys[i] = key;
  }

  /** removes and returns the doc of the earliest entry */
  pop(): string | undefined {
    const n = this.at.length;
    if (n === 0) return undefined;
    const top = this.keys[0];
    const lastAt = this.at.pop()!;
    const lastKey = this.keys.pop()!;
    if (n === 1) return top;
    let i = 0;
    const m = n - 1;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= m) break;
      this.work++;
      if (c + 1 < m && this.at[c + 1] < this.at[c]) c++;
      this.work++;
      if (this.at[c] >= lastAt) break;
      this.move(c, i);
      i = c;
    }
    this.at[i] = lastAt;
    this.keys[i] = lastKey;
    return top;
  }

  clear(): void {
    this.at.length = 0;
    this.keys.length = 0;
  }

  private move(from: number, to: number): void {
    this.at[to] = this.at[from];
    this.keys[to] = this.keys[from];
  }
}
