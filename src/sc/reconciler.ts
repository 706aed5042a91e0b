import type { Logger } from '../base/logger.ts';
import { KafkaConnection } from '../net/kafka-connection.ts';
import { apiKeys } from '../protocol/messages/api-keys.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import type { MetadataStore } from './metadata-store.ts';
import {
  buildAlterConfigs,
  buildLeaderAndIsr,
  buildStopReplica,
  buildUpdateMetadata,
  leaderAndIsrTypes,
  type PushContext,
  pushVersions,
  type TopicWithPartitions,
} from './pushes.ts';
import type { SpuRecord, SpuRegistry } from './spu-registry.ts';
import type { TopicFrontend } from './topic-frontend.ts';
import { type DeletionRecord, type PartitionRecord, partitionKey, topicPartitions } from './topic-records.ts';

/**
 * The reconciler moves the SPUs toward the stored state. A run places topics that wait for SPUs,
 * then, for each online SPU whose view is behind, pushes AlterConfigs, UpdateMetadata, LeaderAndIsr
 * (FULL after a registration, else only the partitions that changed) and StopReplica for replicas of
 * deleted topics. Runs are idempotent, never overlap, and happen on a tick and after every change; a
 * failed push closes that SPU's connection and the next run starts over with a FULL push.
 */

export type Connector = (host: string, port: number) => Promise<KafkaConnection>;

interface SpuLink {
  readonly brokerEpoch: number;
  connection: KafkaConnection | undefined;
  /** Metadata version this SPU has received everything up to; -1 = needs a FULL push. */
  pushedVersion: number;
  /** Partition states last sent in LeaderAndIsr, by "topic/partition" (INCREMENTAL sends the rest). */
  readonly sent: Map<string, string>;
}

export class Reconciler {
  readonly #store: MetadataStore;
  readonly #spus: SpuRegistry;
  readonly #topics: TopicFrontend;
  readonly #logger: Logger;
  readonly #controller: { id: number; epoch: number };
  readonly #connect: Connector;
  readonly #links = new Map<number, SpuLink>();
  /** Raised at every change of the stored state or of the set of online SPUs. */
  #version = 0;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(options: {
    store: MetadataStore;
    spus: SpuRegistry;
    topics: TopicFrontend;
    logger: Logger;
    controllerId: number;
    controllerEpoch: number;
    connect?: Connector;
  }) {
    this.#store = options.store;
    this.#spus = options.spus;
    this.#topics = options.topics;
    this.#logger = options.logger;
    this.#controller = { id: options.controllerId, epoch: options.controllerEpoch };
    this.#connect =
      options.connect ?? ((host, port) => KafkaConnection.connect({ host, port, clientId: 'tide-sc' }));
  }

  /** Something in the stored state changed: every SPU's view is now behind. */
  markChanged(): void {
    this.#version++;
    void this.run();
  }

  /** An SPU came online (registered) or went offline. */
  spuChanged(spuId: number, online: boolean): void {
    const link = this.#links.get(spuId);
    void link?.connection?.close();
    this.#links.delete(spuId);
    if (online) {
      const spu = this.#spus.get(spuId);
      if (spu !== undefined)
        this.#links.set(spuId, {
          brokerEpoch: spu.brokerEpoch,
          connection: undefined,
          pushedVersion: -1,
          sent: new Map(),
        });
    }
    this.markChanged();
  }

  /** One reconciliation; a call during a run makes one more run follow it. Resolves when done. */
  run(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.#reconcile();
      } while (this.#again && !this.#closed);
    })().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#running?.catch(() => undefined);
    await Promise.all([...this.#links.values()].map((link) => link.connection?.close()));
    this.#links.clear();
  }

  async #reconcile(): Promise<void> {
    await this.#topics.provision();
    const version = this.#version;
    for (const spu of this.#spus.onlineSpus()) {
      const link = this.#links.get(spu.id);
      if (link === undefined || link.brokerEpoch !== spu.brokerEpoch) continue;
      if (link.pushedVersion >= version && this.#deletionsFor(spu.id).length === 0) continue;
      try {
        await this.#push(spu, link);
        link.pushedVersion = version;
      } catch (error) {
        this.#logger.warn('push to SPU failed; will retry with a full push', { spu: spu.id, error });
        void link.connection?.close();
        link.connection = undefined;
        link.pushedVersion = -1;
        link.sent.clear();
      }
    }
  }

  async #push(spu: SpuRecord, link: SpuLink): Promise<void> {
    link.connection ??= await this.#connect(spu.internalHost, spu.internalPort);
    const connection = link.connection;
    const context: PushContext = {
      controllerId: this.#controller.id,
      controllerEpoch: this.#controller.epoch,
      brokerEpoch: link.brokerEpoch,
    };
    const online = this.#spus.onlineSpus();
    const all = this.#allTopics();
    const held = all
      .map(({ topic, partitions }) => ({
        topic,
        partitions: partitions.filter((p) => p.replicas.includes(spu.id)),
      }))
      .filter(({ partitions }) => partitions.length > 0);
    // Every topic's configs, not only those the SPU holds: any SPU answers DescribeConfigs.
    const configs = await connection.request(
      apiKeys.AlterConfigs,
      pushVersions.alterConfigs,
      buildAlterConfigs(all.map(({ topic }) => topic)),
    );
    for (const resource of configs.responses) {
      if (resource.errorCode !== errorCodes.NONE)
        this.#logger.warn('SPU refused topic configs', {
          spu: spu.id,
          topic: resource.resourceName,
          errorCode: resource.errorCode,
        });
    }
    const metadata = await connection.request(
      apiKeys.UpdateMetadata,
      pushVersions.updateMetadata,
      buildUpdateMetadata(context, online, all),
    );
    if (metadata.errorCode !== errorCodes.NONE)
      throw new Error(`UpdateMetadata answered error ${metadata.errorCode}`);
    await this.#pushLeadership(spu, link, context, held, online);
    await this.#pushDeletions(spu, context);
  }

  async #pushLeadership(
    spu: SpuRecord,
    link: SpuLink,
    context: PushContext,
    held: readonly TopicWithPartitions[],
    online: readonly SpuRecord[],
  ): Promise<void> {
    const full = link.pushedVersion < 0;
    const changed = held
      .map(({ topic, partitions }) => ({
        topic,
        partitions: partitions.filter(
          (p) => full || link.sent.get(partitionKey(p.topic, p.partition)) !== stateOf(p),
        ),
      }))
      .filter(({ partitions }) => partitions.length > 0);
    if (!full && changed.length === 0) return;
    const type = full ? leaderAndIsrTypes.full : leaderAndIsrTypes.incremental;
    const response = await link.connection!.request(
      apiKeys.LeaderAndIsr,
      pushVersions.leaderAndIsr,
      buildLeaderAndIsr(context, type, changed, online),
    );
    if (response.errorCode !== errorCodes.NONE)
      throw new Error(`LeaderAndIsr answered error ${response.errorCode}`);
    if (full) link.sent.clear();
    for (const { partitions } of changed) {
      for (const p of partitions) link.sent.set(partitionKey(p.topic, p.partition), stateOf(p));
    }
    this.#logger.debug('leadership pushed', { spu: spu.id, full, topics: changed.length });
  }

  async #pushDeletions(spu: SpuRecord, context: PushContext): Promise<void> {
    const deletions = this.#deletionsFor(spu.id);
    if (deletions.length === 0) return;
    const link = this.#links.get(spu.id)!;
    const response = await link.connection!.request(
      apiKeys.StopReplica,
      pushVersions.stopReplica,
      buildStopReplica(context, deletions),
    );
    if (response.errorCode !== errorCodes.NONE)
      throw new Error(`StopReplica answered error ${response.errorCode}`);
    const failed = new Set(
      response.partitionErrors
        .filter(
          (p) => p.errorCode !== errorCodes.NONE && p.errorCode !== errorCodes.UNKNOWN_TOPIC_OR_PARTITION,
        )
        .map((p) => partitionKey(p.topicName, p.partitionIndex)),
    );
    const done = deletions.filter((d) => !failed.has(partitionKey(d.topic, d.partition)));
    await this.#topics.forgetDeletions(done);
    this.#logger.info('replicas deleted on SPU', { spu: spu.id, replicas: done.length });
  }

  #deletionsFor(spuId: number): DeletionRecord[] {
    return this.#store
      .list<DeletionRecord>('deletions')
      .map((entry) => entry.value)
      .filter((deletion) => deletion.spuId === spuId);
  }

  #allTopics(): TopicWithPartitions[] {
    return this.#topics
      .topics()
      .map((topic) => ({ topic, partitions: topicPartitions(this.#store, topic) }))
      .filter(({ partitions }) => partitions.length > 0);
  }
}

/** What identifies a partition state for change detection (a move in progress included). */
function stateOf(partition: PartitionRecord): string {
  const move = partition.reassignment;
  const moving =
    move === undefined ? '' : `${move.originalReplicas.join(',')}>${move.targetReplicas.join(',')}`;
  return `${partition.leader}:${partition.leaderEpoch}:${partition.partitionEpoch}:${partition.replicas.join(',')}:${partition.isr.join(',')}:${moving}`;
}
