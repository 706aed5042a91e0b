import type { ApiKeyOf, RequestOf, ResponseOf } from '../../net/kafka-connection.ts';
import {
  type AlterConfigsRequest,
  createAlterConfigsResponse,
  createAlterConfigsResponseResourceResponse,
} from '../../protocol/messages/alter-configs.ts';
import {
  type AlterPartitionReassignmentsRequest,
  createAlterPartitionReassignmentsResponse,
  createAlterPartitionReassignmentsResponseReassignablePartitionResponse,
  createAlterPartitionReassignmentsResponseReassignableTopicResponse,
} from '../../protocol/messages/alter-partition-reassignments.ts';
import { apiKeys } from '../../protocol/messages/api-keys.ts';
import {
  type CreatePartitionsRequest,
  createCreatePartitionsResponse,
  createCreatePartitionsResponseTopicResult,
} from '../../protocol/messages/create-partitions.ts';
import {
  type CreateTopicsRequest,
  createCreateTopicsResponse,
  createCreateTopicsResponseCreatableTopicResult,
} from '../../protocol/messages/create-topics.ts';
import {
  createDeleteTopicsResponse,
  createDeleteTopicsResponseDeletableTopicResult,
  type DeleteTopicsRequest,
} from '../../protocol/messages/delete-topics.ts';
import { createDescribeSpusResponse } from '../../protocol/messages/describe-spus.ts';
import { createDescribeTopicStatusResponse } from '../../protocol/messages/describe-topic-status.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import {
  createIncrementalAlterConfigsResponse,
  createIncrementalAlterConfigsResponseAlterConfigsResourceResponse,
  type IncrementalAlterConfigsRequest,
} from '../../protocol/messages/incremental-alter-configs.ts';
import { createListPartitionReassignmentsResponse } from '../../protocol/messages/list-partition-reassignments.ts';
import type { ApiHandler } from '../handler.ts';
import type { HandlerTable } from '../request-router.ts';
import { awaitCreatedPartitions, awaitCreatedTopics, awaitDeletedTopics } from './admin-wait.ts';

/**
 * Admin requests in a cluster go to the SC, which decides (docs/CONTROL-PLANE.md, "Forwarded
 * admin"): the SPU forwards the decoded request unchanged, at the client's version when the SC
 * speaks it, and answers with the SC's response. While the SC is unreachable every topic or resource
 * of the request gets NOT_CONTROLLER, which clients retry; data keeps flowing meanwhile.
 */

/** The part of the controller link that forwarding needs. */
export interface ForwardingLink {
  forwardVersion(apiKey: number, clientVersion: number): number;
  request<K extends ApiKeyOf>(apiKey: K, apiVersion: number, body: RequestOf<K>): Promise<ResponseOf<K>>;
}

const unreachableMessage = 'the SC is not reachable; retry later';

/** Forwards one API to the SC; `unreachable` builds the answer when the SC cannot be asked. */
export function forwardingHandler<K extends ApiKeyOf>(
  apiKey: K,
  link: ForwardingLink,
  unreachable: (request: RequestOf<K>, errorMessage: string) => ResponseOf<K>,
): ApiHandler<RequestOf<K>, ResponseOf<K>> {
  return async (request, context, spu) => {
    try {
      const version = link.forwardVersion(apiKey, context.apiVersion);
      return await link.request(apiKey, version, request);
    } catch (error) {
      spu.logger.warn('admin request not forwarded', { apiKey, error });
      return unreachable(request, unreachableMessage);
    }
  };
}

const notController = errorCodes.NOT_CONTROLLER;

/** The admin APIs an SPU in a cluster forwards to the SC instead of answering itself. */
export function forwardedAdminHandlers(link: ForwardingLink): HandlerTable {
  return {
    [apiKeys.CreateTopics]: awaitCreatedTopics(
      forwardingHandler(apiKeys.CreateTopics, link, createTopicsUnreachable),
    ),
    [apiKeys.DeleteTopics]: awaitDeletedTopics(
      forwardingHandler(apiKeys.DeleteTopics, link, deleteTopicsUnreachable),
    ),
    [apiKeys.CreatePartitions]: awaitCreatedPartitions(
      forwardingHandler(apiKeys.CreatePartitions, link, createPartitionsUnreachable),
    ),
    [apiKeys.AlterConfigs]: forwardingHandler(apiKeys.AlterConfigs, link, alterConfigsUnreachable),
    [apiKeys.IncrementalAlterConfigs]: forwardingHandler(
      apiKeys.IncrementalAlterConfigs,
      link,
      incrementalAlterConfigsUnreachable,
    ),
    [apiKeys.AlterPartitionReassignments]: forwardingHandler(
      apiKeys.AlterPartitionReassignments,
      link,
      alterPartitionReassignmentsUnreachable,
    ),
    [apiKeys.ListPartitionReassignments]: forwardingHandler(
      apiKeys.ListPartitionReassignments,
      link,
      (_request, errorMessage) =>
        createListPartitionReassignmentsResponse({ errorCode: notController, errorMessage }),
    ),
    // Tide's own admin questions, so that a CLI pointed at any SPU can ask them.
    [apiKeys.DescribeSpus]: forwardingHandler(apiKeys.DescribeSpus, link, () =>
      createDescribeSpusResponse({ errorCode: notController }),
    ),
    [apiKeys.DescribeTopicStatus]: forwardingHandler(apiKeys.DescribeTopicStatus, link, () =>
      createDescribeTopicStatusResponse({ errorCode: notController }),
    ),
  };
}

function createTopicsUnreachable(request: CreateTopicsRequest, errorMessage: string) {
  return createCreateTopicsResponse({
    topics: request.topics.map(({ name }) =>
      createCreateTopicsResponseCreatableTopicResult({ name, errorCode: notController, errorMessage }),
    ),
  });
}

function deleteTopicsUnreachable(request: DeleteTopicsRequest, errorMessage: string) {
  return createDeleteTopicsResponse({
    responses: [...new Set(request.topicNames)].map((name) =>
      createDeleteTopicsResponseDeletableTopicResult({ name, errorCode: notController, errorMessage }),
    ),
  });
}

function createPartitionsUnreachable(request: CreatePartitionsRequest, errorMessage: string) {
  return createCreatePartitionsResponse({
    results: request.topics.map(({ name }) =>
      createCreatePartitionsResponseTopicResult({ name, errorCode: notController, errorMessage }),
    ),
  });
}

function alterConfigsUnreachable(request: AlterConfigsRequest, errorMessage: string) {
  return createAlterConfigsResponse({
    responses: request.resources.map(({ resourceType, resourceName }) =>
      createAlterConfigsResponseResourceResponse({
        errorCode: notController,
        errorMessage,
        resourceType,
        resourceName,
      }),
    ),
  });
}

function incrementalAlterConfigsUnreachable(request: IncrementalAlterConfigsRequest, errorMessage: string) {
  return createIncrementalAlterConfigsResponse({
    responses: request.resources.map(({ resourceType, resourceName }) =>
      createIncrementalAlterConfigsResponseAlterConfigsResourceResponse({
        errorCode: notController,
        errorMessage,
        resourceType,
        resourceName,
      }),
    ),
  });
}

function alterPartitionReassignmentsUnreachable(
  request: AlterPartitionReassignmentsRequest,
  errorMessage: string,
) {
  return createAlterPartitionReassignmentsResponse({
    responses: request.topics.map(({ name, partitions }) =>
      createAlterPartitionReassignmentsResponseReassignableTopicResponse({
        name,
        partitions: partitions.map(({ partitionIndex }) =>
          createAlterPartitionReassignmentsResponseReassignablePartitionResponse({
            partitionIndex,
            errorCode: notController,
            errorMessage,
          }),
        ),
      }),
    ),
  });
}
