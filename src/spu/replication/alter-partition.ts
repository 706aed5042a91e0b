import {
  createAlterPartitionRequest,
  createAlterPartitionRequestPartitionData,
  createAlterPartitionRequestTopicData,
} from '../../protocol/messages/alter-partition.ts';
import { apiKeys } from '../../protocol/messages/api-keys.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import type { ControllerLink } from '../controller-link.ts';
import type { IsrChange, IsrChangeResult, IsrChangeSender } from './isr-maintainer.ts';

/**
 * ISR changes as AlterPartition requests to the SC over the controller link: version 0 or 1, which
 * name the topic (later versions name it by id) and carry the new ISR as plain ids. The answer's
 * error is the partition's, or the request's when the whole request was refused.
 */
const alterPartitionVersionMax = 1;

export function alterPartitionSender(link: ControllerLink, brokerId: number): IsrChangeSender {
  return async (change: IsrChange): Promise<IsrChangeResult> => {
    const version = link.forwardVersion(apiKeys.AlterPartition, alterPartitionVersionMax);
    const response = await link.request(
      apiKeys.AlterPartition,
      version,
      createAlterPartitionRequest({
        brokerId,
        brokerEpoch: link.brokerEpoch,
        topics: [
          createAlterPartitionRequestTopicData({
            topicName: change.topic,
            partitions: [
              createAlterPartitionRequestPartitionData({
                partitionIndex: change.partition,
                leaderEpoch: change.leaderEpoch,
                newIsr: [...change.newIsr],
                partitionEpoch: change.partitionEpoch,
              }),
            ],
          }),
        ],
      }),
    );
    const answer = response.topics
      .find((topic) => topic.topicName === change.topic)
      ?.partitions.find((partition) => partition.partitionIndex === change.partition);
    const refused = { leaderEpoch: -1, partitionEpoch: -1, isr: [] };
    if (response.errorCode !== errorCodes.NONE) return { errorCode: response.errorCode, ...refused };
    if (answer === undefined) return { errorCode: errorCodes.UNKNOWN_TOPIC_OR_PARTITION, ...refused };
    return {
      errorCode: answer.errorCode,
      leaderEpoch: answer.leaderEpoch,
      partitionEpoch: answer.partitionEpoch,
      isr: answer.isr,
    };
  };
}
