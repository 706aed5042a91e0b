import { apiKeys } from '../../../protocol/messages/api-keys.ts';
import type { GroupCoordinator } from '../../groups/coordinator.ts';
import type { HandlerTable } from '../../request-router.ts';
import { findCoordinatorHandler } from './find-coordinator.ts';
import {
  deleteGroupsHandler,
  describeGroupsHandler,
  listGroupsHandler,
  offsetDeleteHandler,
} from './group-admin.ts';
import { heartbeatHandler, joinGroupHandler, leaveGroupHandler, syncGroupHandler } from './membership.ts';
import { offsetCommitHandler, offsetFetchHandler } from './offsets.ts';

/** The consumer-group APIs, answered by this SPU's group coordinator (docs/CONSUMER-GROUPS.md). */
export function groupHandlers(coordinator: GroupCoordinator): HandlerTable {
  return {
    [apiKeys.FindCoordinator]: findCoordinatorHandler(coordinator),
    [apiKeys.JoinGroup]: joinGroupHandler(coordinator),
    [apiKeys.SyncGroup]: syncGroupHandler(coordinator),
    [apiKeys.Heartbeat]: heartbeatHandler(coordinator),
    [apiKeys.LeaveGroup]: leaveGroupHandler(coordinator),
    [apiKeys.OffsetCommit]: offsetCommitHandler(coordinator),
    [apiKeys.OffsetFetch]: offsetFetchHandler(coordinator),
    [apiKeys.DescribeGroups]: describeGroupsHandler(coordinator),
    [apiKeys.ListGroups]: listGroupsHandler(coordinator),
    [apiKeys.DeleteGroups]: deleteGroupsHandler(coordinator),
    [apiKeys.OffsetDelete]: offsetDeleteHandler(coordinator),
  };
}
