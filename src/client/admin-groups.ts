import { TideError } from '../base/errors.ts';
import { apiKeys } from '../protocol/messages/api-keys.ts';
import { createDeleteGroupsRequest } from '../protocol/messages/delete-groups.ts';
import { createDescribeGroupsRequest } from '../protocol/messages/describe-groups.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { createListGroupsRequest } from '../protocol/messages/list-groups.ts';
import { consumerProtocolType, decodeAssignment } from './assignors.ts';
import type { ClusterClient } from './cluster-client.ts';
import { clientErrorCodes, kafkaError, TideClientError, throwIfError } from './errors.ts';
import type { TopicPartition } from './group-consumer.ts';
import { CoordinatorLink, findCoordinator } from './group-coordinator.ts';
import { Offset } from './offset.ts';
import {
  adminIdentity,
  byTopic,
  commitOffsets,
  fetchOffsets,
  type PartitionOffset,
} from './offset-commits.ts';
import { listOffsets, resolveOffsets } from './offset-lookup.ts';

/**
 * Administering consumer groups: list them (ListGroups asked of every SPU, since each coordinator
 * knows only its own groups), describe one (DescribeGroups for members and their assignments,
 * OffsetFetch and ListOffsets for committed offsets and lag), delete groups, read and reset committed
 * offsets. Resetting commits as an admin (generation -1, no member), which coordinators accept only
 * while the group has no members, as in Kafka.
 */

export interface GroupListing {
  readonly groupId: string;
  readonly protocolType: string;
  /** Empty, Stable, PreparingRebalance, CompletingRebalance or Dead ('' when the SPU does not say). */
  readonly state: string;
}

export interface GroupMemberDescription {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly host: string;
  /** Decoded for the "consumer" protocol; empty otherwise. */
  readonly assignment: readonly TopicPartition[];
}

export interface GroupPartitionOffsets {
  readonly topic: string;
  readonly partition: number;
  /** Next offset the group reads; null when it committed nothing for the partition. */
  readonly committedOffset: bigint | null;
  /** The partition's high watermark. */
  readonly logEndOffset: bigint;
  /** logEndOffset - committedOffset; null without a commit. */
  readonly lag: bigint | null;
  /** The member reading the partition now, if any. */
  readonly memberId: string | null;
}

export interface GroupDescription {
  readonly groupId: string;
  readonly state: string;
  readonly protocolType: string;
  /** The assignor the group uses (e.g. range); '' while it has no members. */
  readonly assignor: string;
  readonly coordinatorId: number;
  readonly members: readonly GroupMemberDescription[];
  readonly partitions: readonly GroupPartitionOffsets[];
}

export interface DeleteGroupResult {
  readonly groupId: string;
  readonly error: TideClientError | null;
}

/** Where `resetOffsets` moves a group's positions. */
export type ResetTarget =
  | { readonly kind: 'earliest' }
  | { readonly kind: 'latest' }
  | { readonly kind: 'offset'; readonly offset: bigint }
  | { readonly kind: 'datetime'; readonly timestampMs: number };

export interface ResetOffsetsOptions {
  readonly topic: string;
  readonly to: ResetTarget;
  /** Partitions to reset (default: all of the topic's). */
  readonly partitions?: readonly number[];
  /** Compute the new offsets without committing them. */
  readonly dryRun?: boolean;
}

export interface ResetOffsetResult {
  readonly topic: string;
  readonly partition: number;
  readonly previousOffset: bigint | null;
  readonly newOffset: bigint;
}

export class GroupAdmin {
  readonly #cluster: ClusterClient;

  constructor(cluster: ClusterClient) {
    this.#cluster = cluster;
  }

  /** Every group of the cluster, sorted by id. */
  async listGroups(): Promise<GroupListing[]> {
    await this.#cluster.refreshMetadata([]);
    const found = new Map<string, GroupListing>();
    for (const broker of this.#cluster.brokers()) {
      const connection = await this.#cluster.connectionTo(broker.id);
      const response = await connection.call(
        apiKeys.ListGroups,
        createListGroupsRequest({ statesFilter: [] }),
      );
      throwIfError(response.errorCode, `listing the groups of SPU ${broker.id}`);
      for (const group of response.groups) {
        found.set(group.groupId, {
          groupId: group.groupId,
          protocolType: group.protocolType,
          state: group.groupState,
        });
      }
    }
    return [...found.values()].sort((a, b) => compare(a.groupId, b.groupId));
  }

  /** A group's state, members and per-partition offsets and lag; GROUP_ID_NOT_FOUND when unknown. */
  async describeGroup(groupId: string): Promise<GroupDescription> {
    checkGroupId(groupId);
    const coordinator = await findCoordinator(this.#cluster, groupId);
    const link = this.#link(groupId);
    const response = await link.call(
      apiKeys.DescribeGroups,
      createDescribeGroupsRequest({ groups: [groupId], includeAuthorizedOperations: false }),
    );
    const group = response.groups.find((g) => g.groupId === groupId);
    if (group === undefined)
      throw kafkaError(errorCodes.GROUP_ID_NOT_FOUND, `group "${groupId}" does not exist`);
    throwIfError(group.errorCode, `describing group "${groupId}"`);
    const members = group.members.map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      clientId: member.clientId,
      host: member.clientHost,
      assignment: group.protocolType === consumerProtocolType ? readAssignment(member.memberAssignment) : [],
    }));
    const committed = await fetchOffsets(link, groupId, null);
    if (group.groupState === 'Dead' && committed.length === 0) {
      throw kafkaError(errorCodes.GROUP_ID_NOT_FOUND, `group "${groupId}" does not exist`);
    }
    return {
      groupId,
      state: group.groupState,
      protocolType: group.protocolType,
      assignor: group.protocolData,
      coordinatorId: coordinator.nodeId,
      members,
      partitions: await this.#partitionOffsets(members, committed),
    };
  }

  /** Deletes groups (each must have no members: NON_EMPTY_GROUP otherwise); one result per group. */
  async deleteGroups(groupIds: readonly string[]): Promise<DeleteGroupResult[]> {
    const results: DeleteGroupResult[] = [];
    for (const groupId of groupIds) {
      checkGroupId(groupId);
      try {
        const response = await this.#link(groupId).call(
          apiKeys.DeleteGroups,
          createDeleteGroupsRequest({ groupsNames: [groupId] }),
        );
        const code =
          response.results.find((r) => r.groupId === groupId)?.errorCode ?? errorCodes.UNKNOWN_SERVER_ERROR;
        results.push({
          groupId,
          error:
            code === errorCodes.NONE
              ? null
              : kafkaError(code, `deleting group "${groupId}": ${kafkaError(code).message}`),
        });
      } catch (error) {
        if (!(error instanceof TideClientError)) throw error;
        results.push({ groupId, error });
      }
    }
    return results;
  }

  /** Committed offsets of a group (of `topics`, or of everything it committed). */
  async fetchOffsets(groupId: string, topics?: readonly string[]): Promise<PartitionOffset[]> {
    checkGroupId(groupId);
    const offsets = await fetchOffsets(this.#link(groupId), groupId, null);
    return offsets.filter((o) => o.offset >= 0n && (topics === undefined || topics.includes(o.topic)));
  }

  /**
   * Moves a group's committed offsets of one topic (all or some partitions) to the earliest or latest
   * offset, an offset (kept within the log), or the first record at or after a time. The group must
   * have no members (NON_EMPTY_GROUP otherwise). With `dryRun` nothing is committed.
   */
  async resetOffsets(groupId: string, options: ResetOffsetsOptions): Promise<ResetOffsetResult[]> {
    checkGroupId(groupId);
    const link = this.#link(groupId);
    const described = await link.call(
      apiKeys.DescribeGroups,
      createDescribeGroupsRequest({ groups: [groupId], includeAuthorizedOperations: false }),
    );
    const group = described.groups.find((g) => g.groupId === groupId);
    if (group !== undefined && group.errorCode === errorCodes.NONE && group.members.length > 0) {
      throw kafkaError(
        errorCodes.NON_EMPTY_GROUP,
        `group "${groupId}" has ${group.members.length} active member(s) (state ${group.groupState}): stop its consumers before resetting offsets`,
      );
    }
    const metadata = await this.#cluster.topicMetadata(options.topic, { refresh: true });
    const partitions = options.partitions ?? metadata.partitions.map((p) => p.partition);
    for (const partition of partitions) {
      if (!Number.isInteger(partition) || partition < 0 || partition >= metadata.partitions.length) {
        throw kafkaError(
          errorCodes.UNKNOWN_TOPIC_OR_PARTITION,
          `topic "${options.topic}" has no partition ${partition} (it has ${metadata.partitions.length})`,
        );
      }
    }
    const targets = await this.#resetTargets(options.topic, partitions, options.to);
    const previous = new Map(
      (await fetchOffsets(link, groupId, [{ topic: options.topic, partitions }])).map((o) => [
        o.partition,
        o.offset,
      ]),
    );
    const offsets = partitions.map((partition) => ({
      topic: options.topic,
      partition,
      offset: targets.get(partition)!,
    }));
    if (options.dryRun !== true) await commitOffsets(link, groupId, adminIdentity, offsets);
    return offsets.map(({ topic, partition, offset }) => {
      const before = previous.get(partition);
      return {
        topic,
        partition,
        previousOffset: before === undefined || before < 0n ? null : before,
        newOffset: offset,
      };
    });
  }

  async #resetTargets(
    topic: string,
    partitions: readonly number[],
    to: ResetTarget,
  ): Promise<Map<number, bigint>> {
    const isolation = 'read_uncommitted';
    switch (to.kind) {
      case 'earliest':
        return resolveOffsets(this.#cluster, topic, partitions, Offset.beginning(), isolation);
      case 'latest':
        return resolveOffsets(this.#cluster, topic, partitions, Offset.end(), isolation);
      case 'datetime':
        return resolveOffsets(this.#cluster, topic, partitions, Offset.timestamp(to.timestampMs), isolation);
      case 'offset': {
        const [starts, ends] = await Promise.all([
          resolveOffsets(this.#cluster, topic, partitions, Offset.beginning(), isolation),
          resolveOffsets(this.#cluster, topic, partitions, Offset.end(), isolation),
        ]);
        // As Kafka's tool does: an offset outside the log moves to the nearer end.
        return new Map(
          partitions.map((p) => {
            const start = starts.get(p)!;
            const end = ends.get(p)!;
            return [p, minBigint(maxBigint(to.offset, start), end)];
          }),
        );
      }
    }
  }

  async #partitionOffsets(
    members: readonly GroupMemberDescription[],
    committed: readonly PartitionOffset[],
  ): Promise<GroupPartitionOffsets[]> {
    const owners = new Map<string, string>();
    const rows = new Map<string, { topic: string; partition: number; committed: bigint | null }>();
    for (const member of members) {
      for (const { topic, partition } of member.assignment) {
        owners.set(`${topic}\u0000${partition}`, member.memberId);
        rows.set(`${topic}\u0000${partition}`, { topic, partition, committed: null });
      }
    }
    for (const { topic, partition, offset } of committed) {
      if (offset >= 0n) rows.set(`${topic}\u0000${partition}`, { topic, partition, committed: offset });
    }
    const result: GroupPartitionOffsets[] = [];
    for (const [topic, list] of byTopic([...rows.values()])) {
      const ends = await listOffsets(
        this.#cluster,
        topic,
        list.map((row) => row.partition),
        -1n,
        'read_uncommitted',
      );
      for (const row of list) {
        const logEndOffset = ends.get(row.partition) ?? 0n;
        result.push({
          topic,
          partition: row.partition,
          committedOffset: row.committed,
          logEndOffset,
          lag: row.committed === null ? null : maxBigint(logEndOffset - row.committed, 0n),
          memberId: owners.get(`${topic}\u0000${row.partition}`) ?? null,
        });
      }
    }
    return result.sort((a, b) => compare(a.topic, b.topic) || a.partition - b.partition);
  }

  #link(groupId: string): CoordinatorLink {
    return new CoordinatorLink(this.#cluster, groupId);
  }
}

function checkGroupId(groupId: string): void {
  if (typeof groupId !== 'string' || groupId === '') {
    throw new TideError(clientErrorCodes.invalidArgument, 'a group id must be a non-empty string');
  }
}

function readAssignment(bytes: Buffer): TopicPartition[] {
  try {
    return decodeAssignment(bytes).assigned.flatMap(({ topic, partitions }) =>
      partitions.map((partition) => ({ topic, partition })),
    );
  } catch {
    return [];
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function maxBigint(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function minBigint(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
