import { configSources, configTypes } from '../protocol/enumerations.ts';
import { type ConfigType, topicConfigDefinitions } from './topic-config.ts';

/**
 * Describes topic configs the way Kafka's admin APIs report them (DescribeConfigs, and CreateTopics
 * v5+ which returns the new topic's configs): every known key with its effective value and where that
 * value comes from.
 */

export { configSources };

/** Kafka's config type code of each config type Tide's definitions use. */
export const configTypeCodes = Object.freeze({
  boolean: configTypes.BOOLEAN,
  string: configTypes.STRING,
  int: configTypes.INT,
  short: configTypes.SHORT,
  long: configTypes.LONG,
  double: configTypes.DOUBLE,
  list: configTypes.LIST,
  class: configTypes.CLASS,
  password: configTypes.PASSWORD,
} satisfies Record<ConfigType | 'short' | 'double' | 'class' | 'password', number>);

export interface ConfigSynonym {
  readonly name: string;
  readonly value: string;
  readonly source: number;
}

export interface ConfigDescription {
  readonly name: string;
  readonly value: string;
  readonly readOnly: boolean;
  /** One of `configSources`. */
  readonly source: number;
  readonly isDefault: boolean;
  readonly isSensitive: boolean;
  /** One of `configTypeCodes`. */
  readonly type: number;
  readonly documentation: string;
  /** The values that compete for this key, the winning one first. */
  readonly synonyms: readonly ConfigSynonym[];
}

/**
 * Every known topic config (or only `keys`, when given; unknown keys are left out, as Kafka does)
 * with its value given the topic's overrides, sorted by name.
 */
export function describeTopicConfigs(
  overrides: Readonly<Record<string, string>>,
  keys: readonly string[] | null = null,
): ConfigDescription[] {
  const wanted = keys === null || keys.length === 0 ? undefined : new Set(keys);
  const descriptions: ConfigDescription[] = [];
  for (const [name, definition] of Object.entries(topicConfigDefinitions)) {
    if (wanted !== undefined && !wanted.has(name)) continue;
    const override = Object.hasOwn(overrides, name) ? overrides[name] : undefined;
    const fallback: ConfigSynonym = {
      name,
      value: definition.defaultValue,
      source: configSources.DEFAULT_CONFIG,
    };
    const synonyms =
      override === undefined
        ? [fallback]
        : [{ name, value: override, source: configSources.DYNAMIC_TOPIC_CONFIG }, fallback];
    descriptions.push({
      name,
      value: override ?? definition.defaultValue,
      readOnly: false,
      source: synonyms[0]!.source,
      isDefault: override === undefined,
      isSensitive: false,
      type: configTypeCodes[definition.type],
      documentation: definition.documentation,
      synonyms,
    });
  }
  return descriptions.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
