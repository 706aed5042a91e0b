/**
 * The one table of Kafka APIs Tide speaks and the version range of each. The broker's ApiVersions
 * answer, the client's version choice and the protocol generator (which emits codecs for exactly
 * these ranges, see tools/gen-protocol.ts) all read it: change a range here, regenerate, and every
 * side follows.
 *
 * How the ranges were chosen: cover what current clients ask for (kafkajs 2.2.4, librdkafka 2.0.2 as
 * used by kcat 1.7.1 and confluent-kafka-python 1.7, the Java client 3.x, which all pick the highest
 * version both sides know), start no lower than record-batch v2 where records travel, and stop before
 * versions that only make sense with features Tide does not have (topic-id-only requests, the KIP-848
 * consumer-group protocol, share groups, tiered storage). Control-plane APIs (SC ↔ SPU) are spoken only
 * between Tide processes built together, so they keep their flexible versions.
 */

export interface ApiSupport {
  /** Kafka's name for the API, which is also the schema name without Request/Response. */
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
}

export const apiSupport = {
  // Starts at v0 although v0-2 carry the old message formats (magic 0/1), which Tide does not store
  // (the handler refuses them): librdkafka 2.0.2 (kcat, confluent-kafka-python) enables gzip, snappy
  // and lz4 only when the broker advertises Produce v0, and otherwise sends every batch uncompressed
  // (measured with tools/capture-frames.ts). Clients pick v3+ for record batches v2; v10+ add leader
  // hints (KIP-951) that Tide does not send.
  0: { name: 'Produce', minVersion: 0, maxVersion: 9 },
  // v4 is the first with isolation level and record batches v2; v13+ name topics by id only.
  1: { name: 'Fetch', minVersion: 4, maxVersion: 12 },
  // v0 asks for several offsets per partition (pre-KIP-79); v8+ concern tiered storage.
  2: { name: 'ListOffsets', minVersion: 1, maxVersion: 7 },
  // All versions: kafkajs asks v0-6, librdkafka up to v9, Java v12 (topic ids in answers, names kept).
  3: { name: 'Metadata', minVersion: 0, maxVersion: 12 },
  // Control plane (SC → SPU), flexible versions only.
  4: { name: 'LeaderAndIsr', minVersion: 4, maxVersion: 7 },
  // Control plane (SC → SPU), flexible versions only.
  5: { name: 'StopReplica', minVersion: 2, maxVersion: 4 },
  // Control plane (SC → SPU), flexible versions only.
  6: { name: 'UpdateMetadata', minVersion: 6, maxVersion: 8 },
  // v9 belongs to the KIP-848 consumer-group protocol.
  8: { name: 'OffsetCommit', minVersion: 0, maxVersion: 8 },
  // v8 batches several groups (Java admin); v9 belongs to KIP-848.
  9: { name: 'OffsetFetch', minVersion: 0, maxVersion: 8 },
  // v4 batches coordinator keys (Java 3.x); v5 only adds an error code, v6 share groups.
  10: { name: 'FindCoordinator', minVersion: 0, maxVersion: 4 },
  // All versions: kafkajs uses v0-5, librdkafka v5, Java up to v9.
  11: { name: 'JoinGroup', minVersion: 0, maxVersion: 9 },
  12: { name: 'Heartbeat', minVersion: 0, maxVersion: 4 },
  13: { name: 'LeaveGroup', minVersion: 0, maxVersion: 5 },
  14: { name: 'SyncGroup', minVersion: 0, maxVersion: 5 },
  15: { name: 'DescribeGroups', minVersion: 0, maxVersion: 5 },
  // v5 filters by group type (KIP-848).
  16: { name: 'ListGroups', minVersion: 0, maxVersion: 4 },
  17: { name: 'SaslHandshake', minVersion: 0, maxVersion: 1 },
  // v3 is what librdkafka and Java send first (kafkajs v2); v4 changes only feature reporting, and a
  // client asking v4 gets UNSUPPORTED_VERSION in a v0 answer, then retries with v3.
  18: { name: 'ApiVersions', minVersion: 0, maxVersion: 3 },
  19: { name: 'CreateTopics', minVersion: 0, maxVersion: 7 },
  // v6 lets clients name topics by id only.
  20: { name: 'DeleteTopics', minVersion: 0, maxVersion: 5 },
  21: { name: 'DeleteRecords', minVersion: 0, maxVersion: 2 },
  // v5 only adds the TRANSACTION_ABORTABLE error code (KIP-890).
  22: { name: 'InitProducerId', minVersion: 0, maxVersion: 4 },
  // Used by followers and by clients checking for log divergence.
  23: { name: 'OffsetForLeaderEpoch', minVersion: 0, maxVersion: 4 },
  32: { name: 'DescribeConfigs', minVersion: 0, maxVersion: 4 },
  33: { name: 'AlterConfigs', minVersion: 0, maxVersion: 2 },
  36: { name: 'SaslAuthenticate', minVersion: 0, maxVersion: 2 },
  // Sizes of the partitions an SPU holds (kafka-ui, AKHQ, Kafdrop show topic sizes from it); v4 adds
  // the volume's total and usable bytes.
  35: { name: 'DescribeLogDirs', minVersion: 0, maxVersion: 4 },
  37: { name: 'CreatePartitions', minVersion: 0, maxVersion: 3 },
  42: { name: 'DeleteGroups', minVersion: 0, maxVersion: 2 },
  // Forwarded to the SC (kafka-leader-election): preferred (v0+) and unclean (v1+) elections.
  43: { name: 'ElectLeaders', minVersion: 0, maxVersion: 2 },
  44: { name: 'IncrementalAlterConfigs', minVersion: 0, maxVersion: 1 },
  // Forwarded to the SC, which moves replicas (see src/sc/reassignment.ts).
  45: { name: 'AlterPartitionReassignments', minVersion: 0, maxVersion: 0 },
  46: { name: 'ListPartitionReassignments', minVersion: 0, maxVersion: 0 },
  47: { name: 'OffsetDelete', minVersion: 0, maxVersion: 0 },
  // Control plane (SPU leader → SC); v2+ name topics by id, so the SC picks its version.
  56: { name: 'AlterPartition', minVersion: 0, maxVersion: 3 },
  60: { name: 'DescribeCluster', minVersion: 0, maxVersion: 1 },
  // Idempotent producers' state per partition (kafka-transactions describe-producers).
  61: { name: 'DescribeProducers', minVersion: 0, maxVersion: 0 },
  // Control plane (SPU → SC).
  62: { name: 'BrokerRegistration', minVersion: 0, maxVersion: 4 },
  // Control plane (SPU → SC).
  63: { name: 'BrokerHeartbeat', minVersion: 0, maxVersion: 1 },
  // Control plane (SPU → SC): a block of producer ids for InitProducerId.
  67: { name: 'AllocateProducerIds', minVersion: 0, maxVersion: 0 },

  // Tide extensions (keys 1000+, schemas in tools/tide-protocol/messages, flexible from v0). Plain
  // Kafka clients never ask for them; see docs/CONTROL-PLANE.md.
  // SPU → SC: the state of the replicas an SPU holds.
  1000: { name: 'SpuStatus', minVersion: 0, maxVersion: 0 },
  // client → SPU → SC: the registered SPUs.
  1001: { name: 'DescribeSpus', minVersion: 0, maxVersion: 0 },
  // client → SPU → SC: topics with spec and status, partitions with replicas and offsets.
  1002: { name: 'DescribeTopicStatus', minVersion: 0, maxVersion: 0 },
} as const satisfies Readonly<Record<number, ApiSupport>>;

const supportByKey: Readonly<Record<number, ApiSupport | undefined>> = apiSupport;

/** The supported range of an API, or undefined when Tide does not speak it. */
export function supportFor(apiKey: number): ApiSupport | undefined {
  return supportByKey[apiKey];
}

export function isSupportedVersion(apiKey: number, version: number): boolean {
  const support = supportByKey[apiKey];
  return support !== undefined && version >= support.minVersion && version <= support.maxVersion;
}

/** The highest version both Tide and a peer (advertising peerMin..peerMax) speak, or undefined. */
export function chooseVersion(apiKey: number, peerMin: number, peerMax: number): number | undefined {
  const support = supportByKey[apiKey];
  if (support === undefined) return undefined;
  const highest = Math.min(support.maxVersion, peerMax);
  return highest >= Math.max(support.minVersion, peerMin) ? highest : undefined;
}
