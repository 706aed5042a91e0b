import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { topicConfigsProblem } from '../protocol/topic-config.ts';
import { isInternalTopic, topicNameProblem } from '../protocol/topic-names.ts';
import {
  applyConfigOperation,
  assignmentsProblem,
  partitionCountProblem,
  partitionGrowthProblem,
  replicasProblem,
} from '../protocol/topic-validation.ts';
import type {
  AdminResult,
  BrokerInfo,
  ClusterView,
  ConfigOperation,
  CreateTopicSpec,
  TopicAdmin,
  TopicInfo,
} from './cluster.ts';
import type { PartitionManager } from './partitions.ts';
import type { TopicRecord, TopicStore } from './topic-store.ts';

const ok: AdminResult = Object.freeze({ errorCode: errorCodes.NONE, errorMessage: null });

function failure(errorCode: number, errorMessage: string): AdminResult {
  return { errorCode, errorMessage };
}

/**
 * A standalone SPU: the whole cluster is this one SPU, which leads every partition and keeps the
 * topic list itself (TopicStore). Admin changes are validated, persisted, then applied to storage.
 */
export class StandaloneCluster implements ClusterView, TopicAdmin {
  readonly clusterId: string;
  readonly #self: BrokerInfo;
  readonly #store: TopicStore;
  readonly #partitions: PartitionManager;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #defaults: { partitions: number; replicationFactor: number; partitionsPerTopicMax: number };
  /** Admin changes run one at a time, so validation and the change see the same state. */
  #changes: Promise<unknown> = Promise.resolve();

  constructor(options: {
    clusterId: string;
    self: BrokerInfo;
    store: TopicStore;
    partitions: PartitionManager;
    clock: Clock;
    logger: Logger;
    defaults: { partitions: number; replicationFactor: number; partitionsPerTopicMax: number };
  }) {
    this.clusterId = options.clusterId;
    this.#self = options.self;
    this.#store = options.store;
    this.#partitions = options.partitions;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#defaults = options.defaults;
  }

  get controllerId(): number {
    return this.#self.id;
  }

  /** Opens the logs of every stored topic; called once at start. */
  async openAll(): Promise<void> {
    for (const record of this.#store.list()) await this.#openPartitions(record, 0);
    // A crash between forgetting a topic and deleting its logs leaves logs no topic owns: finish the
    // deletion now.
    for (const { topic, partition } of await this.#partitions.logs.list()) {
      const record = this.#store.get(topic);
      if (record !== undefined && partition < record.partitions) continue;
      this.#logger.warn('removing log of a deleted topic', { topic, partition });
      await this.#partitions.logs.deleteLog(topic, partition);
    }
  }

  brokers(): readonly BrokerInfo[] {
    return [this.#self];
  }

  topics(): readonly TopicInfo[] {
    return this.#store.list().map((record) => this.#toInfo(record));
  }

  topic(name: string): TopicInfo | undefined {
    const record = this.#store.get(name);
    return record === undefined ? undefined : this.#toInfo(record);
  }

  createTopic(
    spec: CreateTopicSpec,
    options: { validateOnly: boolean },
  ): Promise<AdminResult & { topic?: TopicInfo }> {
    return this.#serial(async () => {
      const { partitions, replicationFactor } = resolveShape(spec, this.#defaults);
      const problem = this.#createProblem(spec, partitions, replicationFactor);
      if (problem !== undefined) return problem;
      const shape = { name: spec.name, partitions, replicationFactor, configs: spec.configs };
      // validateOnly answers with what the topic would look like (CreateTopics v5+ reports it).
      if (options.validateOnly)
        return { ...ok, topic: this.#toInfo({ ...shape, topicId: noTopicId, createdAtMs: 0 }) };
      const record = await this.#store.create(shape, this.#clock.nowMs());
      await this.#openPartitions(record, 0);
      this.#logger.info('topic created', { topic: spec.name, partitions, replicationFactor });
      return { ...ok, topic: this.#toInfo(record) };
    });
  }

  deleteTopic(name: string): Promise<AdminResult> {
    return this.#serial(async () => {
      const record = this.#store.get(name);
      if (record === undefined)
        return failure(errorCodes.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name} does not exist`);
      await this.#store.delete(name);
      for (let partition = 0; partition < record.partitions; partition++)
        await this.#partitions.remove(name, partition);
      this.#logger.info('topic deleted', { topic: name });
      return ok;
    });
  }

  createPartitions(
    name: string,
    count: number,
    options: { validateOnly: boolean; assignments?: ReadonlyArray<readonly number[]> },
  ): Promise<AdminResult> {
    return this.#serial(async () => {
      const record = this.#store.get(name);
      if (record === undefined)
        return failure(errorCodes.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name} does not exist`);
      const problem = this.#partitionsProblem(record, count, options.assignments);
      if (problem !== undefined) return problem;
      if (options.validateOnly) return ok;
      const updated = await this.#store.update(name, { partitions: count });
      await this.#openPartitions(updated, record.partitions);
      this.#logger.info('partitions added', { topic: name, partitions: count });
      return ok;
    });
  }

  replaceConfigs(
    name: string,
    configs: Readonly<Record<string, string>>,
    options: { validateOnly: boolean },
  ): Promise<AdminResult> {
    return this.#serial(async () => {
      if (this.#store.get(name) === undefined)
        return failure(errorCodes.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name} does not exist`);
      const problem = topicConfigsProblem(configs);
      if (problem !== undefined) return failure(errorCodes.INVALID_CONFIG, problem);
      if (!options.validateOnly) await this.#applyConfigs(name, configs);
      return ok;
    });
  }

  alterConfigs(
    name: string,
    operations: ReadonlyArray<{ name: string; operation: ConfigOperation; value: string | null }>,
    options: { validateOnly: boolean },
  ): Promise<AdminResult> {
    return this.#serial(async () => {
      const record = this.#store.get(name);
      if (record === undefined)
        return failure(errorCodes.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name} does not exist`);
      const configs: Record<string, string> = { ...record.configs };
      for (const { name: key, operation, value } of operations) {
        const problem = applyConfigOperation(configs, key, operation, value);
        if (problem !== undefined) return failure(errorCodes.INVALID_CONFIG, problem);
      }
      if (!options.validateOnly) await this.#applyConfigs(name, configs);
      return ok;
    });
  }

  #createProblem(
    spec: CreateTopicSpec,
    partitions: number,
    replicationFactor: number,
  ): AdminResult | undefined {
    const nameProblem = topicNameProblem(spec.name);
    if (nameProblem !== undefined) return failure(errorCodes.INVALID_TOPIC_EXCEPTION, nameProblem);
    if (this.#store.get(spec.name) !== undefined)
      return failure(errorCodes.TOPIC_ALREADY_EXISTS, `topic ${spec.name} already exists`);
    // Explicit assignments come first: they decide the partition count and replication factor.
    const assignmentProblem = assignmentsProblem(spec.assignments, this.#spuIds());
    if (assignmentProblem !== undefined) return assignmentProblem;
    const countProblem = partitionCountProblem(partitions, this.#defaults.partitionsPerTopicMax);
    if (countProblem !== undefined) return countProblem;
    if (replicationFactor < 1 || replicationFactor > this.brokers().length) {
      return failure(
        errorCodes.INVALID_REPLICATION_FACTOR,
        `replication factor must be between 1 and the ${this.brokers().length} SPU(s) available, got ${replicationFactor}`,
      );
    }
    const configProblem = topicConfigsProblem(spec.configs);
    if (configProblem !== undefined) return failure(errorCodes.INVALID_CONFIG, configProblem);
    return undefined;
  }

  #partitionsProblem(
    record: TopicRecord,
    count: number,
    assignments: ReadonlyArray<readonly number[]> | undefined,
  ): AdminResult | undefined {
    const growthProblem = partitionGrowthProblem(
      record.name,
      record.partitions,
      count,
      this.#defaults.partitionsPerTopicMax,
    );
    if (growthProblem !== undefined) return growthProblem;
    if (assignments === undefined) return undefined;
    if (assignments.length !== count - record.partitions) {
      return failure(
        errorCodes.INVALID_REPLICA_ASSIGNMENT,
        `${count - record.partitions} new partitions need as many assignments, got ${assignments.length}`,
      );
    }
    for (const [index, replicas] of assignments.entries()) {
      const problem = replicasProblem(
        record.partitions + index,
        replicas,
        record.replicationFactor,
        this.#spuIds(),
      );
      if (problem !== undefined) return problem;
    }
    return undefined;
  }

  #spuIds(): ReadonlySet<number> {
    return new Set(this.brokers().map((broker) => broker.id));
  }

  async #applyConfigs(name: string, configs: Readonly<Record<string, string>>): Promise<void> {
    await this.#store.update(name, { configs });
    this.#partitions.applyConfigs(name, configs);
    this.#logger.info('topic configs changed', { topic: name, configs });
  }

  async #openPartitions(record: TopicRecord, from: number): Promise<void> {
    for (let partition = from; partition < record.partitions; partition++) {
      await this.#partitions.open(record.name, partition, { configs: record.configs, leaderEpoch: 0 });
    }
  }

  #toInfo(record: TopicRecord): TopicInfo {
    const self = [this.#self.id];
    return {
      name: record.name,
      topicId: Buffer.from(record.topicId, 'hex'),
      isInternal: isInternalTopic(record.name),
      configs: record.configs,
      partitions: Array.from({ length: record.partitions }, (_, partition) => ({
        partition,
        leaderId: this.#self.id,
        leaderEpoch: this.#partitions.get(record.name, partition)?.leaderEpoch ?? 0,
        replicas: self,
        isr: self,
        offlineReplicas: [],
      })),
    };
  }

  #serial<T>(change: () => Promise<T>): Promise<T> {
    const next = this.#changes.catch(() => undefined).then(change);
    this.#changes = next;
    return next;
  }
}

/** A topic id for topics that do not exist (validateOnly previews): 32 hex zeros. */
const noTopicId = '0'.repeat(32);

/** Partition count and replication factor of a new topic: from assignments, the request or the defaults. */
function resolveShape(
  spec: CreateTopicSpec,
  defaults: { partitions: number; replicationFactor: number },
): { partitions: number; replicationFactor: number } {
  if (spec.assignments.size > 0) {
    return { partitions: spec.assignments.size, replicationFactor: spec.assignments.get(0)?.length ?? 0 };
  }
  return {
    partitions: spec.partitions === -1 ? defaults.partitions : spec.partitions,
    replicationFactor: spec.replicationFactor === -1 ? defaults.replicationFactor : spec.replicationFactor,
  };
}
