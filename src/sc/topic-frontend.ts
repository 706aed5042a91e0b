import { randomBytes } from 'node:crypto';
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import type { TopicDefaults, TopicShape } from '../metadata/topic-admin.ts';
import { TopicFrontend as SharedTopicFrontend, type TopicCatalog } from '../metadata/topic-frontend.ts';
import type { MetadataStore, MetadataWrite } from './metadata-store.ts';
import { placeReplicas } from './placement.ts';
import type { SpuRegistry } from './spu-registry.ts';
import {
  type DeletionRecord,
  deletionKey,
  type PartitionRecord,
  partitionKey,
  type TopicRecord,
} from './topic-records.ts';

export type { AdminResult, NewTopic, TopicDefaults } from '../metadata/topic-admin.ts';

/**
 * The SC's topic frontend: the shared frontend (metadata/topic-frontend.ts) validates admin
 * changes; here they are recorded in the metadata store and partitions are placed on SPUs. A topic
 * whose replication factor exceeds the SPUs online gets INVALID_REPLICATION_FACTOR, as Kafka
 * clients expect; an SC that accepts unplaced topics records it instead, and it waits (status
 * insufficient-resources) until enough SPUs are online; `provision` places it then.
 */

interface StoredTopicsOptions {
  readonly store: MetadataStore;
  readonly spus: SpuRegistry;
  readonly clock: Clock;
  readonly onChange: () => void;
  /** Accept topics with more replicas than SPUs online (they wait, unplaced); off by default. */
  readonly acceptUnplaced?: boolean;
}

export class TopicFrontend extends SharedTopicFrontend<TopicRecord> {
  readonly #topics: StoredTopics;
  readonly #logger: Logger;

  constructor(options: StoredTopicsOptions & { logger: Logger; defaults: TopicDefaults }) {
    const topics = new StoredTopics(options);
    super({ catalog: topics, defaults: options.defaults, logger: options.logger });
    this.#topics = topics;
    this.#logger = options.logger;
  }

  topic(name: string): TopicRecord | undefined {
    return this.#topics.get(name);
  }

  topics(): TopicRecord[] {
    return this.#topics.list();
  }

  /** Places the partitions of topics that wait for SPUs; resolves with whether anything changed. */
  provision(): Promise<boolean> {
    return this.exclusive(async () => {
      let changed = false;
      for (const topic of this.topics()) {
        const placed = await this.#topics.place(topic, 0, undefined);
        if (placed === 0) continue;
        this.#logger.info('topic provisioned', { topic: topic.name, partitions: placed });
        changed = true;
      }
      return changed;
    });
  }

  /** Removes deletion records once their SPU confirmed (StopReplica answered). */
  forgetDeletions(deletions: readonly DeletionRecord[]): Promise<void> {
    return this.exclusive(() => this.#topics.forgetDeletions(deletions));
  }
}

/** The topics in the metadata store, as the shared frontend changes them. */
class StoredTopics implements TopicCatalog<TopicRecord> {
  readonly #store: MetadataStore;
  readonly #spus: SpuRegistry;
  readonly #clock: Clock;
  readonly #onChange: () => void;
  readonly #acceptUnplaced: boolean;

  constructor(options: StoredTopicsOptions) {
    this.#store = options.store;
    this.#spus = options.spus;
    this.#clock = options.clock;
    this.#onChange = options.onChange;
    this.#acceptUnplaced = options.acceptUnplaced ?? false;
  }

  get(name: string): TopicRecord | undefined {
    return this.#store.get<TopicRecord>('topics', name)?.value;
  }

  list(): TopicRecord[] {
    return this.#store
      .list<TopicRecord>('topics')
      .map((entry) => entry.value)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  find(name: string): TopicShape | undefined {
    return this.get(name);
  }

  names(): string[] {
    return this.#store.list<TopicRecord>('topics').map((entry) => entry.key);
  }

  /** SPUs that ever registered (online or not): explicit assignments may name any of them. */
  knownSpuIds(): ReadonlySet<number> {
    return new Set(this.#spus.list().map((spu) => spu.id));
  }

  replicationFactorMax(): number | undefined {
    return this.#acceptUnplaced ? undefined : this.#spus.onlineSpus().length;
  }

  preview(shape: TopicShape): TopicRecord {
    return { ...shape, topicId: '0'.repeat(32), createdAtMs: this.#clock.nowMs() };
  }

  async create(
    shape: TopicShape,
    assignments: ReadonlyArray<readonly number[]> | undefined,
  ): Promise<TopicRecord> {
    const topic: TopicRecord = {
      ...shape,
      topicId: randomBytes(16).toString('hex'),
      createdAtMs: this.#clock.nowMs(),
    };
    await this.#commit([
      { kind: 'topics', key: topic.name, value: topic, expectedRevision: 0 },
      ...this.#placementWrites(topic, 0, assignments),
    ]);
    return topic;
  }

  /**
   * Deletes a topic at once; each replica becomes a deletion record that the reconciler turns into
   * a StopReplica when its SPU is online (now, or whenever it returns).
   */
  async delete(name: string): Promise<void> {
    const stored = this.#store.get<TopicRecord>('topics', name);
    if (stored === undefined) return;
    const writes: MetadataWrite[] = [
      { kind: 'topics', key: name, value: null, expectedRevision: stored.revision },
    ];
    for (let partition = 0; partition < stored.value.partitions; partition++) {
      const key = partitionKey(name, partition);
      const record = this.#store.get<PartitionRecord>('partitions', key);
      if (record === undefined) continue;
      writes.push({ kind: 'partitions', key, value: null, expectedRevision: record.revision });
      for (const spuId of record.value.replicas) {
        const deletion: DeletionRecord = { spuId, topic: name, partition };
        const current = this.#store.get('deletions', deletionKey(deletion))?.revision ?? 0;
        writes.push({
          kind: 'deletions',
          key: deletionKey(deletion),
          value: deletion,
          expectedRevision: current,
        });
      }
    }
    await this.#commit(writes);
  }

  async grow(
    name: string,
    count: number,
    assignments: ReadonlyArray<readonly number[]> | undefined,
  ): Promise<void> {
    const stored = this.#store.get<TopicRecord>('topics', name);
    if (stored === undefined) return;
    const grown: TopicRecord = { ...stored.value, partitions: count };
    await this.#commit([
      { kind: 'topics', key: name, value: grown, expectedRevision: stored.revision },
      ...this.#placementWrites(grown, stored.value.partitions, assignments),
    ]);
  }

  async setConfigs(name: string, configs: Readonly<Record<string, string>>): Promise<void> {
    const stored = this.#store.get<TopicRecord>('topics', name);
    if (stored === undefined) return;
    await this.#commit([
      { kind: 'topics', key: name, value: { ...stored.value, configs }, expectedRevision: stored.revision },
    ]);
  }

  /** Places the unplaced partitions of `topic` from `from` on; resolves with how many were placed. */
  async place(
    topic: TopicRecord,
    from: number,
    explicit: ReadonlyArray<readonly number[]> | undefined,
  ): Promise<number> {
    const writes = this.#placementWrites(topic, from, explicit);
    if (writes.length === 0) return 0;
    await this.#commit(writes);
    return writes.filter((write) => write.kind === 'partitions').length;
  }

  async forgetDeletions(deletions: readonly DeletionRecord[]): Promise<void> {
    const writes: MetadataWrite[] = [];
    for (const deletion of deletions) {
      const stored = this.#store.get('deletions', deletionKey(deletion));
      if (stored !== undefined)
        writes.push({
          kind: 'deletions',
          key: deletionKey(deletion),
          value: null,
          expectedRevision: stored.revision,
        });
    }
    if (writes.length > 0) await this.#store.commit(writes);
  }

  async #commit(writes: MetadataWrite[]): Promise<void> {
    await this.#store.commit(writes);
    this.#onChange();
  }

  /**
   * Writes for the partitions of `topic` from `from` on that have no record yet: explicit replicas
   * when given, else placed over the online SPUs (none when too few are online). Deletion records
   * for the same replica (an earlier topic of that name) are dropped: the new assignment wins.
   */
  #placementWrites(
    topic: TopicRecord,
    from: number,
    explicit: ReadonlyArray<readonly number[]> | undefined,
  ): MetadataWrite[] {
    const missing: number[] = [];
    for (let partition = from; partition < topic.partitions; partition++) {
      if (this.#store.get('partitions', partitionKey(topic.name, partition)) === undefined)
        missing.push(partition);
    }
    if (missing.length === 0) return [];
    const first = missing[0]!;
    const placed =
      explicit?.map((replicas) => [...replicas]) ??
      placeReplicas({
        topic: topic.name,
        firstPartition: first,
        partitions: topic.partitions - first,
        replicationFactor: topic.replicationFactor,
        spus: this.#spus.onlineSpus(),
      });
    if (placed === undefined) return [];
    const writes: MetadataWrite[] = [];
    for (const partition of missing) {
      const replicas = placed[partition - first];
      if (replicas === undefined) continue;
      const record: PartitionRecord = {
        topic: topic.name,
        partition,
        replicas,
        leader: replicas[0]!,
        leaderEpoch: 0,
        isr: replicas,
        partitionEpoch: 0,
      };
      writes.push({
        kind: 'partitions',
        key: partitionKey(topic.name, partition),
        value: record,
        expectedRevision: 0,
      });
      for (const spuId of replicas) {
        const key = deletionKey({ spuId, topic: topic.name, partition });
        const stale = this.#store.get('deletions', key);
        if (stale !== undefined)
          writes.push({ kind: 'deletions', key, value: null, expectedRevision: stale.revision });
      }
    }
    return writes;
  }
}
