import { setTimeout as delay } from 'node:timers/promises';
import type { KafkaConnection } from '../net/kafka-connection.ts';
import { configOperations, configResourceTypes, configSources } from '../protocol/enumerations.ts';
import { apiKeys } from '../protocol/messages/api-keys.ts';
import {
  createCreatePartitionsRequest,
  createCreatePartitionsRequestAssignment,
  createCreatePartitionsRequestTopic,
} from '../protocol/messages/create-partitions.ts';
import {
  createCreateTopicsRequest,
  createCreateTopicsRequestCreatableReplicaAssignment,
  createCreateTopicsRequestCreatableTopic,
  createCreateTopicsRequestCreatableTopicConfig,
} from '../protocol/messages/create-topics.ts';
import { createDeleteTopicsRequest } from '../protocol/messages/delete-topics.ts';
import { createDescribeClusterRequest } from '../protocol/messages/describe-cluster.ts';
import {
  createDescribeConfigsRequest,
  createDescribeConfigsRequestResource,
  type DescribeConfigsResponseResourceResult,
} from '../protocol/messages/describe-configs.ts';
import { createDescribeSpusRequest } from '../protocol/messages/describe-spus.ts';
import {
  createDescribeTopicStatusRequest,
  type DescribeTopicStatusResponseTopic,
} from '../protocol/messages/describe-topic-status.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import {
  createIncrementalAlterConfigsRequest,
  createIncrementalAlterConfigsRequestAlterableConfig,
  createIncrementalAlterConfigsRequestAlterConfigsResource,
} from '../protocol/messages/incremental-alter-configs.ts';
import { createMetadataRequest, type MetadataResponseTopic } from '../protocol/messages/metadata.ts';
import { GroupAdmin } from './admin-groups.ts';
import type {
  ClusterDescription,
  ConfigChanges,
  ConfigEntry,
  ConfigSource,
  CreatedTopic,
  CreateTopicOptions,
  DeleteTopicResult,
  PartitionPlacement,
  PartitionReassignment,
  PartitionReassignmentRequest,
  PartitionReassignmentResult,
  PartitionStatus,
  SpuDescription,
  TopicDescription,
  TopicListing,
} from './admin-types.ts';
import type { ClusterClient } from './cluster-client.ts';
import { kafkaError, TideClientError, throwIfError } from './errors.ts';
import {
  partitionsFromListOffsets,
  partitionsFromStatus,
  placementOf,
  topicIdText,
} from './partition-status.ts';
import { listPartitionReassignments, reassignPartitions } from './reassignment.ts';

export * from './admin-groups.ts';
export type * from './admin-types.ts';

/**
 * Managing topics, configs and SPUs. Requests go to any SPU (in a cluster the SPU forwards admin
 * changes to the controller). Failures throw TideClientError with the Kafka error name, so callers
 * can match on `errorName` (`TOPIC_ALREADY_EXISTS`, `INVALID_CONFIG`, …).
 */
export const adminDefaults = Object.freeze({
  partitions: 1, // of a new topic
  replicationFactor: 1, // of a new topic
  timeoutMs: 30_000, // ms the cluster may take to apply a topic change
  // While an SPU has no SC to forward a topic change to (it answers NOT_CONTROLLER: the cluster is
  // starting, or its SC restarting), the change is tried again, up to timeoutMs in all:
  controllerRetryBackoffMs: 100, // ms before the first retry, doubling each time
  controllerRetryBackoffMaxMs: 1_000, // ms between retries at most
});

function isNotController(error: unknown): boolean {
  return error instanceof TideClientError && error.errorCode === errorCodes.NOT_CONTROLLER;
}

/** Kafka's config source codes, as the admin client names them. */
const configSourceNames: Readonly<Record<number, ConfigSource>> = Object.freeze({
  [configSources.UNKNOWN]: 'unknown',
  [configSources.DYNAMIC_TOPIC_CONFIG]: 'topic',
  [configSources.DYNAMIC_BROKER_CONFIG]: 'dynamic-broker',
  [configSources.DYNAMIC_DEFAULT_BROKER_CONFIG]: 'dynamic-default-broker',
  [configSources.STATIC_BROKER_CONFIG]: 'static-broker',
  [configSources.DEFAULT_CONFIG]: 'default',
  [configSources.DYNAMIC_BROKER_LOGGER_CONFIG]: 'broker-logger',
  [configSources.CLIENT_METRICS_CONFIG]: 'client-metrics',
  [configSources.GROUP_CONFIG]: 'group',
});

export class Admin {
  readonly #cluster: ClusterClient;

  constructor(cluster: ClusterClient) {
    this.#cluster = cluster;
  }

  // Consumer groups (src/client/admin-groups.ts) --------------------------------------------------
  /** Consumer groups: listGroups, describeGroup, deleteGroups, fetchOffsets, resetOffsets. */
  groups(): GroupAdmin {
    return new GroupAdmin(this.#cluster);
  }
  // ------------------------------------------------------------------------------------------------

  /** Creates a topic; throws TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_CONFIG, … */
  async createTopic(name: string, options: CreateTopicOptions = {}): Promise<CreatedTopic> {
    const explicit = options.assignments !== undefined && options.assignments.length > 0;
    const topic = createCreateTopicsRequestCreatableTopic({
      name,
      numPartitions: explicit ? -1 : (options.partitions ?? adminDefaults.partitions),
      replicationFactor: explicit ? -1 : (options.replicationFactor ?? adminDefaults.replicationFactor),
      assignments: (options.assignments ?? []).map((brokerIds, partitionIndex) =>
        createCreateTopicsRequestCreatableReplicaAssignment({ partitionIndex, brokerIds: [...brokerIds] }),
      ),
      configs: Object.entries(options.configs ?? {}).map(([key, value]) =>
        createCreateTopicsRequestCreatableTopicConfig({ name: key, value }),
      ),
    });
    const timeoutMs = options.timeoutMs ?? adminDefaults.timeoutMs;
    const result = await this.#withController(timeoutMs, async () => {
      const response = await this.#cluster.callAny(
        apiKeys.CreateTopics,
        createCreateTopicsRequest({
          topics: [topic],
          timeoutMs,
          validateOnly: options.validateOnly ?? false,
        }),
      );
      const answer = response.topics.find((t) => t.name === name);
      if (answer === undefined)
        throw kafkaError(errorCodes.UNKNOWN_SERVER_ERROR, `no answer for topic "${name}"`);
      throwIfError(answer.errorCode, () => answer.errorMessage ?? `cannot create topic "${name}"`);
      return answer;
    });
    this.#cluster.invalidate(name);
    const partitions = result.numPartitions >= 0 ? result.numPartitions : (topic.numPartitions ?? 0);
    return {
      name,
      topicId: topicIdText(result.topicId),
      partitions: explicit && result.numPartitions < 0 ? topic.assignments.length : partitions,
      replicationFactor:
        result.replicationFactor >= 0
          ? result.replicationFactor
          : (options.assignments?.[0]?.length ?? topic.replicationFactor),
    };
  }

  /** Every topic, sorted by name; internal ones (`__…`) only with `includeInternal`. */
  async listTopics(options: { includeInternal?: boolean } = {}): Promise<TopicListing[]> {
    const response = await this.#cluster.callAny(
      apiKeys.Metadata,
      createMetadataRequest({ topics: null, allowAutoTopicCreation: false }),
    );
    return response.topics
      .filter((t) => t.name !== null && t.errorCode === errorCodes.NONE)
      .map(toListing)
      .filter((t) => options.includeInternal === true || !t.internal)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A topic's partitions (leaders, replicas, ISR) and configs; throws UNKNOWN_TOPIC_OR_PARTITION. */
  async describeTopic(name: string): Promise<TopicDescription> {
    const metadata = await this.#cluster.topicMetadata(name, { refresh: true });
    const [configs, status] = await Promise.all([
      this.describeConfigs(name),
      this.#topicStatus([name]).then((topics) => topics?.find((t) => t.name === name)),
    ]);
    const partitionDetails: PartitionPlacement[] = metadata.partitions.map(placementOf);
    return {
      name,
      topicId: topicIdText(metadata.topicId),
      partitions: partitionDetails.length,
      replicationFactor: status?.replicationFactor ?? partitionDetails[0]?.replicas.length ?? 0,
      internal: metadata.isInternal,
      partitionDetails,
      configs,
      status: status?.status ?? null,
      statusReason: status?.reason ?? null,
    };
  }

  /** Deletes one topic; throws UNKNOWN_TOPIC_OR_PARTITION when it does not exist. */
  async deleteTopic(name: string): Promise<void> {
    const [result] = await this.deleteTopics([name]);
    if (result?.error) throw result.error;
  }

  /** Deletes topics, reporting each one's outcome (an error per topic, not a throw). */
  async deleteTopics(names: readonly string[]): Promise<DeleteTopicResult[]> {
    const response = await this.#withController(
      adminDefaults.timeoutMs,
      () =>
        this.#cluster.callAny(
          apiKeys.DeleteTopics,
          createDeleteTopicsRequest({ topicNames: [...names], timeoutMs: adminDefaults.timeoutMs }),
        ),
      // Without an SC every topic gets NOT_CONTROLLER; a mixed answer came from one.
      (answer) =>
        answer.responses.length > 0 &&
        answer.responses.every((result) => result.errorCode === errorCodes.NOT_CONTROLLER),
    );
    return names.map((name) => {
      this.#cluster.invalidate(name);
      const result = response.responses.find((r) => r.name === name);
      if (result === undefined) {
        return { name, error: kafkaError(errorCodes.UNKNOWN_SERVER_ERROR, `no answer for topic "${name}"`) };
      }
      if (result.errorCode === errorCodes.NONE) return { name, error: null };
      const message =
        result.errorCode === errorCodes.UNKNOWN_TOPIC_OR_PARTITION
          ? `topic "${name}" does not exist`
          : (result.errorMessage ?? `cannot delete topic "${name}"`);
      return { name, error: kafkaError(result.errorCode, message) };
    });
  }

  /**
   * Grows `topic` to `totalPartitions` partitions (partitions are never removed). `assignments`
   * places the new ones: one list of SPU ids per added partition.
   */
  async addPartitions(
    topic: string,
    totalPartitions: number,
    options: { assignments?: readonly (readonly number[])[]; validateOnly?: boolean } = {},
  ): Promise<void> {
    const assignments = options.assignments?.map((ids) =>
      createCreatePartitionsRequestAssignment({ brokerIds: [...ids] }),
    );
    await this.#withController(adminDefaults.timeoutMs, async () => {
      const response = await this.#cluster.callAny(
        apiKeys.CreatePartitions,
        createCreatePartitionsRequest({
          topics: [
            createCreatePartitionsRequestTopic({
              name: topic,
              count: totalPartitions,
              assignments: assignments ?? null,
            }),
          ],
          timeoutMs: adminDefaults.timeoutMs,
          validateOnly: options.validateOnly ?? false,
        }),
      );
      const result = response.results.find((r) => r.name === topic);
      if (result === undefined)
        throw kafkaError(errorCodes.UNKNOWN_SERVER_ERROR, `no answer for topic "${topic}"`);
      throwIfError(result.errorCode, () => result.errorMessage ?? `cannot add partitions to "${topic}"`);
    });
    this.#cluster.invalidate(topic);
  }

  /** A topic's configs (all of them, or `keys`), with effective values and sources. */
  async describeConfigs(topic: string, options: { keys?: readonly string[] } = {}): Promise<ConfigEntry[]> {
    const response = await this.#cluster.callAny(
      apiKeys.DescribeConfigs,
      createDescribeConfigsRequest({
        resources: [
          createDescribeConfigsRequestResource({
            resourceType: configResourceTypes.TOPIC,
            resourceName: topic,
            configurationKeys: options.keys === undefined ? null : [...options.keys],
          }),
        ],
      }),
    );
    const result = response.results[0];
    if (result === undefined) throw kafkaError(errorCodes.UNKNOWN_SERVER_ERROR, `no configs for "${topic}"`);
    throwIfError(result.errorCode, () =>
      result.errorCode === errorCodes.UNKNOWN_TOPIC_OR_PARTITION
        ? `topic "${topic}" does not exist`
        : (result.errorMessage ?? `cannot describe configs of "${topic}"`),
    );
    return result.configs.map(toConfigEntry).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The settings SPU `spuId` was started with (asked of that SPU itself). */
  async describeSpuConfigs(spuId: number): Promise<ConfigEntry[]> {
    const connection = await this.#cluster.connectionTo(spuId);
    const response = await connection.call(
      apiKeys.DescribeConfigs,
      createDescribeConfigsRequest({
        resources: [
          createDescribeConfigsRequestResource({
            resourceType: configResourceTypes.BROKER,
            resourceName: String(spuId),
            configurationKeys: null,
          }),
        ],
      }),
    );
    const result = response.results[0];
    if (result === undefined)
      throw kafkaError(errorCodes.UNKNOWN_SERVER_ERROR, `no configs for SPU ${spuId}`);
    throwIfError(result.errorCode, () => result.errorMessage ?? `cannot describe SPU ${spuId}`);
    return result.configs.map(toConfigEntry).sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Changes some configs of a topic and leaves the others (IncrementalAlterConfigs): a string value
   * sets the key, null returns it to its default.
   */
  async alterConfigs(
    topic: string,
    changes: ConfigChanges,
    options: { validateOnly?: boolean } = {},
  ): Promise<void> {
    const configs = Object.entries(changes).map(([name, value]) =>
      createIncrementalAlterConfigsRequestAlterableConfig({
        name,
        value,
        configOperation: value === null ? configOperations.DELETE : configOperations.SET,
      }),
    );
    await this.#withController(adminDefaults.timeoutMs, async () => {
      const response = await this.#cluster.callAny(
        apiKeys.IncrementalAlterConfigs,
        createIncrementalAlterConfigsRequest({
          resources: [
            createIncrementalAlterConfigsRequestAlterConfigsResource({
              resourceType: configResourceTypes.TOPIC,
              resourceName: topic,
              configs,
            }),
          ],
          validateOnly: options.validateOnly ?? false,
        }),
      );
      const result = response.responses[0];
      if (result === undefined) throw kafkaError(errorCodes.UNKNOWN_SERVER_ERROR, `no answer for "${topic}"`);
      throwIfError(result.errorCode, () =>
        result.errorCode === errorCodes.UNKNOWN_TOPIC_OR_PARTITION
          ? `topic "${topic}" does not exist`
          : (result.errorMessage ?? `cannot alter configs of "${topic}"`),
      );
    });
  }

  /**
   * Runs a change the SC carries out, and runs it again while the answer is NOT_CONTROLLER (thrown,
   * or `noController(answer)`), up to `timeoutMs` in all. Such an answer normally means the SPU had
   * no SC to forward the request to, so nothing changed; if instead the SC's answer was lost, the
   * retry reports what the first attempt did (TOPIC_ALREADY_EXISTS, say), as Kafka's clients do.
   */
  async #withController<T>(
    timeoutMs: number,
    attempt: () => Promise<T>,
    noController: (answer: T) => boolean = () => false,
  ): Promise<T> {
    const deadlineMs = performance.now() + timeoutMs;
    let backoffMs: number = adminDefaults.controllerRetryBackoffMs;
    for (;;) {
      const outcome = await attempt().then(
        (answer) => ({ ok: true as const, answer }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      const again = outcome.ok ? noController(outcome.answer) : isNotController(outcome.error);
      if (!again || performance.now() + backoffMs > deadlineMs) {
        if (outcome.ok) return outcome.answer;
        throw outcome.error;
      }
      await delay(backoffMs);
      backoffMs = Math.min(backoffMs * 2, adminDefaults.controllerRetryBackoffMaxMs);
    }
  }

  /**
   * Every partition (of `topic`, or of all topics) with leader, replicas, ISR and offsets. A cluster
   * controller reports them (DescribeTopicStatus); a standalone SPU is asked with Metadata and
   * ListOffsets.
   */
  async partitions(topic?: string, options: { includeInternal?: boolean } = {}): Promise<PartitionStatus[]> {
    // Of all topics, internal ones (`__…`) only with includeInternal, as in listTopics.
    const wanted = (name: string, flagged: boolean): boolean =>
      topic === undefined
        ? options.includeInternal === true || !isInternalTopic(name, flagged)
        : name === topic;
    if (topic !== undefined) await this.#cluster.topicMetadata(topic, { refresh: true });
    const status = await this.#topicStatus(topic === undefined ? null : [topic]);
    if (status !== undefined)
      return status.filter((t) => wanted(t.name, false)).flatMap(partitionsFromStatus);
    await this.#cluster.refreshMetadata(topic === undefined ? null : [topic]);
    const topics = this.#cluster.cachedTopics().filter((t) => wanted(t.name, t.isInternal));
    return partitionsFromListOffsets(this.#cluster, topics);
  }

  /**
   * Moves partitions to other SPUs (`replicas`: the target SPU ids, preferred leader first) or, with
   * `replicas: null`, cancels the move in progress. Resolves once the controller recorded each
   * move, with one outcome per partition (UNKNOWN_TOPIC_OR_PARTITION, INVALID_REPLICA_ASSIGNMENT,
   * NO_REASSIGNMENT_IN_PROGRESS, …); the data is copied in the background: watch
   * `listPartitionReassignments` or `partitions`. Not supported by a standalone SPU.
   */
  async reassignPartitions(
    moves: readonly PartitionReassignmentRequest[],
  ): Promise<PartitionReassignmentResult[]> {
    const results = await reassignPartitions(
      await this.#cluster.anyConnection(),
      moves,
      adminDefaults.timeoutMs,
    );
    for (const { topic } of moves) this.#cluster.invalidate(topic);
    return results;
  }

  /** The partition moves in progress (of `topics`, or of every topic). */
  async listPartitionReassignments(topics?: readonly string[]): Promise<PartitionReassignment[]> {
    return listPartitionReassignments(await this.#cluster.anyConnection(), topics, adminDefaults.timeoutMs);
  }

  /** The SPUs with their status and how many partitions each leads. */
  async spus(): Promise<SpuDescription[]> {
    const connection = await this.#cluster.anyConnection();
    if (speaks(connection, apiKeys.DescribeSpus)) {
      const response = await connection.call(
        apiKeys.DescribeSpus,
        createDescribeSpusRequest({ spuIds: null }),
      );
      if (response.errorCode === errorCodes.NONE) {
        return response.spus
          .map((spu) => ({
            id: spu.spuId,
            host: spu.host,
            port: spu.port,
            rack: spu.rack,
            status: spu.online ? ('online' as const) : ('offline' as const),
            partitionsLed: spu.partitionsLed,
          }))
          .sort((a, b) => a.id - b.id);
      }
      // A cluster SPU whose SC is unreachable: Metadata would show every SPU as online, which
      // nobody can vouch for now, so say so instead.
      throwIfError(response.errorCode, () => 'the SC cannot be reached to tell which SPUs are online');
    }
    return this.#spusFromMetadata();
  }

  /** The cluster id, controller and SPUs (DescribeCluster). */
  async cluster(): Promise<ClusterDescription> {
    const response = await this.#cluster.callAny(apiKeys.DescribeCluster, createDescribeClusterRequest());
    throwIfError(response.errorCode, () => response.errorMessage ?? 'cannot describe the cluster');
    return {
      clusterId: response.clusterId,
      controllerId: response.controllerId,
      spus: response.brokers
        .map((b) => ({ id: b.brokerId, host: b.host, port: b.port, rack: b.rack }))
        .sort((a, b) => a.id - b.id),
    };
  }

  async #spusFromMetadata(): Promise<SpuDescription[]> {
    await this.#cluster.refreshMetadata(null);
    const led = new Map<number, number>();
    for (const topic of this.#cluster.cachedTopics()) {
      for (const p of topic.partitions) led.set(p.leaderId, (led.get(p.leaderId) ?? 0) + 1);
    }
    return this.#cluster.brokers().map((b) => ({
      ...b,
      status: 'online' as const,
      partitionsLed: led.get(b.id) ?? 0,
    }));
  }

  /** DescribeTopicStatus when the SPU speaks it (cluster mode), else undefined. */
  async #topicStatus(topics: string[] | null): Promise<DescribeTopicStatusResponseTopic[] | undefined> {
    const connection = await this.#cluster.anyConnection();
    if (!speaks(connection, apiKeys.DescribeTopicStatus)) return undefined;
    const response = await connection.call(
      apiKeys.DescribeTopicStatus,
      createDescribeTopicStatusRequest({ topics }),
    );
    if (response.errorCode !== errorCodes.NONE) return undefined;
    for (const topic of response.topics) {
      throwIfError(topic.errorCode, () =>
        topic.errorCode === errorCodes.UNKNOWN_TOPIC_OR_PARTITION
          ? `topic "${topic.name}" does not exist`
          : `topic "${topic.name}": ${topic.reason ?? kafkaError(topic.errorCode).message}`,
      );
    }
    return response.topics;
  }
}

/** Whether the peer advertised `apiKey` in a version Tide speaks. */
function speaks(connection: KafkaConnection, apiKey: number): boolean {
  try {
    connection.versionFor(apiKey);
    return true;
  } catch {
    return false;
  }
}

/** A topic Tide keeps for itself (`__consumer_offsets`): flagged internal, or named `__…`. */
function isInternalTopic(name: string, flagged: boolean): boolean {
  return flagged || name.startsWith('__');
}

function toListing(topic: MetadataResponseTopic): TopicListing {
  return {
    name: topic.name ?? '',
    topicId: topicIdText(topic.topicId),
    partitions: topic.partitions.length,
    replicationFactor: topic.partitions[0]?.replicaNodes.length ?? 0,
    internal: isInternalTopic(topic.name ?? '', topic.isInternal),
  };
}

function toConfigEntry(config: DescribeConfigsResponseResourceResult): ConfigEntry {
  return {
    name: config.name,
    value: config.value,
    source: configSourceNames[config.configSource] ?? 'unknown',
    isDefault: config.isDefault || config.configSource === 5,
    readOnly: config.readOnly,
    sensitive: config.isSensitive,
  };
}
