import { apiKeys } from '../../protocol/messages/api-keys.ts';
import type { HandlerTable } from '../request-router.ts';
import { alterConfigsHandler } from './alter-configs.ts';
import { createPartitionsHandler } from './create-partitions.ts';
import { createTopicsHandler } from './create-topics.ts';
import { deleteTopicsHandler } from './delete-topics.ts';
import { describeClusterHandler } from './describe-cluster.ts';
import { describeConfigsHandler } from './describe-configs.ts';
import { incrementalAlterConfigsHandler } from './incremental-alter-configs.ts';
import { metadataHandler } from './metadata.ts';

/** Metadata and admin APIs. */
export const adminHandlers: HandlerTable = {
  [apiKeys.Metadata]: metadataHandler,
  [apiKeys.CreateTopics]: createTopicsHandler,
  [apiKeys.DeleteTopics]: deleteTopicsHandler,
  [apiKeys.CreatePartitions]: createPartitionsHandler,
  [apiKeys.DescribeConfigs]: describeConfigsHandler,
  [apiKeys.AlterConfigs]: alterConfigsHandler,
  [apiKeys.IncrementalAlterConfigs]: incrementalAlterConfigsHandler,
  [apiKeys.DescribeCluster]: describeClusterHandler,
};
