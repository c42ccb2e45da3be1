/**
 * The end offset of ONE partition: a ListOffsets(latest) request to that partition's leader only.
 * origin's read barrier asks it once per partition per round (origin/src/read-barrier.ts), so it
 * must not cost a request per partition of the topic (admin.fetchTopicOffsets asks every partition
 * twice, for the low and the high offset) and must follow leadership changes by itself.
 *
 * What the answer means: with the default isolation (READ_COMMITTED) the leader answers the last
 * stable offset, which is the high watermark when no transactions are open (this project's
 * producers are idempotent, never transactional; an open transaction of a foreign producer holds
 * it back, but the origin acknowledges a write only once folded, and its read_committed tail
 * folds only below that offset, so the answer still covers every acknowledged write). Every record below it is committed (on every
 * in-sync replica), and an append acknowledged with acks=-1 is below the high watermark of the
 * leader that acknowledged it. After a leader change the new leader answers OFFSET_NOT_AVAILABLE
 * until its high watermark has caught up with the start of its epoch (KIP-207), so an answer is
 * never below an acknowledged append's offset + 1, and answers are monotonic.
 *
 * kafkajs' admin client does not offer a single-partition ListOffsets, nor a way to force a metadata
 * refresh after NOT_LEADER_OR_FOLLOWER; its Cluster (kafkajs 2.2, pinned in package-lock.json) does,
 * and the Kafka instance creates one through a private factory. `open` fails clearly if that
 * factory is missing (a kafkajs upgrade changed it), rather than falling back silently.
 *
 * Batching: calls made in one event-loop turn (e.g. the read barrier's next rounds of several
 * partitions, issued when one broker's answer arrives) share one ListOffsets per leader; each call
 * is served by a request sent after it was made, which is what the read barrier relies on.
 *
 * Deadlines: every call settles within `retryMs` of being made. Each step of an attempt (connect,
 * metadata, ListOffsets) is raced against ATTEMPT_MS and the call's remaining time, so a broker that
 * accepts the request and never answers (SIGSTOPped, partitioned) costs one attempt, not kafkajs'
 * requestTimeout (30 s) plus its retries.
 *
 * Retries: when a group's request fails or times out (connection error, leadership change,
 * OFFSET_NOT_AVAILABLE, no answer in time) each of its partitions is retried alone, refreshing the
 * metadata first, with a short backoff (50 ms doubling to 500 ms) until the call's deadline; then it
 * rejects. Bounds: one Cluster (its connections: one per broker) per KafkaLog; pending calls are the
 * callers' (the barrier bounds them) and each lives at most `retryMs`; an abandoned kafkajs request
 * ends by kafkajs' requestTimeout. After close() (which waits for flushes in progress) nothing
 * connects again: every step checks `closed` after its await.
 */
import type { Kafka } from 'kafkajs';
import { Backoff } from '@replicant/protocol';

/** the parts of kafkajs' (untyped, private) Cluster this module uses */
interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  refreshMetadataIfNecessary(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number; leader: number }[];
  fetchTopicsOffset(
    topics: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

const FACTORY = 'private:Kafka:createCluster';

/** one step of an attempt (connect, metadata, ListOffsets) is given up after this long */
export const ATTEMPT_MS = 2000;

/** p, or a rejection once `ms` have passed (p's own outcome is then ignored) */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  if (ms <= 0) return Promise.reject(new Error(`${what}: no time left`));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${Math.round(ms)} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

const closedError = () => new Error('closed');

interface Waiter {
  resolve(offset: bigint): void;
  reject(err: unknown): void;
}

export class PartitionOffsets {
  private readonly cluster: KafkajsCluster;
  private connected?: Promise<void>;
  private closed = false;
  /** calls made in this event-loop turn, by partition: sent together once the turn ends */
  private pending?: Map<number, Waiter[]>;
  /** flushes and single-partition retries in progress (close waits for them, then disconnects) */
  private readonly running = new Set<Promise<unknown>>();
  /** ListOffsets requests sent (tests) */
  requests = 0;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    private readonly retryMs: number,
  ) {
    const sym = Object.getOwnPropertySymbols(kafka).find((s) => s.description === FACTORY);
    const create = sym === undefined ? undefined : (kafka as unknown as Record<symbol, unknown>)[sym];
    if (typeof create !== 'function') {
      throw new Error('kafka: this kafkajs version has no Cluster factory (expected kafkajs 2.2.x); cannot ask single partitions for their end offset');
    }
    // metadata is kept (kafkajs' producer default, 5 min) and refreshed on the errors below; without
    // a max age kafkajs would fetch metadata before every request, a second round trip per read round
    this.cluster = (create as (o: object) => KafkajsCluster)({ allowAutoTopicCreation: false, metadataMaxAge: 300_000 });
  }

  private connect(deadline: number): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    this.connected ??= (async () => {
      await this.cluster.connect();
      if (this.closed) throw closedError();
      await this.cluster.addTargetTopic(this.topic);
    })().catch((err: unknown) => {
      this.connected = undefined;
      throw err;
    });
    return this.step(this.connected, deadline, 'connect');
  }

  /** one awaited step: bounded by ATTEMPT_MS and the deadline, and refused once closed */
  private async step<T>(p: Promise<T>, deadline: number, what: string): Promise<T> {
    const r = await within(p, Math.min(ATTEMPT_MS, deadline - performance.now()), `kafka ${what}`);
    if (this.closed) throw closedError();
    return r;
  }

  private track(p: Promise<unknown>): void {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  /**
   * The end offset (high watermark) of `partition`, asked of its leader in a request sent after
   * this call; settles within `retryMs`. Calls made in the same event-loop turn share one
   * ListOffsets per leader (a broker handles one request per connection at a time, so separate
   * requests would queue there); a group whose request fails is retried partition by partition
   * (`one`), so a dead leader delays only its own partitions.
   */
  latest(partition: number): Promise<bigint> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise<bigint>((resolve, reject) => {
      if (this.pending === undefined) {
        this.pending = new Map();
        const deadline = performance.now() + this.retryMs;
        setImmediate(() => this.track(this.flush(deadline)));
      }
      const ws = this.pending.get(partition);
      if (ws) ws.push({ resolve, reject });
      else this.pending.set(partition, [{ resolve, reject }]);
    });
  }

  private async flush(deadline: number): Promise<void> {
    const batch = this.pending;
    this.pending = undefined;
    if (batch === undefined) return; // closed meanwhile: its calls were rejected
    const settle = (p: number, r: bigint | { err: unknown }) => {
      for (const w of batch.get(p)!) {
        if (typeof r === 'bigint') w.resolve(r);
        else w.reject(r.err);
      }
    };
    const retryEach = (ps: number[]) => {
      for (const p of ps) {
        const one = this.one(p, deadline).then(
          (o) => settle(p, o),
          (err: unknown) => settle(p, { err }),
        );
        this.track(one);
      }
    };
    let groups: Map<number, number[]>;
    try {
      await this.connect(deadline);
      await this.step(this.cluster.refreshMetadataIfNecessary(), deadline, 'metadata');
      const leaders = new Map(this.cluster.findTopicPartitionMetadata(this.topic).map((m) => [m.partitionId, m.leader]));
      groups = new Map();
      for (const p of batch.keys()) {
        const l = leaders.get(p) ?? -1;
        const g = groups.get(l);
        if (g) g.push(p);
        else groups.set(l, [p]);
      }
    } catch {
      return retryEach([...batch.keys()]);
    }
    const sent: Promise<void>[] = [];
    for (const [leader, ps] of groups) {
      if (leader < 0) {
        retryEach(ps);
        continue;
      }
      this.requests++;
      const req = this.cluster.fetchTopicsOffset([{ topic: this.topic, fromBeginning: false, partitions: ps.map((partition) => ({ partition })) }]);
      sent.push(
        this.step(req, deadline, 'ListOffsets').then(
          (r) => {
            const got = new Map((r[0]?.partitions ?? []).map((x) => [x.partition, BigInt(x.offset)]));
            const missing: number[] = [];
            for (const p of ps) {
              const o = got.get(p);
              if (o === undefined) missing.push(p);
              else settle(p, o);
            }
            retryEach(missing);
          },
          () => retryEach(ps),
        ),
      );
    }
    await Promise.all(sent);
  }

  /** one partition's end offset, retried through leadership changes until `deadline` */
  private async one(partition: number, deadline: number): Promise<bigint> {
    const backoff = new Backoff({ initialMs: 50, maxMs: 500, jitter: 'none' });
    for (;;) {
      if (this.closed) throw closedError();
      try {
        await this.connect(deadline);
        // every attempt follows a failed request: ask the cluster who leads first
        await this.step(this.cluster.refreshMetadata(), deadline, 'metadata');
        this.requests++;
        const req = this.cluster.fetchTopicsOffset([{ topic: this.topic, fromBeginning: false, partitions: [{ partition }] }]);
        const r = await this.step(req, deadline, 'ListOffsets');
        const o = r[0]?.partitions.find((x) => x.partition === partition);
        if (o === undefined) throw Object.assign(new Error(`no leader known for partition ${partition}`), { retriable: true });
        return BigInt(o.offset);
      } catch (err) {
        const delay = backoff.next();
        if (this.closed || performance.now() + delay >= deadline) throw err;
        // stale leadership (NOT_LEADER_OR_FOLLOWER, a dead broker, OFFSET_NOT_AVAILABLE on a new
        // leader): the next attempt asks the cluster again who leads
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** rejects pending calls, waits for the flushes in progress to stop, then disconnects (once more if one connected meanwhile) */
  async close(): Promise<void> {
    this.closed = true;
    const batch = this.pending;
    this.pending = undefined;
    if (batch) for (const ws of batch.values()) for (const w of ws) w.reject(closedError());
    if (this.connected) await this.cluster.disconnect().catch(() => {});
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    // a connect that was already under way when close() ran may have finished since
    await this.cluster.disconnect().catch(() => {});
  }
}
