/**
 * The local cluster that `tide cluster …` manages: one SC and N SPUs running as detached background
 * processes of this same `tide` command, all under one folder:
 *
 * ```
 * DIR/cluster.json     what is running: ports and pids (format below)
 * DIR/sc/              the SC's metadata
 * DIR/spu-N/           SPU N's partitions
 * DIR/logs/sc.log      each process's log (appended across restarts)
 * DIR/logs/spu-N.log
 * ```
 *
 * cluster.json (JSON, replaced atomically):
 * `{ "version": 1, "basePort": 9092,
 *    "sc": { "pid": 123 | null, "port": 9003, "httpPort": 9004 },
 *    "spus": [{ "id": 1, "pid": 124 | null, "port": 9092, "internalPort": 9192, "httpPort": 9292 }] }`
 * A pid is null once the process was shut down.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../base/atomic-file.ts';

export const clusterFormatVersion = 1;

export const localClusterDefaults = Object.freeze({
  host: '127.0.0.1',
  spus: 1, // SPUs started when neither --spus nor an earlier start says otherwise
  basePort: 9092, // SPU n: Kafka basePort+n-1, internal basePort+100+n-1, HTTP basePort+200+n-1
  scPortBelowBase: 89, // SC internal port = basePort - 89 (9003 for 9092); its HTTP port is one above
  spusMax: 100, // SPUs per cluster, so the port ranges of each kind do not overlap
  readyTimeoutMs: 30_000, // ms `cluster start` waits for every SPU to register
  pollIntervalMs: 100, // ms between health checks while waiting
  healthTimeoutMs: 1_000, // ms one /health request may take
  stopTimeoutMs: 10_000, // ms between SIGTERM and SIGKILL
  // Topics that clients ask for are created, as in Redpanda's dev mode: the local cluster is for
  // development, where tutorials, rsyslog and librdkafka's own tests expect Kafka's
  // auto.create.topics.enable. A production SPU (`tide spu`) keeps it off, so a typo in a topic
  // name is an error rather than a new topic.
  topicCreation: Object.freeze({ autoCreate: true, partitions: 1, replicationFactor: 1 }),
});

export interface ScRecord {
  readonly pid: number | null;
  readonly port: number;
  readonly httpPort: number;
}

export interface SpuRecord {
  readonly id: number;
  readonly pid: number | null;
  readonly port: number;
  readonly internalPort: number;
  readonly httpPort: number;
}

/** How the SPUs create topics clients ask for (auto.create.topics.enable, num.partitions, default.replication.factor). */
export interface TopicCreationRecord {
  readonly autoCreate: boolean;
  readonly partitions: number;
  readonly replicationFactor: number;
}

export interface ClusterRecord {
  readonly version: number;
  readonly basePort: number;
  readonly sc: ScRecord;
  readonly spus: readonly SpuRecord[];
  /** Absent in files written before it existed: the defaults then apply. */
  readonly topicCreation?: TopicCreationRecord;
}

const tideBin = fileURLToPath(new URL('../../bin/tide.js', import.meta.url));

export function clusterFile(dir: string): string {
  return join(dir, 'cluster.json');
}

export function logFile(dir: string, name: string): string {
  return join(dir, 'logs', `${name}.log`);
}

/** The ports of a cluster of `spus` SPUs laid out from `basePort` (pids not yet known). */
export function layoutCluster(options: { basePort: number; spus: number; scPort?: number }): ClusterRecord {
  const { basePort, spus } = options;
  const scPort = options.scPort ?? basePort - localClusterDefaults.scPortBelowBase;
  const spuRecords: SpuRecord[] = [];
  for (let id = 1; id <= spus; id++) {
    spuRecords.push({
      id,
      pid: null,
      port: basePort + id - 1,
      internalPort: basePort + 100 + id - 1,
      httpPort: basePort + 200 + id - 1,
    });
  }
  return {
    version: clusterFormatVersion,
    basePort,
    sc: { pid: null, port: scPort, httpPort: scPort + 1 },
    spus: spuRecords,
  };
}

/** Every port the cluster binds. */
export function clusterPorts(record: ClusterRecord): number[] {
  return [
    record.sc.port,
    record.sc.httpPort,
    ...record.spus.flatMap((spu) => [spu.port, spu.internalPort, spu.httpPort]),
  ];
}

/** Why this layout cannot work (ports out of range or clashing), or undefined. */
export function layoutProblem(record: ClusterRecord): string | undefined {
  const ports = clusterPorts(record);
  const bad = ports.find((port) => !Number.isInteger(port) || port < 1 || port > 65_535);
  if (bad !== undefined) {
    // Name the range that works rather than the port that does not (`--base-port 50` → "-39").
    const highest = 65_535 - 200 - (record.spus.length - 1);
    const spuPorts = record.spus.flatMap((spu) => [spu.port, spu.internalPort, spu.httpPort]);
    if (spuPorts.includes(bad) || bad === record.basePort - localClusterDefaults.scPortBelowBase) {
      return (
        `--base-port ${record.basePort} puts ports outside 1–65535 (${Math.min(...ports)}–${Math.max(...ports)}); ` +
        `with ${record.spus.length} SPU(s) it must be from ${localClusterDefaults.scPortBelowBase + 1} to ${highest}`
      );
    }
    return `--sc-port: port ${bad} is out of range (1–65535 for it and the HTTP port one above)`;
  }
  if (new Set(ports).size !== ports.length) return 'the SC and SPU ports overlap; choose another --sc-port';
  return undefined;
}

/** The cluster recorded in `dir`, or undefined when there is none. */
export async function readCluster(dir: string): Promise<ClusterRecord | undefined> {
  let text: string;
  try {
    text = await readFile(clusterFile(dir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let record: ClusterRecord;
  try {
    record = JSON.parse(text) as ClusterRecord;
  } catch (error) {
    throw new Error(`${clusterFile(dir)} is not valid JSON: ${(error as Error).message}`);
  }
  if (record.version !== clusterFormatVersion || !Array.isArray(record.spus) || record.sc === undefined) {
    throw new Error(
      `${clusterFile(dir)} is not a cluster file this tide reads (version ${clusterFormatVersion})`,
    );
  }
  return record;
}

export async function writeCluster(dir: string, record: ClusterRecord): Promise<void> {
  await writeFileAtomic(clusterFile(dir), `${JSON.stringify(record, null, 2)}\n`);
}

/**
 * True while a process with this pid exists (EPERM means it exists but is not ours). An exited
 * process nobody has reaped yet (a zombie, state Z in /proc on Linux) counts as gone.
 */
export function isAlive(pid: number | null): boolean {
  if (pid === null) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc here: trust the signal check
  }
}

/** Resolves true when `port` can be bound on the loopback address right now. */
export function isPortFree(port: number, host: string = localClusterDefaults.host): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The ports among `ports` that something else holds. */
export async function takenPorts(ports: readonly number[]): Promise<number[]> {
  const free = await Promise.all(ports.map((port) => isPortFree(port)));
  return ports.filter((_, index) => free[index] === false);
}

/** Starts `tide <args>` detached from this process, its stdout and stderr appended to `logPath`. */
export async function spawnTide(args: readonly string[], logPath: string): Promise<number> {
  const log = await open(logPath, 'a');
  try {
    const child = spawn(process.execPath, [tideBin, ...args], {
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    });
    const pid = child.pid;
    if (pid === undefined) {
      throw new Error(`cannot start tide ${args.join(' ')} (see ${logPath})`);
    }
    child.unref();
    return pid;
  } finally {
    await log.close();
  }
}

export function scArgs(dir: string, sc: ScRecord): string[] {
  const host = localClusterDefaults.host;
  return [
    'sc',
    '--listen',
    `${host}:${sc.port}`,
    '--http',
    `${host}:${sc.httpPort}`,
    '--data-dir',
    join(dir, 'sc'),
  ];
}

export function spuArgs(
  dir: string,
  sc: ScRecord,
  spu: SpuRecord,
  topicCreation: TopicCreationRecord = localClusterDefaults.topicCreation,
): string[] {
  const host = localClusterDefaults.host;
  return [
    'spu',
    '--id',
    String(spu.id),
    '--sc',
    `${host}:${sc.port}`,
    '--listen',
    `${host}:${spu.port}`,
    '--internal',
    `${host}:${spu.internalPort}`,
    '--http',
    `${host}:${spu.httpPort}`,
    '--data-dir',
    join(dir, `spu-${spu.id}`),
    ...(topicCreation.autoCreate ? ['--auto-create-topics'] : []),
    '--num-partitions',
    String(topicCreation.partitions),
    '--default-replication-factor',
    String(topicCreation.replicationFactor),
  ];
}

/** Creates the cluster's folders. */
export async function prepareDirs(dir: string): Promise<void> {
  await mkdir(join(dir, 'logs'), { recursive: true });
}

/** The body of `GET /health` on `port`, or undefined when nothing answers in time. */
export async function fetchHealth(port: number): Promise<Record<string, unknown> | undefined> {
  try {
    const response = await fetch(`http://${localClusterDefaults.host}:${port}/health`, {
      signal: AbortSignal.timeout(localClusterDefaults.healthTimeoutMs),
    });
    const body: unknown = await response.json();
    return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Sends SIGTERM, waits for the exit, and SIGKILLs after `stopTimeoutMs`. */
export async function stopProcess(pid: number | null): Promise<void> {
  if (pid === null || !isAlive(pid)) return;
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + localClusterDefaults.stopTimeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await delay(localClusterDefaults.pollIntervalMs);
  if (!isAlive(pid)) return;
  signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + localClusterDefaults.stopTimeoutMs;
  while (isAlive(pid) && Date.now() < killDeadline) await delay(localClusterDefaults.pollIntervalMs);
  if (isAlive(pid)) throw new Error(`process ${pid} survived SIGKILL`);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** Stops the SPUs (in parallel), then the SC, and records that nothing runs. */
export async function stopCluster(dir: string, record: ClusterRecord): Promise<void> {
  await Promise.all(record.spus.map((spu) => stopProcess(spu.pid)));
  await stopProcess(record.sc.pid);
  await writeCluster(dir, {
    ...record,
    sc: { ...record.sc, pid: null },
    spus: record.spus.map((spu) => ({ ...spu, pid: null })),
  });
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
