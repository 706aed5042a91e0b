/**
 * Entry point of the `tide` command: builds the command tree and maps failures to exit codes.
 * Only this file reads argv and the environment.
 */
import { Command } from 'commander';
import { tideVersion } from '../base/version.ts';
import { scCommand } from './sc.ts';
import { spuCommand } from './spu.ts';
import { versionCommand } from './version.ts';

const program = new Command('tide')
  .description('Tide: a distributed data-streaming platform that speaks the Kafka protocol')
  .version(tideVersion, '-V, --version', 'print the version')
  .showHelpAfterError()
  .addCommand(versionCommand())
  .addCommand(spuCommand(async (options) => (await import('../spu/main.ts')).runSpu(options)))
  .addCommand(scCommand(async (options) => (await import('../sc/main.ts')).runSc(options)));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
