import { errorCodes } from '../../protocol/messages/error-codes.ts';
import {
  createListOffsetsResponse,
  createListOffsetsResponsePartitionResponse,
  createListOffsetsResponseTopicResponse,
  type ListOffsetsRequest,
  type ListOffsetsRequestPartition,
  type ListOffsetsResponse,
  type ListOffsetsResponsePartitionResponse,
} from '../../protocol/messages/list-offsets.ts';
import type { PartitionLog } from '../../storage/partition-log.ts';
import type { ApiHandler, SpuServices } from '../handler.ts';
import { partitionFailure } from '../storage-errors.ts';
import { leaderEpochProblem } from './leader-epoch.ts';
import { leaderPartition } from './leadership.ts';

/**
 * ListOffsets: an offset per partition for a timestamp. -2 is the log start, -1 the latest offset a
 * consumer may read (the high watermark, which is also the last stable offset without transactions;
 * followers, replicaId ≥ 0, and debugging tools, replicaId -2 as in Kafka, get the log end), any other timestamp the first offset whose record
 * timestamp is at least that, among the offsets a consumer may read (none: offset and timestamp -1).
 * -3 (the offset of the largest timestamp, v7) is not supported: UNSUPPORTED_VERSION for that
 * partition. The leader epoch answered (v4+) is the epoch of the batch holding the offset.
 *
 * A partition this SPU does not know at all is answered NOT_LEADER_OR_FOLLOWER, not
 * UNKNOWN_TOPIC_OR_PARTITION: a client only asks for partitions some SPU's Metadata listed, and in a
 * cluster the SC's pushes reach the SPUs one after another, so the leader a client was told about may
 * not have heard of a new topic (or partition) yet. librdkafka treats UNKNOWN_TOPIC_OR_PARTITION in
 * ListOffsets as permanent: it stops the partition (a consumer started with `-o beginning` on a new
 * topic then reads nothing from it); NOT_LEADER_OR_FOLLOWER makes it refresh metadata and ask again,
 * and a topic that really is gone then disappears from the metadata it gets.
 */
const earliest = -2n;
const latest = -1n;
const maxTimestamp = -3n;
/** Kafka's replica id for tools that want the log end rather than the high watermark. */
const debuggingReplicaId = -2;

type PartitionAnswer = ListOffsetsResponsePartitionResponse;

export const listOffsetsHandler: ApiHandler<ListOffsetsRequest, ListOffsetsResponse> = async (
  request,
  _context,
  spu,
) => {
  const follower = request.replicaId >= 0 || request.replicaId === debuggingReplicaId;
  const topics = await Promise.all(
    request.topics.map(async (topic) => {
      const partitions = await Promise.all(
        topic.partitions.map((wanted) => listPartition(topic.name, wanted, follower, spu)),
      );
      return createListOffsetsResponseTopicResponse({ name: topic.name, partitions });
    }),
  );
  return createListOffsetsResponse({ topics });
};

function failed(partitionIndex: number, errorCode: number): PartitionAnswer {
  return createListOffsetsResponsePartitionResponse({
    partitionIndex,
    errorCode,
    timestamp: -1n,
    offset: -1n,
    leaderEpoch: -1,
  });
}

async function listPartition(
  topic: string,
  wanted: ListOffsetsRequestPartition,
  follower: boolean,
  spu: SpuServices,
): Promise<PartitionAnswer> {
  const index = wanted.partitionIndex;
  const partition = leaderPartition(spu, topic, index);
  if (typeof partition === 'number')
    return failed(
      index,
      partition === errorCodes.UNKNOWN_TOPIC_OR_PARTITION ? errorCodes.NOT_LEADER_OR_FOLLOWER : partition,
    );
  const epochProblem = leaderEpochProblem(wanted.currentLeaderEpoch, partition.leaderEpoch);
  if (epochProblem !== undefined) return failed(index, epochProblem);
  const log = partition.log;
  const visibleEnd = follower ? log.logEndOffset : log.highWatermark;
  const found = (offset: bigint, timestamp: bigint, leaderEpoch: number): PartitionAnswer =>
    createListOffsetsResponsePartitionResponse({ partitionIndex: index, timestamp, offset, leaderEpoch });
  if (wanted.timestamp === earliest) return found(log.logStartOffset, -1n, epochOf(log, log.logStartOffset));
  if (wanted.timestamp === latest) return found(visibleEnd, -1n, log.latestEpoch);
  if (wanted.timestamp === maxTimestamp) return failed(index, errorCodes.UNSUPPORTED_VERSION);
  try {
    const match = await log.offsetForTimestamp(wanted.timestamp);
    if (match === undefined || match.offset >= visibleEnd) return found(-1n, -1n, -1);
    return found(match.offset, match.timestamp, epochOf(log, match.offset));
  } catch (error) {
    const failure = partitionFailure(error, spu.logger, { topic, partition: index, api: 'listOffsets' });
    return failed(index, failure.errorCode);
  }
}

/** The leader epoch of the batch holding `offset`: the last epoch starting at or below it, or -1. */
function epochOf(log: PartitionLog, offset: bigint): number {
  let epoch = -1;
  for (const entry of log.epochEntries) {
    if (entry.startOffset > offset) break;
    epoch = entry.epoch;
  }
  return epoch;
}
