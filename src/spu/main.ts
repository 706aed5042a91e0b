import { homedir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { type HostPort, parseHostPort } from '../base/address.ts';
import { type LogLevel, logLevels } from '../base/logger.ts';
import { runUntilSignalled } from '../base/service-process.ts';
import { connectionLimitDefaults } from '../net/server.ts';
import { type SpuConfig, spuDefaults } from './config.ts';
import type { CoordinatorSettings } from './groups/coordinator.ts';
import { Spu } from './spu.ts';

/** The `tide spu` options as the CLI parsed them (strings and flags). */
export interface SpuCommandOptions {
  readonly id?: string;
  readonly listen?: string;
  readonly advertise?: string;
  readonly http?: string;
  readonly dataDir?: string;
  readonly rack?: string;
  readonly logLevel?: string;
  readonly autoCreateTopics?: boolean;
  /** Partitions of a topic created with -1 or auto-created (num.partitions). */
  readonly numPartitions?: string;
  /** Replication factor of a topic created with -1 or auto-created (default.replication.factor). */
  readonly defaultReplicationFactor?: string;
  readonly clusterId?: string;
  readonly connectionsMax?: string;
  readonly inflightRequestsMax?: string;
  /** ms a client connection with nothing in progress may stay silent (connections.max.idle.ms). */
  readonly connectionsMaxIdleMs?: string;
  /** The SC's address: with it the SPU joins a cluster, without it the SPU is standalone. */
  readonly sc?: string;
  /** The internal listener's address (the SC's pushes), in a cluster. */
  readonly internal?: string;
  /** ms a follower may lag before leaving the ISR (replica.lag.time.max.ms). */
  readonly replicaLagTimeMaxMs?: string;
  /** Consumer groups: partitions of __consumer_offsets when this SPU creates it. */
  readonly offsetsTopicPartitions?: string;
  /** Consumer groups: ms a new group waits for more members before its first rebalance. */
  readonly groupInitialRebalanceDelayMs?: string;
  readonly groupMinSessionTimeoutMs?: string;
  readonly groupMaxSize?: string;
  readonly offsetsRetentionMinutes?: string;
  /** `ID=HOST:PORT,…`: fetch from leader SPU ID at HOST:PORT (SpuConfig.replicationRoutes). */
  readonly replicationRoutes?: string;
}

/** A positive integer option, or the default when absent. */
function parseCount(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1)
    throw new Error(`${what} must be a positive integer, got "${text}"`);
  return value;
}

function parseAddress(text: string, what: string): HostPort {
  const address = parseHostPort(text, { allowPortZero: true });
  if (address === undefined) throw new Error(`${what} must be HOST:PORT, got "${text}"`);
  return address;
}

/** Parses `ID=HOST:PORT,…` (the --replication-routes option). */
export function parseReplicationRoutes(text: string): Map<number, HostPort> {
  const routes = new Map<number, HostPort>();
  for (const item of text.split(',').filter((part) => part.trim() !== '')) {
    const [id, address, extra] = item.split('=');
    const leaderId = Number(id);
    const endpoint = address === undefined ? undefined : parseHostPort(address);
    if (extra !== undefined || !Number.isSafeInteger(leaderId) || leaderId < 0 || endpoint === undefined)
      throw new Error(`--replication-routes must be ID=HOST:PORT[,ID=HOST:PORT…], got "${item}"`);
    routes.set(leaderId, endpoint);
  }
  return routes;
}

/** A non-negative integer option, or undefined when absent. */
function parseNonNegative(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(`${what} must be a non-negative integer, got "${text}"`);
  return value;
}

/** The consumer-group settings the options change (the rest keep coordinatorDefaults). */
function groupSettingsFromOptions(options: SpuCommandOptions): Partial<CoordinatorSettings> {
  const settings: { -readonly [K in keyof CoordinatorSettings]?: CoordinatorSettings[K] } = {};
  const partitions = parseNonNegative(options.offsetsTopicPartitions, '--offsets-topic-partitions');
  if (partitions !== undefined) settings.offsetsTopicPartitions = Math.max(1, partitions);
  const delayMs = parseNonNegative(
    options.groupInitialRebalanceDelayMs,
    '--group-initial-rebalance-delay-ms',
  );
  if (delayMs !== undefined) settings.initialRebalanceDelayMs = delayMs;
  const sessionMs = parseNonNegative(options.groupMinSessionTimeoutMs, '--group-min-session-timeout-ms');
  if (sessionMs !== undefined) settings.sessionTimeoutMsMin = sessionMs;
  const size = parseNonNegative(options.groupMaxSize, '--group-max-size');
  if (size !== undefined) settings.membersMax = Math.max(1, size);
  const minutes = parseNonNegative(options.offsetsRetentionMinutes, '--offsets-retention-minutes');
  if (minutes !== undefined) settings.offsetsRetentionMs = minutes * 60_000;
  return settings;
}

/** Builds an SPU's settings from the command's options, with per-id default ports and data dir. */
export function spuConfigFromOptions(
  options: SpuCommandOptions,
  env: NodeJS.ProcessEnv = process.env,
): SpuConfig {
  const id = Number(options.id ?? spuDefaults.id);
  if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff)
    throw new Error(`--id must be a non-negative integer, got "${options.id}"`);
  const listen = parseAddress(
    options.listen ?? `${spuDefaults.listenHost}:${spuDefaults.listenPort + Math.max(id, 1) - 1}`,
    '--listen',
  );
  const advertise =
    options.advertise === undefined ? undefined : parseAddress(options.advertise, '--advertise');
  const http =
    options.http === 'off'
      ? { host: spuDefaults.httpHost, port: -1 }
      : parseAddress(
          options.http ?? `${spuDefaults.httpHost}:${spuDefaults.httpPort + Math.max(id, 1) - 1}`,
          '--http',
        );
  const internal = parseAddress(
    options.internal ?? `${spuDefaults.internalHost}:${spuDefaults.internalPort + Math.max(id, 1) - 1}`,
    '--internal',
  );
  const controller = options.sc === undefined ? undefined : parseAddress(options.sc, '--sc');
  const logLevel = (options.logLevel ?? env.TIDE_LOG_LEVEL ?? spuDefaults.logLevel) as LogLevel;
  if (!logLevels.includes(logLevel)) throw new Error(`--log-level must be one of ${logLevels.join(', ')}`);
  const home = env.TIDE_HOME ?? join(homedir(), '.tide');
  return {
    ...spuDefaults,
    id,
    listenHost: listen.host,
    listenPort: listen.port,
    ...(advertise === undefined ? {} : { advertisedHost: advertise.host, advertisedPort: advertise.port }),
    httpHost: http.host,
    httpPort: http.port,
    internalHost: internal.host,
    internalPort: internal.port,
    // An SPU joining a cluster sends '' as cluster id unless told one: the SC's id is then accepted.
    ...(controller === undefined
      ? {}
      : { controller: { ...controller, clusterId: options.clusterId ?? '' } }),
    dataDir: options.dataDir ?? join(home, `spu-${id}`),
    ...(options.rack === undefined ? {} : { rack: options.rack }),
    logLevel,
    autoCreateTopics: options.autoCreateTopics ?? spuDefaults.autoCreateTopics,
    defaultPartitions: parseCount(options.numPartitions, spuDefaults.defaultPartitions, '--num-partitions'),
    defaultReplicationFactor: parseCount(
      options.defaultReplicationFactor,
      spuDefaults.defaultReplicationFactor,
      '--default-replication-factor',
    ),
    clusterId: options.clusterId ?? spuDefaults.clusterId,
    replicaLagTimeMsMax: parseCount(
      options.replicaLagTimeMaxMs,
      spuDefaults.replicaLagTimeMsMax,
      '--replica-lag-time-max-ms',
    ),
    ...(options.replicationRoutes === undefined
      ? {}
      : { replicationRoutes: parseReplicationRoutes(options.replicationRoutes) }),
    groups: groupSettingsFromOptions(options),
    limits: {
      ...spuDefaults.limits,
      connectionsMax: parseCount(
        options.connectionsMax,
        spuDefaults.limits.connectionsMax,
        '--connections-max',
      ),
      inflightRequestsMax: parseCount(
        options.inflightRequestsMax,
        spuDefaults.limits.inflightRequestsMax,
        '--inflight-requests-max',
      ),
      idleMsMax: parseCount(
        options.connectionsMaxIdleMs,
        connectionLimitDefaults.idleMsMax,
        '--connections-max-idle-ms',
      ),
    },
  };
}

/**
 * How much V8 lets the heap grow past what survived the last full collection, in percent. An SPU
 * keeps a small heap (~12 MiB) while it reads tens of MB/s into buffers; V8 counts those buffers
 * against the heap's limit, so with its default growth (a few tens of percent over a small heap) it
 * ran a full collection every ~150 ms under 50 MB/s of produce traffic, pausing the event loop each
 * time. At 400 % they become rare: 52 → 2 per 10 s at 50,000 msg/s × 1 KiB; in the latency benchmark
 * e2e p99 went from 17.5–18.7 ms to 9.2–10.8 ms and SPU CPU from 39–45 % to 23–33 %, for ~40 MiB
 * more resident memory (mostly a larger young generation).
 */
export const spuHeapGrowingPercent = 400;

/**
 * How much V8 grows the young generation each time it grows it (V8's default doubles it, up to
 * 2 × 16 MiB). With full collections rare the young generation no longer shrinks back, so the SPU
 * keeps it at its starting size: in the latency benchmark (A/B, alternating, two rounds) RSS 168 /
 * 157 → 143 / 147 MiB with e2e p99 12.0 / 10.7 → 10.8 / 9.4 ms and the same CPU.
 */
export const spuSemiSpaceGrowthFactor = 1;

/**
 * Runs an SPU in this process until SIGINT/SIGTERM, then shuts down cleanly (every log closed with
 * its clean-shutdown marker).
 */
export async function runSpu(options: SpuCommandOptions): Promise<void> {
  setFlagsFromString(`--heap-growing-percent=${spuHeapGrowingPercent}`);
  setFlagsFromString(`--semi-space-growth-factor=${spuSemiSpaceGrowthFactor}`);
  const spu = new Spu(spuConfigFromOptions(options));
  await runUntilSignalled(spu, 'spu');
}
