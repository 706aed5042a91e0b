import { errorCodes } from '../../protocol/messages/error-codes.ts';
import { isZeroUuid } from '../../protocol/messages/helpers.ts';
import {
  createMetadataResponse,
  createMetadataResponseBroker,
  createMetadataResponsePartition,
  createMetadataResponseTopic,
  type MetadataRequest,
  type MetadataRequestTopic,
  type MetadataResponse,
  type MetadataResponseTopic,
} from '../../protocol/messages/metadata.ts';
import { topicNameProblem } from '../../protocol/topic-names.ts';

import type { TopicInfo } from '../cluster.ts';
import type { ApiHandler, SpuServices } from '../handler.ts';

/** Names auto-creation leaves alone. */
const reservedPrefix = '__';

/**
 * Kafka's "authorized operations" bit set, for clients that ask: every operation is allowed because
 * Tide has no ACLs. Bits (Kafka's AclOperation codes): READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7,
 * DESCRIBE 8, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11 for topics; CREATE 5, ALTER 7, DESCRIBE 8,
 * CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12 for the cluster.
 */
export const topicOperationsAll = bits([3, 4, 5, 6, 7, 8, 10, 11]);
export const clusterOperationsAll = bits([5, 7, 8, 9, 10, 11, 12]);
/** Kafka's "not requested" value for the authorized-operations fields. */
export const operationsOmitted = -2147483648;

function bits(operations: readonly number[]): number {
  return operations.reduce((set, operation) => set | (1 << operation), 0);
}

/**
 * Metadata: the brokers, the cluster and controller ids, and the requested topics (all of them when
 * the list is null, or empty in v0) with their partitions. A topic that does not exist is created
 * when the SPU auto-creates topics and the request allows it (always, before v4).
 */
export const metadataHandler: ApiHandler<MetadataRequest, MetadataResponse> = async (
  request,
  context,
  spu,
) => {
  const version = context.apiVersion;
  const all = request.topics === null || (version === 0 && request.topics.length === 0);
  const allowCreate = spu.config.autoCreateTopics && (version < 4 || request.allowAutoTopicCreation);
  const topicOperations = request.includeTopicAuthorizedOperations ? topicOperationsAll : operationsOmitted;
  const topics: MetadataResponseTopic[] = [];
  if (all) {
    for (const topic of spu.cluster.topics()) topics.push(describeTopic(topic, topicOperations));
  } else {
    for (const wanted of request.topics ?? []) {
      topics.push(await answerTopic(wanted, { allowCreate, topicOperations }, spu));
    }
  }
  return createMetadataResponse({
    brokers: spu.cluster
      .brokers()
      .map(({ id, host, port, rack }) => createMetadataResponseBroker({ nodeId: id, host, port, rack })),
    clusterId: spu.cluster.clusterId,
    controllerId: spu.cluster.controllerId,
    topics,
    clusterAuthorizedOperations: request.includeClusterAuthorizedOperations
      ? clusterOperationsAll
      : operationsOmitted,
  });
};

/** One requested topic: by id (v10+, name null), or by name, created on demand when allowed. */
async function answerTopic(
  wanted: MetadataRequestTopic,
  options: { allowCreate: boolean; topicOperations: number },
  spu: SpuServices,
): Promise<MetadataResponseTopic> {
  if (wanted.name === null) {
    const byId = isZeroUuid(wanted.topicId)
      ? undefined
      : spu.cluster.topics().find((topic) => topic.topicId.equals(wanted.topicId));
    if (byId !== undefined) return describeTopic(byId, options.topicOperations);
    return createMetadataResponseTopic({
      errorCode: errorCodes.UNKNOWN_TOPIC_ID,
      name: null,
      topicId: wanted.topicId,
    });
  }
  const name = wanted.name;
  if (topicNameProblem(name) !== undefined)
    return createMetadataResponseTopic({ errorCode: errorCodes.INVALID_TOPIC_EXCEPTION, name });
  const existing = spu.cluster.topic(name);
  if (existing !== undefined) return describeTopic(existing, options.topicOperations);
  // An SPU of a cluster that has not had the SC's first metadata push (it lists no SPU, not even
  // itself) knows nothing yet: "no such topic" would make a client that already uses the topic drop
  // its partitions (librdkafka reports them gone), so it hears the retriable LEADER_NOT_AVAILABLE.
  if (spu.cluster.brokers().length === 0)
    return createMetadataResponseTopic({ errorCode: errorCodes.LEADER_NOT_AVAILABLE, name });
  // The `__` prefix is where internal topics live (`__consumer_offsets`, later `__transaction_state`):
  // their owners create them with the layout and configs they need, so a client's Metadata request
  // never makes a `__` name, internal or not, as a plain topic. CreateTopics still may.
  if (!options.allowCreate || name.startsWith(reservedPrefix)) {
    const errorCode = (await existsElsewhere(name, spu))
      ? errorCodes.LEADER_NOT_AVAILABLE
      : errorCodes.UNKNOWN_TOPIC_OR_PARTITION;
    return createMetadataResponseTopic({ errorCode, name });
  }
  // This SPU's num.partitions and default.replication.factor, as Kafka's auto-create uses the
  // settings of the broker that handles the request (in a cluster the SC would use its own).
  const created = await spu.admin.createTopic(
    {
      name,
      partitions: spu.config.defaultPartitions,
      replicationFactor: spu.config.defaultReplicationFactor,
      assignments: new Map(),
      configs: {},
    },
    { validateOnly: false },
  );
  // Another request may have created it in the meantime: answer with whatever exists now.
  const topic = created.topic ?? spu.cluster.topic(name);
  if (topic !== undefined) return describeTopic(topic, options.topicOperations);
  // In a cluster the SC creates the topic and pushes it to this SPU a moment later: until then the
  // client hears LEADER_NOT_AVAILABLE and asks again.
  if (created.errorCode === errorCodes.NONE || created.errorCode === errorCodes.TOPIC_ALREADY_EXISTS)
    return createMetadataResponseTopic({ errorCode: errorCodes.LEADER_NOT_AVAILABLE, name });
  spu.logger.warn('topic auto-creation failed', { topic: name, error: created.errorMessage });
  const errorCode =
    created.errorCode === errorCodes.INVALID_TOPIC_EXCEPTION
      ? created.errorCode
      : errorCodes.UNKNOWN_TOPIC_OR_PARTITION;
  return createMetadataResponseTopic({ errorCode, name });
}

/**
 * Whether a topic this SPU does not know exists all the same: in a cluster the SC creates a topic,
 * answers, then pushes it to the SPUs one after another, so a client told about it by one SPU (or
 * by the CreateTopics answer) may ask another that has not heard of it yet. "No such topic" would
 * make the client drop it (librdkafka stops consuming its partitions); the answer for a topic that
 * exists is the retriable LEADER_NOT_AVAILABLE. Validating a creation asks whoever owns the topics
 * (the SC, or a standalone SPU itself) without changing anything; an SC that cannot be reached
 * leaves the answer at "no such topic", as before.
 */
async function existsElsewhere(name: string, spu: SpuServices): Promise<boolean> {
  const probe = await spu.admin.createTopic(
    { name, partitions: -1, replicationFactor: -1, assignments: new Map(), configs: {} },
    { validateOnly: true },
  );
  return probe.errorCode === errorCodes.TOPIC_ALREADY_EXISTS;
}

function describeTopic(topic: TopicInfo, topicAuthorizedOperations: number): MetadataResponseTopic {
  return createMetadataResponseTopic({
    name: topic.name,
    topicId: topic.topicId,
    isInternal: topic.isInternal,
    topicAuthorizedOperations,
    partitions: topic.partitions.map((partition) =>
      createMetadataResponsePartition({
        partitionIndex: partition.partition,
        leaderId: partition.leaderId,
        leaderEpoch: partition.leaderEpoch,
        replicaNodes: [...partition.replicas],
        isrNodes: [...partition.isr],
        offlineReplicas: [...partition.offlineReplicas],
      }),
    ),
  });
}
