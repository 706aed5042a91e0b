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

import type { AdminResult, ConfigOperation, NewTopic, TopicChanges } from '../metadata/topic-admin.ts';

export type { AdminResult, ConfigOperation };

/** A topic to create; -1 partitions or replication factor = the SPU's default. */
export type CreateTopicSpec = NewTopic;

/** How handlers change topics; created topics are shown as this SPU shows any topic. */
export type TopicAdmin = TopicChanges<TopicInfo>;
