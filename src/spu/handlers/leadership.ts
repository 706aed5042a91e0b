import { errorCodes } from '../../protocol/messages/error-codes.ts';
import type { SpuServices } from '../handler.ts';
import type { Partition } from '../partitions.ts';

/**
 * The partition a client may produce to or read from on this SPU, or the error code that sends the
 * client elsewhere: NOT_LEADER_OR_FOLLOWER when the partition exists in the cluster but another SPU
 * leads it (the client refreshes its metadata and finds the leader), UNKNOWN_TOPIC_OR_PARTITION when
 * nobody knows it. A standalone SPU leads every partition it holds.
 */
export function leaderPartition(
  spu: Pick<SpuServices, 'partitions' | 'cluster'>,
  topic: string,
  index: number,
): Partition | number {
  const partition = spu.partitions.get(topic, index);
  if (partition?.leading === true) return partition;
  if (partition !== undefined) return errorCodes.NOT_LEADER_OR_FOLLOWER;
  const known = spu.cluster.topic(topic)?.partitions.some((info) => info.partition === index) ?? false;
  return known ? errorCodes.NOT_LEADER_OR_FOLLOWER : errorCodes.UNKNOWN_TOPIC_OR_PARTITION;
}
