import { errorCodes } from '../../../protocol/messages/error-codes.ts';
import {
  createHeartbeatResponse,
  type HeartbeatRequest,
  type HeartbeatResponse,
} from '../../../protocol/messages/heartbeat.ts';
import {
  createJoinGroupResponse,
  createJoinGroupResponseMember,
  type JoinGroupRequest,
  type JoinGroupResponse,
} from '../../../protocol/messages/join-group.ts';
import {
  createLeaveGroupResponse,
  createLeaveGroupResponseMemberResponse,
  type LeaveGroupRequest,
  type LeaveGroupResponse,
} from '../../../protocol/messages/leave-group.ts';
import {
  createSyncGroupResponse,
  type SyncGroupRequest,
  type SyncGroupResponse,
} from '../../../protocol/messages/sync-group.ts';
import type { GroupCoordinator } from '../../groups/coordinator.ts';
import type { Group } from '../../groups/group.ts';
import { type JoinResult, joinFailure, type SyncResult, syncFailure } from '../../groups/group-types.ts';
import type { ApiHandler } from '../../handler.ts';

/** JoinGroup v4+ hands a new member its id first (MEMBER_ID_REQUIRED), then takes the real join. */
const memberIdRequiredVersionMin = 4;
/** JoinGroup v7+ may answer a null protocol name. */
const nullableProtocolVersionMin = 7;
/** LeaveGroup v3+ names members in a list (batch leave); earlier versions name one member. */
const batchLeaveVersionMin = 3;

/**
 * The group a membership request names on this SPU, or the error code that answers it: a request
 * that arrives at the wrong SPU gets NOT_COORDINATOR, one for a group nobody joined UNKNOWN_MEMBER_ID.
 */
export function findGroup(coordinator: GroupCoordinator, groupId: string, create: boolean): Group | number {
  // Only JoinGroup creates a group here: one that members are about to join.
  if (groupId === '') return errorCodes.INVALID_GROUP_ID;
  const shard = coordinator.shardOf(groupId);
  if (typeof shard === 'number') return shard;
  return coordinator.groupOf(shard, groupId, create && 'join') ?? errorCodes.UNKNOWN_MEMBER_ID;
}

export function joinGroupHandler(
  coordinator: GroupCoordinator,
): ApiHandler<JoinGroupRequest, JoinGroupResponse> {
  return async (request, context) => {
    const group = findGroup(coordinator, request.groupId, true);
    const result: JoinResult =
      typeof group === 'number'
        ? joinFailure(group, request.memberId)
        : await group.join({
            memberId: request.memberId,
            groupInstanceId: request.groupInstanceId,
            clientId: context.clientId ?? '',
            clientHost: context.connection.remote,
            sessionTimeoutMs: request.sessionTimeoutMs,
            // JoinGroup v0 has no rebalance timeout: the session timeout serves as both.
            rebalanceTimeoutMs:
              request.rebalanceTimeoutMs < 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs,
            protocolType: request.protocolType,
            protocols: request.protocols.map(({ name, metadata }) => ({
              name,
              metadata: Buffer.from(metadata),
            })),
            requireKnownMemberId: context.apiVersion >= memberIdRequiredVersionMin,
          });
    return createJoinGroupResponse({
      errorCode: result.errorCode,
      generationId: result.generationId,
      protocolType: result.protocolType,
      // Before v7 the protocol name cannot be null: an error answer carries ''.
      protocolName: result.protocolName ?? (context.apiVersion >= nullableProtocolVersionMin ? null : ''),
      leader: result.leader,
      memberId: result.memberId,
      members: result.members.map((member) => createJoinGroupResponseMember(member)),
    });
  };
}

export function syncGroupHandler(
  coordinator: GroupCoordinator,
): ApiHandler<SyncGroupRequest, SyncGroupResponse> {
  return async (request) => {
    const group = findGroup(coordinator, request.groupId, false);
    const result: SyncResult =
      typeof group === 'number'
        ? syncFailure(group)
        : await group.sync({
            memberId: request.memberId,
            groupInstanceId: request.groupInstanceId,
            generationId: request.generationId,
            protocolType: request.protocolType,
            protocolName: request.protocolName,
            assignments: request.assignments.map(({ memberId, assignment }) => ({
              memberId,
              assignment: Buffer.from(assignment),
            })),
          });
    return createSyncGroupResponse(result);
  };
}

export function heartbeatHandler(
  coordinator: GroupCoordinator,
): ApiHandler<HeartbeatRequest, HeartbeatResponse> {
  return async (request) => {
    const group = findGroup(coordinator, request.groupId, false);
    const errorCode =
      typeof group === 'number'
        ? group
        : group.heartbeat({
            memberId: request.memberId,
            groupInstanceId: request.groupInstanceId,
            generationId: request.generationId,
          });
    return createHeartbeatResponse({ errorCode });
  };
}

export function leaveGroupHandler(
  coordinator: GroupCoordinator,
): ApiHandler<LeaveGroupRequest, LeaveGroupResponse> {
  return async (request, context) => {
    const batch = context.apiVersion >= batchLeaveVersionMin;
    const identities = batch
      ? request.members.map(({ memberId, groupInstanceId }) => ({ memberId, groupInstanceId }))
      : [{ memberId: request.memberId, groupInstanceId: null }];
    const group = findGroup(coordinator, request.groupId, false);
    if (typeof group === 'number') return createLeaveGroupResponse({ errorCode: group });
    const answers = group.leave(identities);
    if (!batch) return createLeaveGroupResponse({ errorCode: answers[0] ?? errorCodes.NONE });
    return createLeaveGroupResponse({
      errorCode: errorCodes.NONE,
      members: identities.map((identity, at) =>
        createLeaveGroupResponseMemberResponse({ ...identity, errorCode: answers[at] ?? errorCodes.NONE }),
      ),
    });
  };
}
