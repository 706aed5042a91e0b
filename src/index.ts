/// <reference types="node" preserve="true" />
/**
 * The package's public API: the client library (`Tide.connect`, producers, consumers, admin,
 * profiles, typed errors) and, for tools that speak Kafka directly, the protocol reader and writer.
 */

export { TideError, type TideErrorOptions } from './base/errors.ts';
export { tideVersion } from './base/version.ts';
export { Admin, adminDefaults } from './client/admin.ts';
export {
  type DeleteGroupResult,
  GroupAdmin,
  type GroupDescription,
  type GroupListing,
  type GroupMemberDescription,
  type GroupPartitionOffsets,
  type ResetOffsetResult,
  type ResetOffsetsOptions,
  type ResetTarget,
} from './client/admin-groups.ts';
export type {
  ClusterDescription,
  ConfigChanges,
  ConfigEntry,
  ConfigSource,
  CreatedTopic,
  CreateTopicOptions,
  DeleteTopicResult,
  PartitionPlacement,
  PartitionStatus,
  SpuDescription,
  TopicDescription,
  TopicListing,
} from './client/admin-types.ts';
export type { AssignorName } from './client/assignors.ts';
export {
  type BrokerAddress,
  ClusterClient,
  type ClusterClientOptions,
  clusterClientDefaults,
  type PartitionMetadata,
  parseAddress,
  type TopicMetadata,
} from './client/cluster-client.ts';
export {
  Consumer,
  type ConsumerOptions,
  type ConsumerRecord,
  consumerDefaults,
  type PartitionRecords,
  type ResetPolicy,
} from './client/consumer.ts';
export {
  clientErrorCodes,
  isRetriable,
  kafkaError,
  TideClientError,
  type TideClientErrorOptions,
} from './client/errors.ts';
export {
  GroupConsumer,
  type GroupConsumerEvents,
  type GroupConsumerOptions,
  groupConsumerDefaults,
  type TopicPartition,
} from './client/group-consumer.ts';
export { Offset } from './client/offset.ts';
export type { PartitionOffset } from './client/offset-commits.ts';
export type { Isolation } from './client/offset-lookup.ts';
export {
  DefaultPartitioner,
  murmur2,
  type Partitioner,
  RoundRobinPartitioner,
} from './client/partitioner.ts';
export {
  type Acks,
  Producer,
  type ProducerOptions,
  type ProducerRecord,
  producerDefaults,
  type RecordMetadata,
} from './client/producer.ts';
export {
  addProfile,
  currentProfile,
  defaultProfilesPath,
  deleteProfile,
  loadProfiles,
  type Profile,
  type ProfileConfig,
  renameProfile,
  resolveProfile,
  saveProfiles,
  switchProfile,
} from './client/profiles.ts';
export {
  type BytesInput,
  type Header,
  type HeadersInput,
  type HeaderValue,
  jsonValue,
  stringValue,
  valueToJson,
  valueToString,
} from './client/records.ts';
// TLS and SASL options are not exported until Tide supports them (connect refuses them today).
export { Tide, type TideConnectOptions } from './client/tide.ts';
export type { Codec } from './protocol/compression/compression.ts';
export { ProtocolError } from './protocol/protocol-error.ts';
export { Reader } from './protocol/reader.ts';
export { Writer } from './protocol/writer.ts';
