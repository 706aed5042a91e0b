import type { Logger } from '../base/logger.ts';
import {
  type AlterPartitionReassignmentsRequest,
  type AlterPartitionReassignmentsResponse,
  createAlterPartitionReassignmentsResponse,
  createAlterPartitionReassignmentsResponseReassignablePartitionResponse,
  createAlterPartitionReassignmentsResponseReassignableTopicResponse,
} from '../protocol/messages/alter-partition-reassignments.ts';
import {
  createDescribeTopicStatusResponseReplicaOffset,
  type DescribeTopicStatusResponsePartition,
} from '../protocol/messages/describe-topic-status.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import {
  createListPartitionReassignmentsResponse,
  createListPartitionReassignmentsResponseOngoingPartitionReassignment,
  createListPartitionReassignmentsResponseOngoingTopicReassignment,
  type ListPartitionReassignmentsRequest,
  type ListPartitionReassignmentsResponse,
} from '../protocol/messages/list-partition-reassignments.ts';
import type { SpuStatusRequestPartition } from '../protocol/messages/spu-status.ts';
import type { MetadataStore, MetadataWrite } from './metadata-store.ts';
import {
  addingReplicas,
  cancelReassignment,
  dropWrites,
  keepWrites,
  type ReassignmentProblem,
  type ReassignmentStep,
  removingReplicas,
  startReassignment,
  targetProblem,
} from './reassignment.ts';
import type { SpuRegistry } from './spu-registry.ts';
import type { TopicFrontend } from './topic-frontend.ts';
import { type PartitionRecord, partitionKey, topicPartitions } from './topic-records.ts';

/**
 * The frontend of partition reassignments: validates AlterPartitionReassignments, records the start
 * (or cancel) of each move in the partition records, and lists the moves in progress. The moves
 * themselves advance in the leadership pass (reassignment.ts). Runs inside the topic frontend's change
 * queue, like every other change of topics and partitions. The answer comes once the move is
 * recorded, not when it completes (as in Kafka); `timeoutMs` is therefore not used.
 *
 * Per-partition errors: UNKNOWN_TOPIC_OR_PARTITION (no such topic, or partition not placed yet),
 * INVALID_REPLICA_ASSIGNMENT (empty list, an SPU twice, an SPU never registered, or no in-sync
 * replica left), NO_REASSIGNMENT_IN_PROGRESS (cancel of nothing), INVALID_REQUEST (a partition named
 * twice in one request), REASSIGNMENT_IN_PROGRESS (the leader must move but no in-sync replica is
 * online to take over).
 */
export class Reassignments {
  readonly #store: MetadataStore;
  readonly #spus: SpuRegistry;
  readonly #topics: TopicFrontend;
  readonly #logger: Logger;
  readonly #onChange: () => void;

  constructor(options: {
    store: MetadataStore;
    spus: SpuRegistry;
    topics: TopicFrontend;
    logger: Logger;
    onChange: () => void;
  }) {
    this.#store = options.store;
    this.#spus = options.spus;
    this.#topics = options.topics;
    this.#logger = options.logger;
    this.#onChange = options.onChange;
  }

  alter(request: AlterPartitionReassignmentsRequest): Promise<AlterPartitionReassignmentsResponse> {
    return this.#topics.exclusive(async () => {
      const counts = new Map<string, number>();
      for (const topic of request.topics)
        for (const { partitionIndex } of topic.partitions) {
          const key = partitionKey(topic.name, partitionIndex);
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      const writes: MetadataWrite[] = [];
      const responses = request.topics.map((topic) =>
        createAlterPartitionReassignmentsResponseReassignableTopicResponse({
          name: topic.name,
          partitions: topic.partitions.map(({ partitionIndex, replicas }) => {
            const answer = (problem: ReassignmentProblem | undefined) =>
              createAlterPartitionReassignmentsResponseReassignablePartitionResponse({
                partitionIndex,
                errorCode: problem?.errorCode ?? errorCodes.NONE,
                errorMessage: problem?.message ?? null,
              });
            if ((counts.get(partitionKey(topic.name, partitionIndex)) ?? 0) > 1)
              return answer({
                errorCode: errorCodes.INVALID_REQUEST,
                message: `partition ${partitionIndex} of ${topic.name} appears more than once`,
              });
            return answer(this.#alterOne(topic.name, partitionIndex, replicas, writes));
          }),
        }),
      );
      if (writes.length > 0) {
        await this.#store.commit(writes);
        this.#onChange();
      }
      return createAlterPartitionReassignmentsResponse({ responses });
    });
  }

  list(request: ListPartitionReassignmentsRequest): Promise<ListPartitionReassignmentsResponse> {
    const wanted =
      request.topics === null
        ? undefined
        : new Map(request.topics.map((topic) => [topic.name, new Set(topic.partitionIndexes)]));
    const topics = this.#topics
      .topics()
      .filter((topic) => wanted === undefined || wanted.has(topic.name))
      .map((topic) => ({
        name: topic.name,
        partitions: topicPartitions(this.#store, topic).filter(
          (p) =>
            p.reassignment !== undefined &&
            (wanted === undefined || wanted.get(topic.name)?.has(p.partition) === true),
        ),
      }))
      .filter(({ partitions }) => partitions.length > 0);
    return Promise.resolve(
      createListPartitionReassignmentsResponse({
        topics: topics.map(({ name, partitions }) =>
          createListPartitionReassignmentsResponseOngoingTopicReassignment({
            name,
            partitions: partitions.map((p) =>
              createListPartitionReassignmentsResponseOngoingPartitionReassignment({
                partitionIndex: p.partition,
                replicas: [...p.replicas],
                addingReplicas: addingReplicas(p),
                removingReplicas: removingReplicas(p),
              }),
            ),
          }),
        ),
      }),
    );
  }

  /** Validates and decides one partition's change, adding its writes; the problem, if any. */
  #alterOne(
    topic: string,
    index: number,
    replicas: readonly number[] | null,
    writes: MetadataWrite[],
  ): ReassignmentProblem | undefined {
    const key = partitionKey(topic, index);
    const stored =
      this.#topics.topic(topic) === undefined
        ? undefined
        : this.#store.get<PartitionRecord>('partitions', key);
    if (stored === undefined)
      return {
        errorCode: errorCodes.UNKNOWN_TOPIC_OR_PARTITION,
        message: `partition ${index} of topic ${topic} does not exist`,
      };
    const partition = stored.value;
    const online = (id: number): boolean => this.#spus.isOnline(id);
    let step: ReassignmentStep | ReassignmentProblem | undefined;
    if (replicas === null) {
      step = cancelReassignment(partition, online);
    } else {
      const known = new Set(this.#spus.list().map((spu) => spu.id));
      step = targetProblem(index, replicas, known) ?? startReassignment(partition, replicas, online);
    }
    if (step === undefined) return undefined;
    if (!('record' in step)) return step;
    const { record, dropped } = step;
    writes.push(
      { kind: 'partitions', key, value: record, expectedRevision: stored.revision },
      ...dropWrites(this.#store, record, dropped),
      ...keepWrites(this.#store, record),
    );
    this.#logger.info(replicas === null ? 'reassignment cancelled' : 'reassignment started', {
      topic,
      partition: index,
      replicas: record.replicas,
      adding: addingReplicas(record),
      removing: removingReplicas(record),
      dropped,
    });
    return undefined;
  }
}

/**
 * The DescribeTopicStatus fields about replica progress: each replica's log end offset from the
 * leader's latest report (its own, and its followers' as their fetches showed them, -1 when not
 * known), and the move in progress.
 */
export function replicaProgress(
  partition: PartitionRecord,
  leaderReport: SpuStatusRequestPartition | undefined,
): Pick<
  DescribeTopicStatusResponsePartition,
  'replicaLogEndOffsets' | 'addingReplicas' | 'removingReplicas'
> {
  const logEndOffsetOf = (replicaId: number): bigint => {
    if (leaderReport === undefined) return -1n;
    if (replicaId === partition.leader) return leaderReport.logEndOffset;
    return leaderReport.followers.find((f) => f.replicaId === replicaId)?.logEndOffset ?? -1n;
  };
  return {
    replicaLogEndOffsets: partition.replicas.map((replicaId) =>
      createDescribeTopicStatusResponseReplicaOffset({ replicaId, logEndOffset: logEndOffsetOf(replicaId) }),
    ),
    addingReplicas: addingReplicas(partition),
    removingReplicas: removingReplicas(partition),
  };
}
