import { createBrokerHeartbeatResponse } from '../protocol/messages/broker-heartbeat.ts';
import { createBrokerRegistrationResponse } from '../protocol/messages/broker-registration.ts';
import {
  createDescribeSpusResponse,
  createDescribeSpusResponseSpu,
} from '../protocol/messages/describe-spus.ts';
import {
  createDescribeTopicStatusResponse,
  createDescribeTopicStatusResponseConfig,
  createDescribeTopicStatusResponsePartition,
  createDescribeTopicStatusResponseTopic,
  type DescribeTopicStatusResponseTopic,
} from '../protocol/messages/describe-topic-status.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { createSpuStatusResponse, type SpuStatusRequestPartition } from '../protocol/messages/spu-status.ts';
import type { Leadership } from './leadership.ts';
import type { MetadataStore } from './metadata-store.ts';
import { allocateProducerIdsHandler, ProducerIdAllocator } from './producer-ids.ts';
import { replicaProgress } from './reassignment-frontend.ts';
import type { ScHandlerTable } from './router.ts';
import type { SpuRegistry } from './spu-registry.ts';
import type { TopicFrontend } from './topic-frontend.ts';
import {
  type PartitionRecord,
  pendingDeletions,
  type TopicRecord,
  topicPartitions,
  topicStatus,
} from './topic-records.ts';

/**
 * What SPUs and tools ask the SC: registration and heartbeats (SPU liveness), status reports, and
 * the Tide extension APIs that describe SPUs and topics.
 */

/** The latest SpuStatus report of each SPU, memory only (SPUs report every few seconds). */
export class StatusReports {
  readonly #bySpu = new Map<number, Map<string, SpuStatusRequestPartition>>();

  record(spuId: number, partitions: readonly SpuStatusRequestPartition[]): void {
    this.#bySpu.set(spuId, new Map(partitions.map((p) => [`${p.topic}/${p.partition}`, p])));
  }

  get(spuId: number, topic: string, partition: number): SpuStatusRequestPartition | undefined {
    return this.#bySpu.get(spuId)?.get(`${topic}/${partition}`);
  }
}

export function spuHandlers(options: {
  store: MetadataStore;
  spus: SpuRegistry;
  topics: TopicFrontend;
  reports: StatusReports;
  leadership: Leadership;
  /** Controlled shutdown: moves leadership off the SPU and pushes that, before it is told to stop. */
  shutDown: (spuId: number) => Promise<void>;
}): ScHandlerTable {
  const { spus, reports } = options;
  return {
    56: (request, version) => options.leadership.alterPartition(request, version),
    62: async (request) => {
      const plaintext =
        request.listeners.find((listener) => listener.name !== 'INTERNAL') ?? request.listeners[0];
      const internal = request.listeners.find((listener) => listener.name === 'INTERNAL');
      if (plaintext === undefined || internal === undefined)
        return createBrokerRegistrationResponse({ errorCode: errorCodes.INVALID_REQUEST, brokerEpoch: -1n });
      const outcome = await spus.register({
        id: request.brokerId,
        clusterId: request.clusterId,
        incarnationId: request.incarnationId,
        host: plaintext.host,
        port: plaintext.port,
        internalHost: internal.host,
        internalPort: internal.port,
        rack: request.rack,
      });
      return createBrokerRegistrationResponse({
        errorCode: outcome.errorCode,
        brokerEpoch: BigInt(outcome.brokerEpoch),
      });
    },
    63: async (request) => {
      const errorCode = spus.heartbeat(request.brokerId, Number(request.brokerEpoch), request.wantShutDown);
      if (request.wantShutDown && errorCode === errorCodes.NONE) await options.shutDown(request.brokerId);
      return createBrokerHeartbeatResponse({
        errorCode,
        isCaughtUp: errorCode === errorCodes.NONE,
        isFenced: errorCode !== errorCodes.NONE,
        shouldShutDown: request.wantShutDown && errorCode === errorCodes.NONE,
      });
    },
    67: allocateProducerIdsHandler({
      allocator: new ProducerIdAllocator(options.store),
      isCurrent: (spuId, brokerEpoch) => spus.isCurrent(spuId, brokerEpoch),
    }),
    1000: async (request) => {
      if (!spus.isCurrent(request.brokerId, Number(request.brokerEpoch)))
        return createSpuStatusResponse({ errorCode: errorCodes.STALE_BROKER_EPOCH });
      reports.record(request.brokerId, request.partitions);
      return createSpuStatusResponse({ errorCode: errorCodes.NONE });
    },
    1001: async (request) => {
      const wanted = request.spuIds === null ? undefined : new Set(request.spuIds);
      const led = new Map<number, number>();
      for (const { value } of options.store.list<PartitionRecord>('partitions'))
        led.set(value.leader, (led.get(value.leader) ?? 0) + 1);
      return createDescribeSpusResponse({
        spus: spus
          .list()
          .filter((spu) => wanted === undefined || wanted.has(spu.id))
          .map((spu) =>
            createDescribeSpusResponseSpu({
              spuId: spu.id,
              host: spu.host,
              port: spu.port,
              rack: spu.rack,
              online: spus.isOnline(spu.id),
              partitionsLed: led.get(spu.id) ?? 0,
              internalHost: spu.internalHost,
              internalPort: spu.internalPort,
            }),
          ),
      });
    },
    1002: async (request) => {
      const names = request.topics ?? options.topics.topics().map((topic) => topic.name);
      return createDescribeTopicStatusResponse({
        topics: [...new Set(names)].map((name) => describeTopic(options, name)),
      });
    },
  };
}

function describeTopic(
  options: { store: MetadataStore; spus: SpuRegistry; topics: TopicFrontend; reports: StatusReports },
  name: string,
): DescribeTopicStatusResponseTopic {
  const topic = options.topics.topic(name);
  if (topic === undefined) {
    const deleting = pendingDeletions(options.store, name);
    if (deleting.length === 0)
      return createDescribeTopicStatusResponseTopic({
        name,
        errorCode: errorCodes.UNKNOWN_TOPIC_OR_PARTITION,
        status: '',
      });
    return createDescribeTopicStatusResponseTopic({
      name,
      status: 'deleting',
      reason: `waiting for SPU(s) ${deleting.join(', ')} to remove their replicas`,
    });
  }
  const status = topicStatus(options.store, topic, options.spus.onlineSpus().length);
  return createDescribeTopicStatusResponseTopic({
    name,
    topicId: Buffer.from(topic.topicId, 'hex'),
    status: status.status,
    reason: status.reason,
    replicationFactor: topic.replicationFactor,
    configs: Object.entries(topic.configs).map(([key, value]) =>
      createDescribeTopicStatusResponseConfig({ name: key, value }),
    ),
    partitions: describePartitions(options, topic),
  });
}

/**
 * Partition status: offline when it has no leader (-1) or its leader's SPU is offline (until the
 * election), under-replicated when a replica is offline or out of the ISR, else online.
 * Offsets and size come from the leader's latest report (-1 until it reported).
 */
function describePartitions(
  options: { store: MetadataStore; spus: SpuRegistry; reports: StatusReports },
  topic: TopicRecord,
) {
  return topicPartitions(options.store, topic).map((partition) => {
    const report = options.reports.get(partition.leader, topic.name, partition.partition);
    const online = (id: number): boolean => options.spus.isOnline(id);
    const status = !online(partition.leader)
      ? 'offline'
      : partition.replicas.every(online) && partition.isr.length === partition.replicas.length
        ? 'online'
        : 'under-replicated';
    return createDescribeTopicStatusResponsePartition({
      partition: partition.partition,
      leader: partition.leader,
      leaderEpoch: partition.leaderEpoch,
      replicas: [...partition.replicas],
      isr: [...partition.isr],
      logStartOffset: report?.logStartOffset ?? -1n,
      logEndOffset: report?.logEndOffset ?? -1n,
      highWatermark: report?.highWatermark ?? -1n,
      sizeBytes: report?.sizeBytes ?? -1n,
      status,
      ...replicaProgress(partition, report),
    });
  });
}
