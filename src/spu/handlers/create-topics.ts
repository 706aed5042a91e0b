import { describeTopicConfigs } from '../../protocol/config-describe.ts';
import {
  type CreateTopicsRequest,
  type CreateTopicsRequestCreatableTopic,
  type CreateTopicsResponse,
  type CreateTopicsResponseCreatableTopicResult,
  createCreateTopicsResponse,
  createCreateTopicsResponseCreatableTopicConfigs,
  createCreateTopicsResponseCreatableTopicResult,
} from '../../protocol/messages/create-topics.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import type { CreateTopicSpec, TopicInfo } from '../cluster.ts';
import type { ApiHandler, SpuServices } from '../handler.ts';

/**
 * CreateTopics: each topic is validated and created on its own, so one bad topic does not stop the
 * others. A name given twice in one request is refused (INVALID_REQUEST) and neither entry is
 * created. Partition count and replication factor -1 mean the SPU's defaults; Tide accepts -1 at
 * every version (Kafka's clients only send it from v4).
 */
export const createTopicsHandler: ApiHandler<CreateTopicsRequest, CreateTopicsResponse> = async (
  request,
  context,
  spu,
) => {
  const counts = new Map<string, number>();
  for (const topic of request.topics) counts.set(topic.name, (counts.get(topic.name) ?? 0) + 1);
  const results: CreateTopicsResponseCreatableTopicResult[] = [];
  for (const [name, count] of counts) {
    if (count <= 1) continue;
    results.push(
      failed(name, errorCodes.INVALID_REQUEST, `topic ${name} appears ${count} times in one request`),
    );
  }
  for (const topic of request.topics) {
    if (counts.get(topic.name) !== 1) continue;
    results.push(await createOne(topic, request.validateOnly, spu));
  }
  if (context.apiVersion < 1) for (const result of results) result.errorMessage = null;
  return createCreateTopicsResponse({ topics: results });
};

async function createOne(
  topic: CreateTopicsRequestCreatableTopic,
  validateOnly: boolean,
  spu: SpuServices,
): Promise<CreateTopicsResponseCreatableTopicResult> {
  const spec = toSpec(topic);
  if ('errorCode' in spec) return failed(topic.name, spec.errorCode, spec.errorMessage);
  const outcome = await spu.admin.createTopic(spec, { validateOnly });
  if (outcome.errorCode !== errorCodes.NONE || outcome.topic === undefined) {
    return failed(topic.name, outcome.errorCode, outcome.errorMessage ?? 'topic not created');
  }
  return created(outcome.topic);
}

/** The request's topic as an admin spec, or the reason it cannot be one. */
function toSpec(
  topic: CreateTopicsRequestCreatableTopic,
): CreateTopicSpec | { errorCode: number; errorMessage: string } {
  const assignments = new Map<number, readonly number[]>();
  if (topic.assignments.length > 0) {
    if (topic.numPartitions !== -1 || topic.replicationFactor !== -1) {
      return {
        errorCode: errorCodes.INVALID_REQUEST,
        errorMessage: 'with explicit assignments, partitions and replication factor must be -1',
      };
    }
    for (const { partitionIndex, brokerIds } of topic.assignments) {
      if (assignments.has(partitionIndex)) {
        return {
          errorCode: errorCodes.INVALID_REPLICA_ASSIGNMENT,
          errorMessage: `partition ${partitionIndex} is assigned twice`,
        };
      }
      assignments.set(partitionIndex, brokerIds);
    }
  }
  const configs: Record<string, string> = {};
  for (const { name, value } of topic.configs) {
    if (value === null) {
      return { errorCode: errorCodes.INVALID_CONFIG, errorMessage: `config "${name}" needs a value` };
    }
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

function failed(
  name: string,
  errorCode: number,
  errorMessage: string,
): CreateTopicsResponseCreatableTopicResult {
  // v5+ answers carry the topic's shape: -1 and no configs when creation failed, as in Kafka.
  return createCreateTopicsResponseCreatableTopicResult({ name, errorCode, errorMessage, configs: [] });
}

function created(topic: TopicInfo): CreateTopicsResponseCreatableTopicResult {
  return createCreateTopicsResponseCreatableTopicResult({
    name: topic.name,
    topicId: topic.topicId,
    errorCode: errorCodes.NONE,
    errorMessage: null,
    numPartitions: topic.partitions.length,
    replicationFactor: topic.partitions[0]?.replicas.length ?? -1,
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
