/**
 * What an SPU knows about the cluster, and how it changes topics. Handlers read metadata through
 * `ClusterView` and change topics through `TopicAdmin`; a standalone SPU answers both itself
 * (standalone.ts), an SPU in a cluster follows the SC. Handlers do not know which.
 */

export interface BrokerInfo {
  readonly id: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

export interface PartitionInfo {
  readonly partition: number;
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly offlineReplicas: readonly number[];
}

export interface TopicInfo {
  readonly name: string;
  /** 16 bytes. */
  readonly topicId: Buffer;
  readonly isInternal: boolean;
  readonly partitions: readonly PartitionInfo[];
  /** Only the configs set on the topic; defaults come from topic-config.ts. */
  readonly configs: Readonly<Record<string, string>>;
}

export interface ClusterView {
  readonly clusterId: string;
  readonly controllerId: number;
  brokers(): readonly BrokerInfo[];
  topics(): readonly TopicInfo[];
  topic(name: string): TopicInfo | undefined;
}

/** The outcome of an admin change: NONE (0) or a Kafka error code with a message for people. */
export interface AdminResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

export interface CreateTopicSpec {
  readonly name: string;
  /** -1 = the SPU's default. */
  readonly partitions: number;
  /** -1 = the SPU's default. */
  readonly replicationFactor: number;
  /** Explicit assignment: partition → replica ids (empty when not given). */
  readonly assignments: ReadonlyMap<number, readonly number[]>;
  readonly configs: Readonly<Record<string, string>>;
}

import type { ConfigOperation } from '../protocol/topic-validation.ts';

export type { ConfigOperation };

export interface TopicAdmin {
  /** Creates a topic; on success (also with validateOnly) answers the topic as created. */
  createTopic(
    spec: CreateTopicSpec,
    options: { validateOnly: boolean },
  ): Promise<AdminResult & { topic?: TopicInfo }>;
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
  /** Applies operations one by one (IncrementalAlterConfigs semantics). */
  alterConfigs(
    name: string,
    operations: ReadonlyArray<{ name: string; operation: ConfigOperation; value: string | null }>,
    options: { validateOnly: boolean },
  ): Promise<AdminResult>;
}
