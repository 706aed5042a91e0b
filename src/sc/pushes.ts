import { configResourceTypes } from '../protocol/enumerations.ts';
import {
  type AlterConfigsRequest,
  createAlterConfigsRequest,
  createAlterConfigsRequestAlterableConfig,
  createAlterConfigsRequestResource,
} from '../protocol/messages/alter-configs.ts';
import {
  createLeaderAndIsrRequest,
  createLeaderAndIsrRequestLiveLeader,
  createLeaderAndIsrRequestPartitionState,
  createLeaderAndIsrRequestTopicState,
  type LeaderAndIsrRequest,
} from '../protocol/messages/leader-and-isr.ts';
import {
  createStopReplicaRequest,
  createStopReplicaRequestPartitionState,
  createStopReplicaRequestTopicState,
  type StopReplicaRequest,
} from '../protocol/messages/stop-replica.ts';
import {
  createUpdateMetadataRequest,
  createUpdateMetadataRequestBroker,
  createUpdateMetadataRequestEndpoint,
  createUpdateMetadataRequestPartitionState,
  createUpdateMetadataRequestTopicState,
  type UpdateMetadataRequest,
} from '../protocol/messages/update-metadata.ts';
import { addingReplicas, removingReplicas } from './reassignment.ts';
import type { SpuRecord } from './spu-registry.ts';
import type { DeletionRecord, PartitionRecord, TopicRecord } from './topic-records.ts';

/**
 * The requests the SC pushes to an SPU's internal listener (docs/CONTROL-PLANE.md), built from the
 * stored state. Pure: the reconciler decides when and to whom.
 */

/** The versions of each push, fixed by the control-plane contract. */
export const pushVersions = Object.freeze({
  alterConfigs: 0,
  updateMetadata: 8,
  leaderAndIsr: 7,
  stopReplica: 4,
});

/** LeaderAndIsr v5+ `type`: FULL replaces the SPU's whole set of partitions, INCREMENTAL adds to it. */
export const leaderAndIsrTypes = Object.freeze({ incremental: 0, full: 1 });

/** StopReplica's leader epoch meaning "delete whatever epoch you have" (Kafka's sentinel). */
const deleteLeaderEpoch = -2;

export interface PushContext {
  readonly controllerId: number;
  readonly controllerEpoch: number;
  /** The receiving SPU's current broker epoch. */
  readonly brokerEpoch: number;
}

export interface TopicWithPartitions {
  readonly topic: TopicRecord;
  readonly partitions: readonly PartitionRecord[];
}

/** AlterConfigs with the full overrides of each topic in `topics` (every topic: any SPU describes them). */
export function buildAlterConfigs(topics: readonly TopicRecord[]): AlterConfigsRequest {
  return createAlterConfigsRequest({
    validateOnly: false,
    resources: topics.map((topic) =>
      createAlterConfigsRequestResource({
        resourceType: configResourceTypes.TOPIC,
        resourceName: topic.name,
        configs: Object.entries(topic.configs).map(([name, value]) =>
          createAlterConfigsRequestAlterableConfig({ name, value }),
        ),
      }),
    ),
  });
}

/**
 * UpdateMetadata: every online SPU and every partition as stored (leader -1 when leaderless);
 * replicas whose SPU is offline show in offlineReplicas.
 */
export function buildUpdateMetadata(
  context: PushContext,
  online: readonly SpuRecord[],
  topics: readonly TopicWithPartitions[],
): UpdateMetadataRequest {
  const onlineIds = new Set(online.map((spu) => spu.id));
  return createUpdateMetadataRequest({
    controllerId: context.controllerId,
    controllerEpoch: context.controllerEpoch,
    brokerEpoch: BigInt(context.brokerEpoch),
    liveBrokers: online.map((spu) =>
      createUpdateMetadataRequestBroker({
        id: spu.id,
        rack: spu.rack,
        endpoints: [
          createUpdateMetadataRequestEndpoint({
            host: spu.host,
            port: spu.port,
            listener: 'PLAINTEXT',
            securityProtocol: 0,
          }),
          // Followers replicate over the internal listener, the only one that takes follower fetches.
          createUpdateMetadataRequestEndpoint({
            host: spu.internalHost,
            port: spu.internalPort,
            listener: 'INTERNAL',
            securityProtocol: 0,
          }),
        ],
      }),
    ),
    topicStates: topics.map(({ topic, partitions }) =>
      createUpdateMetadataRequestTopicState({
        topicName: topic.name,
        topicId: Buffer.from(topic.topicId, 'hex'),
        partitionStates: partitions.map((partition) =>
          createUpdateMetadataRequestPartitionState({
            partitionIndex: partition.partition,
            controllerEpoch: context.controllerEpoch,
            leader: partition.leader,
            leaderEpoch: partition.leaderEpoch,
            isr: [...partition.isr],
            zkVersion: partition.partitionEpoch,
            replicas: [...partition.replicas],
            offlineReplicas: partition.replicas.filter((id) => !onlineIds.has(id)),
          }),
        ),
      }),
    ),
  });
}

/** LeaderAndIsr for the given partitions of one SPU (FULL: all it should hold). */
export function buildLeaderAndIsr(
  context: PushContext,
  type: number,
  topics: readonly TopicWithPartitions[],
  online: readonly SpuRecord[],
): LeaderAndIsrRequest {
  const leaders = new Set(
    topics.flatMap(({ partitions }) => partitions.map((partition) => partition.leader)),
  );
  return createLeaderAndIsrRequest({
    controllerId: context.controllerId,
    controllerEpoch: context.controllerEpoch,
    brokerEpoch: BigInt(context.brokerEpoch),
    type,
    topicStates: topics.map(({ topic, partitions }) =>
      createLeaderAndIsrRequestTopicState({
        topicName: topic.name,
        topicId: Buffer.from(topic.topicId, 'hex'),
        partitionStates: partitions.map((partition) =>
          createLeaderAndIsrRequestPartitionState({
            partitionIndex: partition.partition,
            controllerEpoch: context.controllerEpoch,
            leader: partition.leader,
            leaderEpoch: partition.leaderEpoch,
            isr: [...partition.isr],
            partitionEpoch: partition.partitionEpoch,
            replicas: [...partition.replicas],
            addingReplicas: addingReplicas(partition),
            removingReplicas: removingReplicas(partition),
            isNew: false,
          }),
        ),
      }),
    ),
    liveLeaders: online
      .filter((spu) => leaders.has(spu.id))
      .map((spu) =>
        createLeaderAndIsrRequestLiveLeader({ brokerId: spu.id, hostName: spu.host, port: spu.port }),
      ),
  });
}

/** StopReplica deleting the given replicas. */
export function buildStopReplica(
  context: PushContext,
  deletions: readonly DeletionRecord[],
): StopReplicaRequest {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of deletions)
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  return createStopReplicaRequest({
    controllerId: context.controllerId,
    controllerEpoch: context.controllerEpoch,
    brokerEpoch: BigInt(context.brokerEpoch),
    topicStates: [...byTopic].map(([topicName, partitions]) =>
      createStopReplicaRequestTopicState({
        topicName,
        partitionStates: partitions.map((partitionIndex) =>
          createStopReplicaRequestPartitionState({
            partitionIndex,
            leaderEpoch: deleteLeaderEpoch,
            deletePartition: true,
          }),
        ),
      }),
    ),
  });
}
