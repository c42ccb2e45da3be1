/**
 * The end offset of ONE partition: a ListOffsets(latest) request to that partition's leader only.
 * origin's read barrier asks it once per partition per round (origin/src/read-barrier.ts), so it
 * must not cost a request per partition of the topic (admin.fetchTopicOffsets asks every partition
 * twice, for the low and the high offset) and must follow leadership changes by itself.
 *
 * What the answer means: with the default isolation (READ_COMMITTED) the leader answers the last
 * stable offset, which is the high watermark when no transactions are open (this project's
 * producers are idempotent, never transactional). Every record below it is committed (on every
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
 * Retries: connection errors, leadership changes and OFFSET_NOT_AVAILABLE refresh the metadata and
 * retry after a short backoff (50 ms doubling to 500 ms) for at most `retryMs`; then the request
 * rejects. Bounds: one Cluster (its connections: one per broker) per KafkaLog.
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
  fetchTopicsOffset(
    topics: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

const FACTORY = 'private:Kafka:createCluster';

export class PartitionOffsets {
  private readonly cluster: KafkajsCluster;
  private connected?: Promise<void>;
  private closed = false;

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
    this.cluster = (create as (o: object) => KafkajsCluster)({ allowAutoTopicCreation: false });
  }

  private connect(): Promise<void> {
    this.connected ??= (async () => {
      await this.cluster.connect();
      await this.cluster.addTargetTopic(this.topic);
    })().catch((err: unknown) => {
      this.connected = undefined;
      throw err;
    });
    return this.connected;
  }

  /** the end offset (high watermark) of `partition`, asked of its leader now */
  async latest(partition: number): Promise<bigint> {
    const deadline = performance.now() + this.retryMs;
    const backoff = new Backoff({ initialMs: 50, maxMs: 500, jitter: 'none' });
    for (;;) {
      if (this.closed) throw new Error('closed');
      try {
        await this.connect();
        await this.cluster.refreshMetadataIfNecessary();
        const r = await this.cluster.fetchTopicsOffset([{ topic: this.topic, fromBeginning: false, partitions: [{ partition }] }]);
        const o = r[0]?.partitions.find((x) => x.partition === partition);
        if (o === undefined) throw Object.assign(new Error(`no leader known for partition ${partition}`), { retriable: true });
        return BigInt(o.offset);
      } catch (err) {
        const delay = backoff.next();
        if (this.closed || performance.now() + delay > deadline) throw err;
        // stale leadership (NOT_LEADER_OR_FOLLOWER, a dead broker, OFFSET_NOT_AVAILABLE on a new leader):
        // ask the cluster again who leads before the next attempt
        await this.cluster.refreshMetadata().catch(() => {});
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.connected) await this.cluster.disconnect().catch(() => {});
  }
}
