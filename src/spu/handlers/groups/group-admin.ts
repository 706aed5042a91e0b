import {
  createDeleteGroupsResponse,
  createDeleteGroupsResponseDeletableGroupResult,
  type DeleteGroupsRequest,
  type DeleteGroupsResponse,
} from '../../../protocol/messages/delete-groups.ts';
import {
  createDescribeGroupsResponse,
  createDescribeGroupsResponseDescribedGroup,
  createDescribeGroupsResponseDescribedGroupMember,
  type DescribeGroupsRequest,
  type DescribeGroupsResponse,
} from '../../../protocol/messages/describe-groups.ts';
import { errorCodes } from '../../../protocol/messages/error-codes.ts';
import {
  createListGroupsResponse,
  createListGroupsResponseListedGroup,
  type ListGroupsRequest,
  type ListGroupsResponse,
} from '../../../protocol/messages/list-groups.ts';
import {
  createOffsetDeleteResponse,
  createOffsetDeleteResponsePartition,
  createOffsetDeleteResponseTopic,
  type OffsetDeleteRequest,
  type OffsetDeleteResponse,
} from '../../../protocol/messages/offset-delete.ts';
import { ProtocolError } from '../../../protocol/protocol-error.ts';
import { Reader } from '../../../protocol/reader.ts';
import type { GroupCoordinator, Shard } from '../../groups/coordinator.ts';
import type { Group } from '../../groups/group.ts';
import { groupStates, offsetKey } from '../../groups/group-types.ts';
import { encodeKey, type GroupKey, type OffsetKey } from '../../groups/records.ts';
import type { ApiHandler } from '../../handler.ts';

/** DescribeGroups: groups this SPU coordinates; an unknown one is reported Dead, as Kafka does. */
export function describeGroupsHandler(
  coordinator: GroupCoordinator,
): ApiHandler<DescribeGroupsRequest, DescribeGroupsResponse> {
  return async (request) => {
    const groups = request.groups.map((groupId) => {
      const shard = groupId === '' ? errorCodes.INVALID_GROUP_ID : coordinator.shardOf(groupId);
      if (typeof shard === 'number')
        return createDescribeGroupsResponseDescribedGroup({
          groupId,
          errorCode: shard,
          groupState: groupStates.dead,
        });
      const group = shard.groups.get(groupId);
      if (group === undefined)
        return createDescribeGroupsResponseDescribedGroup({ groupId, groupState: groupStates.dead });
      const description = group.describe();
      return createDescribeGroupsResponseDescribedGroup({
        groupId,
        groupState: description.state,
        protocolType: description.protocolType,
        protocolData: description.protocolName,
        members: description.members.map((member) =>
          createDescribeGroupsResponseDescribedGroupMember({
            memberId: member.memberId,
            groupInstanceId: member.groupInstanceId,
            clientId: member.clientId,
            clientHost: member.clientHost,
            memberMetadata: member.metadata,
            memberAssignment: member.assignment,
          }),
        ),
      });
    });
    return createDescribeGroupsResponse({ groups });
  };
}

/** ListGroups: the groups of every offsets partition this SPU leads (v4 filters by state). */
export function listGroupsHandler(
  coordinator: GroupCoordinator,
): ApiHandler<ListGroupsRequest, ListGroupsResponse> {
  return async (request) => {
    const wanted = new Set(request.statesFilter.map((state) => state.toLowerCase()));
    const groups = coordinator
      .loadedShards()
      .flatMap((shard) => [...shard.groups.values()])
      .filter((group) => wanted.size === 0 || wanted.has(group.state.toLowerCase()))
      .map((group) =>
        createListGroupsResponseListedGroup({
          groupId: group.groupId,
          protocolType: group.protocolType ?? '',
          groupState: group.state,
        }),
      );
    return createListGroupsResponse({ errorCode: errorCodes.NONE, groups });
  };
}

/** Writes tombstones for `keys`; answers NONE or the error of the write. */
function writeTombstones(
  coordinator: GroupCoordinator,
  shard: Shard,
  keys: ReadonlyArray<OffsetKey | GroupKey>,
): Promise<number> {
  if (keys.length === 0) return Promise.resolve(errorCodes.NONE);
  const records = keys.map((key) => ({ key: encodeKey(key), value: null }));
  return coordinator.append(shard, records, errorCodes.UNKNOWN_SERVER_ERROR);
}

async function deleteGroup(coordinator: GroupCoordinator, groupId: string): Promise<number> {
  if (groupId === '') return errorCodes.INVALID_GROUP_ID;
  const shard = coordinator.shardOf(groupId);
  if (typeof shard === 'number') return shard;
  const group = shard.groups.get(groupId);
  if (group === undefined || group.state === groupStates.dead) return errorCodes.GROUP_ID_NOT_FOUND;
  if (group.state !== groupStates.empty) return errorCodes.NON_EMPTY_GROUP;
  const keys: Array<OffsetKey | GroupKey> = [...group.offsets.values()].map(({ topic, partition }) => ({
    type: 'offset',
    group: groupId,
    topic,
    partition,
  }));
  keys.push({ type: 'group', group: groupId });
  const errorCode = await writeTombstones(coordinator, shard, keys);
  if (errorCode !== errorCodes.NONE) return errorCode;
  if (shard.groups.get(groupId) === group && group.state === groupStates.empty) {
    group.kill(errorCodes.COORDINATOR_NOT_AVAILABLE);
    shard.groups.delete(groupId);
  }
  return errorCodes.NONE;
}

/** DeleteGroups: only groups without members (NON_EMPTY_GROUP otherwise), offsets included. */
export function deleteGroupsHandler(
  coordinator: GroupCoordinator,
): ApiHandler<DeleteGroupsRequest, DeleteGroupsResponse> {
  return async (request) => {
    const results = [];
    for (const groupId of new Set(request.groupsNames)) {
      const errorCode = await deleteGroup(coordinator, groupId);
      results.push(createDeleteGroupsResponseDeletableGroupResult({ groupId, errorCode }));
    }
    return createDeleteGroupsResponse({ results });
  };
}

/**
 * The topics a consumer group's members subscribe to, read from the consumer protocol's metadata
 * (int16 version, array of string topics, …). Metadata that is not the consumer protocol's counts
 * as subscribing to everything, so that offsets in use are never deleted.
 */
function subscribedTopics(group: Group): Set<string> | 'all' {
  const topics = new Set<string>();
  for (const metadata of group.memberMetadata()) {
    try {
      const r = new Reader(metadata);
      r.int16();
      const count = r.arrayLength(2);
      for (let at = 0; at < count; at++) topics.add(r.string());
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      return 'all';
    }
  }
  return topics;
}

/** OffsetDelete: removes a group's offsets, except of topics its members consume right now. */
export function offsetDeleteHandler(
  coordinator: GroupCoordinator,
): ApiHandler<OffsetDeleteRequest, OffsetDeleteResponse> {
  return async (request) => {
    const failed = (errorCode: number) => createOffsetDeleteResponse({ errorCode });
    if (request.groupId === '') return failed(errorCodes.INVALID_GROUP_ID);
    const shard = coordinator.shardOf(request.groupId);
    if (typeof shard === 'number') return failed(shard);
    const group = shard.groups.get(request.groupId);
    if (group === undefined || group.state === groupStates.dead) return failed(errorCodes.GROUP_ID_NOT_FOUND);
    const subscribed =
      group.state === groupStates.empty || group.protocolType !== 'consumer'
        ? new Set<string>()
        : subscribedTopics(group);
    const inUse = (topic: string) => subscribed === 'all' || subscribed.has(topic);
    const keys: OffsetKey[] = request.topics
      .filter(({ name }) => !inUse(name))
      .flatMap(({ name, partitions }) =>
        partitions
          .filter(({ partitionIndex }) => group.offsets.has(offsetKey(name, partitionIndex)))
          .map(
            ({ partitionIndex }) =>
              ({ type: 'offset', group: request.groupId, topic: name, partition: partitionIndex }) as const,
          ),
      );
    const errorCode = await writeTombstones(coordinator, shard, keys);
    if (errorCode !== errorCodes.NONE) return failed(errorCode);
    for (const key of keys) group.offsets.delete(offsetKey(key.topic, key.partition));
    return createOffsetDeleteResponse({
      errorCode: errorCodes.NONE,
      topics: request.topics.map(({ name, partitions }) =>
        createOffsetDeleteResponseTopic({
          name,
          partitions: partitions.map(({ partitionIndex }) =>
            createOffsetDeleteResponsePartition({
              partitionIndex,
              errorCode: inUse(name) ? errorCodes.GROUP_SUBSCRIBED_TO_TOPIC : errorCodes.NONE,
            }),
          ),
        }),
      ),
    });
  };
}
