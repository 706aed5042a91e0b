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

/**
 * What a transactional id is answered until Tide coordinates transactions. Clients retry
 * COORDINATOR_NOT_AVAILABLE until their timeout (librdkafka's init_transactions() blocked for its
 * whole timeout), while TRANSACTIONAL_ID_AUTHORIZATION_FAILED is fatal in librdkafka, the Java
 * client and kafkajs, which show the message: the producer stops at its first step and says why.
 * A transaction coordinator replaces this with the coordinator's location.
 */
const noTransactions = Object.freeze({
  errorCode: errorCodes.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  errorMessage:
    'Tide does not support transactions yet; unset transactional.id (an idempotent producer ' +
    'still writes each record once per partition)',
});

type Located = CoordinatorLocation & { readonly errorMessage: string | null };

function locate(coordinator: GroupCoordinator, key: string, keyType: number): Located {
  const none = { nodeId: -1, host: '', port: -1, errorMessage: null };
  if (keyType === keyTypes.transaction) return { ...none, ...noTransactions };
  if (keyType !== keyTypes.group) return { ...none, errorCode: errorCodes.INVALID_REQUEST };
  if (key === '') return { ...none, errorCode: errorCodes.INVALID_GROUP_ID };
  return { ...coordinator.locate(key), errorMessage: null };
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
        return createFindCoordinatorResponseCoordinator({ key, ...found });
      });
      return createFindCoordinatorResponse({ coordinators });
    }
    const found = locate(coordinator, request.key, request.keyType);
    return createFindCoordinatorResponse(found);
  };
}
