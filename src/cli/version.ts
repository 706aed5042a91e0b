import { Command } from 'commander';
import { tideRevision, tideVersion } from '../base/version.ts';

/** `tide version`: the CLI version, the git revision it was built from, Node.js and the platform. */
export function versionCommand(): Command {
  return new Command('version').description('print version information').action(() => {
    process.stdout.write(
      `tide ${tideVersion}\nrevision ${tideRevision()}\nnode ${process.version}\n` +
        `platform ${process.platform}-${process.arch}\n`,
    );
  });
}
