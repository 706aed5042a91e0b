/**
 * Entry point of the `tide` command: builds the command tree and maps failures to exit codes.
 * Only this file reads argv and the environment.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { tideVersion } from '../base/version.ts';
import { defaultProfilesPath } from '../client/profiles.ts';
import { clusterCommand } from './cluster.ts';
import { type CliContext, configureTree, reportFailure, requestedOutput } from './common.ts';
import { completionsCommand } from './completions.ts';
import { consumeCommand } from './consume.ts';
import { consumerGroupCommand } from './consumer-group.ts';
import { partitionCommand } from './partition.ts';
import { produceCommand } from './produce.ts';
import { profileCommand } from './profile.ts';
import { scCommand } from './sc.ts';
import { spuCommand } from './spu.ts';
import { spuListCommand } from './spu-list.ts';
import { topicCommand } from './topic.ts';
import { versionCommand } from './version.ts';

// A reader that stops early (`tide consume … | head`) closes our stdout: that is the end of the job,
// not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const context: CliContext = {
  profilesPath: process.env.TIDE_CONFIG || defaultProfilesPath(homedir()),
  stdout: process.stdout,
  stderr: process.stderr,
  // Tables fit a terminal's width unless --wide asks for all of it; a pipe gets full lines.
  tableWidthMax:
    process.stdout.isTTY === true && !process.argv.includes('--wide') ? process.stdout.columns : undefined,
};

// The local cluster lives in $TIDE_HOME/local, else ~/.tide/local.
const localClusterDir = join(process.env.TIDE_HOME || join(homedir(), '.tide'), 'local');

const program = new Command('tide')
  .description('Tide: a distributed data-streaming platform that speaks the Kafka protocol')
  .version(tideVersion, '-V, --version', 'print the version')
  .showHelpAfterError()
  .addCommand(versionCommand())
  .addCommand(
    spuCommand(async (options) => (await import('../spu/main.ts')).runSpu(options)).addCommand(
      spuListCommand(context),
    ),
  )
  .addCommand(scCommand(async (options) => (await import('../sc/main.ts')).runSc(options)))
  .addCommand(clusterCommand(context, { defaultDataDir: localClusterDir }))
  .addCommand(profileCommand(context))
  .addCommand(topicCommand(context))
  .addCommand(partitionCommand(context))
  .addCommand(produceCommand(context))
  .addCommand(consumeCommand(context))
  .addCommand(consumerGroupCommand(context))
  .addCommand(completionsCommand(context, () => program));
// Applied last, to every command: usage errors throw so that they exit with code 2.
configureTree(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportFailure(context, error, { output: requestedOutput(process.argv.slice(2)) });
}
