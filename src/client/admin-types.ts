/**
 * The shapes the admin client returns and accepts. Offsets are bigint (they can exceed 2^53); SPU
 * ids, partition indexes and counts are numbers.
 */

/** Options of `Admin.createTopic`. */
export interface CreateTopicOptions {
  /** Number of partitions (default 1). Ignored when `assignments` is given. */
  readonly partitions?: number;
  /** Copies of each partition (default 1). Ignored when `assignments` is given. */
  readonly replicationFactor?: number;
  /** Topic configs, e.g. `{ 'retention.ms': '604800000' }`. */
  readonly configs?: Readonly<Record<string, string>>;
  /** Explicit placement: `assignments[p]` lists the SPU ids of partition p's replicas, leader first. */
  readonly assignments?: readonly (readonly number[])[];
  /** Check the request without creating anything. */
  readonly validateOnly?: boolean;
  /** How long the cluster may take to create it, in milliseconds. */
  readonly timeoutMs?: number;
}

/** What `Admin.createTopic` reports. */
export interface CreatedTopic {
  readonly name: string;
  /** Base64url topic id as Kafka tools print it (empty when the cluster sends none). */
  readonly topicId: string;
  readonly partitions: number;
  readonly replicationFactor: number;
}

/** One line of `Admin.listTopics`. */
export interface TopicListing {
  readonly name: string;
  readonly topicId: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly internal: boolean;
}

/** A partition's placement, as the cluster metadata has it. */
export interface PartitionPlacement {
  readonly partition: number;
  /** The leading SPU's id, -1 while there is none. */
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly offlineReplicas: readonly number[];
  /** Kafka error name for this partition, null when healthy. */
  readonly error: string | null;
}

/** What `Admin.describeTopic` reports. */
export interface TopicDescription extends TopicListing {
  readonly partitionDetails: readonly PartitionPlacement[];
  /** Every config with its effective value and where it comes from. */
  readonly configs: readonly ConfigEntry[];
  /** Provisioning status from the cluster controller (null on a standalone SPU). */
  readonly status: string | null;
  readonly statusReason: string | null;
}

/** Where a config value comes from (Kafka's ConfigSource, in words). */
export type ConfigSource =
  | 'unknown'
  | 'topic'
  | 'dynamic-broker'
  | 'dynamic-default-broker'
  | 'static-broker'
  | 'default'
  | 'broker-logger'
  | 'client-metrics'
  | 'group';

/** One config as DescribeConfigs reports it. */
export interface ConfigEntry {
  readonly name: string;
  /** Null for sensitive values. */
  readonly value: string | null;
  readonly source: ConfigSource;
  readonly isDefault: boolean;
  readonly readOnly: boolean;
  readonly sensitive: boolean;
}

/**
 * Incremental config changes: a string sets the key, null removes the override (back to the
 * default).
 */
export type ConfigChanges = Readonly<Record<string, string | null>>;

/** A partition's placement and its offsets. */
export interface PartitionStatus extends PartitionPlacement {
  readonly topic: string;
  /** First offset still stored. */
  readonly logStartOffset: bigint;
  /** Next offset the leader will write (LEO). */
  readonly logEndOffset: bigint;
  /** Offset below which records are committed and visible to consumers (HW). */
  readonly highWatermark: bigint;
  /** Bytes on the leader's disk, null when the cluster does not report it. */
  readonly sizeBytes: bigint | null;
  /** 'online', or the controller's status word (or the error name when the leader could not answer). */
  readonly status: string;
  /** Some replica is out of the ISR (or its SPU is offline). */
  readonly underReplicated: boolean;
  /** Each replica's progress, in replica order. */
  readonly replicaProgress: readonly ReplicaProgress[];
  /** SPUs a reassignment in progress adds (empty when none is in progress). */
  readonly addingReplicas: readonly number[];
  /** SPUs a reassignment in progress removes. */
  readonly removingReplicas: readonly number[];
}

/**
 * One replica of a partition as its leader last reported it (the cluster's controller hears from each
 * leader every few seconds, so the figures may be that old).
 */
export interface ReplicaProgress {
  readonly replicaId: number;
  readonly inSync: boolean;
  /** Its log end offset; null when the leader does not know it yet (no fetch since it began leading). */
  readonly logEndOffset: bigint | null;
  /** Records it lacks: the leader's log end offset minus its own; null when unknown. */
  readonly lag: bigint | null;
}

/** One partition to move: the target SPUs (preferred leader first), or null to cancel its move. */
export interface PartitionReassignmentRequest {
  readonly topic: string;
  readonly partition: number;
  readonly replicas: readonly number[] | null;
}

/** The outcome of one partition of `Admin.reassignPartitions`. */
export interface PartitionReassignmentResult {
  readonly topic: string;
  readonly partition: number;
  /** Null when the move was recorded (it then proceeds in the background). */
  readonly error: Error | null;
}

/** A partition move in progress. */
export interface PartitionReassignment {
  readonly topic: string;
  readonly partition: number;
  /** Every SPU holding a replica now: the original ones and those being added. */
  readonly replicas: readonly number[];
  readonly addingReplicas: readonly number[];
  readonly removingReplicas: readonly number[];
}

/** One SPU as `Admin.spus` reports it. */
export interface SpuDescription {
  readonly id: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
  readonly status: 'online' | 'offline';
  /** Partitions this SPU leads. */
  readonly partitionsLed: number;
}

/** What `Admin.cluster` reports. */
export interface ClusterDescription {
  readonly clusterId: string;
  /** The controller's id, -1 when the cluster has none (standalone SPU). */
  readonly controllerId: number;
  readonly spus: readonly { id: number; host: string; port: number; rack: string | null }[];
}

/** One topic's outcome in `Admin.deleteTopics`. */
export interface DeleteTopicResult {
  readonly name: string;
  /** Null when the topic was deleted. */
  readonly error: Error | null;
}
