import { errorCodes } from '../../../protocol/messages/error-codes.ts';
import {
  createOffsetCommitResponse,
  createOffsetCommitResponsePartition,
  createOffsetCommitResponseTopic,
  type OffsetCommitRequest,
  type OffsetCommitResponse,
} from '../../../protocol/messages/offset-commit.ts';
import {
  createOffsetFetchResponse,
  createOffsetFetchResponseGroup,
  createOffsetFetchResponsePartition,
  createOffsetFetchResponsePartitions,
  createOffsetFetchResponseTopic,
  createOffsetFetchResponseTopics,
  type OffsetFetchRequest,
  type OffsetFetchResponse,
} from '../../../protocol/messages/offset-fetch.ts';
import type { GroupCoordinator, Shard } from '../../groups/coordinator.ts';
import type { Group } from '../../groups/group.ts';
import { type CommittedOffset, offsetKey } from '../../groups/group-types.ts';
import { encodeKey, encodeOffsetValue } from '../../groups/records.ts';
import type { ApiHandler } from '../../handler.ts';

/** OffsetFetch v8+ asks about several groups in one request. */
const batchedFetchVersionMin = 8;

interface CommitEntry {
  readonly topic: string;
  readonly partition: number;
  errorCode: number;
  readonly committed: CommittedOffset;
}

/**
 * OffsetCommit: checks the member and generation against the group (a group without members takes
 * commits with generation -1 from consumers that assign partitions themselves), writes one record
 * per partition and answers once the records are replicated (acks=all).
 */
export function offsetCommitHandler(
  coordinator: GroupCoordinator,
): ApiHandler<OffsetCommitRequest, OffsetCommitResponse> {
  return async (request) => {
    const nowMs = coordinator.clock.nowMs();
    const entries: CommitEntry[] = request.topics.flatMap((topic) =>
      topic.partitions.map((partition) => ({
        topic: topic.name,
        partition: partition.partitionIndex,
        errorCode: entryProblem(coordinator, topic.name, partition),
        committed: {
          topic: topic.name,
          partition: partition.partitionIndex,
          offset: partition.committedOffset,
          leaderEpoch: partition.committedLeaderEpoch,
          metadata: partition.committedMetadata ?? '',
          commitTimestampMs: partition.commitTimestamp > 0n ? Number(partition.commitTimestamp) : nowMs,
        },
      })),
    );
    const problem = await commitOffsets(coordinator, request, entries);
    return createOffsetCommitResponse({
      topics: request.topics.map((topic) =>
        createOffsetCommitResponseTopic({
          name: topic.name,
          partitions: topic.partitions.map((partition) => {
            const entry = entries.find(
              (each) => each.topic === topic.name && each.partition === partition.partitionIndex,
            );
            const unknown = entry?.errorCode === errorCodes.UNKNOWN_TOPIC_OR_PARTITION;
            const errorCode = unknown ? entry.errorCode : (problem ?? entry?.errorCode ?? errorCodes.NONE);
            return createOffsetCommitResponsePartition({
              partitionIndex: partition.partitionIndex,
              errorCode,
            });
          }),
        }),
      ),
    });
  };
}

/**
 * Why one partition's commit is refused before the group is asked, or NONE. As in Kafka, a topic or
 * partition the cluster does not have gets UNKNOWN_TOPIC_OR_PARTITION whatever the group says, so
 * a typo (or AlterConsumerGroupOffsets for a deleted topic) does not look like a stored commit.
 */
function entryProblem(
  coordinator: GroupCoordinator,
  topic: string,
  partition: OffsetCommitRequest['topics'][number]['partitions'][number],
): number {
  if (!coordinator.partitionExists(topic, partition.partitionIndex))
    return errorCodes.UNKNOWN_TOPIC_OR_PARTITION;
  if ((partition.committedMetadata?.length ?? 0) > coordinator.settings.offsetMetadataBytesMax)
    return errorCodes.OFFSET_METADATA_TOO_LARGE;
  return errorCodes.NONE;
}

/** Commits the entries without an error yet; answers an error code for all of them, or undefined. */
async function commitOffsets(
  coordinator: GroupCoordinator,
  request: OffsetCommitRequest,
  entries: CommitEntry[],
): Promise<number | undefined> {
  // Nothing to store: no group is created and nothing is written (Kafka answers without the group).
  if (entries.every((entry) => entry.errorCode === errorCodes.UNKNOWN_TOPIC_OR_PARTITION)) return undefined;
  if (request.groupId === '') return errorCodes.INVALID_GROUP_ID;
  const shard = coordinator.shardOf(request.groupId);
  if (typeof shard === 'number') return shard;
  const generationId = request.generationIdOrMemberEpoch;
  const group = coordinator.groupOf(shard, request.groupId, generationId < 0 && 'commit');
  if (group === undefined) return errorCodes.ILLEGAL_GENERATION;
  if (typeof group === 'number') return group;
  const identity = { memberId: request.memberId, groupInstanceId: request.groupInstanceId };
  const problem = group.commitProblem(identity, generationId);
  if (problem !== errorCodes.NONE) return problem;
  const accepted = entries.filter((entry) => entry.errorCode === errorCodes.NONE);
  if (accepted.length === 0) return undefined;
  const errorCode = await writeOffsets(coordinator, shard, group, accepted);
  for (const entry of accepted) entry.errorCode = errorCode;
  return undefined;
}

async function writeOffsets(
  coordinator: GroupCoordinator,
  shard: Shard,
  group: Group,
  entries: readonly CommitEntry[],
): Promise<number> {
  const records = entries.map(({ committed }) => ({
    key: encodeKey({
      type: 'offset',
      group: group.groupId,
      topic: committed.topic,
      partition: committed.partition,
    }),
    value: encodeOffsetValue({ ...committed, commitTimestampMs: BigInt(committed.commitTimestampMs) }),
  }));
  const errorCode = await coordinator.append(shard, records, errorCodes.INVALID_COMMIT_OFFSET_SIZE);
  if (errorCode === errorCodes.NONE) {
    for (const { committed } of entries)
      group.offsets.set(offsetKey(committed.topic, committed.partition), committed);
  }
  return errorCode;
}

interface FetchedTopic {
  readonly name: string;
  readonly partitions: Array<{ partitionIndex: number; committed: CommittedOffset | undefined }>;
}

/** The committed offsets of `topics` (null = every committed one) in a group, or an error code. */
function fetchGroupOffsets(
  coordinator: GroupCoordinator,
  groupId: string,
  topics: ReadonlyArray<{ name: string; partitionIndexes: readonly number[] }> | null,
): FetchedTopic[] | number {
  if (groupId === '') return errorCodes.INVALID_GROUP_ID;
  const shard = coordinator.shardOf(groupId);
  if (typeof shard === 'number') return shard;
  const group = shard.groups.get(groupId);
  if (topics !== null)
    return topics.map(({ name, partitionIndexes }) => ({
      name,
      partitions: partitionIndexes.map((partitionIndex) => ({
        partitionIndex,
        committed: group?.offsets.get(offsetKey(name, partitionIndex)),
      })),
    }));
  const byTopic = new Map<string, FetchedTopic>();
  for (const committed of group?.offsets.values() ?? []) {
    let topic = byTopic.get(committed.topic);
    if (topic === undefined) {
      topic = { name: committed.topic, partitions: [] };
      byTopic.set(committed.topic, topic);
    }
    topic.partitions.push({ partitionIndex: committed.partition, committed });
  }
  return [...byTopic.values()];
}

function fetchedPartition(partitionIndex: number, committed: CommittedOffset | undefined) {
  return {
    partitionIndex,
    committedOffset: committed?.offset ?? -1n,
    committedLeaderEpoch: committed?.leaderEpoch ?? -1,
    metadata: committed?.metadata ?? '',
    errorCode: errorCodes.NONE,
  };
}

/** OffsetFetch: one group (v0-7, where v0-1 report errors per partition) or several (v8). */
export function offsetFetchHandler(
  coordinator: GroupCoordinator,
): ApiHandler<OffsetFetchRequest, OffsetFetchResponse> {
  return async (request, context) => {
    if (context.apiVersion >= batchedFetchVersionMin) {
      const groups = request.groups.map(({ groupId, topics }) => {
        const fetched = fetchGroupOffsets(coordinator, groupId, topics);
        if (typeof fetched === 'number')
          return createOffsetFetchResponseGroup({ groupId, errorCode: fetched });
        return createOffsetFetchResponseGroup({
          groupId,
          topics: fetched.map(({ name, partitions }) =>
            createOffsetFetchResponseTopics({
              name,
              partitions: partitions.map(({ partitionIndex, committed }) =>
                createOffsetFetchResponsePartitions(fetchedPartition(partitionIndex, committed)),
              ),
            }),
          ),
        });
      });
      return createOffsetFetchResponse({ groups });
    }
    const fetched = fetchGroupOffsets(coordinator, request.groupId, request.topics);
    if (typeof fetched === 'number') {
      // v0-1 have no top-level error: every partition asked about carries it.
      const topics = (request.topics ?? []).map(({ name, partitionIndexes }) =>
        createOffsetFetchResponseTopic({
          name,
          partitions: partitionIndexes.map((partitionIndex) =>
            createOffsetFetchResponsePartition({
              ...fetchedPartition(partitionIndex, undefined),
              errorCode: fetched,
            }),
          ),
        }),
      );
      return createOffsetFetchResponse({ errorCode: fetched, topics });
    }
    return createOffsetFetchResponse({
      errorCode: errorCodes.NONE,
      topics: fetched.map(({ name, partitions }) =>
        createOffsetFetchResponseTopic({
          name,
          partitions: partitions.map(({ partitionIndex, committed }) =>
            createOffsetFetchResponsePartition(fetchedPartition(partitionIndex, committed)),
          ),
        }),
      ),
    });
  };
}
