import {
  createDescribeTopicStatusResponse,
  createDescribeTopicStatusResponseConfig,
  createDescribeTopicStatusResponsePartition,
  createDescribeTopicStatusResponseTopic,
  type DescribeTopicStatusRequest,
  type DescribeTopicStatusResponse,
  type DescribeTopicStatusResponseTopic,
} from '../../protocol/messages/describe-topic-status.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import { replicaProgress } from '../reassignment-frontend.ts';
import { pendingDeletions, type TopicRecord, topicPartitions, topicStatus } from '../topic-records.ts';
import type { ScHandler, ScServices } from './services.ts';

/** DescribeTopicStatus: each topic (all, or those asked for) with its placement status and partitions. */
export const describeTopicStatusHandler: ScHandler<
  DescribeTopicStatusRequest,
  DescribeTopicStatusResponse
> = async (request, _context, sc) => {
  const names = request.topics ?? sc.topics.topics().map((topic) => topic.name);
  return createDescribeTopicStatusResponse({
    topics: [...new Set(names)].map((name) => describeTopic(sc, name)),
  });
};

function describeTopic(options: ScServices, name: string): DescribeTopicStatusResponseTopic {
  const topic = options.topics.topic(name);
  if (topic === undefined) {
    const deleting = pendingDeletions(options.store, name);
    if (deleting.length === 0)
      return createDescribeTopicStatusResponseTopic({
        name,
        errorCode: errorCodes.UNKNOWN_TOPIC_OR_PARTITION,
        status: '',
      });
    return createDescribeTopicStatusResponseTopic({
      name,
      status: 'deleting',
      reason: `waiting for SPU(s) ${deleting.join(', ')} to remove their replicas`,
    });
  }
  const status = topicStatus(options.store, topic, options.spus.onlineSpus().length);
  return createDescribeTopicStatusResponseTopic({
    name,
    topicId: Buffer.from(topic.topicId, 'hex'),
    status: status.status,
    reason: status.reason,
    replicationFactor: topic.replicationFactor,
    configs: Object.entries(topic.configs).map(([key, value]) =>
      createDescribeTopicStatusResponseConfig({ name: key, value }),
    ),
    partitions: describePartitions(options, topic),
  });
}

/**
 * Partition status: offline when it has no leader (-1) or its leader's SPU is offline (until the
 * election), under-replicated when a replica is offline or out of the ISR, else online.
 * Offsets and size come from the leader's latest report (-1 until it reported).
 */
function describePartitions(options: ScServices, topic: TopicRecord) {
  return topicPartitions(options.store, topic).map((partition) => {
    const report = options.reports.get(partition.leader, topic.name, partition.partition);
    const online = (id: number): boolean => options.spus.isOnline(id);
    const status = !online(partition.leader)
      ? 'offline'
      : partition.replicas.every(online) && partition.isr.length === partition.replicas.length
        ? 'online'
        : 'under-replicated';
    return createDescribeTopicStatusResponsePartition({
      partition: partition.partition,
      leader: partition.leader,
      leaderEpoch: partition.leaderEpoch,
      replicas: [...partition.replicas],
      isr: [...partition.isr],
      logStartOffset: report?.logStartOffset ?? -1n,
      logEndOffset: report?.logEndOffset ?? -1n,
      highWatermark: report?.highWatermark ?? -1n,
      sizeBytes: report?.sizeBytes ?? -1n,
      status,
      ...replicaProgress(partition, report),
    });
  });
}
