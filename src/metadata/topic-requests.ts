import {
  type CreatePartitionsRequest,
  type CreatePartitionsResponse,
  createCreatePartitionsResponse,
  createCreatePartitionsResponseTopicResult,
} from '../protocol/messages/create-partitions.ts';
import {
  type CreateTopicsRequest,
  type CreateTopicsRequestCreatableTopic,
  type CreateTopicsResponse,
  type CreateTopicsResponseCreatableTopicResult,
  createCreateTopicsResponse,
  createCreateTopicsResponseCreatableTopicConfigs,
  createCreateTopicsResponseCreatableTopicResult,
} from '../protocol/messages/create-topics.ts';
import {
  createDeleteTopicsResponse,
  createDeleteTopicsResponseDeletableTopicResult,
  type DeleteTopicsRequest,
  type DeleteTopicsResponse,
} from '../protocol/messages/delete-topics.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { describeTopicConfigs } from './config-describe.ts';
import type { AdminResult, CreatedTopic, NewTopic, TopicChanges } from './topic-admin.ts';

/**
 * The topic APIs as Kafka clients send them, answered the same way by the SC and a standalone SPU.
 * Each topic is validated and changed on its own, so one bad topic does not stop the others; a name
 * given twice in one request is refused (INVALID_REQUEST) and neither entry is changed.
 */

/** How the caller's created topic reads in a CreateTopics answer. */
export type ShowCreated<Topic> = (topic: Topic) => CreatedTopic;

/** CreateTopics; partition count and replication factor -1 mean the defaults, at every version. */
export async function answerCreateTopics<Topic>(
  request: CreateTopicsRequest,
  apiVersion: number,
  topics: TopicChanges<Topic>,
  show: ShowCreated<Topic>,
): Promise<CreateTopicsResponse> {
  const counts = countNames(request.topics.map((topic) => topic.name));
  const results: CreateTopicsResponseCreatableTopicResult[] = [];
  for (const [name, count] of counts) {
    if (count > 1) results.push(createFailed(name, namedTwice(name, count)));
  }
  for (const topic of request.topics) {
    if (counts.get(topic.name) === 1)
      results.push(await createOne(topic, request.validateOnly, topics, show));
  }
  if (apiVersion < 1) for (const result of results) result.errorMessage = null;
  return createCreateTopicsResponse({ topics: results });
}

/** DeleteTopics by name; a name given twice is deleted once and answered once. */
export async function answerDeleteTopics<Topic>(
  request: DeleteTopicsRequest,
  apiVersion: number,
  topics: TopicChanges<Topic>,
): Promise<DeleteTopicsResponse> {
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
}

/** CreatePartitions: grows each topic, placing new partitions where the request says when it does. */
export async function answerCreatePartitions<Topic>(
  request: CreatePartitionsRequest,
  topics: TopicChanges<Topic>,
): Promise<CreatePartitionsResponse> {
  const counts = countNames(request.topics.map((topic) => topic.name));
  const results = [];
  for (const [name, count] of counts) {
    if (count > 1)
      results.push(createCreatePartitionsResponseTopicResult({ name, ...namedTwice(name, count) }));
  }
  for (const topic of request.topics) {
    if (counts.get(topic.name) !== 1) continue;
    const outcome = await topics.createPartitions(topic.name, topic.count, {
      validateOnly: request.validateOnly,
      ...(topic.assignments === null
        ? {}
        : { assignments: topic.assignments.map((assignment) => assignment.brokerIds) }),
    });
    results.push(
      createCreatePartitionsResponseTopicResult({
        name: topic.name,
        errorCode: outcome.errorCode,
        errorMessage: outcome.errorMessage,
      }),
    );
  }
  return createCreatePartitionsResponse({ results });
}

function countNames(names: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

function namedTwice(name: string, count: number): { errorCode: number; errorMessage: string } {
  return {
    errorCode: errorCodes.INVALID_REQUEST,
    errorMessage: `topic ${name} appears ${count} times in one request`,
  };
}

async function createOne<Topic>(
  topic: CreateTopicsRequestCreatableTopic,
  validateOnly: boolean,
  topics: TopicChanges<Topic>,
  show: ShowCreated<Topic>,
): Promise<CreateTopicsResponseCreatableTopicResult> {
  const spec = toSpec(topic);
  if ('errorCode' in spec) return createFailed(topic.name, spec);
  const outcome = await topics.createTopic(spec, { validateOnly });
  if (outcome.errorCode !== errorCodes.NONE || outcome.topic === undefined)
    return createFailed(topic.name, {
      ...outcome,
      errorMessage: outcome.errorMessage ?? 'topic not created',
    });
  return created(show(outcome.topic));
}

/** The request's topic as a spec, or the reason it cannot be one. */
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

function createFailed(name: string, outcome: AdminResult): CreateTopicsResponseCreatableTopicResult {
  // v5+ answers carry the topic's shape: -1 and no configs when creation failed, as in Kafka.
  return createCreateTopicsResponseCreatableTopicResult({
    name,
    errorCode: outcome.errorCode,
    errorMessage: outcome.errorMessage ?? 'invalid topic',
    configs: [],
  });
}

function created(topic: CreatedTopic): CreateTopicsResponseCreatableTopicResult {
  return createCreateTopicsResponseCreatableTopicResult({
    name: topic.name,
    topicId: topic.topicId,
    errorCode: errorCodes.NONE,
    errorMessage: null,
    numPartitions: topic.partitions,
    replicationFactor: topic.replicationFactor,
    configs: describeTopicConfigs(topic.configs).map((config) =>
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
