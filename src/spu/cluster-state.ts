import type { UpdateMetadataRequest } from '../protocol/messages/update-metadata.ts';
import { isInternalTopic } from '../protocol/topic-names.ts';
import type { BrokerInfo, ClusterView, PartitionInfo, TopicInfo } from './cluster.ts';

/** The listener whose endpoint clients are given (the SPU registers its Kafka address under it). */
const clientListener = 'PLAINTEXT';
/** The listener followers replicate over: the SPU's internal one, never reached by clients. */
const replicationListener = 'INTERNAL';

interface TopicState {
  readonly name: string;
  readonly topicId: Buffer;
  readonly partitions: readonly PartitionInfo[];
}

/**
 * What an SPU in a cluster knows of the cluster: exactly what the SC pushed. UpdateMetadata brings
 * the live SPUs and every topic's partitions; AlterConfigs brings topic configs. Each UpdateMetadata
 * is the whole picture, so it replaces the previous one, except for partition states older (by
 * leader epoch) than those already known, which a late push from a deposed SC could carry.
 */
export class ClusterState implements ClusterView {
  readonly clusterId: string;
  /**
   * The controller Kafka clients are told about: this SPU. Clients send admin requests to the
   * controller broker of Metadata, and the SC is no broker they could reach; any SPU forwards admin
   * requests to the SC, so the SPU the client is talking to is the closest one.
   */
  readonly controllerId: number;
  /** The SC's id, from its pushes. */
  scId = -1;
  /** The largest controller epoch seen; pushes from older controllers are ignored. */
  controllerEpoch = -1;
  /** How many metadata pushes were applied: the SPU reports it as its metadata offset. */
  metadataVersion = 0n;
  #brokers: readonly BrokerInfo[] = [];
  #replicationBrokers: readonly BrokerInfo[] = [];
  #topics = new Map<string, TopicState>();
  readonly #configs = new Map<string, Readonly<Record<string, string>>>();

  constructor(options: { clusterId: string; selfId: number }) {
    this.clusterId = options.clusterId;
    this.controllerId = options.selfId;
  }

  brokers(): readonly BrokerInfo[] {
    return this.#brokers;
  }

  /** The live SPUs at their replication addresses (internal listeners), where followers fetch. */
  replicationBrokers(): readonly BrokerInfo[] {
    return this.#replicationBrokers;
  }

  topics(): readonly TopicInfo[] {
    return [...this.#topics.values()].map((topic) => this.#toInfo(topic));
  }

  topic(name: string): TopicInfo | undefined {
    const topic = this.#topics.get(name);
    return topic === undefined ? undefined : this.#toInfo(topic);
  }

  /** The config overrides pushed for `topic` (empty when none were). */
  configsOf(topic: string): Readonly<Record<string, string>> {
    return this.#configs.get(topic) ?? {};
  }

  /** Replaces the configs set on `topic` (AlterConfigs semantics: keys left out are defaults). */
  setConfigs(topic: string, configs: Readonly<Record<string, string>>): void {
    this.#configs.set(topic, configs);
  }

  /** Applies one UpdateMetadata push (already checked against the epochs). */
  applyMetadata(request: UpdateMetadataRequest): void {
    this.scId = request.controllerId;
    this.#brokers = brokersAt(request, clientListener);
    this.#replicationBrokers = brokersAt(request, replicationListener);
    const topics = new Map<string, TopicState>();
    for (const state of request.topicStates) {
      // By index, not by search: a topic may have thousands of partitions, and every push lists all.
      const known = new Map(
        (this.#topics.get(state.topicName)?.partitions ?? []).map((info) => [info.partition, info]),
      );
      const partitions = state.partitionStates
        .map((partition): PartitionInfo => {
          const current = known.get(partition.partitionIndex);
          if (current !== undefined && current.leaderEpoch > partition.leaderEpoch) return current;
          return {
            partition: partition.partitionIndex,
            leaderId: partition.leader,
            leaderEpoch: partition.leaderEpoch,
            replicas: partition.replicas,
            isr: partition.isr,
            offlineReplicas: partition.offlineReplicas,
          };
        })
        .sort((a, b) => a.partition - b.partition);
      topics.set(state.topicName, { name: state.topicName, topicId: state.topicId, partitions });
    }
    this.#topics = topics;
    // Configs arrive before the metadata that names a new topic, so only now can a topic that is
    // gone from the metadata lose its configs.
    for (const name of this.#configs.keys()) if (!topics.has(name)) this.#configs.delete(name);
    this.metadataVersion++;
  }

  #toInfo(topic: TopicState): TopicInfo {
    return {
      name: topic.name,
      topicId: topic.topicId,
      isInternal: isInternalTopic(topic.name),
      partitions: topic.partitions,
      configs: this.configsOf(topic.name),
    };
  }
}

/** Each live SPU at its endpoint on `listener` (the first endpoint when it names none such). */
function brokersAt(request: UpdateMetadataRequest, listener: string): BrokerInfo[] {
  return request.liveBrokers.flatMap((broker) => {
    const endpoint =
      broker.endpoints.find((candidate) => candidate.listener === listener) ?? broker.endpoints[0];
    return endpoint === undefined
      ? []
      : [{ id: broker.id, host: endpoint.host, port: endpoint.port, rack: broker.rack }];
  });
}
