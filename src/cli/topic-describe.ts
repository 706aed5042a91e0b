import { Command } from 'commander';
import type { TopicDescription } from '../client/admin-types.ts';
import {
  type CliContext,
  type ConnectionFlags,
  type OutputFormat,
  printData,
  printTable,
  withConnectionOptions,
  withOutputOption,
  withTide,
} from './common.ts';
import { partitionState } from './partition-state.ts';

/** `tide topic describe NAME`: partitions (leader, replicas, ISR) and configs of a topic. */
export function topicDescribeCommand(context: CliContext): Command {
  const command = new Command('describe')
    .description('show a topic: partitions, leaders, replicas, ISR and configs')
    .argument('<name>', 'topic name')
    .option('--all-configs', 'list every config, not only those that differ from the default', false);
  return withOutputOption(withConnectionOptions(command)).action(
    async (name: string, flags: ConnectionFlags & { output: OutputFormat; allConfigs: boolean }) => {
      const [topic, partitions] = await withTide(context, flags, (tide) =>
        Promise.all([tide.admin().describeTopic(name), tide.admin().partitions(name)]),
      );
      // Placement and state as `partition list` shows them, so that the two commands agree.
      const details = partitions.map((p) => ({
        partition: p.partition,
        leaderId: p.leaderId,
        leaderEpoch: p.leaderEpoch,
        replicas: p.replicas,
        isr: p.isr,
        offlineReplicas: p.offlineReplicas,
        error: p.error,
        status: partitionState(p),
      }));
      if (flags.output !== 'table') {
        printData(context, flags.output, { ...topic, partitionDetails: details });
        return;
      }
      printSummary(context, topic);
      context.stdout.write('\n');
      printTable(
        context,
        ['PARTITION', 'LEADER', 'EPOCH', 'REPLICAS', 'ISR', 'STATUS'],
        details.map((p) => [
          p.partition,
          p.leaderId < 0 ? null : p.leaderId,
          p.leaderEpoch,
          p.replicas.join(','),
          p.isr.join(','),
          p.status,
        ]),
      );
      const configs = topic.configs.filter((c) => flags.allConfigs || !c.isDefault);
      context.stdout.write('\n');
      if (configs.length === 0) {
        context.stdout.write('configs: all defaults (--all-configs lists them)\n');
        return;
      }
      printTable(
        context,
        ['CONFIG', 'VALUE', 'SOURCE'],
        configs.map((c) => [c.name, c.sensitive ? '(hidden)' : c.value, c.source]),
      );
    },
  );
}

function printSummary(context: CliContext, topic: TopicDescription): void {
  const rows: [string, string][] = [
    ['name', topic.name],
    ['id', topic.topicId || '-'],
    ['partitions', String(topic.partitions)],
    ['replication', String(topic.replicationFactor)],
  ];
  if (topic.internal) rows.push(['internal', 'yes']);
  if (topic.status !== null) rows.push(['status', topic.status]);
  if (topic.statusReason !== null) rows.push(['reason', topic.statusReason]);
  const width = Math.max(...rows.map(([key]) => key.length));
  for (const [key, value] of rows) context.stdout.write(`${`${key}:`.padEnd(width + 2)}${value}\n`);
}
