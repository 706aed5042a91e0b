import { rm, stat } from 'node:fs/promises';
import { Command } from 'commander';
import { deleteProfile, loadProfiles } from '../client/profiles.ts';
import { startLocalCluster } from './cluster-start.ts';
import {
  type CliContext,
  integerArgument,
  type OutputFormat,
  printData,
  printTable,
  withOutputOption,
} from './common.ts';
import {
  type ClusterRecord,
  clusterFile,
  fetchHealth,
  isAlive,
  localClusterDefaults,
  readCluster,
  stopCluster,
} from './local-cluster.ts';

/** Where `tide cluster` keeps the local cluster unless `--data-dir` says otherwise. */
export interface ClusterCommandOptions {
  readonly defaultDataDir: string;
}

/** What commander hands `cluster start`; auto-create is undefined unless given either way. */
interface StartCommandFlags {
  readonly spus?: number;
  readonly dataDir: string;
  readonly basePort?: number;
  readonly scPort?: number;
  readonly autoCreateTopics?: boolean;
  readonly numPartitions?: number;
  readonly defaultReplicationFactor?: number;
}

/** The profile `cluster start` writes and `cluster delete` removes. */
export const localProfileName = 'local';

/** `tide cluster …`: runs a local SC and SPUs as background processes. */
export function clusterCommand(context: CliContext, options: ClusterCommandOptions): Command {
  const cluster = new Command('cluster').description('start, inspect and stop a local cluster (SC + SPUs)');
  const dataDir = (): [string, string, string] => [
    '--data-dir <dir>',
    'data, logs and cluster.json',
    options.defaultDataDir,
  ];
  cluster.addCommand(
    new Command('start')
      .description('start the SC and SPUs in the background and wait until all are registered')
      .option(
        '--spus <n>',
        `number of SPUs (default ${localClusterDefaults.spus}, or as last started)`,
        integerArgument(1),
      )
      .option('--data-dir <dir>', dataDir()[1], dataDir()[2])
      .option(
        '--base-port <port>',
        'SPU n: Kafka port P+n-1, internal P+100+n-1, HTTP P+200+n-1 (default 9092, or as last started)',
        integerArgument(1),
      )
      .option(
        '--sc-port <port>',
        'SC internal port, its HTTP port one above (default base port - 89)',
        integerArgument(1),
      )
      .option('--auto-create-topics', 'create topics that clients ask for (the default, or as last started)')
      .option('--no-auto-create-topics', 'answer unknown topics as unknown instead of creating them')
      .option('--num-partitions <n>', 'partitions of an auto-created topic (default 1)', integerArgument(1))
      .option(
        '--default-replication-factor <n>',
        'replicas of an auto-created topic (default 1, at most --spus)',
        integerArgument(1),
      )
      .action(async (flags: StartCommandFlags) => {
        await startLocalCluster(context, { ...flags, profileName: localProfileName });
      }),
  );
  cluster.addCommand(
    withOutputOption(
      new Command('status').description(
        'show the processes of the local cluster; exit code 0 when all run and are healthy, else 1',
      ),
    )
      .option('--data-dir <dir>', dataDir()[1], dataDir()[2])
      .action(async (flags: { dataDir: string; output: OutputFormat }) => {
        await printStatus(context, flags.dataDir, flags.output);
      }),
  );
  cluster.addCommand(
    new Command('shutdown')
      .description('stop the local cluster, keeping its data')
      .option('--data-dir <dir>', dataDir()[1], dataDir()[2])
      .action(async (flags: { dataDir: string }) => {
        const record = await requireCluster(flags.dataDir);
        await stopCluster(flags.dataDir, record);
        context.stdout.write(`local cluster stopped; data kept in ${flags.dataDir}\n`);
      }),
  );
  cluster.addCommand(
    new Command('delete')
      .description('stop the local cluster and remove its data')
      .option('--data-dir <dir>', dataDir()[1], dataDir()[2])
      .action(async (flags: { dataDir: string }) => {
        await deleteCluster(context, flags.dataDir);
      }),
  );
  return cluster;
}

async function requireCluster(dir: string): Promise<ClusterRecord> {
  const record = await readCluster(dir);
  if (record === undefined)
    throw new Error(`no local cluster in ${dir} (start one with \`tide cluster start\`)`);
  return record;
}

async function deleteCluster(context: CliContext, dir: string): Promise<void> {
  const exists = await stat(dir).then(
    () => true,
    () => false,
  );
  if (!exists) {
    context.stdout.write(`no local cluster in ${dir}\n`);
    return;
  }
  // Only a folder that holds a cluster.json is ours to remove.
  const record = await readCluster(dir);
  if (record === undefined) throw new Error(`${dir} holds no ${clusterFile(dir)}; not removing it`);
  await stopCluster(dir, record);
  await rm(dir, { recursive: true, force: true });
  await removeLocalProfile(context, record);
  context.stdout.write(`local cluster deleted (${dir} removed)\n`);
}

/** Removes the `local` profile if it still points at this cluster's SPUs. */
async function removeLocalProfile(context: CliContext, record: ClusterRecord): Promise<void> {
  const config = await loadProfiles(context.profilesPath);
  const profile = config.profiles[localProfileName];
  if (profile === undefined) return;
  const ours = new Set(record.spus.map((spu) => `${localClusterDefaults.host}:${spu.port}`));
  if (profile.bootstrap.every((address) => ours.has(address))) {
    await deleteProfile(context.profilesPath, localProfileName);
  }
}

interface ProcessStatus {
  readonly name: string;
  readonly pid: number | null;
  readonly running: boolean;
  readonly ports: Readonly<Record<string, number>>;
  readonly health: string;
}

async function printStatus(context: CliContext, dir: string, output: OutputFormat): Promise<void> {
  const record = await requireCluster(dir);
  const rows: ProcessStatus[] = await Promise.all([
    describe('sc', record.sc.pid, { internal: record.sc.port, http: record.sc.httpPort }, record.sc.httpPort),
    ...record.spus.map((spu) =>
      describe(
        `spu-${spu.id}`,
        spu.pid,
        { kafka: spu.port, internal: spu.internalPort, http: spu.httpPort },
        spu.httpPort,
      ),
    ),
  ]);
  if (output !== 'table') printData(context, output, { dataDir: dir, processes: rows });
  else printStatusTable(context, rows);
  // Scripts and health checks read the exit code: 0 only when every process runs and is healthy.
  const unwell = rows.filter((row) => row.health !== 'healthy');
  if (unwell.length > 0) {
    const what = unwell.map((row) => `${row.name} ${row.running ? row.health : 'stopped'}`).join(', ');
    throw new Error(`the local cluster is not healthy: ${what}`);
  }
}

function printStatusTable(context: CliContext, rows: readonly ProcessStatus[]): void {
  printTable(
    context,
    ['NAME', 'PID', 'STATUS', 'PORTS', 'HEALTH'],
    rows.map((row) => [
      row.name,
      row.pid,
      row.running ? 'running' : 'stopped',
      Object.entries(row.ports)
        .map(([kind, port]) => `${kind}=${port}`)
        .join(' '),
      row.health,
    ]),
  );
}

async function describe(
  name: string,
  pid: number | null,
  ports: Record<string, number>,
  httpPort: number,
): Promise<ProcessStatus> {
  const running = isAlive(pid);
  const body = running ? await fetchHealth(httpPort) : undefined;
  return { name, pid: running ? pid : null, running, ports, health: healthText(running, body) };
}

function healthText(running: boolean, body: Record<string, unknown> | undefined): string {
  if (!running) return '-';
  if (body === undefined) return 'unreachable';
  if (body.healthy !== true) return 'unhealthy';
  if (body.registered === false) return 'unregistered';
  return 'healthy';
}
