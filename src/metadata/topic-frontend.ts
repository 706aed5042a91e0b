import type { Logger } from '../base/logger.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { isInternalTopic, topicCollisionKey, topicNameProblem } from '../protocol/topic-names.ts';
import type {
  AdminResult,
  ConfigChange,
  NewTopic,
  TopicChanges,
  TopicDefaults,
  TopicShape,
} from './topic-admin.ts';
import { topicConfigsProblem } from './topic-config.ts';
import {
  applyConfigOperation,
  assignmentsProblem,
  partitionCountProblem,
  partitionGrowthProblem,
  replicasProblem,
} from './topic-validation.ts';

/**
 * Where the topic frontend records its changes: the SC's metadata store (which places partitions on
 * SPUs), or a standalone SPU's topic file (which opens the logs itself). The catalog only applies;
 * every rule lives in the frontend, so both answer every request with the same Kafka error codes.
 */
export interface TopicCatalog<Topic> {
  /** The declared shape of a topic, or undefined when it does not exist. */
  find(name: string): TopicShape | undefined;
  /** Every topic's name. */
  names(): Iterable<string>;
  /** SPU ids that explicit assignments may name. */
  knownSpuIds(): ReadonlySet<number>;
  /** Largest replication factor accepted now; undefined when a topic may wait for SPUs to join. */
  replicationFactorMax(): number | undefined;
  /** How a topic that validateOnly would create is shown (it is not stored). */
  preview(shape: TopicShape): Topic;
  /** Records a new topic; `assignments` (one entry per partition) places it when given. */
  create(shape: TopicShape, assignments: ReadonlyArray<readonly number[]> | undefined): Promise<Topic>;
  delete(name: string): Promise<void>;
  grow(name: string, count: number, assignments: ReadonlyArray<readonly number[]> | undefined): Promise<void>;
  setConfigs(name: string, configs: Readonly<Record<string, string>>): Promise<void>;
}

const ok: AdminResult = Object.freeze({ errorCode: errorCodes.NONE, errorMessage: null });

function failure(errorCode: number, errorMessage: string): AdminResult {
  return { errorCode, errorMessage };
}

function unknownTopic(name: string): AdminResult {
  return failure(errorCodes.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name} does not exist`);
}

/**
 * Why a client may not change this existing topic: Tide's internal topics (the group offsets) are
 * Tide's alone; deleting, growing or reconfiguring them would lose or misplace committed offsets.
 */
function changeProblem(name: string, topic: TopicShape | undefined): AdminResult | undefined {
  if (topic === undefined) return unknownTopic(name);
  if (isInternalTopic(name))
    return failure(errorCodes.INVALID_REQUEST, `topic ${name} is internal; clients cannot change it`);
  return undefined;
}

/**
 * The topic frontend: validates admin changes and records them in its catalog. Changes run one at
 * a time so that validation and the write see the same state.
 */
export class TopicFrontend<Topic> implements TopicChanges<Topic> {
  readonly #catalog: TopicCatalog<Topic>;
  readonly #defaults: TopicDefaults;
  readonly #logger: Logger;
  #changes: Promise<unknown> = Promise.resolve();

  constructor(options: { catalog: TopicCatalog<Topic>; defaults: TopicDefaults; logger: Logger }) {
    this.#catalog = options.catalog;
    this.#defaults = options.defaults;
    this.#logger = options.logger;
  }

  createTopic(spec: NewTopic, options: { validateOnly: boolean }): Promise<AdminResult & { topic?: Topic }> {
    return this.exclusive(async () => {
      const shape = resolveShape(spec, this.#defaults);
      const problem = this.#createProblem(spec, shape);
      if (problem !== undefined) return problem;
      // validateOnly answers with what the topic would look like (CreateTopics v5+ reports it).
      if (options.validateOnly) return { ...ok, topic: this.#catalog.preview(shape) };
      const topic = await this.#catalog.create(shape, explicitAssignments(spec.assignments));
      const { partitions, replicationFactor } = shape;
      this.#logger.info('topic created', { topic: spec.name, partitions, replicationFactor });
      return { ...ok, topic };
    });
  }

  deleteTopic(name: string): Promise<AdminResult> {
    return this.exclusive(async () => {
      const problem = changeProblem(name, this.#catalog.find(name));
      if (problem !== undefined) return problem;
      await this.#catalog.delete(name);
      this.#logger.info('topic deleted', { topic: name });
      return ok;
    });
  }

  createPartitions(
    name: string,
    count: number,
    options: { validateOnly: boolean; assignments?: ReadonlyArray<readonly number[]> },
  ): Promise<AdminResult> {
    return this.exclusive(async () => {
      const topic = this.#catalog.find(name);
      const refused = changeProblem(name, topic);
      if (refused !== undefined || topic === undefined) return refused ?? unknownTopic(name);
      const problem =
        partitionGrowthProblem(name, topic.partitions, count, this.#defaults.partitionsPerTopicMax) ??
        this.#newAssignmentsProblem(topic, count, options.assignments);
      if (problem !== undefined) return problem;
      if (options.validateOnly) return ok;
      await this.#catalog.grow(name, count, options.assignments);
      this.#logger.info('partitions added', { topic: name, partitions: count });
      return ok;
    });
  }

  replaceConfigs(
    name: string,
    configs: Readonly<Record<string, string>>,
    options: { validateOnly: boolean },
  ): Promise<AdminResult> {
    return this.exclusive(async () => {
      const refused = changeProblem(name, this.#catalog.find(name));
      if (refused !== undefined) return refused;
      const problem = topicConfigsProblem(configs);
      if (problem !== undefined) return failure(errorCodes.INVALID_CONFIG, problem);
      if (!options.validateOnly) await this.#setConfigs(name, configs);
      return ok;
    });
  }

  alterConfigs(
    name: string,
    operations: readonly ConfigChange[],
    options: { validateOnly: boolean },
  ): Promise<AdminResult> {
    return this.exclusive(async () => {
      const topic = this.#catalog.find(name);
      const refused = changeProblem(name, topic);
      if (refused !== undefined || topic === undefined) return refused ?? unknownTopic(name);
      const configs: Record<string, string> = { ...topic.configs };
      for (const { name: key, operation, value } of operations) {
        const problem = applyConfigOperation(configs, key, operation, value);
        if (problem !== undefined) return failure(errorCodes.INVALID_CONFIG, problem);
      }
      if (!options.validateOnly) await this.#setConfigs(name, configs);
      return ok;
    });
  }

  /**
   * Runs `change` in the queue of topic changes, so it reads and writes the catalog without an
   * admin change in between (the SC's leadership changes and placement use it).
   */
  exclusive<T>(change: () => Promise<T>): Promise<T> {
    const next = this.#changes.catch(() => undefined).then(change);
    this.#changes = next;
    return next;
  }

  async #setConfigs(name: string, configs: Readonly<Record<string, string>>): Promise<void> {
    await this.#catalog.setConfigs(name, configs);
    this.#logger.info('topic configs changed', { topic: name, configs });
  }

  #createProblem(spec: NewTopic, shape: TopicShape): AdminResult | undefined {
    const nameProblem = topicNameProblem(spec.name);
    if (nameProblem !== undefined) return failure(errorCodes.INVALID_TOPIC_EXCEPTION, nameProblem);
    if (this.#catalog.find(spec.name) !== undefined)
      return failure(errorCodes.TOPIC_ALREADY_EXISTS, `topic ${spec.name} already exists`);
    const collision = this.#collidingName(spec.name);
    if (collision !== undefined)
      return failure(
        errorCodes.INVALID_TOPIC_EXCEPTION,
        `topic ${spec.name} collides with existing topic ${collision}: '.' and '_' map to the same metric name`,
      );
    // Explicit assignments come first: they decide the partition count and replication factor.
    const assignmentProblem = assignmentsProblem(spec.assignments, this.#catalog.knownSpuIds());
    if (assignmentProblem !== undefined) return assignmentProblem;
    const countProblem = partitionCountProblem(shape.partitions, this.#defaults.partitionsPerTopicMax);
    if (countProblem !== undefined) return countProblem;
    const factorProblem = this.#replicationFactorProblem(shape.replicationFactor);
    if (factorProblem !== undefined) return factorProblem;
    const configProblem = topicConfigsProblem(spec.configs);
    if (configProblem !== undefined) return failure(errorCodes.INVALID_CONFIG, configProblem);
    return undefined;
  }

  #collidingName(name: string): string | undefined {
    const key = topicCollisionKey(name);
    for (const existing of this.#catalog.names()) if (topicCollisionKey(existing) === key) return existing;
    return undefined;
  }

  #replicationFactorProblem(replicationFactor: number): AdminResult | undefined {
    const max = this.#catalog.replicationFactorMax();
    if (max === undefined) {
      if (Number.isInteger(replicationFactor) && replicationFactor >= 1) return undefined;
      return failure(
        errorCodes.INVALID_REPLICATION_FACTOR,
        `replication factor must be at least 1, got ${replicationFactor}`,
      );
    }
    if (Number.isInteger(replicationFactor) && replicationFactor >= 1 && replicationFactor <= max)
      return undefined;
    return failure(
      errorCodes.INVALID_REPLICATION_FACTOR,
      `replication factor must be between 1 and the ${max} SPU(s) available, got ${replicationFactor}`,
    );
  }

  #newAssignmentsProblem(
    topic: TopicShape,
    count: number,
    assignments: ReadonlyArray<readonly number[]> | undefined,
  ): AdminResult | undefined {
    if (assignments === undefined) return undefined;
    if (assignments.length !== count - topic.partitions) {
      return failure(
        errorCodes.INVALID_REPLICA_ASSIGNMENT,
        `${count - topic.partitions} new partitions need as many assignments, got ${assignments.length}`,
      );
    }
    const known = this.#catalog.knownSpuIds();
    for (const [index, replicas] of assignments.entries()) {
      const problem = replicasProblem(topic.partitions + index, replicas, topic.replicationFactor, known);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
}

/** Partition count and replication factor of a new topic: from assignments, the request or the defaults. */
function resolveShape(spec: NewTopic, defaults: TopicDefaults): TopicShape {
  const { name, configs } = spec;
  if (spec.assignments.size > 0) {
    const replicationFactor = spec.assignments.get(0)?.length ?? 0;
    return { name, partitions: spec.assignments.size, replicationFactor, configs };
  }
  return {
    name,
    partitions: spec.partitions === -1 ? defaults.partitions : spec.partitions,
    replicationFactor: spec.replicationFactor === -1 ? defaults.replicationFactor : spec.replicationFactor,
    configs,
  };
}

/** Validated explicit assignments in partition order, or undefined when the request gave none. */
function explicitAssignments(
  assignments: ReadonlyMap<number, readonly number[]>,
): ReadonlyArray<readonly number[]> | undefined {
  if (assignments.size === 0) return undefined;
  return Array.from({ length: assignments.size }, (_, partition) => assignments.get(partition) ?? []);
}
