import { answerAlterConfigs, answerIncrementalAlterConfigs } from '../../metadata/config-requests.ts';
import type { CreatedTopic } from '../../metadata/topic-admin.ts';
import {
  answerCreatePartitions,
  answerCreateTopics,
  answerDeleteTopics,
} from '../../metadata/topic-requests.ts';
import { apiKeys } from '../../protocol/messages/api-keys.ts';
import type { TopicRecord } from '../topic-records.ts';
import type { ScHandlerTable } from './services.ts';

/**
 * Forwarded admin requests: decoded as the client sent them, answered by the code a standalone SPU
 * answers them with (metadata/topic-requests.ts, config-requests.ts), recorded by the topic frontend.
 */
export const adminHandlers: ScHandlerTable = {
  [apiKeys.CreateTopics]: (request, context, { topics }) =>
    answerCreateTopics(request, context.apiVersion, topics, showCreated),
  [apiKeys.DeleteTopics]: (request, context, { topics }) =>
    answerDeleteTopics(request, context.apiVersion, topics),
  [apiKeys.CreatePartitions]: (request, _context, { topics }) => answerCreatePartitions(request, topics),
  [apiKeys.AlterConfigs]: (request, _context, { topics }) => answerAlterConfigs(request, topics),
  [apiKeys.IncrementalAlterConfigs]: (request, _context, { topics }) =>
    answerIncrementalAlterConfigs(request, topics),
  [apiKeys.AlterPartitionReassignments]: (request, _context, { leadership }) =>
    leadership.reassignments.alter(request),
  [apiKeys.ListPartitionReassignments]: (request, _context, { leadership }) =>
    leadership.reassignments.list(request),
};

function showCreated(topic: TopicRecord): CreatedTopic {
  return { ...topic, topicId: Buffer.from(topic.topicId, 'hex') };
}
