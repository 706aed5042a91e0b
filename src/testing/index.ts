/// <reference types="node" preserve="true" />
/**
 * The package's `/testing` entry: a real Tide cluster for an application's own test suite, in one
 * line and with any test runner (node:test, vitest, jest):
 *
 * ```ts
 * const cluster = await startCluster({ spus: 3 });
 * // … cluster.bootstrap for any Kafka client, cluster.admin / cluster.tide for Tide's own …
 * await cluster.stop();
 * ```
 *
 * Each cluster is one SC and `spus` SPUs as child processes of the test process, on free loopback
 * ports, with their data in a fresh temporary folder; nothing is shared between clusters or with a
 * `tide cluster` the developer runs. `stop()` kills the processes and removes the folder. Call it
 * from an after/afterAll hook so that a failing test cleans up too; clusters still running when the
 * test process exits, or is ended by SIGINT, SIGTERM or SIGHUP, are killed and removed then.
 */
import { rmSync } from 'node:fs';
import type { Admin } from '../client/admin.ts';
import { Tide } from '../client/tide.ts';
import { startCluster as startProcesses, type TestCluster } from './cluster.ts';

export interface StartClusterOptions {
  /** SPUs to start (SPU ids 1…spus); 1 when omitted. */
  readonly spus?: number;
  /** Extra `tide spu` flags for every SPU (see `tide spu --help`). */
  readonly spuArgs?: readonly string[];
  /** Extra `tide sc` flags (see `tide sc --help`). */
  readonly scArgs?: readonly string[];
}

export interface TideTestCluster {
  /** Every SPU's Kafka address, comma-separated: the bootstrap list for any Kafka client. */
  readonly bootstrap: string;
  /** The same addresses, one per SPU (SPU id = index + 1). */
  readonly brokers: readonly string[];
  /** A Tide client connected to the cluster (closed by `stop()`). */
  readonly tide: Tide;
  /** `tide.admin()`: topics, configs, groups. */
  readonly admin: Admin;
  /** The temporary folder holding every process's data (removed by `stop()`). */
  readonly dataDir: string;
  /** Closes the client, kills the processes and removes the data. Safe to call more than once. */
  stop(): Promise<void>;
}

export const startClusterDefaults = Object.freeze({
  spus: 1,
  spusMax: 100, // SPUs in one test cluster: each is a Node.js process of its own
});

const running = new Set<TestCluster>();

/** Starts a cluster and resolves once every SPU has registered and knows every other one. */
export async function startCluster(options: StartClusterOptions = {}): Promise<TideTestCluster> {
  const spus = options.spus ?? startClusterDefaults.spus;
  if (!Number.isInteger(spus) || spus < 1 || spus > startClusterDefaults.spusMax) {
    throw new RangeError(`spus must be an integer from 1 to ${startClusterDefaults.spusMax}, not ${spus}`);
  }
  cleanUpOnExit();
  const processes = await startProcesses({
    spus,
    ...(options.spuArgs === undefined ? {} : { spuArgs: options.spuArgs }),
    ...(options.scArgs === undefined ? {} : { scArgs: options.scArgs }),
  });
  running.add(processes);
  let tide: Tide;
  try {
    tide = await Tide.connect({ bootstrap: processes.bootstrap });
  } catch (error) {
    running.delete(processes);
    await processes.destroy();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    await tide.close().catch(() => undefined); // the processes go regardless
    await processes.destroy();
    running.delete(processes);
  };
  return {
    bootstrap: processes.bootstrap,
    brokers: processes.spus.map((spu) => spu.bootstrap),
    tide,
    admin: tide.admin(),
    dataDir: processes.dataDir,
    stop: () => {
      stopping ??= stop();
      return stopping;
    },
  };
}

let exitHooksInstalled = false;
const endingSignals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Kills and removes every running cluster when the process exits. An exit handler must be
 * synchronous, so this signals the children and deletes the folders without waiting. A signal
 * handler is only added where nobody else handles that signal, and it re-raises the signal after
 * cleaning up, so the process still ends the way it would have without Tide.
 */
function cleanUpOnExit(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.once('exit', killRunning);
  for (const signal of endingSignals) {
    if (process.listenerCount(signal) > 0) continue;
    process.once(signal, () => {
      killRunning();
      process.kill(process.pid, signal);
    });
  }
}

function killRunning(): void {
  for (const cluster of running) {
    for (const child of [cluster.sc, ...cluster.spus.map((spu) => spu.process)]) child.child.kill('SIGKILL');
    rmSync(cluster.dataDir, { recursive: true, force: true });
  }
  running.clear();
}
