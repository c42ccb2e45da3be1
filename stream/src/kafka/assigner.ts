/**
 * The partition assigner of the log's consumers. kafkajs has no manual assign(): each tail and the
 * fallback reader is the only member of a consumer group of its own, and this assigner hands it
 * exactly the partitions it asked for (a second member, which never joins, would get none).
 */
import { AssignerProtocol } from 'kafkajs';
import type { PartitionAssigner } from 'kafkajs';

/** Assigns exactly `partitions` of `topic` to the first member (a tail's group has only one). */
export function explicitAssigner(topic: string, partitions: readonly number[]): PartitionAssigner {
  return () => ({
    name: 'ReplicantExplicit',
    version: 0,
    async assign({ members }) {
      const ids = members.map((m) => m.memberId).sort();
      return ids.map((memberId, i) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: i === 0 ? { [topic]: [...partitions] } : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: 'ReplicantExplicit',
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
      };
    },
  });
}
