import { TideError } from '../base/errors.ts';
import type { KafkaConnection } from '../net/kafka-connection.ts';
import {
  createAlterPartitionReassignmentsRequest,
  createAlterPartitionReassignmentsRequestReassignablePartition,
  createAlterPartitionReassignmentsRequestReassignableTopic,
} from '../protocol/messages/alter-partition-reassignments.ts';
import { apiKeys } from '../protocol/messages/api-keys.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { createListPartitionReassignmentsRequest } from '../protocol/messages/list-partition-reassignments.ts';
import type {
  PartitionReassignment,
  PartitionReassignmentRequest,
  PartitionReassignmentResult,
} from './admin-types.ts';
import { clientErrorCodes, kafkaError, throwIfError } from './errors.ts';

/**
 * Partition reassignment requests (AlterPartitionReassignments, ListPartitionReassignments). The
 * SPU forwards them to the cluster's controller, which records each move and carries it out in the
 * background; a standalone SPU has nobody to move replicas to and does not speak them.
 */

const notSupportedMessage = 'moving replicas needs a cluster with a controller (SC); this SPU is standalone';

/** Records the moves (or cancels); one outcome per requested partition, in request order. */
export async function reassignPartitions(
  connection: KafkaConnection,
  moves: readonly PartitionReassignmentRequest[],
  timeoutMs: number,
): Promise<PartitionReassignmentResult[]> {
  requireSupport(connection, apiKeys.AlterPartitionReassignments);
  const byTopic = new Map<string, PartitionReassignmentRequest[]>();
  for (const move of moves) byTopic.set(move.topic, [...(byTopic.get(move.topic) ?? []), move]);
  const response = await connection.call(
    apiKeys.AlterPartitionReassignments,
    createAlterPartitionReassignmentsRequest({
      timeoutMs,
      topics: [...byTopic].map(([name, partitions]) =>
        createAlterPartitionReassignmentsRequestReassignableTopic({
          name,
          partitions: partitions.map((move) =>
            createAlterPartitionReassignmentsRequestReassignablePartition({
              partitionIndex: move.partition,
              replicas: move.replicas === null ? null : [...move.replicas],
            }),
          ),
        }),
      ),
    }),
  );
  throwIfError(response.errorCode, () => response.errorMessage ?? 'cannot reassign partitions');
  return moves.map(({ topic, partition }) => {
    const answer = response.responses
      .find((t) => t.name === topic)
      ?.partitions.find((p) => p.partitionIndex === partition);
    if (answer === undefined)
      return { topic, partition, error: kafkaError(errorCodes.UNKNOWN_SERVER_ERROR, 'no answer') };
    if (answer.errorCode === errorCodes.NONE) return { topic, partition, error: null };
    return { topic, partition, error: kafkaError(answer.errorCode, answer.errorMessage ?? undefined) };
  });
}

/** The moves in progress (of `topics`, or all), sorted by topic and partition. */
export async function listPartitionReassignments(
  connection: KafkaConnection,
  topics: readonly string[] | undefined,
  timeoutMs: number,
): Promise<PartitionReassignment[]> {
  requireSupport(connection, apiKeys.ListPartitionReassignments);
  // Asking for everything spares a metadata round trip to learn each topic's partition indexes.
  const response = await connection.call(
    apiKeys.ListPartitionReassignments,
    createListPartitionReassignmentsRequest({ timeoutMs, topics: null }),
  );
  throwIfError(response.errorCode, () => response.errorMessage ?? 'cannot list reassignments');
  const wanted = topics === undefined ? undefined : new Set(topics);
  return response.topics
    .filter((topic) => wanted === undefined || wanted.has(topic.name))
    .flatMap((topic) =>
      topic.partitions.map((p) => ({
        topic: topic.name,
        partition: p.partitionIndex,
        replicas: p.replicas,
        addingReplicas: p.addingReplicas,
        removingReplicas: p.removingReplicas,
      })),
    )
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

function requireSupport(connection: KafkaConnection, apiKey: number): void {
  try {
    connection.versionFor(apiKey);
  } catch (error) {
    throw new TideError(clientErrorCodes.notSupported, notSupportedMessage, { cause: error });
  }
}
