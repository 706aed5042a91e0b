import { Command } from 'commander';
import {
  addProfile,
  currentProfile,
  deleteProfile,
  loadProfiles,
  renameProfile,
  switchProfile,
} from '../client/profiles.ts';
import { splitAddresses } from '../client/tide.ts';
import {
  type CliContext,
  type OutputFormat,
  printData,
  printTable,
  UsageError,
  withOutputOption,
} from './common.ts';

/** `tide profile …`: the named clusters in the profiles file and which one is current. */
export function profileCommand(context: CliContext): Command {
  const profile = new Command('profile').description('manage connection profiles (named clusters)');
  profile.addCommand(listCommand(context));
  profile.addCommand(
    new Command('current').description('print the current profile name').action(async () => {
      const current = await currentProfile(context.profilesPath);
      if (current === null) throw new Error(`no current profile (profiles file: ${context.profilesPath})`);
      context.stdout.write(`${current.name}\n`);
    }),
  );
  profile.addCommand(
    new Command('switch')
      .description('make a profile current')
      .argument('<name>', 'profile name')
      .action(async (name: string) => {
        await switchProfile(context.profilesPath, name);
        context.stdout.write(`switched to profile "${name}"\n`);
      }),
  );
  profile.addCommand(addCommand(context));
  profile.addCommand(
    new Command('delete')
      .description('delete a profile')
      .argument('<name>', 'profile name')
      .action(async (name: string) => {
        const wasCurrent = (await loadProfiles(context.profilesPath)).currentProfile === name;
        await deleteProfile(context.profilesPath, name);
        const after = (await loadProfiles(context.profilesPath)).currentProfile;
        const current = after === null ? 'no profile is current now' : `"${after}" is current`;
        context.stdout.write(`profile "${name}" deleted${wasCurrent ? `; ${current}` : ''}\n`);
      }),
  );
  profile.addCommand(
    new Command('rename')
      .description('rename a profile')
      .argument('<from>', 'current name')
      .argument('<to>', 'new name')
      .action(async (from: string, to: string) => {
        await renameProfile(context.profilesPath, from, to);
        context.stdout.write(`profile "${from}" renamed to "${to}"\n`);
      }),
  );
  return profile;
}

function listCommand(context: CliContext): Command {
  return withOutputOption(new Command('list').description('list profiles')).action(
    async (options: { output: OutputFormat }) => {
      const config = await loadProfiles(context.profilesPath);
      const profiles = Object.entries(config.profiles).map(([name, profile]) => ({
        name,
        current: name === config.currentProfile,
        bootstrap: profile.bootstrap,
      }));
      if (options.output !== 'table') {
        printData(context, options.output, { currentProfile: config.currentProfile, profiles });
        return;
      }
      if (profiles.length === 0) {
        context.stdout.write('no profiles (add one with `tide profile add NAME --bootstrap HOST:PORT`)\n');
        return;
      }
      printTable(
        context,
        ['', 'PROFILE', 'BOOTSTRAP'],
        profiles.map((p) => [p.current ? '*' : '', p.name, p.bootstrap.join(',')]),
      );
    },
  );
}

function addCommand(context: CliContext): Command {
  return new Command('add')
    .description('add a profile (it becomes current if none is, or with --switch)')
    .argument('<name>', 'profile name')
    .requiredOption('--bootstrap <addresses>', 'SPU addresses host:port[,host:port…]')
    .option('--switch', 'make it the current profile', false)
    .option('--force', 'replace a profile with the same name', false)
    .action(async (name: string, options: { bootstrap: string; switch: boolean; force: boolean }) => {
      const bootstrap = splitAddresses(options.bootstrap);
      if (bootstrap.length === 0) throw new UsageError('--bootstrap needs at least one host:port');
      await addProfile(
        context.profilesPath,
        name,
        { bootstrap },
        { makeCurrent: options.switch, replace: options.force },
      );
      const current = (await loadProfiles(context.profilesPath)).currentProfile;
      const which =
        current === name
          ? 'it is the current profile'
          : `the current profile is still "${current}" (\`tide profile switch ${name}\` to use it)`;
      context.stdout.write(`profile "${name}" added (${bootstrap.join(',')}); ${which}\n`);
    });
}
