import { apiKeys } from '../../protocol/messages/api-keys.ts';
import {
  createElectLeadersResponse,
  createElectLeadersResponsePartitionResult,
  createElectLeadersResponseReplicaElectionResult,
  type ElectLeadersRequest,
  type ElectLeadersResponse,
} from '../../protocol/messages/elect-leaders.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import type { ApiHandler } from '../handler.ts';
import type { HandlerTable } from '../request-router.ts';
import { type ForwardingLink, forwardingHandler } from './forward.ts';

/**
 * ElectLeaders (`kafka-leader-election`). In a cluster the SC elects (src/sc/elect-leaders.ts) and
 * the SPU forwards; while the SC is unreachable every partition asked gets NOT_CONTROLLER, which
 * the admin client retries. A standalone SPU leads every partition it has, so no election is needed.
 */
export const electLeadersStandaloneHandler: ApiHandler<ElectLeadersRequest, ElectLeadersResponse> = async (
  request,
  _context,
  spu,
) =>
  answerEach(request, errorCodes.NONE, (topic, index) =>
    spu.partitions.get(topic, index) === undefined
      ? errorCodes.UNKNOWN_TOPIC_OR_PARTITION
      : errorCodes.ELECTION_NOT_NEEDED,
  );

export function forwardedElectLeadersHandlers(link: ForwardingLink): HandlerTable {
  return {
    [apiKeys.ElectLeaders]: forwardingHandler(apiKeys.ElectLeaders, link, (request) =>
      answerEach(request, errorCodes.NOT_CONTROLLER, () => errorCodes.NOT_CONTROLLER),
    ),
  };
}

function answerEach(
  request: ElectLeadersRequest,
  errorCode: number,
  partitionError: (topic: string, index: number) => number,
): ElectLeadersResponse {
  return createElectLeadersResponse({
    errorCode,
    replicaElectionResults: (request.topicPartitions ?? []).map(({ topic, partitions }) =>
      createElectLeadersResponseReplicaElectionResult({
        topic,
        partitionResult: partitions.map((partitionId) =>
          createElectLeadersResponsePartitionResult({
            partitionId,
            errorCode: partitionError(topic, partitionId),
            errorMessage: null,
          }),
        ),
      }),
    ),
  });
}
