import { randomBytes } from 'node:crypto';
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { topicConfigsProblem } from '../protocol/topic-config.ts';
import { topicNameProblem } from '../protocol/topic-names.ts';
import {
  type AdminProblem,
  applyConfigOperation,
  assignmentsProblem,
  type ConfigOperation,
  partitionCountProblem,
  partitionGrowthProblem,
  replicasProblem,
} from '../protocol/topic-validation.ts';
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

/**
 * The topic frontend: validates admin changes (the same Kafka error codes a standalone SPU gives),
 * records them in the store, and places partitions on SPUs. Changes run one at a time so that
 * validation and the write see the same state. A topic whose replication factor exceeds the SPUs
 * online is accepted and waits, unplaced (status insufficient-resources), until enough SPUs are
 * online; `provision` places it then.
 */

export interface AdminResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

export interface NewTopic {
  readonly name: string;
  /** -1 = the SC's default. */
  readonly partitions: number;
  /** -1 = the SC's default. */
  readonly replicationFactor: number;
  /** Explicit placement: partition → replica ids (empty when not given). */
  readonly assignments: ReadonlyMap<number, readonly number[]>;
  readonly configs: Readonly<Record<string, string>>;
}

export interface TopicDefaults {
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly partitionsPerTopicMax: number;
}

const ok: AdminResult = Object.freeze({ errorCode: errorCodes.NONE, errorMessage: null });

function unknownTopic(name: string): AdminResult {
  return { errorCode: errorCodes.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `topic ${name} does not exist` };
}

export class TopicFrontend {
  readonly #store: MetadataStore;
  readonly #spus: SpuRegistry;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #defaults: TopicDefaults;
  readonly #onChange: () => void;
  #changes: Promise<unknown> = Promise.resolve();

  constructor(options: {
    store: MetadataStore;
    spus: SpuRegistry;
    clock: Clock;
    logger: Logger;
    defaults: TopicDefaults;
    onChange: () => void;
  }) {
    this.#store = options.store;
    this.#spus = options.spus;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#defaults = options.defaults;
    this.#onChange = options.onChange;
  }

  topic(name: string): TopicRecord | undefined {
    return this.#store.get<TopicRecord>('topics', name)?.value;
  }

  topics(): TopicRecord[] {
    return this.#store
      .list<TopicRecord>('topics')
      .map((entry) => entry.value)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  createTopic(
    spec: NewTopic,
    options: { validateOnly: boolean },
  ): Promise<AdminResult & { topic?: TopicRecord }> {
    return this.#serial(async () => {
      const shape = resolveShape(spec, this.#defaults);
      const problem = this.#createProblem(spec, shape);
      if (problem !== undefined) return problem;
      const topic: TopicRecord = {
        name: spec.name,
        topicId: options.validateOnly ? '0'.repeat(32) : randomBytes(16).toString('hex'),
        ...shape,
        configs: spec.configs,
        createdAtMs: this.#clock.nowMs(),
      };
      if (options.validateOnly) return { ...ok, topic };
      const explicit = spec.assignments.size > 0 ? [...spec.assignments.values()] : undefined;
      const writes: MetadataWrite[] = [
        { kind: 'topics', key: topic.name, value: topic, expectedRevision: 0 },
      ];
      writes.push(...this.#placementWrites(topic, 0, explicit));
      await this.#store.commit(writes);
      this.#logger.info('topic created', { topic: topic.name, ...shape, placed: writes.length > 1 });
      this.#onChange();
      return { ...ok, topic };
    });
  }

  /**
   * Deletes a topic at once; each replica becomes a deletion record that the reconciler turns into a
   * StopReplica when its SPU is online (now, or whenever it returns).
   */
  deleteTopic(name: string): Promise<AdminResult> {
    return this.#serial(async () => {
      const stored = this.#store.get<TopicRecord>('topics', name);
      if (stored === undefined) return unknownTopic(name);
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
      await this.#store.commit(writes);
      this.#logger.info('topic deleted', { topic: name });
      this.#onChange();
      return ok;
    });
  }

  createPartitions(
    name: string,
    count: number,
    options: { validateOnly: boolean; assignments?: ReadonlyArray<readonly number[]> },
  ): Promise<AdminResult> {
    return this.#serial(async () => {
      const stored = this.#store.get<TopicRecord>('topics', name);
      if (stored === undefined) return unknownTopic(name);
      const topic = stored.value;
      const problem =
        partitionGrowthProblem(name, topic.partitions, count, this.#defaults.partitionsPerTopicMax) ??
        this.#newAssignmentsProblem(topic, count, options.assignments);
      if (problem !== undefined) return problem;
      if (options.validateOnly) return ok;
      const grown: TopicRecord = { ...topic, partitions: count };
      const writes: MetadataWrite[] = [
        { kind: 'topics', key: name, value: grown, expectedRevision: stored.revision },
        ...this.#placementWrites(grown, topic.partitions, options.assignments),
      ];
      await this.#store.commit(writes);
      this.#logger.info('partitions added', { topic: name, partitions: count });
      this.#onChange();
      return ok;
    });
  }

  /** Replaces every config set on the topic (AlterConfigs). */
  replaceConfigs(
    name: string,
    configs: Readonly<Record<string, string>>,
    options: { validateOnly: boolean },
  ): Promise<AdminResult> {
    return this.#serial(async () => {
      if (this.topic(name) === undefined) return unknownTopic(name);
      const problem = topicConfigsProblem(configs);
      if (problem !== undefined) return { errorCode: errorCodes.INVALID_CONFIG, errorMessage: problem };
      if (!options.validateOnly) await this.#writeConfigs(name, configs);
      return ok;
    });
  }

  /** Applies operations one by one, all or none (IncrementalAlterConfigs). */
  alterConfigs(
    name: string,
    operations: ReadonlyArray<{ name: string; operation: ConfigOperation; value: string | null }>,
    options: { validateOnly: boolean },
  ): Promise<AdminResult> {
    return this.#serial(async () => {
      const topic = this.topic(name);
      if (topic === undefined) return unknownTopic(name);
      const configs: Record<string, string> = { ...topic.configs };
      for (const { name: key, operation, value } of operations) {
        const problem = applyConfigOperation(configs, key, operation, value);
        if (problem !== undefined) return { errorCode: errorCodes.INVALID_CONFIG, errorMessage: problem };
      }
      if (!options.validateOnly) await this.#writeConfigs(name, configs);
      return ok;
    });
  }

  /** Places the partitions of topics that wait for SPUs; resolves with whether anything changed. */
  provision(): Promise<boolean> {
    return this.#serial(async () => {
      let changed = false;
      for (const topic of this.topics()) {
        const writes = this.#placementWrites(topic, 0, undefined);
        if (writes.length === 0) continue;
        await this.#store.commit(writes);
        this.#logger.info('topic provisioned', { topic: topic.name, partitions: writes.length });
        changed = true;
      }
      if (changed) this.#onChange();
      return changed;
    });
  }

  /** Removes deletion records once their SPU confirmed (StopReplica answered). */
  forgetDeletions(deletions: readonly DeletionRecord[]): Promise<void> {
    return this.#serial(async () => {
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
    });
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

  #createProblem(
    spec: NewTopic,
    shape: { partitions: number; replicationFactor: number },
  ): AdminResult | undefined {
    const nameProblem = topicNameProblem(spec.name);
    if (nameProblem !== undefined)
      return { errorCode: errorCodes.INVALID_TOPIC_EXCEPTION, errorMessage: nameProblem };
    if (this.topic(spec.name) !== undefined)
      return {
        errorCode: errorCodes.TOPIC_ALREADY_EXISTS,
        errorMessage: `topic ${spec.name} already exists`,
      };
    const assignmentProblem = assignmentsProblem(spec.assignments, this.#knownSpuIds());
    if (assignmentProblem !== undefined) return assignmentProblem;
    const countProblem = partitionCountProblem(shape.partitions, this.#defaults.partitionsPerTopicMax);
    if (countProblem !== undefined) return countProblem;
    if (!Number.isInteger(shape.replicationFactor) || shape.replicationFactor < 1) {
      return {
        errorCode: errorCodes.INVALID_REPLICATION_FACTOR,
        errorMessage: `replication factor must be at least 1, got ${shape.replicationFactor}`,
      };
    }
    const configProblem = topicConfigsProblem(spec.configs);
    if (configProblem !== undefined)
      return { errorCode: errorCodes.INVALID_CONFIG, errorMessage: configProblem };
    return undefined;
  }

  #newAssignmentsProblem(
    topic: TopicRecord,
    count: number,
    assignments: ReadonlyArray<readonly number[]> | undefined,
  ): AdminProblem | undefined {
    if (assignments === undefined) return undefined;
    if (assignments.length !== count - topic.partitions) {
      return {
        errorCode: errorCodes.INVALID_REPLICA_ASSIGNMENT,
        errorMessage: `${count - topic.partitions} new partitions need as many assignments, got ${assignments.length}`,
      };
    }
    const known = this.#knownSpuIds();
    for (const [index, replicas] of assignments.entries()) {
      const problem = replicasProblem(topic.partitions + index, replicas, topic.replicationFactor, known);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }

  /** SPUs that ever registered (online or not): explicit assignments may name any of them. */
  #knownSpuIds(): Set<number> {
    return new Set(this.#spus.list().map((spu) => spu.id));
  }

  async #writeConfigs(name: string, configs: Readonly<Record<string, string>>): Promise<void> {
    const stored = this.#store.get<TopicRecord>('topics', name);
    if (stored === undefined) return;
    await this.#store.put('topics', name, { ...stored.value, configs }, stored.revision);
    this.#logger.info('topic configs changed', { topic: name, configs });
    this.#onChange();
  }

  /**
   * Runs `change` in the queue of topic changes, so it reads and writes the stored topics and
   * partitions without an admin change in between (leadership changes use it).
   */
  exclusive<T>(change: () => Promise<T>): Promise<T> {
    return this.#serial(change);
  }

  #serial<T>(change: () => Promise<T>): Promise<T> {
    const next = this.#changes.catch(() => undefined).then(change);
    this.#changes = next;
    return next;
  }
}

/** Partition count and replication factor of a new topic: from assignments, the request or the defaults. */
function resolveShape(
  spec: NewTopic,
  defaults: TopicDefaults,
): { partitions: number; replicationFactor: number } {
  if (spec.assignments.size > 0)
    return { partitions: spec.assignments.size, replicationFactor: spec.assignments.get(0)?.length ?? 0 };
  return {
    partitions: spec.partitions === -1 ? defaults.partitions : spec.partitions,
    replicationFactor: spec.replicationFactor === -1 ? defaults.replicationFactor : spec.replicationFactor,
  };
}
