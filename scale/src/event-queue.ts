/**
 * The simulator's event queue: a binary min-heap on (time, insertion order), so events at the same
 * time run in the order they were scheduled and a run is deterministic. Written by hand because
 * it is the simulator's one hot loop and needs nothing beyond push/pop (no dependency offers a
 * stable-ordered heap over plain objects without a comparator closure per call).
 */

export interface SimEvent {
  /** simulated time, ms */
  t: number;
  /** insertion order, the tie-breaker */
  seq: number;
}

/** an event as scheduled: everything but its seq (distributes over a union of event kinds) */
export type Unscheduled<E> = E extends SimEvent ? Omit<E, 'seq'> : never;

export class EventQueue<E extends SimEvent> {
  private heap: E[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** schedules `e` (its seq is assigned here) */
  push(e: Unscheduled<E>): void {
    const ev = e as unknown as E;
    ev.seq = this.nextSeq++;
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  /** the earliest event, removed; undefined when empty */
  pop(): E | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }

  peekTime(): number {
    return this.heap.length > 0 ? this.heap[0].t : Infinity;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}
