import { type Codec, codecUnavailableReason } from '../protocol/compression/compression.ts';

/**
 * Topic-level configuration: the keys Tide understands, their types, defaults and bounds, and one
 * validator used by every path that accepts them (CreateTopics, AlterConfigs,
 * IncrementalAlterConfigs, the CLI, the SC). Values travel as strings, as in Kafka's admin APIs.
 */

export type ConfigType = 'long' | 'int' | 'boolean' | 'string' | 'list';

interface ConfigDefinition {
  readonly type: ConfigType;
  readonly defaultValue: string;
  readonly documentation: string;
  /** Why the (already type-checked) value is unacceptable, or undefined. */
  readonly check?: (value: string) => string | undefined;
}

const longMax = '9223372036854775807';
const codecs = ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

function atLeast(minimum: bigint): (value: string) => string | undefined {
  return (value) => (BigInt(value) < minimum ? `must be at least ${minimum}` : undefined);
}

function oneOf(options: readonly string[]): (value: string) => string | undefined {
  return (value) => (options.includes(value) ? undefined : `must be one of ${options.join(', ')}`);
}

/** A codec this host lacks (its native module did not load) cannot be a topic's compression.type. */
function compressionTypeUnavailable(value: string): string | undefined {
  const codec = topicCodecOf(value);
  return codec === undefined ? undefined : codecUnavailableReason(codec);
}

function topicCodecOf(value: string): Codec | undefined {
  return value === 'gzip' || value === 'snappy' || value === 'lz4' || value === 'zstd' ? value : undefined;
}

export const topicConfigDefinitions: Readonly<Record<string, ConfigDefinition>> = Object.freeze({
  'cleanup.policy': {
    type: 'list',
    defaultValue: 'delete',
    documentation: 'delete old segments by time and size, compact to the latest record per key, or both',
    // Each policy at most once: the log accepts only delete, compact or both (storage/config.ts).
    check: (value) => {
      const parts = value.split(',').map((part) => part.trim());
      const known = parts.length > 0 && parts.every((part) => part === 'delete' || part === 'compact');
      const once = new Set(parts).size === parts.length;
      return known && once ? undefined : 'must be delete, compact, or compact,delete, each at most once';
    },
  },
  'compression.type': {
    type: 'string',
    defaultValue: 'producer',
    documentation: 'codec batches are stored with; producer keeps what the producer sent',
    check: (value) => oneOf(codecs)(value) ?? compressionTypeUnavailable(value),
  },
  'delete.retention.ms': {
    type: 'long',
    defaultValue: '86400000',
    documentation: 'how long tombstones survive compaction, in milliseconds',
    check: atLeast(0n),
  },
  'flush.messages': {
    type: 'long',
    defaultValue: longMax,
    documentation: 'fsync after this many messages (1 = every batch is durable before it is acknowledged)',
    check: atLeast(1n),
  },
  'flush.ms': {
    type: 'long',
    defaultValue: '1000',
    documentation: 'fsync at least this often, in milliseconds',
    check: atLeast(0n),
  },
  'max.message.bytes': {
    type: 'int',
    defaultValue: '1048588',
    documentation: 'largest record batch accepted, in bytes',
    check: atLeast(0n),
  },
  'message.timestamp.type': {
    type: 'string',
    defaultValue: 'CreateTime',
    documentation: 'CreateTime keeps producer timestamps; LogAppendTime stamps the broker time',
    check: oneOf(['CreateTime', 'LogAppendTime']),
  },
  'min.insync.replicas': {
    type: 'int',
    defaultValue: '1',
    documentation: 'fewest in-sync replicas for an acks=all produce to succeed',
    check: atLeast(1n),
  },
  'retention.bytes': {
    type: 'long',
    defaultValue: '-1',
    documentation: 'largest size of a partition before old segments are deleted, in bytes (-1 = no limit)',
    check: atLeast(-1n),
  },
  'retention.ms': {
    type: 'long',
    defaultValue: '604800000',
    documentation: 'how long records are kept, in milliseconds (-1 = forever)',
    check: atLeast(-1n),
  },
  'segment.bytes': {
    type: 'int',
    defaultValue: '1073741824',
    documentation: 'size at which the active segment rolls, in bytes',
    check: atLeast(1024n),
  },
  'segment.ms': {
    type: 'long',
    defaultValue: '604800000',
    documentation: 'age at which the active segment rolls, in milliseconds',
    check: atLeast(1n),
  },
  'unclean.leader.election.enable': {
    type: 'boolean',
    defaultValue: 'false',
    documentation: 'allow a replica outside the ISR to become leader (may lose acknowledged records)',
  },
});

const numberBounds: Record<'int' | 'long', readonly [bigint, bigint]> = {
  int: [-(2n ** 31n), 2n ** 31n - 1n],
  long: [-(2n ** 63n), 2n ** 63n - 1n],
};

/** Why `value` is not acceptable for `name`, or undefined. Unknown names are problems too. */
export function topicConfigProblem(name: string, value: string | null): string | undefined {
  const definition = topicConfigDefinitions[name];
  if (definition === undefined) return `unknown topic config "${name}"`;
  if (value === null) return `config "${name}" needs a value`;
  if (definition.type === 'int' || definition.type === 'long') {
    if (!/^-?\d+$/.test(value)) return `config "${name}" must be an integer, not "${value}"`;
    const [low, high] = numberBounds[definition.type];
    const number = BigInt(value);
    if (number < low || number > high) return `config "${name}" is out of range for a ${definition.type}`;
  } else if (definition.type === 'boolean' && value !== 'true' && value !== 'false') {
    return `config "${name}" must be true or false, not "${value}"`;
  }
  const problem = definition.check?.(value);
  return problem === undefined ? undefined : `config "${name}" ${problem} (got "${value}")`;
}

/** The first problem among `configs`, or undefined when every entry is acceptable. */
export function topicConfigsProblem(configs: Readonly<Record<string, string>>): string | undefined {
  for (const [name, value] of Object.entries(configs)) {
    const problem = topicConfigProblem(name, value);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** A topic's effective config: its overrides over the defaults. */
export function effectiveTopicConfig(overrides: Readonly<Record<string, string>>): Record<string, string> {
  const effective: Record<string, string> = {};
  for (const [name, definition] of Object.entries(topicConfigDefinitions)) {
    effective[name] = overrides[name] ?? definition.defaultValue;
  }
  return effective;
}
