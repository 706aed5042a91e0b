import { answerAlterConfigs, answerIncrementalAlterConfigs } from '../metadata/config-requests.ts';
import type { CreatedTopic } from '../metadata/topic-admin.ts';
import {
  answerCreatePartitions,
  answerCreateTopics,
  answerDeleteTopics,
} from '../metadata/topic-requests.ts';
import { apiKeys } from '../protocol/messages/api-keys.ts';
import type { Reassignments } from './reassignment-frontend.ts';
import type { ScHandlerTable } from './router.ts';
import type { TopicFrontend } from './topic-frontend.ts';
import type { TopicRecord } from './topic-records.ts';

/**
 * Forwarded admin requests: decoded as the client sent them, answered by the code a standalone SPU
 * answers them with (metadata/topic-requests.ts, config-requests.ts), recorded by the topic frontend.
 */
export function adminHandlers(topics: TopicFrontend, reassignments?: Reassignments): ScHandlerTable {
  return {
    ...(reassignments === undefined
      ? {}
      : {
          [apiKeys.AlterPartitionReassignments]: (request) => reassignments.alter(request),
          [apiKeys.ListPartitionReassignments]: (request) => reassignments.list(request),
        }),
    [apiKeys.CreateTopics]: (request, apiVersion) =>
      answerCreateTopics(request, apiVersion, topics, showCreated),
    [apiKeys.DeleteTopics]: (request, apiVersion) => answerDeleteTopics(request, apiVersion, topics),
    [apiKeys.CreatePartitions]: (request) => answerCreatePartitions(request, topics),
    [apiKeys.AlterConfigs]: (request) => answerAlterConfigs(request, topics),
    [apiKeys.IncrementalAlterConfigs]: (request) => answerIncrementalAlterConfigs(request, topics),
  };
}

function showCreated(topic: TopicRecord): CreatedTopic {
  return { ...topic, topicId: Buffer.from(topic.topicId, 'hex') };
}
