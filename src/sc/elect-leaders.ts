import type { Logger } from '../base/logger.ts';
import {
  createElectLeadersResponse,
  createElectLeadersResponsePartitionResult,
  createElectLeadersResponseReplicaElectionResult,
  type ElectLeadersRequest,
  type ElectLeadersResponse,
  type ElectLeadersResponsePartitionResult,
} from '../protocol/messages/elect-leaders.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { electAfterLoss, electPreferred, type IsOnline, noLeader } from './election.ts';
import type { MetadataStore, MetadataWrite } from './metadata-store.ts';
import type { SpuRegistry } from './spu-registry.ts';
import type { TopicFrontend } from './topic-frontend.ts';
import { type PartitionRecord, partitionKey, topicPartitions } from './topic-records.ts';

/**
 * ElectLeaders (`kafka-leader-election`, forwarded by the SPUs): an election an operator asks for,
 * decided by the same rules as the SC's own (election.ts) and recorded inside the topic frontend's
 * change queue, so it never interleaves with an admin change or a leadership pass.
 *
 * - Preferred (type 0, every version): leadership moves to the first replica when it is online and
 *   in sync; ELECTION_NOT_NEEDED when it leads already, PREFERRED_LEADER_NOT_AVAILABLE when it
 *   cannot, REASSIGNMENT_IN_PROGRESS while the partition moves (the move hands leadership over).
 * - Unclean (type 1, v1+): a partition whose leader is gone gets one, the first online replica when
 *   no in-sync replica is online (accepting lost writes, as the operator asked); ELECTION_NOT_NEEDED
 *   while its leader is online, ELIGIBLE_LEADERS_NOT_AVAILABLE when no replica is online.
 *
 * A request without partitions means every partition, and then answers only those it elected or
 * could not, leaving out the ones that needed nothing (as Kafka does).
 */

const electionTypes = Object.freeze({ preferred: 0, unclean: 1 });

export interface ElectionServices {
  readonly store: MetadataStore;
  readonly spus: SpuRegistry;
  readonly topics: TopicFrontend;
  readonly logger: Logger;
  /** Called after a change is committed (the reconciler pushes it to the SPUs). */
  readonly onChange: () => void;
}

interface Outcome {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly elected?: PartitionRecord;
}

export function electLeadersHandler(
  services: ElectionServices,
): (request: ElectLeadersRequest, apiVersion: number) => Promise<ElectLeadersResponse> {
  return (request, apiVersion) =>
    services.topics.exclusive(async () => {
      const electionType = apiVersion >= 1 ? request.electionType : electionTypes.preferred;
      if (electionType !== electionTypes.preferred && electionType !== electionTypes.unclean)
        return createElectLeadersResponse({ errorCode: errorCodes.INVALID_REQUEST });
      const all = request.topicPartitions === null;
      const asked = all ? everyPartition(services) : (request.topicPartitions ?? []);
      const online: IsOnline = (id) => services.spus.isOnline(id);
      const writes: MetadataWrite[] = [];
      const results = asked.map(({ topic, partitions }) =>
        createElectLeadersResponseReplicaElectionResult({
          topic,
          partitionResult: partitions.flatMap((index) => {
            const outcome = electOne(services, { topic, index, electionType, online });
            if (outcome.elected !== undefined) writes.push(writeOf(services.store, outcome.elected));
            if (all && outcome.errorCode === errorCodes.ELECTION_NOT_NEEDED) return [];
            return [resultOf(index, outcome)];
          }),
        }),
      );
      if (writes.length > 0) {
        await services.store.commit(writes);
        services.onChange();
      }
      return createElectLeadersResponse({
        errorCode: errorCodes.NONE,
        replicaElectionResults: results.filter((result) => !all || result.partitionResult.length > 0),
      });
    });
}

function everyPartition(services: ElectionServices): Array<{ topic: string; partitions: number[] }> {
  return services.topics.topics().map((topic) => ({
    topic: topic.name,
    partitions: topicPartitions(services.store, topic).map((partition) => partition.partition),
  }));
}

function electOne(
  services: ElectionServices,
  target: { topic: string; index: number; electionType: number; online: IsOnline },
): Outcome {
  const { topic, index, online } = target;
  const partition = services.store.get<PartitionRecord>('partitions', partitionKey(topic, index))?.value;
  if (partition === undefined || services.topics.topic(topic) === undefined)
    return failed(errorCodes.UNKNOWN_TOPIC_OR_PARTITION, `${topic}-${index} does not exist`);
  const outcome =
    target.electionType === electionTypes.preferred
      ? electPreferredOne(partition, online)
      : electUncleanOne(partition, online);
  if (outcome.elected !== undefined) {
    services.logger.info('leader elected on request', {
      topic,
      partition: index,
      electionType: target.electionType,
      leader: outcome.elected.leader,
      leaderEpoch: outcome.elected.leaderEpoch,
      isr: outcome.elected.isr,
    });
  }
  return outcome;
}

function electPreferredOne(partition: PartitionRecord, online: IsOnline): Outcome {
  const preferred = partition.replicas[0];
  if (preferred === partition.leader) return failed(errorCodes.ELECTION_NOT_NEEDED, null);
  if (partition.reassignment !== undefined)
    return failed(
      errorCodes.REASSIGNMENT_IN_PROGRESS,
      'the partition is moving; its move hands leadership over',
    );
  const elected = electPreferred(partition, online);
  if (elected === undefined)
    return failed(
      errorCodes.PREFERRED_LEADER_NOT_AVAILABLE,
      `preferred replica ${preferred} is not online and in sync`,
    );
  return { errorCode: errorCodes.NONE, errorMessage: null, elected };
}

function electUncleanOne(partition: PartitionRecord, online: IsOnline): Outcome {
  if (partition.leader !== noLeader && online(partition.leader))
    return failed(errorCodes.ELECTION_NOT_NEEDED, null);
  const elected = electAfterLoss(partition, online, true);
  if (elected === undefined || elected.leader === noLeader)
    return failed(errorCodes.ELIGIBLE_LEADERS_NOT_AVAILABLE, 'no replica of the partition is online');
  return { errorCode: errorCodes.NONE, errorMessage: null, elected };
}

function failed(errorCode: number, errorMessage: string | null): Outcome {
  return { errorCode, errorMessage };
}

function resultOf(index: number, outcome: Outcome): ElectLeadersResponsePartitionResult {
  return createElectLeadersResponsePartitionResult({
    partitionId: index,
    errorCode: outcome.errorCode,
    errorMessage: outcome.errorMessage,
  });
}

function writeOf(store: MetadataStore, record: PartitionRecord): MetadataWrite {
  const key = partitionKey(record.topic, record.partition);
  return {
    kind: 'partitions',
    key,
    value: record,
    expectedRevision: store.get('partitions', key)?.revision ?? 0,
  };
}
