import {
  createDeleteRecordsResponse,
  createDeleteRecordsResponsePartitionResult,
  createDeleteRecordsResponseTopicResult,
  type DeleteRecordsRequest,
  type DeleteRecordsRequestPartition,
  type DeleteRecordsResponse,
  type DeleteRecordsResponsePartitionResult,
} from '../../protocol/messages/delete-records.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import type { ApiHandler, SpuServices } from '../handler.ts';
import { partitionFailure } from '../storage-errors.ts';
import { leaderPartition } from './leadership.ts';

/**
 * DeleteRecords: moves each partition's log start up to the given offset (-1: the high watermark),
 * deleting the segments wholly below it, and answers the new log start (low watermark). Offsets
 * above the high watermark, or negative other than -1, get OFFSET_OUT_OF_RANGE.
 */
const toHighWatermark = -1n;

type PartitionAnswer = DeleteRecordsResponsePartitionResult;

export const deleteRecordsHandler: ApiHandler<DeleteRecordsRequest, DeleteRecordsResponse> = async (
  request,
  _context,
  spu,
) => {
  const topics = await Promise.all(
    request.topics.map(async (topic) => {
      const partitions = await Promise.all(
        topic.partitions.map((wanted) => deletePartition(topic.name, wanted, spu)),
      );
      return createDeleteRecordsResponseTopicResult({ name: topic.name, partitions });
    }),
  );
  return createDeleteRecordsResponse({ topics });
};

async function deletePartition(
  topic: string,
  wanted: DeleteRecordsRequestPartition,
  spu: SpuServices,
): Promise<PartitionAnswer> {
  const partitionIndex = wanted.partitionIndex;
  const failed = (errorCode: number): PartitionAnswer =>
    createDeleteRecordsResponsePartitionResult({ partitionIndex, errorCode, lowWatermark: -1n });
  const partition = leaderPartition(spu, topic, partitionIndex);
  if (typeof partition === 'number') return failed(partition);
  const log = partition.log;
  const offset = wanted.offset === toHighWatermark ? log.highWatermark : wanted.offset;
  if (offset < 0n || offset > log.highWatermark) return failed(errorCodes.OFFSET_OUT_OF_RANGE);
  try {
    const lowWatermark = await log.deleteRecordsBefore(offset);
    return createDeleteRecordsResponsePartitionResult({
      partitionIndex,
      errorCode: errorCodes.NONE,
      lowWatermark,
    });
  } catch (error) {
    const failure = partitionFailure(error, spu.logger, {
      topic,
      partition: partitionIndex,
      api: 'deleteRecords',
    });
    return failed(failure.errorCode);
  }
}
