import { topicConfigsProblem } from '../metadata/topic-config.ts';
import type { MetadataStore } from './metadata-store.ts';

/**
 * The SC's topic objects as stored (see metadata-store.ts for the file) and the status derived from
 * them:
 *   topics/<name>              TopicRecord: the spec
 *   partitions/<name>/<index>  PartitionRecord: placement and leadership of one partition
 *   deletions/<spu>/<name>/<index>  DeletionRecord: a replica of a deleted topic that SPU must remove
 */

export interface TopicRecord {
  readonly name: string;
  /** 32 hex digits. */
  readonly topicId: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly configs: Readonly<Record<string, string>>;
  readonly createdAtMs: number;
}

export interface PartitionRecord {
  readonly topic: string;
  readonly partition: number;
  readonly replicas: readonly number[];
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly isr: readonly number[];
  readonly partitionEpoch: number;
  /** A move to other SPUs in progress (reassignment.ts); absent when there is none. */
  readonly reassignment?: ReassignmentRecord;
}

/**
 * While a partition moves, `replicas` is `originalReplicas` followed by the target replicas not in
 * it; once every added replica is in the ISR it becomes `targetReplicas`.
 */
export interface ReassignmentRecord {
  readonly originalReplicas: readonly number[];
  readonly targetReplicas: readonly number[];
}

export interface DeletionRecord {
  readonly spuId: number;
  readonly topic: string;
  readonly partition: number;
}

export const topicStatuses = Object.freeze({
  provisioned: 'provisioned',
  pending: 'pending',
  insufficientResources: 'insufficient-resources',
  invalidConfig: 'invalid-config',
  deleting: 'deleting',
});

export interface TopicStatus {
  readonly status: string;
  readonly reason: string | null;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

export function deletionKey(deletion: DeletionRecord): string {
  return `${deletion.spuId}/${deletion.topic}/${deletion.partition}`;
}

export function topicPartitions(store: MetadataStore, topic: TopicRecord): PartitionRecord[] {
  const found: PartitionRecord[] = [];
  for (let partition = 0; partition < topic.partitions; partition++) {
    const record = store.get<PartitionRecord>('partitions', partitionKey(topic.name, partition));
    if (record !== undefined) found.push(record.value);
  }
  return found;
}

/** SPUs that still hold replicas of a deleted topic `name`. */
export function pendingDeletions(store: MetadataStore, name: string): number[] {
  const spus = new Set<number>();
  for (const { value } of store.list<DeletionRecord>('deletions'))
    if (value.topic === name) spus.add(value.spuId);
  return [...spus].sort((a, b) => a - b);
}

/** A stored topic's status: what the cluster has made of its spec so far. */
export function topicStatus(store: MetadataStore, topic: TopicRecord, onlineSpus: number): TopicStatus {
  const configProblem = topicConfigsProblem(topic.configs);
  if (configProblem !== undefined) return { status: topicStatuses.invalidConfig, reason: configProblem };
  const placed = topicPartitions(store, topic).length;
  if (placed === topic.partitions) return { status: topicStatuses.provisioned, reason: null };
  if (onlineSpus < topic.replicationFactor) {
    return {
      status: topicStatuses.insufficientResources,
      reason: `replication factor ${topic.replicationFactor} needs as many SPUs online; ${onlineSpus} are`,
    };
  }
  return {
    status: topicStatuses.pending,
    reason: `${topic.partitions - placed} of ${topic.partitions} partitions not placed yet`,
  };
}
