import { describeTopicConfigs } from '../protocol/config-describe.ts';
import {
  createAlterConfigsResponse,
  createAlterConfigsResponseResourceResponse,
} from '../protocol/messages/alter-configs.ts';
import {
  createCreatePartitionsResponse,
  createCreatePartitionsResponseTopicResult,
} from '../protocol/messages/create-partitions.ts';
import {
  type CreateTopicsRequestCreatableTopic,
  type CreateTopicsResponseCreatableTopicResult,
  createCreateTopicsResponse,
  createCreateTopicsResponseCreatableTopicConfigs,
  createCreateTopicsResponseCreatableTopicResult,
} from '../protocol/messages/create-topics.ts';
import {
  createDeleteTopicsResponse,
  createDeleteTopicsResponseDeletableTopicResult,
} from '../protocol/messages/delete-topics.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import {
  createIncrementalAlterConfigsResponse,
  createIncrementalAlterConfigsResponseAlterConfigsResourceResponse,
} from '../protocol/messages/incremental-alter-configs.ts';
import { topicNameProblem } from '../protocol/topic-names.ts';
import type { ConfigOperation } from '../protocol/topic-validation.ts';
import type { Reassignments } from './reassignment-frontend.ts';
import type { ScHandlerTable } from './router.ts';
import type { AdminResult, NewTopic, TopicFrontend } from './topic-frontend.ts';

/**
 * Forwarded admin requests: decoded as the client sent them, validated and recorded by the topic
 * frontend, answered with the same Kafka error codes (and messages) a standalone SPU gives. Rules
 * shared with the SPU: a topic named twice in one request is refused (INVALID_REQUEST); only topic
 * resources have configs; a config resource named twice is refused.
 */

const topicResourceType = 2;
const operationsByCode: Readonly<Record<number, ConfigOperation | undefined>> = {
  0: 'set',
  1: 'delete',
  2: 'append',
  3: 'subtract',
};

export function adminHandlers(topics: TopicFrontend, reassignments?: Reassignments): ScHandlerTable {
  return {
    ...(reassignments === undefined
      ? {}
      : {
          45: (request) => reassignments.alter(request),
          46: (request) => reassignments.list(request),
        }),
    19: async (request, apiVersion) => {
      const counts = countNames(request.topics.map((topic) => topic.name));
      const results: CreateTopicsResponseCreatableTopicResult[] = [];
      for (const [name, count] of counts) {
        if (count > 1)
          results.push(
            createFailed(
              name,
              errorCodes.INVALID_REQUEST,
              `topic ${name} appears ${count} times in one request`,
            ),
          );
      }
      for (const topic of request.topics) {
        if (counts.get(topic.name) === 1) results.push(await createOne(topics, topic, request.validateOnly));
      }
      if (apiVersion < 1) for (const result of results) result.errorMessage = null;
      return createCreateTopicsResponse({ topics: results });
    },
    20: async (request, apiVersion) => {
      const responses = [];
      for (const name of new Set(request.topicNames)) {
        const outcome = await topics.deleteTopic(name);
        responses.push(
          createDeleteTopicsResponseDeletableTopicResult({
            name,
            errorCode: outcome.errorCode,
            errorMessage: apiVersion >= 5 ? outcome.errorMessage : null,
          }),
        );
      }
      return createDeleteTopicsResponse({ responses });
    },
    37: async (request) => {
      const counts = countNames(request.topics.map((topic) => topic.name));
      const results = [];
      for (const [name, count] of counts) {
        if (count > 1)
          results.push(
            createCreatePartitionsResponseTopicResult({
              name,
              errorCode: errorCodes.INVALID_REQUEST,
              errorMessage: `topic ${name} appears ${count} times in one request`,
            }),
          );
      }
      for (const topic of request.topics) {
        if (counts.get(topic.name) !== 1) continue;
        const outcome = await topics.createPartitions(topic.name, topic.count, {
          validateOnly: request.validateOnly,
          ...(topic.assignments === null ? {} : { assignments: topic.assignments.map((a) => a.brokerIds) }),
        });
        results.push(createCreatePartitionsResponseTopicResult({ name: topic.name, ...outcome }));
      }
      return createCreatePartitionsResponse({ results });
    },
    33: async (request) => {
      const duplicates = duplicateResources(request.resources);
      const responses = [];
      for (const resource of request.resources) {
        const outcome =
          resourceProblem(resource, duplicates) ??
          (await replaceConfigs(topics, resource.resourceName, resource.configs, request.validateOnly));
        responses.push(
          createAlterConfigsResponseResourceResponse({
            ...outcome,
            resourceType: resource.resourceType,
            resourceName: resource.resourceName,
          }),
        );
      }
      return createAlterConfigsResponse({ responses });
    },
    44: async (request) => {
      const duplicates = duplicateResources(request.resources);
      const responses = [];
      for (const resource of request.resources) {
        const outcome =
          resourceProblem(resource, duplicates) ??
          (await alterConfigs(topics, resource.resourceName, resource.configs, request.validateOnly));
        responses.push(
          createIncrementalAlterConfigsResponseAlterConfigsResourceResponse({
            ...outcome,
            resourceType: resource.resourceType,
            resourceName: resource.resourceName,
          }),
        );
      }
      return createIncrementalAlterConfigsResponse({ responses });
    },
  };
}

function countNames(names: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

async function createOne(
  topics: TopicFrontend,
  topic: CreateTopicsRequestCreatableTopic,
  validateOnly: boolean,
): Promise<CreateTopicsResponseCreatableTopicResult> {
  const spec = toSpec(topic);
  if ('errorCode' in spec)
    return createFailed(topic.name, spec.errorCode, spec.errorMessage ?? 'invalid topic');
  const outcome = await topics.createTopic(spec, { validateOnly });
  const created = outcome.topic;
  if (outcome.errorCode !== errorCodes.NONE || created === undefined)
    return createFailed(topic.name, outcome.errorCode, outcome.errorMessage ?? 'topic not created');
  return createCreateTopicsResponseCreatableTopicResult({
    name: created.name,
    topicId: Buffer.from(created.topicId, 'hex'),
    errorCode: errorCodes.NONE,
    errorMessage: null,
    numPartitions: created.partitions,
    replicationFactor: created.replicationFactor,
    configs: describeTopicConfigs(created.configs).map((config) =>
      createCreateTopicsResponseCreatableTopicConfigs({
        name: config.name,
        value: config.value,
        readOnly: config.readOnly,
        configSource: config.source,
        isSensitive: config.isSensitive,
      }),
    ),
  });
}

/** The request's topic as a spec, or why it cannot be one (same rules as the standalone SPU). */
function toSpec(topic: CreateTopicsRequestCreatableTopic): NewTopic | AdminResult {
  const assignments = new Map<number, readonly number[]>();
  if (topic.assignments.length > 0 && (topic.numPartitions !== -1 || topic.replicationFactor !== -1))
    return {
      errorCode: errorCodes.INVALID_REQUEST,
      errorMessage: 'with explicit assignments, partitions and replication factor must be -1',
    };
  for (const { partitionIndex, brokerIds } of topic.assignments) {
    if (assignments.has(partitionIndex))
      return {
        errorCode: errorCodes.INVALID_REPLICA_ASSIGNMENT,
        errorMessage: `partition ${partitionIndex} is assigned twice`,
      };
    assignments.set(partitionIndex, brokerIds);
  }
  const configs: Record<string, string> = {};
  for (const { name, value } of topic.configs) {
    if (value === null)
      return { errorCode: errorCodes.INVALID_CONFIG, errorMessage: `config "${name}" needs a value` };
    configs[name] = value;
  }
  return {
    name: topic.name,
    partitions: topic.numPartitions,
    replicationFactor: topic.replicationFactor,
    assignments,
    configs,
  };
}

function createFailed(
  name: string,
  errorCode: number,
  errorMessage: string,
): CreateTopicsResponseCreatableTopicResult {
  return createCreateTopicsResponseCreatableTopicResult({ name, errorCode, errorMessage, configs: [] });
}

type Resource = { resourceType: number; resourceName: string };

function resourceKey(resource: Resource): string {
  return `${resource.resourceType}\u0000${resource.resourceName}`;
}

function duplicateResources(resources: readonly Resource[]): Set<string> {
  const counts = countNames(resources.map(resourceKey));
  return new Set([...counts].filter(([, count]) => count > 1).map(([key]) => key));
}

function resourceProblem(resource: Resource, duplicates: ReadonlySet<string>): AdminResult | undefined {
  if (duplicates.has(resourceKey(resource)))
    return {
      errorCode: errorCodes.INVALID_REQUEST,
      errorMessage: 'the resource appears more than once in the request',
    };
  if (resource.resourceType !== topicResourceType) {
    return {
      errorCode: errorCodes.INVALID_REQUEST,
      errorMessage: `resource type ${resource.resourceType} is not supported here; only topics (2) are`,
    };
  }
  const problem = topicNameProblem(resource.resourceName);
  return problem === undefined
    ? undefined
    : { errorCode: errorCodes.INVALID_TOPIC_EXCEPTION, errorMessage: problem };
}

function replaceConfigs(
  topics: TopicFrontend,
  name: string,
  entries: ReadonlyArray<{ name: string; value: string | null }>,
  validateOnly: boolean,
): Promise<AdminResult> {
  const configs: Record<string, string> = {};
  const seen = new Set<string>();
  for (const { name: key, value } of entries) {
    if (seen.has(key))
      return Promise.resolve({
        errorCode: errorCodes.INVALID_REQUEST,
        errorMessage: `config "${key}" appears twice`,
      });
    seen.add(key);
    // Null values are ignored, as in Kafka.
    if (value !== null) configs[key] = value;
  }
  return topics.replaceConfigs(name, configs, { validateOnly });
}

function alterConfigs(
  topics: TopicFrontend,
  name: string,
  entries: ReadonlyArray<{ name: string; configOperation: number; value: string | null }>,
  validateOnly: boolean,
): Promise<AdminResult> {
  const seen = new Set<string>();
  const operations = [];
  for (const { name: key, configOperation, value } of entries) {
    const operation = operationsByCode[configOperation];
    if (operation === undefined)
      return Promise.resolve({
        errorCode: errorCodes.INVALID_REQUEST,
        errorMessage: `unknown config operation ${configOperation}`,
      });
    if (seen.has(key))
      return Promise.resolve({
        errorCode: errorCodes.INVALID_REQUEST,
        errorMessage: `config "${key}" appears twice`,
      });
    seen.add(key);
    operations.push({ name: key, operation, value });
  }
  return topics.alterConfigs(name, operations, { validateOnly });
}
