/**
 * The words of topic administration that the SC, a standalone SPU and the request handlers share:
 * what a change asks for and how it is answered.
 */

/** The outcome of an admin change: NONE (0) or a Kafka error code with a message for people. */
export interface AdminResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

export type ConfigOperation = 'set' | 'delete' | 'append' | 'subtract';

export interface ConfigChange {
  readonly name: string;
  readonly operation: ConfigOperation;
  readonly value: string | null;
}

/** A topic to create, as a CreateTopics request names it. */
export interface NewTopic {
  readonly name: string;
  /** -1 = the default. */
  readonly partitions: number;
  /** -1 = the default. */
  readonly replicationFactor: number;
  /** Explicit placement: partition → replica ids (empty when not given). */
  readonly assignments: ReadonlyMap<number, readonly number[]>;
  readonly configs: Readonly<Record<string, string>>;
}

/** A topic's declared shape, once defaults are resolved. */
export interface TopicShape {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly configs: Readonly<Record<string, string>>;
}

export interface TopicDefaults {
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly partitionsPerTopicMax: number;
}

/** What CreateTopics answers about a created topic (v5+ reports its shape and configs). */
export interface CreatedTopic extends TopicShape {
  /** 16 bytes. */
  readonly topicId: Buffer;
}

/** Topic changes as the Kafka admin APIs ask for them; `Topic` is how the caller shows a topic. */
export interface TopicChanges<Topic> {
  /** Creates a topic; on success (also with validateOnly) answers the topic as created. */
  createTopic(spec: NewTopic, options: { validateOnly: boolean }): Promise<AdminResult & { topic?: Topic }>;
  deleteTopic(name: string): Promise<AdminResult>;
  /**
   * Grows the topic to `count` partitions. `assignments`, when given, places each new partition
   * (replica ids, one entry per new partition).
   */
  createPartitions(
    name: string,
    count: number,
    options: { validateOnly: boolean; assignments?: ReadonlyArray<readonly number[]> },
  ): Promise<AdminResult>;
  /** Replaces every config set on the topic with `configs` (AlterConfigs semantics). */
  replaceConfigs(
    name: string,
    configs: Readonly<Record<string, string>>,
    options: { validateOnly: boolean },
  ): Promise<AdminResult>;
  /** Applies operations one by one, all or none (IncrementalAlterConfigs semantics). */
  alterConfigs(
    name: string,
    operations: readonly ConfigChange[],
    options: { validateOnly: boolean },
  ): Promise<AdminResult>;
}
