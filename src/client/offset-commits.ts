import { apiKeys } from '../protocol/messages/api-keys.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import {
  createOffsetCommitRequest,
  createOffsetCommitRequestPartition,
  createOffsetCommitRequestTopic,
  type OffsetCommitResponse,
} from '../protocol/messages/offset-commit.ts';
import {
  createOffsetFetchRequest,
  createOffsetFetchRequestGroup,
  createOffsetFetchRequestTopic,
  createOffsetFetchRequestTopics,
  type OffsetFetchResponse,
} from '../protocol/messages/offset-fetch.ts';
import { kafkaError, type TideClientError } from './errors.ts';
import type { CoordinatorTransport } from './group-coordinator.ts';

/**
 * Committed offsets of a consumer group: OffsetCommit and OffsetFetch against the group coordinator,
 * and the bookkeeping of a group consumer's positions (what the application has consumed, what was
 * last committed) behind `commit()`, the auto-commit timer and the commits on revoke and close.
 *
 * A committed offset is the next offset to read, as in Kafka: after consuming offset 41 the consumer
 * commits 42. An admin commit (resetting a group) uses generation -1 and an empty member id, which
 * the coordinator accepts only while the group has no members.
 */

export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/** Who commits: a member of the current generation, or (generation -1, no member id) an admin. */
export interface CommitIdentity {
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

export const adminIdentity: CommitIdentity = Object.freeze({
  generationId: -1,
  memberId: '',
  groupInstanceId: null,
});

export const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** Groups per-partition items by topic, topics in first-seen order. */
export function byTopic<T extends { topic: string }>(items: readonly T[]): Map<string, T[]> {
  const grouped = new Map<string, T[]>();
  for (const item of items) grouped.set(item.topic, [...(grouped.get(item.topic) ?? []), item]);
  return grouped;
}

export function offsetCommitRequest(
  groupId: string,
  identity: CommitIdentity,
  offsets: readonly PartitionOffset[],
) {
  return createOffsetCommitRequest({
    groupId,
    generationIdOrMemberEpoch: identity.generationId,
    memberId: identity.memberId,
    groupInstanceId: identity.groupInstanceId,
    retentionTimeMs: -1n,
    topics: [...byTopic(offsets)].map(([name, list]) =>
      createOffsetCommitRequestTopic({
        name,
        partitions: list.map(({ partition, offset }) =>
          createOffsetCommitRequestPartition({
            partitionIndex: partition,
            committedOffset: offset,
            committedLeaderEpoch: -1,
            commitTimestamp: -1n,
            committedMetadata: null,
          }),
        ),
      }),
    ),
  });
}

/** The first partition error of a commit answer, or undefined when every partition was committed. */
export function commitError(response: OffsetCommitResponse): TideClientError | undefined {
  for (const topic of response.topics) {
    for (const partition of topic.partitions) {
      if (partition.errorCode !== errorCodes.NONE) {
        return kafkaError(
          partition.errorCode,
          `committing the offset of ${topic.name}-${partition.partitionIndex}: ${kafkaError(partition.errorCode).message}`,
        );
      }
    }
  }
  return undefined;
}

/** Commits `offsets` once; throws the first partition error (see groupErrorAction for what it means). */
export async function commitOffsets(
  transport: CoordinatorTransport,
  groupId: string,
  identity: CommitIdentity,
  offsets: readonly PartitionOffset[],
): Promise<void> {
  if (offsets.length === 0) return;
  const response = await transport.call(
    apiKeys.OffsetCommit,
    offsetCommitRequest(groupId, identity, offsets),
  );
  const error = commitError(response);
  if (error !== undefined) throw error;
}

/**
 * The request for the committed offsets of `partitions` (null: every partition the group committed).
 * Both the pre-v8 fields and the v8 `groups` entry are filled; the codec writes what the version has.
 */
export function offsetFetchRequest(
  groupId: string,
  partitions: readonly { topic: string; partitions: readonly number[] }[] | null,
) {
  return createOffsetFetchRequest({
    groupId,
    requireStable: true,
    topics:
      partitions === null
        ? null
        : partitions.map(({ topic, partitions: indexes }) =>
            createOffsetFetchRequestTopic({ name: topic, partitionIndexes: [...indexes] }),
          ),
    groups: [
      createOffsetFetchRequestGroup({
        groupId,
        topics:
          partitions === null
            ? null
            : partitions.map(({ topic, partitions: indexes }) =>
                createOffsetFetchRequestTopics({ name: topic, partitionIndexes: [...indexes] }),
              ),
      }),
    ],
  });
}

/** Offsets of an OffsetFetch answer (v8 groups or the older top level); -1 = nothing committed. */
export function readOffsetFetch(groupId: string, response: OffsetFetchResponse): PartitionOffset[] {
  const group = response.groups.find((g) => g.groupId === groupId);
  const errorCode = group?.errorCode ?? response.errorCode;
  if (errorCode !== errorCodes.NONE) {
    throw kafkaError(
      errorCode,
      `fetching the offsets of group "${groupId}": ${kafkaError(errorCode).message}`,
    );
  }
  const topics = group?.topics ?? response.topics;
  const offsets: PartitionOffset[] = [];
  for (const topic of topics) {
    for (const partition of topic.partitions) {
      if (partition.errorCode !== errorCodes.NONE) {
        throw kafkaError(
          partition.errorCode,
          `fetching the offset of ${topic.name}-${partition.partitionIndex} for group "${groupId}"`,
        );
      }
      offsets.push({
        topic: topic.name,
        partition: partition.partitionIndex,
        offset: partition.committedOffset,
      });
    }
  }
  return offsets;
}

export async function fetchOffsets(
  transport: CoordinatorTransport,
  groupId: string,
  partitions: readonly { topic: string; partitions: readonly number[] }[] | null,
): Promise<PartitionOffset[]> {
  const response = await transport.call(apiKeys.OffsetFetch, offsetFetchRequest(groupId, partitions));
  return readOffsetFetch(groupId, response);
}

/**
 * A group consumer's positions: `consumed` is the next offset after the last record handed to the
 * application; `committed` what the coordinator last acknowledged. Only partitions whose consumed
 * position moved past the committed one are committed again.
 */
export class OffsetTracker {
  readonly #consumed = new Map<string, PartitionOffset>();
  readonly #committed = new Map<string, bigint>();

  /** Records that the application got everything before `offset`. */
  consumed(topic: string, partition: number, offset: bigint): void {
    this.#consumed.set(partitionKey(topic, partition), { topic, partition, offset });
  }

  /** A partition's starting point on assignment (the committed offset, or where the reset put it). */
  started(topic: string, partition: number, committed: bigint | undefined): void {
    const key = partitionKey(topic, partition);
    this.#consumed.delete(key);
    if (committed === undefined || committed < 0n) this.#committed.delete(key);
    else this.#committed.set(key, committed);
  }

  forget(topic: string, partition: number): void {
    const key = partitionKey(topic, partition);
    this.#consumed.delete(key);
    this.#committed.delete(key);
  }

  /** Consumed positions not yet committed, of `among` partitions (default: all). */
  uncommitted(among?: readonly { topic: string; partition: number }[]): PartitionOffset[] {
    const keys =
      among === undefined ? [...this.#consumed.keys()] : among.map((p) => partitionKey(p.topic, p.partition));
    const pending: PartitionOffset[] = [];
    for (const key of keys) {
      const position = this.#consumed.get(key);
      if (position !== undefined && this.#committed.get(key) !== position.offset) pending.push(position);
    }
    return pending;
  }

  committed(offsets: readonly PartitionOffset[]): void {
    for (const { topic, partition, offset } of offsets)
      this.#committed.set(partitionKey(topic, partition), offset);
  }
}
