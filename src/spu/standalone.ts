import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { topicConfigDefinitions, topicConfigProblem, topicConfigsProblem } from '../protocol/topic-config.ts';
import { isInternalTopic, topicNameProblem } from '../protocol/topic-names.ts';
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
      const partitions =
        spec.assignments.size > 0
          ? spec.assignments.size
          : spec.partitions === -1
            ? this.#defaults.partitions
            : spec.partitions;
      const replicationFactor =
        spec.assignments.size > 0
          ? (spec.assignments.values().next().value?.length ?? 0)
          : spec.replicationFactor === -1
            ? this.#defaults.replicationFactor
            : spec.replicationFactor;
      const problem = this.#createProblem(spec, partitions, replicationFactor);
      if (problem !== undefined) return problem;
      if (options.validateOnly) return ok;
      const record = await this.#store.create(
        { name: spec.name, partitions, replicationFactor, configs: spec.configs },
        this.#clock.nowMs(),
      );
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

  createPartitions(name: string, count: number, options: { validateOnly: boolean }): Promise<AdminResult> {
    return this.#serial(async () => {
      const record = this.#store.get(name);
      if (record === undefined)
        return failure(errorCodes.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name} does not exist`);
      if (count <= record.partitions) {
        return failure(
          errorCodes.INVALID_PARTITIONS,
          `topic ${name} has ${record.partitions} partitions; the new count must be larger, got ${count}`,
        );
      }
      if (count > this.#defaults.partitionsPerTopicMax) {
        return failure(
          errorCodes.INVALID_PARTITIONS,
          `at most ${this.#defaults.partitionsPerTopicMax} partitions per topic`,
        );
      }
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
        const problem = applyOperation(configs, key, operation, value);
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
    if (
      !Number.isInteger(partitions) ||
      partitions < 1 ||
      partitions > this.#defaults.partitionsPerTopicMax
    ) {
      return failure(
        errorCodes.INVALID_PARTITIONS,
        `partitions must be between 1 and ${this.#defaults.partitionsPerTopicMax}, got ${partitions}`,
      );
    }
    if (replicationFactor < 1)
      return failure(
        errorCodes.INVALID_REPLICATION_FACTOR,
        `replication factor must be at least 1, got ${replicationFactor}`,
      );
    if (replicationFactor > this.brokers().length) {
      return failure(
        errorCodes.INVALID_REPLICATION_FACTOR,
        `replication factor ${replicationFactor} is larger than the ${this.brokers().length} SPU(s) available`,
      );
    }
    for (const [partition, replicas] of spec.assignments) {
      const unknown = replicas.find((id) => !this.brokers().some((broker) => broker.id === id));
      if (
        partition < 0 ||
        partition >= partitions ||
        replicas.length !== replicationFactor ||
        unknown !== undefined ||
        new Set(replicas).size !== replicas.length
      ) {
        return failure(
          errorCodes.INVALID_REPLICA_ASSIGNMENT,
          `invalid assignment for partition ${partition}: [${replicas.join(', ')}]`,
        );
      }
    }
    const configProblem = topicConfigsProblem(spec.configs);
    if (configProblem !== undefined) return failure(errorCodes.INVALID_CONFIG, configProblem);
    return undefined;
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

/** Applies one IncrementalAlterConfigs operation to `configs`; returns a problem or undefined. */
function applyOperation(
  configs: Record<string, string>,
  name: string,
  operation: ConfigOperation,
  value: string | null,
): string | undefined {
  if (operation === 'delete') {
    if (topicConfigDefinitions[name] === undefined) return `unknown topic config "${name}"`;
    delete configs[name];
    return undefined;
  }
  if (operation === 'append' || operation === 'subtract') {
    if (name !== 'cleanup.policy')
      return `config "${name}" is not a list; ${operation} applies only to lists`;
    const current = new Set((configs[name] ?? 'delete').split(',').filter((part) => part !== ''));
    for (const part of (value ?? '').split(',')) {
      if (operation === 'append') current.add(part.trim());
      else current.delete(part.trim());
    }
    value = [...current].join(',');
  }
  const problem = topicConfigProblem(name, value);
  if (problem !== undefined) return problem;
  configs[name] = value!;
  return undefined;
}
