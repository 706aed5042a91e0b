import { apiKeys } from '../protocol/messages/api-keys.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import {
  createListOffsetsRequest,
  createListOffsetsRequestPartition,
  createListOffsetsRequestTopic,
} from '../protocol/messages/list-offsets.ts';
import type { ClusterClient } from './cluster-client.ts';
import { kafkaError } from './errors.ts';
import { type LogBounds, type Offset, resolveOffset } from './offset.ts';

/**
 * Resolving consumer positions with ListOffsets, one request per leading SPU and kind of lookup
 * (Kafka refuses a partition named twice in one request). Timestamps -2 and -1 ask for the log start
 * and the end (the high watermark, or the last stable offset for read_committed).
 */

const earliestTimestamp = -2n;
const latestTimestamp = -1n;

export type Isolation = 'read_uncommitted' | 'read_committed';

export function isolationLevel(isolation: Isolation): number {
  return isolation === 'read_committed' ? 1 : 0;
}

/** Offsets of `partitions` for one ListOffsets timestamp (-2 earliest, -1 latest, or milliseconds). */
export async function listOffsets(
  cluster: ClusterClient,
  topic: string,
  partitions: readonly number[],
  timestamp: bigint,
  isolation: Isolation,
): Promise<Map<number, bigint>> {
  const metadata = await cluster.topicMetadata(topic);
  const byLeader = new Map<number, number[]>();
  for (const partition of partitions) {
    const leaderId = metadata.partitions[partition]?.leaderId ?? -1;
    if (leaderId < 0) {
      cluster.invalidate(topic);
      throw kafkaError(errorCodes.LEADER_NOT_AVAILABLE, `partition ${topic}-${partition} has no leader now`);
    }
    byLeader.set(leaderId, [...(byLeader.get(leaderId) ?? []), partition]);
  }
  const offsets = new Map<number, bigint>();
  await Promise.all(
    [...byLeader].map(async ([leaderId, group]) => {
      const connection = await cluster.connectionTo(leaderId);
      const response = await connection.call(
        apiKeys.ListOffsets,
        createListOffsetsRequest({
          replicaId: -1,
          isolationLevel: isolationLevel(isolation),
          topics: [
            createListOffsetsRequestTopic({
              name: topic,
              partitions: group.map((partitionIndex) =>
                createListOffsetsRequestPartition({ partitionIndex, timestamp }),
              ),
            }),
          ],
        }),
      );
      for (const answer of response.topics.flatMap((t) => t.partitions)) {
        if (answer.errorCode !== errorCodes.NONE) {
          if (answer.errorCode === errorCodes.NOT_LEADER_OR_FOLLOWER) cluster.invalidate(topic);
          throw kafkaError(answer.errorCode, `listing offsets of ${topic}-${answer.partitionIndex}`);
        }
        offsets.set(answer.partitionIndex, answer.offset);
      }
    }),
  );
  for (const partition of partitions) {
    if (!offsets.has(partition)) {
      throw kafkaError(errorCodes.UNKNOWN_TOPIC_OR_PARTITION, `no offset for ${topic}-${partition}`);
    }
  }
  return offsets;
}

/** Log start and end of each partition. */
export async function logBounds(
  cluster: ClusterClient,
  topic: string,
  partitions: readonly number[],
  isolation: Isolation,
): Promise<Map<number, LogBounds>> {
  const [starts, ends] = await Promise.all([
    listOffsets(cluster, topic, partitions, earliestTimestamp, isolation),
    listOffsets(cluster, topic, partitions, latestTimestamp, isolation),
  ]);
  return new Map(
    partitions.map((partition) => [
      partition,
      { logStartOffset: starts.get(partition)!, endOffset: ends.get(partition)! },
    ]),
  );
}

/** Where `offset` points in each partition. */
export async function resolveOffsets(
  cluster: ClusterClient,
  topic: string,
  partitions: readonly number[],
  offset: Offset,
  isolation: Isolation,
): Promise<Map<number, bigint>> {
  if (offset.kind === 'absolute') return new Map(partitions.map((p) => [p, offset.offset]));
  if (offset.kind === 'beginning' || offset.kind === 'end') {
    const timestamp = offset.kind === 'beginning' ? earliestTimestamp : latestTimestamp;
    return listOffsets(cluster, topic, partitions, timestamp, isolation);
  }
  const bounds = await logBounds(cluster, topic, partitions, isolation);
  const byTime =
    offset.kind === 'timestamp'
      ? await listOffsets(cluster, topic, partitions, offset.timestampMs, isolation)
      : undefined;
  return new Map(partitions.map((p) => [p, resolveOffset(offset, bounds.get(p)!, byTime?.get(p) ?? -1n)]));
}

/** The offset a partition restarts from after OFFSET_OUT_OF_RANGE under `policy` ('error' throws). */
export async function resetOffset(
  cluster: ClusterClient,
  topic: string,
  partition: number,
  policy: 'earliest' | 'latest',
  isolation: Isolation,
): Promise<bigint> {
  const timestamp = policy === 'earliest' ? earliestTimestamp : latestTimestamp;
  const offsets = await listOffsets(cluster, topic, [partition], timestamp, isolation);
  return offsets.get(partition)!;
}
