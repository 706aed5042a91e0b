import { Command } from 'commander';
import { formatBytes } from '../base/units.ts';
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

/** `tide partition list`: every partition with leader, replicas, ISR and offsets. */
export function partitionCommand(context: CliContext): Command {
  const list = new Command('list')
    .description('list partitions: leader, replicas, ISR, log start, high watermark, log end, size')
    .option('-t, --topic <name>', "only this topic's partitions");
  withOutputOption(withConnectionOptions(list)).action(
    async (flags: ConnectionFlags & { output: OutputFormat; topic?: string }) => {
      const partitions = await withTide(context, flags, (tide) => tide.admin().partitions(flags.topic));
      if (flags.output !== 'table') {
        printData(context, flags.output, partitions);
      } else if (partitions.length === 0) {
        context.stdout.write('no partitions\n');
      } else {
        printTable(
          context,
          ['TOPIC', 'PARTITION', 'LEADER', 'REPLICAS', 'ISR', 'LOG START', 'HW', 'LEO', 'SIZE', 'STATUS'],
          partitions.map((p) => [
            p.topic,
            p.partition,
            p.leaderId < 0 ? null : p.leaderId,
            p.replicas.join(','),
            p.isr.join(','),
            offset(p.logStartOffset),
            offset(p.highWatermark),
            offset(p.logEndOffset),
            p.sizeBytes === null ? null : formatBytes(Number(p.sizeBytes)),
            p.status,
          ]),
        );
      }
    },
  );
  return new Command('partition').description('inspect partitions').addCommand(list);
}

function offset(value: bigint): string | null {
  return value < 0n ? null : value.toString();
}
