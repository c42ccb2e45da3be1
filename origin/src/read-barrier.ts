/**
 * The read barrier that makes `GET /v1/docs/{id}` linearizable on any origin (docs/architecture.md
 * "Consistency"): a read is answered only once this origin's materializer has applied every record
 * of the doc's partition below an end offset that was asked of the log AFTER the read arrived. Any
 * write acknowledged (by any origin) before the read arrived is below that end offset (stream-log
 * seam: `endOffset` covers every durable, hence every acknowledged, record), so the answer
 * reflects it.
 *
 * Batching, per partition: at most ONE end-offset request is in flight. A read that arrives while
 * none is in flight starts one; a read that arrives while one is in flight joins the NEXT request,
 * sent as soon as the current one completes. It may not join the current one: that request may
 * have been answered by the log before a write that was acknowledged before the read arrived. So a
 * read waits for at most two end-offset round trips (plus applying), and the log sees one request
 * per partition per round however many reads arrive.
 *
 * After a round's answer `end`, its reads wait until the materializer's position (the next offset
 * it will apply) is at least `end`, i.e. every record below `end` is folded. Rounds waiting to be
 * applied are queued per partition in answer order, and one watcher per partition waits for the
 * materializer (not one per read).
 *
 * A round whose request has not been answered within `timeoutMs` is abandoned (its reads have all
 * timed out by then: they arrived before it was sent) and the next round is sent at once, so one
 * hung request (a stalled leader) costs the partition's reads one timeout, not the request's own
 * (kafkajs: 30 s plus retries). The abandoned request's late answer is ignored (it would be safe for
 * its own reads only, and they are gone). The log seam bounds its calls too (kafka: offsets.ts
 * settles every call within endOffsetRetryMs, which the cluster sets to READ_BARRIER_TIMEOUT_MS).
 *
 * Bounds: every read gives up after `timeoutMs` (503 `unavailable`); reads waiting here (not yet
 * timed out) are counted by the origin's in-flight read bound. Per partition: one round in flight
 * (plus abandoned requests still running in the log seam, each for at most its own deadline), one
 * next round, and applied-queue entries only for rounds that still have a waiting read (entries
 * whose reads all timed out are dropped from the head as the timeouts fire; rounds are answered in
 * order, so their reads time out in order). A timed-out read is still referenced by its round until
 * the round is answered, abandoned or dropped, i.e. for at most `timeoutMs` after it timed out:
 * the next round's reads all arrived after its request was sent and cannot time out before the
 * round is abandoned, so the next round holds only live reads, and a round in flight holds only
 * reads that were live when it was sent (<= the in-flight read bound).
 */
import { OriginError, unavailable } from './errors.js';
import { originMetrics } from './metrics.js';

export interface BarrierSource {
  /** the log's end offset of `partition`, asked now (StreamLog.endOffset) */
  endOffset(partition: number): Promise<bigint>;
  /** the next offset the view applies in `partition`: every record below it is folded */
  position(partition: number): bigint;
  /** resolves once position(partition) >= offset */
  reached(partition: number, offset: bigint): Promise<void>;
}

interface Waiter {
  readonly partition: number;
  readonly t0: number;
  resolve(): void;
  reject(err: OriginError): void;
  timer: NodeJS.Timeout | undefined;
  done: boolean;
  /** the applied-queue entry this read waits in, once its round has an answer */
  entry?: Entry;
}

/** one answered round of a partition, waiting to be applied */
interface Entry {
  readonly end: bigint;
  readonly waiters: Waiter[];
  /** waiters not yet settled */
  live: number;
}

/** one end-offset request and the reads it serves */
interface Round {
  readonly partition: number;
  readonly st: PartitionState;
  readonly waiters: Waiter[];
  /** answered, failed or abandoned: a later outcome is ignored */
  over: boolean;
  timer: NodeJS.Timeout | undefined;
}

interface PartitionState {
  /** an end-offset request is in flight (not yet answered nor abandoned) */
  inflight: boolean;
  /** the round in flight */
  current: Round | undefined;
  /** reads that arrived while it was in flight: the next round */
  next: Waiter[] | undefined;
  /** answered rounds not yet applied, in answer order */
  readonly applying: Entry[];
  /** a watcher waits for the materializer on behalf of `applying` */
  watching: boolean;
}

export class ReadBarrier {
  private readonly metrics = originMetrics();
  private readonly parts = new Map<number, PartitionState>();
  private closed = false;
  /** end-offset requests sent (tests: batching) */
  requests = 0;

  constructor(
    private readonly source: BarrierSource,
    readonly timeoutMs: number,
  ) {}

  /** Resolves once a read of `partition` that arrives now may be served; rejects with a 503 OriginError. */
  wait(partition: number): Promise<void> {
    if (this.closed) return Promise.reject(unavailable('origin is shutting down'));
    let st = this.parts.get(partition);
    if (st === undefined) {
      st = { inflight: false, current: undefined, next: undefined, applying: [], watching: false };
      this.parts.set(partition, st);
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { partition, t0: performance.now(), resolve, reject, timer: undefined, done: false };
      w.timer = setTimeout(expire, this.timeoutMs, this, w);
      if (!st.inflight) this.issue(partition, st, [w]);
      else (st.next ??= []).push(w);
    });
  }

  private issue(partition: number, st: PartitionState, waiters: Waiter[]): void {
    const round: Round = { partition, st, waiters, over: false, timer: undefined };
    st.inflight = true;
    st.current = round;
    round.timer = setTimeout(abandon, this.timeoutMs, this, round);
    this.requests++;
    this.metrics.barrierRequests.inc();
    this.source.endOffset(partition).then(
      (end) => {
        if (!this.endRound(round)) return;
        this.answered(partition, st, end, waiters);
        this.issueNext(partition, st);
      },
      (err: unknown) => {
        if (!this.endRound(round)) return;
        console.error(`origin: read barrier: end offset of partition ${partition} unavailable: ${(err as Error)?.message ?? err}`);
        const e = unavailable('the log could not be asked for its end offset; retry');
        for (const w of waiters) this.settle(w, e);
        this.issueNext(partition, st);
      },
    );
  }

  /** the round's request is over (answered, failed, abandoned); false if it already was */
  private endRound(round: Round): boolean {
    if (round.over) return false;
    round.over = true;
    clearTimeout(round.timer);
    round.st.inflight = false;
    round.st.current = undefined;
    return true;
  }

  /** a round's request got no answer within timeoutMs: give it up so the next round can be sent */
  abandoned(round: Round): void {
    if (!this.endRound(round)) return;
    this.metrics.barrierAbandoned.inc();
    console.error(`origin: read barrier: end offset of partition ${round.partition} not answered within ${this.timeoutMs} ms; asking again`);
    const e = unavailable(`read barrier: the log did not answer within ${this.timeoutMs} ms; retry`);
    for (const w of round.waiters) this.settle(w, e);
    this.issueNext(round.partition, round.st);
  }

  private issueNext(partition: number, st: PartitionState): void {
    const next = st.next;
    st.next = undefined;
    if (next === undefined || this.closed) return;
    const live = next.filter((w) => !w.done);
    if (live.length > 0) this.issue(partition, st, live);
  }

  private answered(partition: number, st: PartitionState, end: bigint, waiters: Waiter[]): void {
    if (this.source.position(partition) >= end) {
      for (const w of waiters) this.settle(w);
      return;
    }
    const entry: Entry = { end, waiters, live: 0 };
    for (const w of waiters) {
      if (w.done) continue;
      w.entry = entry;
      entry.live++;
    }
    if (entry.live === 0) return;
    st.applying.push(entry);
    if (!st.watching) void this.watch(partition, st);
  }

  /** settles queued rounds as the materializer reaches their end offsets */
  private async watch(partition: number, st: PartitionState): Promise<void> {
    st.watching = true;
    try {
      while (st.applying.length > 0 && !this.closed) {
        const head = st.applying[0];
        try {
          await this.source.reached(partition, head.end);
        } catch (err) {
          // the view was closed (shutdown, rebuild): every queued read answers 503
          const e = err instanceof OriginError ? err : unavailable('origin view is not serving; retry');
          for (const entry of st.applying.splice(0)) for (const w of entry.waiters) this.settle(w, e);
          return;
        }
        const pos = this.source.position(partition);
        while (st.applying.length > 0 && st.applying[0].end <= pos) {
          for (const w of st.applying.shift()!.waiters) this.settle(w);
        }
      }
    } finally {
      st.watching = false;
    }
  }

  private settle(w: Waiter, err?: OriginError): void {
    if (w.done) return;
    w.done = true;
    clearTimeout(w.timer);
    if (w.entry) w.entry.live--;
    if (err) return w.reject(err);
    this.metrics.barrierWait.observe((performance.now() - w.t0) / 1000);
    w.resolve();
  }

  /** a read's timeout fired: 503, and applied-queue entries left without reads are dropped */
  expired(w: Waiter): void {
    if (w.done) return;
    this.metrics.barrierTimeouts.inc();
    // answered, but this origin's view did not reach the end offset in time: behind or stalled
    if (w.entry !== undefined) this.metrics.barrierStuck.inc();
    this.settle(w, unavailable(`read barrier: this origin did not catch up with the log within ${this.timeoutMs} ms; retry`));
    const st = this.parts.get(w.partition);
    if (st) while (st.applying.length > 0 && st.applying[0].live === 0) st.applying.shift();
  }

  /** rejects every waiting read (origin close) */
  close(): void {
    this.closed = true;
    const e = unavailable('origin is shutting down');
    for (const st of this.parts.values()) {
      if (st.current) {
        const round = st.current;
        this.endRound(round);
        for (const w of round.waiters) this.settle(w, e);
      }
      for (const w of st.next ?? []) this.settle(w, e);
      st.next = undefined;
      for (const entry of st.applying.splice(0)) for (const w of entry.waiters) this.settle(w, e);
    }
  }
}

/** setTimeout callback shared by every read (no closure per read) */
function expire(b: ReadBarrier, w: Waiter): void {
  b.expired(w);
}

/** setTimeout callback of a round (one timer per round, not per read) */
function abandon(b: ReadBarrier, round: Round): void {
  b.abandoned(round);
}
