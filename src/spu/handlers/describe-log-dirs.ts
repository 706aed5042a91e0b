import { statfs } from 'node:fs/promises';
import {
  createDescribeLogDirsResponse,
  createDescribeLogDirsResponsePartition,
  createDescribeLogDirsResponseResult,
  createDescribeLogDirsResponseTopic,
  type DescribeLogDirsRequest,
  type DescribeLogDirsResponse,
  type DescribeLogDirsResponseTopic,
} from '../../protocol/messages/describe-log-dirs.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import type { ApiHandler, SpuServices } from '../handler.ts';
import type { Partition } from '../partitions.ts';

/**
 * DescribeLogDirs: the one log directory of this SPU (its data dir) with the size of every
 * partition it holds, leader or follower — what kafka-ui, AKHQ, Kafdrop and Conduktor add up into
 * topic sizes, asking every broker. Null topics means all of them; a requested partition this SPU
 * does not hold is left out, as Kafka does. v4 adds the volume's total and usable bytes.
 */
export const describeLogDirsHandler: ApiHandler<DescribeLogDirsRequest, DescribeLogDirsResponse> = async (
  request,
  _context,
  spu,
) => {
  const volume = await volumeBytes(spu);
  const held = spu.partitions.list();
  const chosen =
    request.topics === null
      ? held
      : request.topics.flatMap(({ topic, partitions }) =>
          partitions.flatMap((index) => {
            const partition = spu.partitions.get(topic, index);
            return partition === undefined ? [] : [partition];
          }),
        );
  return createDescribeLogDirsResponse({
    errorCode: errorCodes.NONE,
    results: [
      createDescribeLogDirsResponseResult({
        errorCode: volume === undefined ? errorCodes.KAFKA_STORAGE_ERROR : errorCodes.NONE,
        logDir: spu.config.dataDir,
        topics: volume === undefined ? [] : byTopic(chosen),
        totalBytes: volume?.totalBytes ?? -1n,
        usableBytes: volume?.usableBytes ?? -1n,
      }),
    ],
  });
};

function byTopic(partitions: readonly Partition[]): DescribeLogDirsResponseTopic[] {
  const topics = new Map<string, DescribeLogDirsResponseTopic>();
  for (const partition of partitions) {
    let topic = topics.get(partition.topic);
    if (topic === undefined) {
      topic = createDescribeLogDirsResponseTopic({ name: partition.topic, partitions: [] });
      topics.set(partition.topic, topic);
    }
    const { log } = partition;
    // Kafka's lag of the current log: how far its end is behind the high watermark (0 on a leader).
    const lag = log.highWatermark - log.logEndOffset;
    topic.partitions.push(
      createDescribeLogDirsResponsePartition({
        partitionIndex: partition.index,
        partitionSize: BigInt(log.sizeBytes),
        offsetLag: lag > 0n ? lag : 0n,
        isFutureKey: false,
      }),
    );
  }
  return [...topics.values()];
}

/** The data dir's volume, or undefined when it cannot be read (answered as a storage error). */
async function volumeBytes(
  spu: SpuServices,
): Promise<{ totalBytes: bigint; usableBytes: bigint } | undefined> {
  try {
    const stats = await statfs(spu.config.dataDir, { bigint: true });
    return { totalBytes: stats.blocks * stats.bsize, usableBytes: stats.bavail * stats.bsize };
  } catch (error) {
    spu.logger.warn('log dir not readable', { dataDir: spu.config.dataDir, error });
    return undefined;
  }
}
