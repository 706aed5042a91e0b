import { type Codec, codecUnavailableReason } from '../protocol/compression/compression.ts';

/**
 * Topic-level configuration: the keys Tide understands, their types, defaults and bounds, and one
 * validator used by every path that accepts them (CreateTopics, AlterConfigs,
 * IncrementalAlterConfigs, the CLI, the SC). Values travel as strings, as in Kafka's admin APIs.
 */

export type ConfigType = 'long' | 'int' | 'double' | 'boolean' | 'string' | 'list';

interface ConfigDefinition {
  readonly type: ConfigType;
  readonly defaultValue: string;
  readonly documentation: string;
  /** Why the (already type-checked) value is unacceptable, or undefined. */
  readonly check?: (value: string) => string | undefined;
}

/**
 * A Kafka 3.x topic config that Tide accepts, stores and describes but does not act on: tools
 * (Kafka Connect, Debezium, Strimzi, Terraform providers) create topics with them, and Kafka
 * accepts them, so refusing them would break those tools. DescribeConfigs says so in the
 * config's documentation.
 */
function inert(
  type: ConfigType,
  defaultValue: string,
  documentation: string,
  check?: ConfigDefinition['check'],
) {
  const note = `${documentation} (accepted for Kafka compatibility; no effect in Tide)`;
  return { type, defaultValue, documentation: note, ...(check === undefined ? {} : { check }) };
}

function between(minimum: number, maximum: number): (value: string) => string | undefined {
  return (value) =>
    Number(value) >= minimum && Number(value) <= maximum
      ? undefined
      : `must be between ${minimum} and ${maximum}`;
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
  'compression.gzip.level': inert('int', '-1', 'gzip level of batches the broker compresses', between(-1, 9)),
  'compression.lz4.level': inert('int', '9', 'lz4 level of batches the broker compresses', between(1, 17)),
  'compression.zstd.level': inert(
    'int',
    '3',
    'zstd level of batches the broker compresses',
    between(-131072, 22),
  ),
  'file.delete.delay.ms': inert(
    'long',
    '60000',
    'wait before deleting a file from disk, in milliseconds',
    atLeast(0n),
  ),
  'follower.replication.throttled.replicas': inert('list', '', 'replicas throttled on the follower side'),
  'index.interval.bytes': inert('int', '4096', 'bytes between offset index entries', atLeast(0n)),
  'leader.replication.throttled.replicas': inert('list', '', 'replicas throttled on the leader side'),
  'local.retention.bytes': inert('long', '-2', 'local bytes kept with tiered storage', atLeast(-2n)),
  'local.retention.ms': inert(
    'long',
    '-2',
    'local time kept with tiered storage, in milliseconds',
    atLeast(-2n),
  ),
  'max.compaction.lag.ms': inert(
    'long',
    longMax,
    'longest a record stays uncompacted, in milliseconds',
    atLeast(1n),
  ),
  'message.downconversion.enable': inert('boolean', 'true', 'down-convert batches for old consumers'),
  'message.format.version': inert('string', '3.0-IV1', 'message format version (deprecated in Kafka 3)'),
  'message.timestamp.after.max.ms': inert(
    'long',
    longMax,
    'latest a record timestamp may be, in milliseconds',
    atLeast(0n),
  ),
  'message.timestamp.before.max.ms': inert(
    'long',
    longMax,
    'earliest a record timestamp may be, in milliseconds',
    atLeast(0n),
  ),
  'message.timestamp.difference.max.ms': inert(
    'long',
    longMax,
    'largest timestamp skew accepted, in milliseconds',
    atLeast(0n),
  ),
  'min.cleanable.dirty.ratio': inert(
    'double',
    '0.5',
    'share of the log uncompacted before the cleaner runs',
    between(0, 1),
  ),
  'min.compaction.lag.ms': inert(
    'long',
    '0',
    'shortest a record stays uncompacted, in milliseconds',
    atLeast(0n),
  ),
  preallocate: inert('boolean', 'false', 'preallocate segment files'),
  'remote.log.copy.disable': inert('boolean', 'false', 'stop copying segments to tiered storage'),
  'remote.log.delete.on.disable': inert(
    'boolean',
    'false',
    'delete tiered segments when tiering is turned off',
  ),
  'remote.storage.enable': inert('boolean', 'false', 'tiered storage for the topic'),
  'segment.index.bytes': inert('int', '10485760', 'size of a segment offset index, in bytes', atLeast(4n)),
  'segment.jitter.ms': inert(
    'long',
    '0',
    'random jitter subtracted from segment.ms, in milliseconds',
    atLeast(0n),
  ),
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
  } else if (definition.type === 'double' && !/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value)) {
    return `config "${name}" must be a number, not "${value}"`;
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
