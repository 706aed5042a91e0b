import { Command } from 'commander';
import type { GroupDescription, ResetTarget } from '../client/admin-groups.ts';
import {
  type CliContext,
  type ConnectionFlags,
  collect,
  type OutputFormat,
  parseFlag,
  printData,
  printTable,
  UsageError,
  withConnectionOptions,
  withOutputOption,
  withTide,
} from './common.ts';

/**
 * `tide consumer-group …`: list the cluster's consumer groups, describe one (members and what they
 * read, committed offsets and lag per partition), delete groups, and reset a group's committed
 * offsets of a topic (only while the group has no members, as Kafka requires).
 */
export function consumerGroupCommand(context: CliContext): Command {
  return new Command('consumer-group')
    .alias('group') // as rpk and Fluvio users type it
    .description('manage consumer groups: list, describe (members, offsets, lag), delete, reset offsets')
    .addCommand(listCommand(context))
    .addCommand(describeCommand(context))
    .addCommand(deleteCommand(context))
    .addCommand(resetOffsetsCommand(context));
}

function listCommand(context: CliContext): Command {
  const command = new Command('list').description('list consumer groups');
  return withOutputOption(withConnectionOptions(command)).action(
    async (flags: ConnectionFlags & { output: OutputFormat }) => {
      const groups = await withTide(context, flags, (tide) => tide.admin().groups().listGroups());
      if (flags.output !== 'table') {
        printData(context, flags.output, groups);
      } else if (groups.length === 0) {
        context.stdout.write('no consumer groups\n');
      } else {
        printTable(
          context,
          ['GROUP', 'STATE', 'PROTOCOL'],
          groups.map((g) => [g.groupId, g.state || null, g.protocolType || null]),
        );
      }
    },
  );
}

function describeCommand(context: CliContext): Command {
  const command = new Command('describe')
    .description('show a group: state, members and their partitions, committed offsets and lag')
    .argument('<group>', 'group id');
  return withOutputOption(withConnectionOptions(command)).action(
    async (groupId: string, flags: ConnectionFlags & { output: OutputFormat }) => {
      const group = await withTide(context, flags, (tide) => tide.admin().groups().describeGroup(groupId));
      if (flags.output !== 'table') {
        printData(context, flags.output, group);
        return;
      }
      printGroup(context, group);
    },
  );
}

function printGroup(context: CliContext, group: GroupDescription): void {
  const totalLag = group.partitions.reduce((sum, p) => sum + (p.lag ?? 0n), 0n);
  const rows: [string, string][] = [
    ['group', group.groupId],
    ['state', group.state],
    ['assignor', group.assignor || '-'],
    ['coordinator', `SPU ${group.coordinatorId}`],
    ['members', String(group.members.length)],
    ['total lag', String(totalLag)],
  ];
  const width = Math.max(...rows.map(([key]) => key.length));
  for (const [key, value] of rows) context.stdout.write(`${`${key}:`.padEnd(width + 2)}${value}\n`);
  if (group.members.length > 0) {
    context.stdout.write('\n');
    printTable(
      context,
      ['MEMBER', 'INSTANCE', 'CLIENT ID', 'HOST', 'PARTITIONS'],
      group.members.map((m) => [
        m.memberId,
        m.groupInstanceId,
        m.clientId,
        m.host,
        m.assignment.map((p) => `${p.topic}-${p.partition}`).join(',') || null,
      ]),
    );
  }
  if (group.partitions.length > 0) {
    context.stdout.write('\n');
    printTable(
      context,
      ['TOPIC', 'PARTITION', 'COMMITTED', 'LOG END', 'LAG', 'MEMBER'],
      group.partitions.map((p) => [
        p.topic,
        p.partition,
        p.committedOffset,
        p.logEndOffset,
        p.lag,
        p.memberId,
      ]),
    );
  }
}

function deleteCommand(context: CliContext): Command {
  const command = new Command('delete')
    .description('delete consumer groups and their committed offsets (groups must have no members)')
    .argument('<groups...>', 'group ids');
  return withConnectionOptions(command).action(async (groupIds: string[], flags: ConnectionFlags) => {
    const results = await withTide(context, flags, (tide) => tide.admin().groups().deleteGroups(groupIds));
    for (const result of results) {
      if (result.error === null) context.stdout.write(`consumer group "${result.groupId}" deleted\n`);
    }
    const failed = results.filter((result) => result.error !== null);
    if (failed.length === 1) throw failed[0]!.error;
    if (failed.length > 1) throw new Error(failed.map((result) => result.error?.message).join('; '));
  });
}

interface ResetFlags extends ConnectionFlags {
  readonly output: OutputFormat;
  readonly topic: string;
  readonly partition: string[];
  readonly toEarliest: boolean;
  readonly toLatest: boolean;
  readonly toOffset?: string;
  readonly toDatetime?: string;
  readonly dryRun: boolean;
}

function resetOffsetsCommand(context: CliContext): Command {
  const command = new Command('reset-offsets')
    .description("move a group's committed offsets of a topic (the group must have no members)")
    .argument('<group>', 'group id')
    .requiredOption('--topic <name>', 'topic whose offsets to reset')
    .option('-p, --partition <n>', 'partition to reset (repeatable; default all)', collect, [])
    .option('--to-earliest', 'to the first offset still in the log', false)
    .option('--to-latest', 'to the end of the log (skip everything stored)', false)
    .option('--to-offset <offset>', 'to this offset (kept within the log)')
    .option('--to-datetime <iso>', 'to the first record at or after this time (ISO 8601)')
    .option('--dry-run', 'show the new offsets without committing them', false);
  return withOutputOption(withConnectionOptions(command)).action(
    async (groupId: string, flags: ResetFlags) => {
      const to = resetTarget(flags);
      const partitions = flags.partition.map((text) => parseFlag('-p', text, parsePartition));
      const results = await withTide(context, flags, (tide) =>
        tide
          .admin()
          .groups()
          .resetOffsets(groupId, {
            topic: flags.topic,
            to,
            dryRun: flags.dryRun,
            ...(partitions.length === 0 ? {} : { partitions }),
          }),
      );
      if (flags.output !== 'table') {
        printData(context, flags.output, { groupId, dryRun: flags.dryRun, offsets: results });
        return;
      }
      printTable(
        context,
        ['TOPIC', 'PARTITION', 'PREVIOUS', 'NEW'],
        results.map((r) => [r.topic, r.partition, r.previousOffset, r.newOffset]),
      );
      context.stdout.write(
        flags.dryRun ? 'dry run: nothing committed\n' : `offsets of group "${groupId}" reset\n`,
      );
    },
  );
}

/** The one `--to-…` flag given, as a reset target; a UsageError for none, several or bad values. */
export function resetTarget(flags: {
  toEarliest: boolean;
  toLatest: boolean;
  toOffset?: string;
  toDatetime?: string;
}): ResetTarget {
  const chosen = [
    flags.toEarliest,
    flags.toLatest,
    flags.toOffset !== undefined,
    flags.toDatetime !== undefined,
  ];
  if (chosen.filter(Boolean).length !== 1) {
    throw new UsageError('choose exactly one of --to-earliest, --to-latest, --to-offset and --to-datetime');
  }
  if (flags.toEarliest) return { kind: 'earliest' };
  if (flags.toLatest) return { kind: 'latest' };
  if (flags.toOffset !== undefined) {
    const text = flags.toOffset.trim();
    if (!/^\d+$/.test(text))
      throw new UsageError(`--to-offset: expected an offset (a whole number ≥ 0), got "${text}"`);
    return { kind: 'offset', offset: BigInt(text) };
  }
  const text = flags.toDatetime ?? '';
  const timestampMs = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(timestampMs) || timestampMs < 0) {
    throw new UsageError(
      `--to-datetime: expected an ISO 8601 time such as 2024-05-01T12:00:00Z, got "${text}"`,
    );
  }
  return { kind: 'datetime', timestampMs };
}

function parsePartition(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) {
    throw new Error(`expected a partition number, got "${text}"`);
  }
  return value;
}
