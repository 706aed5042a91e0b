import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import type { TopicDefaults, TopicShape } from '../metadata/topic-admin.ts';
import { type TopicCatalog, TopicFrontend } from '../metadata/topic-frontend.ts';
import { isInternalTopic } from '../protocol/topic-names.ts';
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

/**
 * A standalone SPU: the whole cluster is this one SPU, which leads every partition and keeps the
 * topic list itself (TopicStore). Admin changes are validated by the topic frontend that the SC
 * uses too (metadata/topic-frontend.ts), persisted, then applied to storage.
 */
export class StandaloneCluster implements ClusterView, TopicAdmin {
  readonly clusterId: string;
  readonly #self: BrokerInfo;
  readonly #store: TopicStore;
  readonly #partitions: PartitionManager;
  readonly #logger: Logger;
  readonly #frontend: TopicFrontend<TopicInfo>;

  constructor(options: {
    clusterId: string;
    self: BrokerInfo;
    store: TopicStore;
    partitions: PartitionManager;
    clock: Clock;
    logger: Logger;
    defaults: TopicDefaults;
  }) {
    this.clusterId = options.clusterId;
    this.#self = options.self;
    this.#store = options.store;
    this.#partitions = options.partitions;
    this.#logger = options.logger;
    const catalog = new LocalTopics({ ...options, show: (record) => this.#toInfo(record) });
    this.#frontend = new TopicFrontend({ catalog, defaults: options.defaults, logger: options.logger });
  }

  get controllerId(): number {
    return this.#self.id;
  }

  /** Opens the logs of every stored topic; called once at start. */
  async openAll(): Promise<void> {
    for (const record of this.#store.list()) await openPartitions(this.#partitions, record, 0);
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
    return this.#frontend.createTopic(spec, options);
  }

  deleteTopic(name: string): Promise<AdminResult> {
    return this.#frontend.deleteTopic(name);
  }

  createPartitions(
    name: string,
    count: number,
    options: { validateOnly: boolean; assignments?: ReadonlyArray<readonly number[]> },
  ): Promise<AdminResult> {
    return this.#frontend.createPartitions(name, count, options);
  }

  replaceConfigs(
    name: string,
    configs: Readonly<Record<string, string>>,
    options: { validateOnly: boolean },
  ): Promise<AdminResult> {
    return this.#frontend.replaceConfigs(name, configs, options);
  }

  alterConfigs(
    name: string,
    operations: ReadonlyArray<{ name: string; operation: ConfigOperation; value: string | null }>,
    options: { validateOnly: boolean },
  ): Promise<AdminResult> {
    return this.#frontend.alterConfigs(name, operations, options);
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
}

/** A topic id for topics that do not exist (validateOnly previews): 32 hex zeros. */
const noTopicId = '0'.repeat(32);

/** The standalone SPU's topics: recorded in its topic file, then applied to its own logs. */
class LocalTopics implements TopicCatalog<TopicInfo> {
  readonly #self: BrokerInfo;
  readonly #store: TopicStore;
  readonly #partitions: PartitionManager;
  readonly #clock: Clock;
  readonly #show: (record: TopicRecord) => TopicInfo;

  constructor(options: {
    self: BrokerInfo;
    store: TopicStore;
    partitions: PartitionManager;
    clock: Clock;
    show: (record: TopicRecord) => TopicInfo;
  }) {
    this.#self = options.self;
    this.#store = options.store;
    this.#partitions = options.partitions;
    this.#clock = options.clock;
    this.#show = options.show;
  }

  find(name: string): TopicShape | undefined {
    return this.#store.get(name);
  }

  names(): string[] {
    return this.#store.list().map((record) => record.name);
  }

  knownSpuIds(): ReadonlySet<number> {
    return new Set([this.#self.id]);
  }

  /** Every replica is on this SPU: a topic can have one copy only. */
  replicationFactorMax(): number {
    return 1;
  }

  preview(shape: TopicShape): TopicInfo {
    return this.#show({ ...shape, topicId: noTopicId, createdAtMs: 0 });
  }

  async create(shape: TopicShape): Promise<TopicInfo> {
    const record = await this.#store.create(shape, this.#clock.nowMs());
    await openPartitions(this.#partitions, record, 0);
    return this.#show(record);
  }

  async delete(name: string): Promise<void> {
    const record = this.#store.get(name);
    if (record === undefined) return;
    await this.#store.delete(name);
    for (let partition = 0; partition < record.partitions; partition++)
      await this.#partitions.remove(name, partition);
  }

  async grow(name: string, count: number): Promise<void> {
    const current = this.#store.get(name);
    if (current === undefined) return;
    const updated = await this.#store.update(name, { partitions: count });
    await openPartitions(this.#partitions, updated, current.partitions);
  }

  async setConfigs(name: string, configs: Readonly<Record<string, string>>): Promise<void> {
    await this.#store.update(name, { configs });
    this.#partitions.applyConfigs(name, configs);
  }
}

async function openPartitions(
  partitions: PartitionManager,
  record: TopicRecord,
  from: number,
): Promise<void> {
  for (let partition = from; partition < record.partitions; partition++) {
    await partitions.open(record.name, partition, { configs: record.configs, leaderEpoch: 0 });
  }
}
