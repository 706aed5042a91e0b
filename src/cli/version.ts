import { Command } from 'commander';
import { tideVersion } from '../base/version.ts';

/** `tide version`: the CLI version, the Node.js runtime and the platform. */
export function versionCommand(): Command {
  return new Command('version').description('print version information').action(() => {
    process.stdout.write(
      `tide ${tideVersion}\nnode ${process.version}\nplatform ${process.platform}-${process.arch}\n`,
    );
  });
}
