import { resolve } from 'node:path';
import { addProfile } from '../client/profiles.ts';
import { Tide } from '../client/tide.ts';
import type { CliContext } from './common.ts';
import {
  type ClusterRecord,
  clusterPorts,
  delay,
  fetchHealth,
  isAlive,
  layoutCluster,
  layoutProblem,
  localClusterDefaults,
  logFile,
  prepareDirs,
  readCluster,
  scArgs,
  spawnTide,
  spuArgs,
  stopProcess,
  type TopicCreationRecord,
  takenPorts,
  writeCluster,
} from './local-cluster.ts';

export interface StartFlags {
  readonly dataDir: string;
  readonly spus?: number;
  readonly basePort?: number;
  readonly scPort?: number;
  /** Unset: as last started, else localClusterDefaults.topicCreation. */
  readonly autoCreateTopics?: boolean;
  readonly numPartitions?: number;
  readonly defaultReplicationFactor?: number;
  readonly profileName: string;
}

/**
 * `tide cluster start`: lays out the ports (as last time unless flags say otherwise, so a restart
 * finds the same data behind the same addresses), refuses when the cluster runs already or a port
 * is taken, starts the processes and waits until every SPU has registered with the SC. When only
 * part of the cluster runs (an SPU crashed or was killed), it starts the missing processes at their
 * recorded addresses and leaves the running ones alone.
 */
export async function startLocalCluster(context: CliContext, flags: StartFlags): Promise<void> {
  const dir = resolve(flags.dataDir);
  const { layout, running } = await planCluster(dir, flags);
  await prepareDirs(dir);
  const started: string[] = [];
  const pidOf = async (name: string, pid: number | null, args: string[]): Promise<number> => {
    if (pid !== null && running.has(pid)) return pid;
    started.push(name);
    return spawnTide(args, logFile(dir, name));
  };
  let record = {
    ...layout,
    sc: { ...layout.sc, pid: await pidOf('sc', layout.sc.pid, scArgs(dir, layout.sc)) },
  };
  await writeCluster(dir, record);
  const spus = [];
  for (const spu of record.spus) {
    spus.push({
      ...spu,
      pid: await pidOf(`spu-${spu.id}`, spu.pid, spuArgs(dir, record.sc, spu, record.topicCreation)),
    });
  }
  record = { ...record, spus };
  await writeCluster(dir, record);
  try {
    await waitUntilReady(context, dir, record);
  } catch (error) {
    // Leave nothing half-started behind (what was running before keeps running).
    await stopStarted(dir, record, running);
    throw error;
  }
  if (running.size > 0) context.stderr.write(`started ${started.join(', ')}; the rest was running\n`);
  const bootstrap = record.spus.map((spu) => `${localClusterDefaults.host}:${spu.port}`);
  await addProfile(
    context.profilesPath,
    flags.profileName,
    { bootstrap },
    { makeCurrent: true, replace: true },
  );
  context.stderr.write(
    `local cluster running: SC ${localClusterDefaults.host}:${record.sc.port}, ${spus.length} SPU(s); ` +
      `profile "${flags.profileName}" is current; logs in ${logFile(dir, '*')}\n`,
  );
  context.stdout.write(`${bootstrap.join(',')}\n`);
}

/** The layout to start, and the pids of its processes that run already (only when some are down). */
async function planCluster(
  dir: string,
  flags: StartFlags,
): Promise<{ layout: ClusterRecord; running: ReadonlySet<number> }> {
  const previous = await readCluster(dir);
  if (previous !== undefined) {
    const processes = [previous.sc, ...previous.spus];
    const running = processes.flatMap((process) => (isAlive(process.pid) ? [process.pid as number] : []));
    if (running.length === processes.length) {
      throw new Error(
        `the local cluster in ${dir} is already running (pids ${running.join(', ')}); ` +
          'see `tide cluster status`, or stop it with `tide cluster shutdown`',
      );
    }
    if (running.length > 0) {
      const relayout =
        (flags.spus !== undefined && flags.spus !== previous.spus.length) ||
        flags.basePort !== undefined ||
        flags.scPort !== undefined ||
        flags.autoCreateTopics !== undefined ||
        flags.numPartitions !== undefined ||
        flags.defaultReplicationFactor !== undefined;
      if (relayout) {
        throw new Error(
          `part of the local cluster in ${dir} is running (pids ${running.join(', ')}); ` +
            '`tide cluster start` only starts its missing processes as they were laid out; ' +
            'stop it with `tide cluster shutdown` to change the layout',
        );
      }
      const scPorts = isAlive(previous.sc.pid) ? [] : [previous.sc.port, previous.sc.httpPort];
      const spuPorts = previous.spus
        .filter((spu) => !isAlive(spu.pid))
        .flatMap((spu) => [spu.port, spu.internalPort, spu.httpPort]);
      await refuseTakenPorts([...scPorts, ...spuPorts]);
      return { layout: previous, running: new Set(running) };
    }
  }
  const spus = flags.spus ?? previous?.spus.length ?? localClusterDefaults.spus;
  if (spus > localClusterDefaults.spusMax) {
    throw new Error(`--spus ${spus}: at most ${localClusterDefaults.spusMax} SPUs per local cluster`);
  }
  const basePort = flags.basePort ?? previous?.basePort ?? localClusterDefaults.basePort;
  const scPort = flags.scPort ?? (flags.basePort === undefined ? previous?.sc.port : undefined);
  const layout = {
    ...layoutCluster({ basePort, spus, ...(scPort === undefined ? {} : { scPort }) }),
    topicCreation: planTopicCreation(flags, previous, spus),
  };
  const problem = layoutProblem(layout);
  if (problem !== undefined) throw new Error(problem);
  await refuseTakenPorts(clusterPorts(layout));
  return { layout, running: new Set() };
}

/** Auto-create settings from the flags, else as last started, else the local cluster's defaults. */
function planTopicCreation(
  flags: StartFlags,
  previous: ClusterRecord | undefined,
  spus: number,
): TopicCreationRecord {
  const last = previous?.topicCreation ?? localClusterDefaults.topicCreation;
  const topicCreation = {
    autoCreate: flags.autoCreateTopics ?? last.autoCreate,
    partitions: flags.numPartitions ?? last.partitions,
    replicationFactor: flags.defaultReplicationFactor ?? last.replicationFactor,
  };
  if (topicCreation.replicationFactor > spus) {
    throw new Error(
      `--default-replication-factor ${topicCreation.replicationFactor} needs at least as many SPUs (--spus ${spus})`,
    );
  }
  return topicCreation;
}

async function refuseTakenPorts(ports: readonly number[]): Promise<void> {
  const taken = await takenPorts(ports);
  if (taken.length > 0) {
    throw new Error(
      `port${taken.length > 1 ? 's' : ''} ${taken.join(', ')} already in use on ${localClusterDefaults.host}; ` +
        'stop whatever holds them or choose other ports with --base-port / --sc-port',
    );
  }
}

/** Stops what this start began (SPUs, then the SC) and records it as not running. */
async function stopStarted(dir: string, record: ClusterRecord, running: ReadonlySet<number>): Promise<void> {
  const startedNow = (pid: number | null): boolean => pid !== null && !running.has(pid);
  await Promise.all(record.spus.filter((spu) => startedNow(spu.pid)).map((spu) => stopProcess(spu.pid)));
  if (startedNow(record.sc.pid)) await stopProcess(record.sc.pid);
  await writeCluster(dir, {
    ...record,
    sc: startedNow(record.sc.pid) ? { ...record.sc, pid: null } : record.sc,
    spus: record.spus.map((spu) => (startedNow(spu.pid) ? { ...spu, pid: null } : spu)),
  });
}

/** Polls every process until all SPUs have registered and the cluster lists them all online. */
async function waitUntilReady(context: CliContext, dir: string, record: ClusterRecord): Promise<void> {
  const progress = progressReporter(context, record.spus.length);
  const deadline = Date.now() + localClusterDefaults.readyTimeoutMs;
  for (;;) {
    checkStillRunning(dir, record);
    const registered = await countRegistered(record);
    const online = registered === record.spus.length ? await countOnline(record) : 0;
    progress(registered, online);
    if (online === record.spus.length) return;
    if (Date.now() >= deadline) {
      throw new Error(
        `the local cluster did not come up within ${localClusterDefaults.readyTimeoutMs / 1000} s ` +
          `(${registered} of ${record.spus.length} SPUs registered); see the logs in ${logFile(dir, '*')}`,
      );
    }
    await delay(localClusterDefaults.pollIntervalMs);
  }
}

function checkStillRunning(dir: string, record: ClusterRecord): void {
  const processes = [
    { name: 'sc', pid: record.sc.pid },
    ...record.spus.map((spu) => ({ name: `spu-${spu.id}`, pid: spu.pid })),
  ];
  const dead = processes.find((process) => !isAlive(process.pid));
  if (dead !== undefined) {
    throw new Error(`${dead.name} exited while starting; see ${logFile(dir, dead.name)}`);
  }
}

async function countRegistered(record: ClusterRecord): Promise<number> {
  const bodies = await Promise.all(record.spus.map((spu) => fetchHealth(spu.httpPort)));
  return bodies.filter((body) => body?.healthy === true && body.registered === true).length;
}

/** SPUs the cluster metadata lists as online, asked through the client like any user would. */
async function countOnline(record: ClusterRecord): Promise<number> {
  const bootstrap = record.spus.map((spu) => `${localClusterDefaults.host}:${spu.port}`).join(',');
  try {
    const tide = await Tide.connect({ bootstrap, reconnectTimeoutMs: localClusterDefaults.healthTimeoutMs });
    try {
      const spus = await tide.admin().spus();
      return spus.filter((spu) => spu.status === 'online').length;
    } finally {
      await tide.close();
    }
  } catch {
    return 0;
  }
}

/** A one-line progress display on a terminal, plain lines when something changes otherwise. */
function progressReporter(context: CliContext, total: number): (registered: number, online: number) => void {
  const tty = context.stderr.isTTY === true;
  let last = '';
  return (registered, online) => {
    const done = online === total;
    const text = done
      ? `local cluster ready: ${total} of ${total} SPUs online`
      : `starting local cluster: ${registered} of ${total} SPUs registered`;
    if (text === last) return;
    last = text;
    context.stderr.write(tty ? `\r\x1b[2K${text}${done ? '\n' : ''}` : `${text}\n`);
  };
}
