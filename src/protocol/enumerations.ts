/**
 * Kafka's enumerations that travel as bare numbers in the admin and security APIs, named once so
 * that no code compares with a literal. Values are Apache Kafka's (`ConfigResource.Type`,
 * `ConfigEntry.ConfigSource` and `ConfigType`, `AlterConfigOp.OpType`, `ResourceType`,
 * `AclOperation`, `AclPermissionType`, `PatternType`).
 */

/** What a config request is about (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs). */
export const configResourceTypes = Object.freeze({
  UNKNOWN: 0,
  TOPIC: 2,
  BROKER: 4,
  BROKER_LOGGER: 8,
  CLIENT_METRICS: 16,
  GROUP: 32,
});

/** Where a described config value comes from (DescribeConfigs v1+, CreateTopics v5+). */
export const configSources = Object.freeze({
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
  CLIENT_METRICS_CONFIG: 7,
  GROUP_CONFIG: 8,
});

/** The type of a described config value (DescribeConfigs v3+). */
export const configTypes = Object.freeze({
  UNKNOWN: 0,
  BOOLEAN: 1,
  STRING: 2,
  INT: 3,
  SHORT: 4,
  LONG: 5,
  DOUBLE: 6,
  LIST: 7,
  CLASS: 8,
  PASSWORD: 9,
});

/** IncrementalAlterConfigs operations. */
export const configOperations = Object.freeze({
  SET: 0,
  DELETE: 1,
  APPEND: 2,
  SUBTRACT: 3,
});

/** What an ACL is about (CreateAcls, DescribeAcls, DeleteAcls); differs from configResourceTypes. */
export const aclResourceTypes = Object.freeze({
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7,
});

export const aclOperations = Object.freeze({
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
  TWO_PHASE_COMMIT: 15,
});

export const aclPermissionTypes = Object.freeze({ UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 });

/** How an ACL's resource name matches; MATCH and ANY appear only in filters. */
export const aclPatternTypes = Object.freeze({
  UNKNOWN: 0,
  ANY: 1,
  MATCH: 2,
  LITERAL: 3,
  PREFIXED: 4,
});
