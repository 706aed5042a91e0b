import { errorCodes } from '../../protocol/messages/error-codes.ts';
import {
  createOffsetForLeaderEpochResponse,
  createOffsetForLeaderEpochResponseEpochEndOffset,
  createOffsetForLeaderEpochResponseOffsetForLeaderTopicResult,
  type OffsetForLeaderEpochRequest,
  type OffsetForLeaderEpochResponse,
} from '../../protocol/messages/offset-for-leader-epoch.ts';
import type { ApiHandler, SpuServices } from '../handler.ts';
import { leaderEpochProblem } from './leader-epoch.ts';
import { leaderPartition } from './leadership.ts';

/**
 * OffsetForLeaderEpoch: for each partition this SPU leads, where the asked leader epoch ends in the
 * leader's log: the start of the next larger epoch, or the log end for the latest epoch, with the
 * largest epoch ≤ the asked one (-1/-1 when the leader knows no such epoch). A follower truncates
 * its log to that offset when its own log goes further: the suffix it holds beyond it diverged.
 */
export const offsetForLeaderEpochHandler: ApiHandler<
  OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponse
> = async (request: OffsetForLeaderEpochRequest, _context, spu: SpuServices) => {
  const topics = request.topics.map((topic) =>
    createOffsetForLeaderEpochResponseOffsetForLeaderTopicResult({
      topic: topic.topic,
      partitions: topic.partitions.map((wanted) => {
        const answer = (errorCode: number, leaderEpoch = -1, endOffset = -1n) =>
          createOffsetForLeaderEpochResponseEpochEndOffset({
            errorCode,
            partition: wanted.partition,
            leaderEpoch,
            endOffset,
          });
        const partition = leaderPartition(spu, topic.topic, wanted.partition);
        if (typeof partition === 'number') return answer(partition);
        const problem = leaderEpochProblem(wanted.currentLeaderEpoch, partition.leaderEpoch);
        if (problem !== undefined) return answer(problem);
        const found = partition.log.endOffsetForEpoch(wanted.leaderEpoch);
        return answer(errorCodes.NONE, found.leaderEpoch, found.endOffset);
      }),
    }),
  );
  return createOffsetForLeaderEpochResponse({ topics });
};
