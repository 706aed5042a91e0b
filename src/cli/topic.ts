import { Command } from 'commander';
import { TideError } from '../base/errors.ts';
import {
  type CliContext,
  type ConnectionFlags,
  collect,
  integerArgument,
  type OutputFormat,
  parseConfigPairs,
  printData,
  printTable,
  ReportedFailure,
  UsageError,
  withConnectionOptions,
  withOutputOption,
  withTide,
} from './common.ts';
import { topicCreateCommand } from './topic-create.ts';
import { topicDescribeCommand } from './topic-describe.ts';

/** `tide topic …`: create, list, describe, delete and change topics. */
export function topicCommand(context: CliContext): Command {
  return new Command('topic')
    .description('manage topics')
    .addCommand(topicCreateCommand(context))
    .addCommand(listCommand(context))
    .addCommand(topicDescribeCommand(context))
    .addCommand(deleteCommand(context))
    .addCommand(addPartitionCommand(context))
    .addCommand(alterConfigCommand(context));
}

function listCommand(context: CliContext): Command {
  const command = new Command('list')
    .description('list topics')
    .option('--internal', 'include internal topics', false);
  return withOutputOption(withConnectionOptions(command)).action(
    async (flags: ConnectionFlags & { output: OutputFormat; internal: boolean }) => {
      const topics = await withTide(context, flags, (tide) =>
        tide.admin().listTopics({ includeInternal: flags.internal }),
      );
      if (flags.output !== 'table') {
        printData(context, flags.output, topics);
      } else if (topics.length === 0) {
        context.stdout.write('no topics\n');
      } else {
        printTable(
          context,
          ['NAME', 'PARTITIONS', 'REPLICAS', 'ID'],
          topics.map((t) => [t.name, t.partitions, t.replicationFactor, t.topicId || null]),
        );
      }
    },
  );
}

function deleteCommand(context: CliContext): Command {
  const command = new Command('delete').description('delete topics').argument('<names...>', 'topic names');
  return withOutputOption(withConnectionOptions(command)).action(
    async (names: string[], flags: ConnectionFlags & { output: OutputFormat }) => {
      const results = await withTide(context, flags, (tide) => tide.admin().deleteTopics(names));
      const failed = results.filter((result) => result.error !== null);
      const message = failed.map((result) => result.error?.message).join('; ');
      if (flags.output !== 'table') {
        printData(
          context,
          flags.output,
          results.map((result) => ({
            name: result.name,
            deleted: result.error === null,
            error:
              result.error === null ? null : { code: errorCode(result.error), message: result.error.message },
          })),
        );
        if (failed.length > 0) throw new ReportedFailure(message);
        return;
      }
      for (const result of results) {
        if (result.error === null) context.stdout.write(`topic "${result.name}" deleted\n`);
      }
      if (failed.length === 1) throw failed[0]!.error;
      if (failed.length > 1) throw new Error(message);
    },
  );
}

function addPartitionCommand(context: CliContext): Command {
  const command = new Command('add-partition')
    .description('add partitions to a topic')
    .argument('<name>', 'topic name')
    .option('-c, --count <n>', 'how many partitions to add', integerArgument(1), 1);
  return withConnectionOptions(command).action(
    async (name: string, flags: ConnectionFlags & { count: number }) => {
      const total = await withTide(context, flags, async (tide) => {
        const admin = tide.admin();
        const current = (await tide.cluster.topicMetadata(name, { refresh: true })).partitions.length;
        await admin.addPartitions(name, current + flags.count);
        return current + flags.count;
      });
      context.stdout.write(`added ${flags.count} partition(s) to "${name}" (now ${total})\n`);
    },
  );
}

function alterConfigCommand(context: CliContext): Command {
  const command = new Command('alter-config')
    .description('set or reset some configs of a topic, leaving the others')
    .argument('<name>', 'topic name')
    .option('--config <key=value>', 'set a config (repeatable)', collect, [])
    .option('--delete-config <key>', 'return a config to its default (repeatable)', collect, []);
  return withConnectionOptions(command).action(
    async (name: string, flags: ConnectionFlags & { config: string[]; deleteConfig: string[] }) => {
      const changes: Record<string, string | null> = parseConfigPairs(flags.config);
      for (const key of flags.deleteConfig) changes[key] = null;
      if (Object.keys(changes).length === 0)
        throw new UsageError('nothing to change: pass --config k=v or --delete-config k');
      await withTide(context, flags, (tide) => tide.admin().alterConfigs(name, changes));
      context.stdout.write(`topic "${name}" updated\n`);
    },
  );
}

function errorCode(error: Error): string {
  return error instanceof TideError ? error.code : error.name;
}
