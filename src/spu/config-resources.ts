import { type ConfigDescription, configSources, configTypeCodes } from '../metadata/config-describe.ts';
import { configResourceTypes } from '../protocol/enumerations.ts';
import type { SpuConfig } from './config.ts';

/**
 * What DescribeConfigs needs beyond topics: the few broker settings an SPU reports. The resource
 * rules the config APIs share live in metadata/config-requests.ts.
 */

/** Kafka's ConfigResource types, under the name the SPU's callers know. */
export const resourceTypes = configResourceTypes;

export {
  duplicateResourceError,
  duplicateResourceKeys,
  resourceKey,
  resourceProblem,
} from '../metadata/config-requests.ts';

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
