import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { parseBytes } from '../base/units.ts';
import {
  type CliContext,
  type ConnectionFlags,
  collect,
  integerArgument,
  type OutputFormat,
  parseConfigPairs,
  parseDurationWithUnit,
  parseFlag,
  printData,
  UsageError,
  withConnectionOptions,
  withOutputOption,
  withTide,
} from './common.ts';

interface CreateFlags extends ConnectionFlags {
  readonly partitions: number;
  readonly replication: number;
  readonly retentionTime?: string;
  readonly retentionBytes?: string;
  readonly segmentSize?: string;
  readonly compressionType?: string;
  readonly cleanupPolicy?: string;
  readonly config: string[];
  readonly replicaAssignment?: string;
  readonly dryRun: boolean;
  readonly output: OutputFormat;
}

/** `tide topic create NAME`: creates a topic, with its configs given as flags or `--config k=v`. */
export function topicCreateCommand(context: CliContext): Command {
  const command = new Command('create')
    .description('create a topic')
    .argument('<name>', 'topic name')
    .option('-p, --partitions <n>', 'number of partitions', integerArgument(1), 1)
    .option('-r, --replication <n>', 'replicas of each partition', integerArgument(1), 1)
    .option('--retention-time <duration>', 'keep records this long, with a unit: 7d, 12h, 30min, 45s, 500ms')
    .option(
      '--retention-bytes <size>',
      'keep at most this much per partition: 10GiB (2^30 bytes each), 10GB (10^9), or bytes',
    )
    .option(
      '--segment-size <size>',
      'roll log segments at this size: 1GiB (2^30 bytes), 1GB (10^9), or bytes',
    )
    .option('--compression-type <codec>', 'producer, uncompressed, gzip, snappy, lz4 or zstd')
    .option('--cleanup-policy <policy>', 'delete, compact, or compact,delete')
    .option('--config <key=value>', 'any topic config (repeatable)', collect, [])
    .option('--replica-assignment <file>', 'JSON file placing each partition: [[1,2],[2,3],…] of SPU ids')
    .option('--dry-run', 'validate only, create nothing', false);
  return withOutputOption(withConnectionOptions(command)).action(async (name: string, flags: CreateFlags) => {
    // The assignment says how many partitions and replicas there are; a count beside it would be
    // silently ignored.
    const counts = (['partitions', 'replication'] as const).filter(
      (option) => command.getOptionValueSource(option) === 'cli',
    );
    if (flags.replicaAssignment !== undefined && counts.length > 0) {
      throw new UsageError(
        `--replica-assignment places every partition; it cannot be combined with ${counts.map((option) => `--${option}`).join(' or ')}`,
      );
    }
    const configs = topicConfigs(flags);
    const assignments =
      flags.replicaAssignment === undefined ? undefined : await readAssignments(flags.replicaAssignment);
    await withTide(context, flags, async (tide) => {
      const created = await tide.admin().createTopic(name, {
        partitions: flags.partitions,
        replicationFactor: flags.replication,
        configs,
        validateOnly: flags.dryRun,
        ...(assignments === undefined ? {} : { assignments }),
      });
      if (flags.output !== 'table') {
        printData(context, flags.output, { ...created, name, created: !flags.dryRun });
        return;
      }
      const partitions = created.partitions === 1 ? '1 partition' : `${created.partitions} partitions`;
      context.stdout.write(
        flags.dryRun
          ? `topic "${name}" is valid (dry run: nothing created)\n`
          : `topic "${name}" created (${partitions}, replication ${created.replicationFactor})\n`,
      );
    });
  });
}

/** The topic configs the flags ask for; dedicated flags win over `--config`. */
function topicConfigs(flags: CreateFlags): Record<string, string> {
  const configs = parseConfigPairs(flags.config);
  if (flags.retentionTime !== undefined) {
    configs['retention.ms'] = String(
      parseFlag('--retention-time', flags.retentionTime, parseDurationWithUnit),
    );
  }
  if (flags.retentionBytes !== undefined) {
    configs['retention.bytes'] = String(parseFlag('--retention-bytes', flags.retentionBytes, parseBytes));
  }
  if (flags.segmentSize !== undefined) {
    configs['segment.bytes'] = String(parseFlag('--segment-size', flags.segmentSize, parseBytes));
  }
  if (flags.compressionType !== undefined) configs['compression.type'] = flags.compressionType;
  if (flags.cleanupPolicy !== undefined) configs['cleanup.policy'] = flags.cleanupPolicy;
  return configs;
}

/**
 * Reads a replica assignment: a JSON array with one entry per partition, each either a list of SPU
 * ids (leader first) or `{ "partition": n, "replicas": [ids] }`.
 */
async function readAssignments(path: string): Promise<number[][]> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`--replica-assignment ${path}: ${(error as Error).message}`);
  }
  if (!Array.isArray(data) || data.length === 0) {
    throw new UsageError(`--replica-assignment ${path}: expected a non-empty JSON array`);
  }
  const byPartition: number[][] = [];
  data.forEach((entry: unknown, index) => {
    const { partition, replicas } = Array.isArray(entry)
      ? { partition: index, replicas: entry as unknown[] }
      : (entry as { partition?: unknown; replicas?: unknown });
    const valid =
      Number.isSafeInteger(partition) &&
      Array.isArray(replicas) &&
      replicas.length > 0 &&
      replicas.every((id) => Number.isSafeInteger(id) && (id as number) >= 0);
    if (!valid)
      throw new UsageError(`--replica-assignment ${path}: entry ${index} is not a partition's SPU ids`);
    byPartition[partition as number] = replicas as number[];
  });
  if (byPartition.length !== data.length || Array.from(byPartition).some((ids) => ids === undefined)) {
    throw new UsageError(`--replica-assignment ${path}: partitions must be numbered 0..${data.length - 1}`);
  }
  return byPartition;
}
