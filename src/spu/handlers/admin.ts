import { answerAlterConfigs, answerIncrementalAlterConfigs } from '../../metadata/config-requests.ts';
import type { CreatedTopic } from '../../metadata/topic-admin.ts';
import {
  answerCreatePartitions,
  answerCreateTopics,
  answerDeleteTopics,
} from '../../metadata/topic-requests.ts';
import { apiKeys } from '../../protocol/messages/api-keys.ts';
import type { TopicInfo } from '../cluster.ts';
import type { HandlerTable } from '../request-router.ts';
import { describeClusterHandler } from './describe-cluster.ts';
import { describeConfigsHandler } from './describe-configs.ts';
import { metadataHandler } from './metadata.ts';

/**
 * Metadata and admin APIs. Topic changes are answered by the same code as the SC's
 * (metadata/topic-requests.ts, config-requests.ts), applied through the SPU's TopicAdmin.
 */
export const adminHandlers: HandlerTable = {
  [apiKeys.Metadata]: metadataHandler,
  [apiKeys.CreateTopics]: (request, context, spu) =>
    answerCreateTopics(request, context.apiVersion, spu.admin, showCreated),
  [apiKeys.DeleteTopics]: (request, context, spu) =>
    answerDeleteTopics(request, context.apiVersion, spu.admin),
  [apiKeys.CreatePartitions]: (request, _context, spu) => answerCreatePartitions(request, spu.admin),
  [apiKeys.DescribeConfigs]: describeConfigsHandler,
  [apiKeys.AlterConfigs]: (request, _context, spu) => answerAlterConfigs(request, spu.admin),
  [apiKeys.IncrementalAlterConfigs]: (request, _context, spu) =>
    answerIncrementalAlterConfigs(request, spu.admin),
  [apiKeys.DescribeCluster]: describeClusterHandler,
};

/** A created topic as CreateTopics reports it: this SPU's view of its partitions. */
function showCreated(topic: TopicInfo): CreatedTopic {
  return {
    name: topic.name,
    topicId: topic.topicId,
    partitions: topic.partitions.length,
    replicationFactor: topic.partitions[0]?.replicas.length ?? -1,
    configs: topic.configs,
  };
}
