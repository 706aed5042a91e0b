import { join } from 'node:path';
import { waitForMembers } from '../../src/testing/cluster.ts';
import { stablePorts } from '../../src/testing/ports.ts';
import { makeTempDir, startTide, type TideProcess } from '../../src/testing/processes.ts';
import { TcpProxy } from '../../src/testing/tcp-proxy.ts';

/**
 * The chaos run's cluster: one SC and N SPUs as real processes, each on a Kafka port fixed for the
 * whole run (so a restarted SPU comes back at the same address), with replication routed through
 * one TCP proxy per ordered pair of SPUs: SPU a's followers reach leader b through proxy (a → b),
 * set with `--replication-routes`. Cutting SPU x black-holes every proxy into and out of x, so x
 * neither fetches from its leaders nor serves its followers, while clients still reach it.
 */

export const chaosClusterDefaults = Object.freeze({
  startTimeoutMs: 60_000, // ms a (re)starting process may take to log "ready" on a loaded machine
});

export type ProcessState = 'running' | 'killed' | 'paused';

export interface ChaosSpu {
  readonly id: number;
  readonly port: number;
  /** The internal listener's port: the SC's pushes and the followers' fetches (through the proxies). */
  readonly internalPort: number;
  readonly dataDir: string;
  process: TideProcess | undefined;
  state: ProcessState;
  /** Every log line of every incarnation of this SPU (for diagnosing an anomaly). */
  readonly logs: string[];
}

export interface ChaosClusterOptions {
  readonly spus: number;
  readonly spuArgs: readonly string[];
  readonly scArgs: readonly string[];
}

export class ChaosCluster {
  readonly dataDir: string;
  readonly spus: ChaosSpu[];
  readonly scPort: number;
  readonly scLogs: string[] = [];
  readonly #options: ChaosClusterOptions;
  readonly #remove: () => Promise<void>;
  /** Proxy carrying SPU `from`'s fetches to leader `to`, keyed `from>to`. */
  readonly #proxies = new Map<string, TcpProxy>();
  #sc: TideProcess | undefined;
  scState: ProcessState = 'killed';

  private constructor(
    options: ChaosClusterOptions,
    temp: { path: string; remove: () => Promise<void> },
    scPort: number,
    ports: number[],
    internalPorts: number[],
  ) {
    this.#options = options;
    this.dataDir = temp.path;
    this.#remove = temp.remove;
    this.scPort = scPort;
    this.spus = ports.map((port, index) => ({
      id: index + 1,
      port,
      internalPort: internalPorts[index]!,
      dataDir: join(temp.path, `spu-${index + 1}`),
      process: undefined,
      state: 'killed',
      logs: [],
    }));
  }

  static async start(options: ChaosClusterOptions): Promise<ChaosCluster> {
    const temp = await makeTempDir('tide-chaos-');
    const [scPort, ...spuPorts] = (await stablePorts(2 * options.spus + 1)) as [number, ...number[]];
    const internalPorts = spuPorts.splice(options.spus);
    const cluster = new ChaosCluster(options, temp, scPort, spuPorts, internalPorts);
    try {
      for (const from of cluster.spus) {
        for (const to of cluster.spus) {
          if (from === to) continue;
          const proxy = await TcpProxy.start({ target: { host: '127.0.0.1', port: to.internalPort } });
          cluster.#proxies.set(`${from.id}>${to.id}`, proxy);
        }
      }
      await cluster.startSc();
      const started = await Promise.allSettled(cluster.spus.map((spu) => cluster.startSpu(spu.id)));
      const failed = started.find((result) => result.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      // Topics are placed on registered SPUs only: a start is done once every SPU has registered.
      await waitForMembers(cluster.spus, options.spus);
      return cluster;
    } catch (error) {
      // Nothing may outlive a failed start: a listening proxy alone keeps the test process alive.
      await cluster.destroy();
      throw error;
    }
  }

  get bootstrap(): string {
    return this.spus.map((spu) => `127.0.0.1:${spu.port}`).join(',');
  }

  spu(id: number): ChaosSpu {
    const spu = this.spus[id - 1];
    if (spu === undefined) throw new Error(`no SPU ${id}`);
    return spu;
  }

  async startSc(): Promise<void> {
    this.#sc = await startTide(
      [
        'sc',
        '--listen',
        `127.0.0.1:${this.scPort}`,
        '--http',
        'off',
        '--data-dir',
        join(this.dataDir, 'sc'),
        ...this.#options.scArgs,
      ],
      {
        readyMessage: 'sc ready',
        timeoutMs: chaosClusterDefaults.startTimeoutMs,
        env: { TIDE_LOG_LEVEL: 'info' },
      },
    );
    this.scState = 'running';
  }

  async stopSc(signal: NodeJS.Signals): Promise<void> {
    const sc = this.#sc;
    this.#sc = undefined;
    this.scState = 'killed';
    if (sc !== undefined) {
      await sc.stop(signal);
      this.scLogs.push(...sc.logs);
    }
  }

  async startSpu(id: number): Promise<void> {
    const spu = this.spu(id);
    const routes = this.spus
      .filter((other) => other.id !== id)
      .map((other) => `${other.id}=127.0.0.1:${this.#proxies.get(`${id}>${other.id}`)!.port}`);
    spu.process = await startTide(
      [
        'spu',
        '--id',
        String(id),
        '--sc',
        `127.0.0.1:${this.scPort}`,
        '--listen',
        `127.0.0.1:${spu.port}`,
        '--internal',
        `127.0.0.1:${spu.internalPort}`,
        '--http',
        'off',
        '--data-dir',
        spu.dataDir,
        '--replication-routes',
        routes.join(','),
        ...this.#options.spuArgs,
      ],
      {
        readyMessage: 'spu ready',
        timeoutMs: chaosClusterDefaults.startTimeoutMs,
        env: { TIDE_LOG_LEVEL: 'info' },
      },
    );
    spu.state = 'running';
  }

  /** Stops SPU `id` with `signal` (SIGKILL: a crash, SIGTERM: a clean shutdown) and waits for it. */
  async stopSpu(id: number, signal: NodeJS.Signals): Promise<void> {
    const spu = this.spu(id);
    const process = spu.process;
    spu.process = undefined;
    spu.state = 'killed';
    if (process === undefined) return;
    if (signal === 'SIGKILL') process.child.kill('SIGCONT');
    await process.stop(signal);
    spu.logs.push(...process.logs);
  }

  pauseSpu(id: number): void {
    const spu = this.spu(id);
    spu.process?.child.kill('SIGSTOP');
    spu.state = 'paused';
  }

  resumeSpu(id: number): void {
    const spu = this.spu(id);
    spu.process?.child.kill('SIGCONT');
    spu.state = 'running';
  }

  /** Black-holes (or heals) every replication route into and out of SPU `id`. */
  setCut(id: number, cut: boolean): void {
    for (const [key, proxy] of this.#proxies) {
      const [from, to] = key.split('>').map(Number);
      if (from === id || to === id) proxy.setMode(cut ? 'blackhole' : 'pass');
    }
  }

  /** Every log line so far, by process name, for a post-mortem. */
  logs(): Map<string, string[]> {
    const all = new Map<string, string[]>();
    all.set('sc', [...this.scLogs, ...(this.#sc?.logs ?? [])]);
    for (const spu of this.spus) all.set(`spu-${spu.id}`, [...spu.logs, ...(spu.process?.logs ?? [])]);
    return all;
  }

  /** Stops everything cleanly (SPUs, then the SC), keeping the data for inspection. */
  async stop(): Promise<void> {
    for (const spu of this.spus) if (spu.state === 'paused') this.resumeSpu(spu.id);
    await Promise.all(this.spus.map((spu) => this.stopSpu(spu.id, 'SIGTERM')));
    await this.stopSc('SIGTERM');
  }

  /** Kills whatever still runs, closes the proxies and removes the data (unless `keepData`). */
  async destroy(options: { keepData?: boolean } = {}): Promise<void> {
    await Promise.all(this.spus.map((spu) => this.stopSpu(spu.id, 'SIGKILL')));
    await this.stopSc('SIGKILL');
    await Promise.all([...this.#proxies.values()].map((proxy) => proxy.close()));
    if (options.keepData !== true) await this.#remove();
  }
}
