import { type ConfigDescription, configSources, configTypeCodes } from '../protocol/config-describe.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { topicNameProblem } from '../protocol/topic-names.ts';
import type { SpuConfig } from './config.ts';

/**
 * What the config APIs (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs) share: resource
 * types, the duplicate-resource rule, and the few broker settings an SPU reports.
 */

/** Kafka's ConfigResource types. */
export const resourceTypes = Object.freeze({ TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 });

export interface ResourceError {
  readonly errorCode: number;
  readonly errorMessage: string;
}

/** Keys (type and name) of resources that appear more than once; Kafka refuses all of them. */
export function duplicateResourceKeys(
  resources: ReadonlyArray<{ resourceType: number; resourceName: string }>,
): Set<string> {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const resource of resources) {
    const key = resourceKey(resource);
    if (seen.has(key)) duplicates.add(key);
    seen.add(key);
  }
  return duplicates;
}

export function resourceKey(resource: { resourceType: number; resourceName: string }): string {
  return `${resource.resourceType}\u0000${resource.resourceName}`;
}

export const duplicateResourceError: ResourceError = Object.freeze({
  errorCode: errorCodes.INVALID_REQUEST,
  errorMessage: 'the resource appears more than once in the request',
});

/** Why a config request for this resource cannot be answered, before looking at the topic itself. */
export function resourceProblem(resourceType: number, resourceName: string): ResourceError | undefined {
  if (resourceType === resourceTypes.TOPIC) {
    const problem = topicNameProblem(resourceName);
    return problem === undefined
      ? undefined
      : { errorCode: errorCodes.INVALID_TOPIC_EXCEPTION, errorMessage: problem };
  }
  return {
    errorCode: errorCodes.INVALID_REQUEST,
    errorMessage: `resource type ${resourceType} is not supported here; only topics (2) are`,
  };
}

/**
 * The broker settings an SPU reports for its own id (or the empty name, Kafka's "cluster default"):
 * fixed at start from the command line, so read-only.
 */
export function brokerConfigs(config: SpuConfig): ConfigDescription[] {
  const entries: Array<[string, string, number, string]> = [
    [
      'auto.create.topics.enable',
      String(config.autoCreateTopics),
      configTypeCodes.boolean,
      'create topics on first use',
    ],
    ['broker.id', String(config.id), configTypeCodes.int, "this SPU's id"],
    [
      'default.replication.factor',
      String(config.defaultReplicationFactor),
      configTypeCodes.int,
      'replication factor of auto-created topics',
    ],
    [
      'num.partitions',
      String(config.defaultPartitions),
      configTypeCodes.int,
      'partitions of auto-created topics',
    ],
  ];
  return entries.map(([name, value, type, documentation]) => ({
    name,
    value,
    readOnly: true,
    source: configSources.STATIC_BROKER_CONFIG,
    isDefault: false,
    isSensitive: false,
    type,
    documentation,
    synonyms: [{ name, value, source: configSources.STATIC_BROKER_CONFIG }],
  }));
}
