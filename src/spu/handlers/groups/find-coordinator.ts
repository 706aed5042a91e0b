import { errorCodes } from '../../../protocol/messages/error-codes.ts';
import {
  createFindCoordinatorResponse,
  createFindCoordinatorResponseCoordinator,
  type FindCoordinatorRequest,
  type FindCoordinatorResponse,
} from '../../../protocol/messages/find-coordinator.ts';
import type { CoordinatorLocation, GroupCoordinator } from '../../groups/coordinator.ts';
import type { ApiHandler } from '../../handler.ts';

/** FindCoordinator v4+ asks about several keys at once (and answers in `coordinators`). */
const batchedKeysVersionMin = 4;
/** Key types: 0 = consumer group, 1 = transactional id (Tide has no transaction coordinator yet). */
const keyTypes = Object.freeze({ group: 0, transaction: 1 });

function locate(coordinator: GroupCoordinator, key: string, keyType: number): CoordinatorLocation {
  const none = { nodeId: -1, host: '', port: -1 };
  if (keyType === keyTypes.transaction) return { ...none, errorCode: errorCodes.COORDINATOR_NOT_AVAILABLE };
  if (keyType !== keyTypes.group) return { ...none, errorCode: errorCodes.INVALID_REQUEST };
  if (key === '') return { ...none, errorCode: errorCodes.INVALID_GROUP_ID };
  return coordinator.locate(key);
}

/**
 * FindCoordinator: any SPU answers with the leader of the group's `__consumer_offsets` partition
 * (COORDINATOR_NOT_AVAILABLE while the topic is being created, the partition has no leader, or this
 * SPU is still loading it).
 */
export function findCoordinatorHandler(
  coordinator: GroupCoordinator,
): ApiHandler<FindCoordinatorRequest, FindCoordinatorResponse> {
  return async (request, context) => {
    if (context.apiVersion >= batchedKeysVersionMin) {
      const coordinators = request.coordinatorKeys.map((key) => {
        const found = locate(coordinator, key, request.keyType);
        return createFindCoordinatorResponseCoordinator({ key, ...found, errorMessage: null });
      });
      return createFindCoordinatorResponse({ coordinators });
    }
    const found = locate(coordinator, request.key, request.keyType);
    return createFindCoordinatorResponse({ ...found, errorMessage: null });
  };
}
