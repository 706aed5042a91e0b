import {
  createDescribeClusterResponse,
  createDescribeClusterResponseBroker,
  type DescribeClusterRequest,
  type DescribeClusterResponse,
} from '../../protocol/messages/describe-cluster.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import type { ApiHandler } from '../handler.ts';
import { clusterOperationsAll, operationsOmitted } from './metadata.ts';

/** Kafka's endpoint types (DescribeCluster v1+): 1 = brokers, 2 = controllers. */
const endpointTypes = Object.freeze({ brokers: 1, controllers: 2 });

/**
 * DescribeCluster: the SPUs clients may connect to, the cluster id and the controller. Only broker
 * endpoints exist (Tide's controller does not speak to clients), so asking for controllers is an
 * UNSUPPORTED_ENDPOINT_TYPE error.
 */
export const describeClusterHandler: ApiHandler<DescribeClusterRequest, DescribeClusterResponse> = async (
  request,
  context,
  spu,
) => {
  if (context.apiVersion >= 1 && request.endpointType !== endpointTypes.brokers) {
    return createDescribeClusterResponse({
      errorCode: errorCodes.UNSUPPORTED_ENDPOINT_TYPE,
      errorMessage: `endpoint type ${request.endpointType} is not supported; only brokers (1) are`,
      endpointType: request.endpointType,
      clusterId: spu.cluster.clusterId,
    });
  }
  return createDescribeClusterResponse({
    errorCode: errorCodes.NONE,
    errorMessage: null,
    endpointType: endpointTypes.brokers,
    clusterId: spu.cluster.clusterId,
    controllerId: spu.cluster.controllerId,
    brokers: spu.cluster
      .brokers()
      .map(({ id, host, port, rack }) =>
        createDescribeClusterResponseBroker({ brokerId: id, host, port, rack }),
      ),
    clusterAuthorizedOperations: request.includeClusterAuthorizedOperations
      ? clusterOperationsAll
      : operationsOmitted,
  });
};
