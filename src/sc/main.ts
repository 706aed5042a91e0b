import { homedir } from 'node:os';
import { join } from 'node:path';
import { type HostPort, parseHostPort } from '../base/address.ts';
import { type LogLevel, logLevels } from '../base/logger.ts';
import { runUntilSignalled } from '../base/service-process.ts';
import { type ScConfig, scDefaults } from './config.ts';
import { Sc } from './sc.ts';

/** The `tide sc` options as the CLI parsed them (strings). */
export interface ScCommandOptions {
  readonly id?: string;
  readonly listen?: string;
  readonly http?: string;
  readonly dataDir?: string;
  readonly logLevel?: string;
  readonly spuSessionTimeoutMs?: string;
  /** true with --accept-unplaced-topics. */
  readonly acceptUnplacedTopics?: boolean | string;
  /** false with --no-auto-leader-rebalance. */
  readonly autoLeaderRebalance?: boolean | string;
}

function parseAddress(text: string, what: string): HostPort {
  const address = parseHostPort(text, { allowPortZero: true });
  if (address === undefined) throw new Error(`${what} must be HOST:PORT, got "${text}"`);
  return address;
}

/** Builds the SC's settings from the command's options. */
export function scConfigFromOptions(
  options: ScCommandOptions,
  env: NodeJS.ProcessEnv = process.env,
): ScConfig {
  const id = Number(options.id ?? scDefaults.id);
  if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff)
    throw new Error(`--id must be a non-negative integer, got "${options.id}"`);
  const listen = parseAddress(
    options.listen ?? `${scDefaults.listenHost}:${scDefaults.listenPort}`,
    '--listen',
  );
  const http =
    options.http === 'off'
      ? { host: scDefaults.httpHost, port: -1 }
      : parseAddress(options.http ?? `${scDefaults.httpHost}:${scDefaults.httpPort}`, '--http');
  const logLevel = (options.logLevel ?? env.TIDE_LOG_LEVEL ?? scDefaults.logLevel) as LogLevel;
  if (!logLevels.includes(logLevel)) throw new Error(`--log-level must be one of ${logLevels.join(', ')}`);
  const timeout = Number(options.spuSessionTimeoutMs ?? scDefaults.spuSessionTimeoutMs);
  if (!Number.isSafeInteger(timeout) || timeout < 1)
    throw new Error(
      `--spu-session-timeout-ms must be a positive integer, got "${options.spuSessionTimeoutMs}"`,
    );
  const home = env.TIDE_HOME ?? join(homedir(), '.tide');
  return {
    ...scDefaults,
    id,
    listenHost: listen.host,
    listenPort: listen.port,
    httpHost: http.host,
    httpPort: http.port,
    dataDir: options.dataDir ?? join(home, 'sc'),
    logLevel,
    spuSessionTimeoutMs: timeout,
    autoLeaderRebalance: options.autoLeaderRebalance !== false && options.autoLeaderRebalance !== 'false',
    acceptUnplacedTopics: options.acceptUnplacedTopics === true || options.acceptUnplacedTopics === 'true',
  };
}

/** Runs an SC in this process until SIGINT/SIGTERM. */
export async function runSc(options: ScCommandOptions): Promise<void> {
  const sc = new Sc(scConfigFromOptions(options));
  await runUntilSignalled(sc, 'sc');
}
