import {
  createDescribeProducersResponse,
  createDescribeProducersResponsePartitionResponse,
  createDescribeProducersResponseProducerState,
  createDescribeProducersResponseTopicResponse,
  type DescribeProducersRequest,
  type DescribeProducersResponse,
  type DescribeProducersResponsePartitionResponse,
} from '../../protocol/messages/describe-producers.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import type { ApiHandler, SpuServices } from '../handler.ts';

/**
 * DescribeProducers (`kafka-transactions describe-producers`): the idempotent producers a partition's
 * leader remembers, with their epoch and last sequence. Tide has no transactions, so the
 * coordinator epoch and transaction start offset are always -1; the timestamp is when the
 * producer's last batch was appended. Partitions this SPU does not lead get NOT_LEADER_OR_FOLLOWER,
 * ones the cluster does not have UNKNOWN_TOPIC_OR_PARTITION.
 */
export const describeProducersHandler: ApiHandler<
  DescribeProducersRequest,
  DescribeProducersResponse
> = async (request, _context, spu) =>
  createDescribeProducersResponse({
    topics: request.topics.map(({ name, partitionIndexes }) =>
      createDescribeProducersResponseTopicResponse({
        name,
        partitions: partitionIndexes.map((index) => describePartition(spu, name, index)),
      }),
    ),
  });

function describePartition(
  spu: SpuServices,
  topic: string,
  index: number,
): DescribeProducersResponsePartitionResponse {
  const partition = spu.partitions.get(topic, index);
  if (partition === undefined || !partition.leading) {
    const known = spu.cluster.topic(topic)?.partitions.some((each) => each.partition === index) ?? false;
    return createDescribeProducersResponsePartitionResponse({
      partitionIndex: index,
      errorCode: known ? errorCodes.NOT_LEADER_OR_FOLLOWER : errorCodes.UNKNOWN_TOPIC_OR_PARTITION,
    });
  }
  const nowMs = spu.clock.nowMs();
  const state = partition.log.producerState;
  const activeProducers = [];
  for (const [producerId] of state.entries()) {
    // entry() leaves out producers whose state has expired but not been removed yet.
    const entry = state.entry(producerId, nowMs);
    if (entry === undefined) continue;
    activeProducers.push(
      createDescribeProducersResponseProducerState({
        producerId,
        producerEpoch: entry.epoch,
        lastSequence: entry.batches.at(-1)?.lastSequence ?? -1,
        lastTimestamp: BigInt(entry.lastAppendMs),
        coordinatorEpoch: -1,
        currentTxnStartOffset: -1n,
      }),
    );
  }
  return createDescribeProducersResponsePartitionResponse({
    partitionIndex: index,
    errorCode: errorCodes.NONE,
    activeProducers,
  });
}
