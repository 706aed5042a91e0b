import { Command } from 'commander';
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

/** `tide spu list`: the cluster's SPUs, their addresses, status and partitions led. */
export function spuListCommand(context: CliContext): Command {
  const command = new Command('list').description('list the SPUs of the cluster');
  return withOutputOption(withConnectionOptions(command)).action(
    async (flags: ConnectionFlags & { output: OutputFormat }) => {
      const spus = await withTide(context, flags, (tide) => tide.admin().spus());
      if (flags.output !== 'table') {
        printData(context, flags.output, spus);
        return;
      }
      printTable(
        context,
        ['ID', 'STATUS', 'ADDRESS', 'RACK', 'LEADERS'],
        spus.map((s) => [s.id, s.status, `${s.host}:${s.port}`, s.rack, s.partitionsLed]),
      );
    },
  );
}
