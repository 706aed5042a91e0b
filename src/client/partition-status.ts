import { apiKeys } from '../protocol/messages/api-keys.ts';
import type { DescribeTopicStatusResponseTopic } from '../protocol/messages/describe-topic-status.ts';
import { errorCodes, errorName } from '../protocol/messages/error-codes.ts';
import {
  createListOffsetsRequest,
  createListOffsetsRequestPartition,
  createListOffsetsRequestTopic,
  type ListOffsetsResponse,
} from '../protocol/messages/list-offsets.ts';
import type { PartitionPlacement, PartitionStatus, ReplicaProgress } from './admin-types.ts';
import type { ClusterClient, PartitionMetadata, TopicMetadata } from './cluster-client.ts';

/**
 * Partition offsets without a controller: each leader is asked with ListOffsets for the log start
 * (timestamp -2), the high watermark (timestamp -1 as a consumer) and the log end (timestamp -1 as
 * Kafka's debugging replica id -2, which brokers answer with the log end offset).
 */

const earliestTimestamp = -2n;
const latestTimestamp = -1n;
const consumerReplicaId = -1;
const debuggingReplicaId = -2;

type Offsets = Pick<PartitionStatus, 'logStartOffset' | 'logEndOffset' | 'highWatermark' | 'status'>;
type Progress = Pick<
  PartitionStatus,
  'underReplicated' | 'replicaProgress' | 'addingReplicas' | 'removingReplicas'
>;

/** Kafka's textual topic id: the 16 bytes in base64url without padding; '' for the zero id. */
export function topicIdText(topicId: Buffer): string {
  return topicId.every((byte) => byte === 0) ? '' : topicId.toString('base64url');
}

export function placementOf(partition: PartitionMetadata): PartitionPlacement {
  return {
    partition: partition.partition,
    leaderId: partition.leaderId,
    leaderEpoch: partition.leaderEpoch,
    replicas: partition.replicas,
    isr: partition.isr,
    offlineReplicas: partition.offlineReplicas,
    error: partition.errorCode === errorCodes.NONE ? null : errorName(partition.errorCode),
  };
}

/** Status of every partition of `topics`, sorted by topic and partition. */
export async function partitionsFromListOffsets(
  cluster: ClusterClient,
  topics: readonly TopicMetadata[],
): Promise<PartitionStatus[]> {
  const byLeader = new Map<number, PartitionMetadata[]>();
  for (const topic of topics) {
    for (const partition of topic.partitions) {
      const list = byLeader.get(partition.leaderId) ?? [];
      list.push(partition);
      byLeader.set(partition.leaderId, list);
    }
  }
  const offsets = new Map<string, Offsets>();
  await Promise.all(
    [...byLeader].map(async ([leaderId, partitions]) => {
      for (const [key, value] of await leaderOffsets(cluster, leaderId, partitions)) offsets.set(key, value);
    }),
  );
  return topics
    .flatMap((topic) =>
      topic.partitions
        .map((partition) => ({
          topic: topic.name,
          ...placementOf(partition),
          ...(offsets.get(keyOf(partition.topic, partition.partition)) ?? unknownOffsets('UNKNOWN')),
          sizeBytes: null,
        }))
        .map((status) => ({ ...status, ...progressWithoutController(status) })),
    )
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

async function leaderOffsets(
  cluster: ClusterClient,
  leaderId: number,
  partitions: readonly PartitionMetadata[],
): Promise<Map<string, Offsets>> {
  const result = new Map<string, Offsets>();
  if (leaderId < 0) {
    for (const p of partitions) result.set(keyOf(p.topic, p.partition), unknownOffsets('no leader'));
    return result;
  }
  try {
    const connection = await cluster.connectionTo(leaderId);
    const ask = (replicaId: number, timestamp: bigint): Promise<ListOffsetsResponse> =>
      connection.call(apiKeys.ListOffsets, offsetsRequest(partitions, replicaId, timestamp));
    const [start, watermark, end] = await Promise.all([
      ask(consumerReplicaId, earliestTimestamp),
      ask(consumerReplicaId, latestTimestamp),
      ask(debuggingReplicaId, latestTimestamp),
    ]);
    for (const p of partitions) {
      const key = keyOf(p.topic, p.partition);
      const answers = [start, watermark, end].map((response) => findPartition(response, p));
      const failed = answers.find((answer) => answer === undefined || answer.errorCode !== errorCodes.NONE);
      result.set(
        key,
        failed !== undefined || answers.length !== 3
          ? unknownOffsets(errorName(failed?.errorCode ?? errorCodes.UNKNOWN_SERVER_ERROR))
          : {
              logStartOffset: answers[0]!.offset,
              highWatermark: answers[1]!.offset,
              logEndOffset: answers[2]!.offset,
              status: 'online',
            },
      );
    }
  } catch (error) {
    const status = error instanceof Error && 'code' in error ? String(error.code) : 'unreachable';
    for (const p of partitions) result.set(keyOf(p.topic, p.partition), unknownOffsets(status));
  }
  return result;
}

function offsetsRequest(partitions: readonly PartitionMetadata[], replicaId: number, timestamp: bigint) {
  const byTopic = new Map<string, number[]>();
  for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
  return createListOffsetsRequest({
    replicaId,
    isolationLevel: 0,
    topics: [...byTopic].map(([name, indexes]) =>
      createListOffsetsRequestTopic({
        name,
        partitions: indexes.map((partitionIndex) =>
          createListOffsetsRequestPartition({ partitionIndex, timestamp }),
        ),
      }),
    ),
  });
}

function findPartition(response: ListOffsetsResponse, partition: PartitionMetadata) {
  return response.topics
    .find((t) => t.name === partition.topic)
    ?.partitions.find((p) => p.partitionIndex === partition.partition);
}

function unknownOffsets(status: string): Offsets {
  return { logStartOffset: -1n, logEndOffset: -1n, highWatermark: -1n, status };
}

function keyOf(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * Without a controller only the leader's own log end is known: followers (a standalone SPU has none)
 * show as unknown.
 */
function progressWithoutController(status: Omit<PartitionStatus, keyof Progress>): Progress {
  const leaderEnd = status.logEndOffset < 0n ? null : status.logEndOffset;
  return {
    underReplicated: status.offlineReplicas.length > 0 || status.isr.length < status.replicas.length,
    replicaProgress: status.replicas.map((replicaId) =>
      replicaProgressOf(replicaId, status.isr, replicaId === status.leaderId ? leaderEnd : null, leaderEnd),
    ),
    addingReplicas: [],
    removingReplicas: [],
  };
}

/** Partitions as the controller reports them (DescribeTopicStatus), sorted by index. */
export function partitionsFromStatus(topic: DescribeTopicStatusResponseTopic): PartitionStatus[] {
  return topic.partitions
    .map((p) => {
      const leaderEnd = p.logEndOffset < 0n ? null : p.logEndOffset;
      const reported = new Map(p.replicaLogEndOffsets.map((r) => [r.replicaId, r.logEndOffset]));
      return {
        topic: topic.name,
        partition: p.partition,
        leaderId: p.leader,
        leaderEpoch: p.leaderEpoch,
        replicas: p.replicas,
        isr: p.isr,
        offlineReplicas: [],
        error: null,
        logStartOffset: p.logStartOffset,
        logEndOffset: p.logEndOffset,
        highWatermark: p.highWatermark,
        sizeBytes: p.sizeBytes < 0n ? null : p.sizeBytes, // -1 until the leader's first status report
        status: p.status,
        underReplicated: p.status === 'under-replicated' || p.isr.length < p.replicas.length,
        replicaProgress: p.replicas.map((replicaId) => {
          const end = reported.get(replicaId) ?? (replicaId === p.leader ? p.logEndOffset : -1n);
          return replicaProgressOf(replicaId, p.isr, end < 0n ? null : end, leaderEnd);
        }),
        addingReplicas: p.addingReplicas,
        removingReplicas: p.removingReplicas,
      };
    })
    .sort((a, b) => a.partition - b.partition);
}

function replicaProgressOf(
  replicaId: number,
  isr: readonly number[],
  logEndOffset: bigint | null,
  leaderEnd: bigint | null,
): ReplicaProgress {
  const lag = logEndOffset === null || leaderEnd === null ? null : leaderEnd - logEndOffset;
  return {
    replicaId,
    inSync: isr.includes(replicaId),
    logEndOffset,
    lag: lag === null ? null : lag < 0n ? 0n : lag,
  };
}
