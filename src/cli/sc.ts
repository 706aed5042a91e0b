import { Command } from 'commander';

/** `tide sc`: runs the Streaming Controller in the foreground. */
export function scCommand(run: (options: Record<string, string>) => Promise<void>): Command {
  return new Command('sc')
    .description('run the Streaming Controller: cluster metadata, SPU liveness, replica placement')
    .option('--id <n>', 'controller id carried in every push (default 0)')
    .option(
      '--listen <host:port>',
      'internal listener for SPUs and tools (default 127.0.0.1:9003; port 0 picks a free one)',
    )
    .option('--http <host:port|off>', 'metrics and health endpoint (default 127.0.0.1:9004)')
    .option('--data-dir <dir>', 'where metadata.json is kept (default ~/.tide/sc)')
    .option('--log-level <level>', 'debug, info, warn, error or silent')
    .option('--spu-session-timeout-ms <ms>', 'an SPU silent this long is offline (default 6000)')
    .option(
      '--no-auto-leader-rebalance',
      'keep leaders where elections put them (no preferred-leader election)',
    )
    .option(
      '--accept-unplaced-topics',
      'accept topics with more replicas than SPUs online; they wait, unplaced, until enough join',
    )
    .action(async (options: Record<string, string>) => {
      await run(options);
    });
}
