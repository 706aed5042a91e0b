import { join } from 'node:path';
import { eventually } from './eventually.ts';
import { stablePorts } from './ports.ts';
import { makeTempDir, startTide, type TideProcess } from './processes.ts';
import { WireClient } from './wire-client.ts';

/**
 * A real local cluster for tests: one `tide sc` and N `tide spu --sc` processes on free loopback
 * ports, all under one temporary folder. `startCluster` resolves once every SPU has registered and
 * every SPU's metadata lists all of them, so a test can create topics through any SPU at once.
 */

export const testClusterDefaults = Object.freeze({
  readyTimeoutMs: 20_000, // ms for the whole cluster to form
  pollIntervalMs: 50, // ms between metadata checks while it forms
});

export interface TestClusterSpu {
  readonly id: number;
  readonly process: TideProcess;
  /** `127.0.0.1:<port>`: the SPU's Kafka listener. */
  readonly bootstrap: string;
  readonly port: number;
  readonly internalPort: number;
  readonly httpPort: number;
  readonly dataDir: string;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export interface TestCluster {
  /** The current SC process; `restartSc` replaces it. */
  readonly sc: TideProcess;
  /** `127.0.0.1:<port>`: the SC's internal listener. */
  readonly scAddress: string;
  readonly dataDir: string;
  /** Current SPU processes by position (SPU id = index + 1); `restartSpu` replaces an entry. */
  readonly spus: TestClusterSpu[];
  /** Every SPU's Kafka address, comma-separated (for kcat `-b` and Kafka clients). */
  readonly bootstrap: string;
  /** Starts SPU `id` again on its data dir (after a stop or kill); its Kafka port changes. */
  restartSpu(id: number): Promise<TestClusterSpu>;
  /** Starts the SC again on the same port and data dir (after a stop or kill). */
  restartSc(): Promise<TideProcess>;
  /** Starts one more SPU (id = previous count + 1) and waits until it has registered. */
  addSpu(): Promise<TestClusterSpu>;
  /** Stops every process cleanly: SPUs first, then the SC. */
  stop(): Promise<void>;
  /** Kills every process and removes the data. */
  destroy(): Promise<void>;
}

export async function startCluster(
  options: { spus: number; spuArgs?: readonly string[]; scArgs?: readonly string[] } = { spus: 3 },
): Promise<TestCluster> {
  const temp = await makeTempDir('tide-cluster-');
  const startSc = (listen: string, http: string): Promise<TideProcess> =>
    startClusterSc({ listen, http, dataDir: join(temp.path, 'sc'), args: options.scArgs ?? [] });
  // Stable ports: restartSc brings the SC back at the same address.
  const [scListen, scHttp] = (await stablePorts(2)) as [number, number];
  const scAddress = `127.0.0.1:${scListen}`;
  const startOne = (id: number): Promise<TestClusterSpu> =>
    startClusterSpu(id, { scAddress, dataDir: join(temp.path, `spu-${id}`), args: options.spuArgs ?? [] });
  // The SC's address is known up front, so the SPUs start alongside it (each retries until the SC
  // answers): the cluster is up after one process start rather than two.
  const scStart = startSc(scAddress, `127.0.0.1:${scHttp}`);
  const spuStarts = Array.from({ length: options.spus }, (_, index) => startOne(index + 1));
  await allStarted([scStart, ...spuStarts], temp.remove);
  let sc = await scStart;
  const spus = await Promise.all(spuStarts);
  const scPorts = { listen: scListen, http: Number(sc.ready.httpPort) };
  const everyProcess = (): TideProcess[] => [...spus.map((spu) => spu.process), sc];
  const destroy = async (): Promise<void> => {
    await Promise.all(everyProcess().map((process) => process.stop('SIGKILL')));
    await temp.remove();
  };
  // A cluster that never forms leaves nothing behind either.
  await waitForMembers(spus, options.spus).catch(async (error: unknown) => {
    await destroy();
    throw error;
  });
  return {
    get sc() {
      return sc;
    },
    scAddress,
    dataDir: temp.path,
    spus,
    get bootstrap() {
      return spus.map((spu) => spu.bootstrap).join(',');
    },
    restartSpu: async (id) => {
      const spu = await startOne(id);
      spus[id - 1] = spu;
      return spu;
    },
    restartSc: async () => {
      const http = Number.isInteger(scPorts.http) ? `127.0.0.1:${scPorts.http}` : '127.0.0.1:0';
      sc = await startSc(scAddress, http);
      return sc;
    },
    addSpu: async () => {
      const spu = await startOne(spus.length + 1);
      spus.push(spu);
      await waitForMembers(spus, spus.length);
      return spu;
    },
    stop: async () => {
      await Promise.all(spus.map((spu) => spu.stop()));
      await sc.stop();
    },
    destroy,
  };
}

function startClusterSc(options: {
  listen: string;
  http: string;
  dataDir: string;
  args: readonly string[];
}): Promise<TideProcess> {
  const { listen, http, dataDir, args } = options;
  return startTide(['sc', '--listen', listen, '--http', http, '--data-dir', dataDir, ...args], {
    readyMessage: 'sc ready',
    env: { TIDE_LOG_LEVEL: 'info' },
  });
}

/** Waits for every start; when one fails, kills the ones that started, cleans up and rethrows. */
async function allStarted(
  starts: readonly Promise<{ stop(signal?: NodeJS.Signals): Promise<unknown> }>[],
  cleanUp: () => Promise<void>,
): Promise<void> {
  const outcomes = await Promise.allSettled(starts);
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed === undefined) return;
  await Promise.all(
    outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.stop('SIGKILL') : undefined)),
  );
  await cleanUp();
  throw failed.reason;
}

async function startClusterSpu(
  id: number,
  options: { scAddress: string; dataDir: string; args: readonly string[] },
): Promise<TestClusterSpu> {
  const process = await startTide(
    [
      'spu',
      '--id',
      String(id),
      '--sc',
      options.scAddress,
      '--listen',
      '127.0.0.1:0',
      '--internal',
      '127.0.0.1:0',
      '--http',
      '127.0.0.1:0',
      '--data-dir',
      options.dataDir,
      ...options.args,
    ],
    { readyMessage: 'spu ready', env: { TIDE_LOG_LEVEL: 'info' } },
  );
  const port = Number(process.ready.port);
  return {
    id,
    process,
    bootstrap: `127.0.0.1:${port}`,
    port,
    internalPort: Number(process.ready.internalPort),
    httpPort: Number(process.ready.httpPort),
    dataDir: options.dataDir,
    stop: (signal) => process.stop(signal),
  };
}

/** Waits until every SPU's Metadata lists `count` brokers: all registered, metadata pushed to all. */
export async function waitForMembers(
  spus: readonly { id: number; port: number }[],
  count: number,
): Promise<void> {
  const options = {
    timeoutMs: testClusterDefaults.readyTimeoutMs,
    intervalMs: testClusterDefaults.pollIntervalMs,
  };
  for (const spu of spus) {
    const client = await WireClient.connect({ host: '127.0.0.1', port: spu.port });
    try {
      await eventually(
        `SPU ${spu.id} to see ${count} SPUs`,
        async () => (await client.metadata([])).brokers.length >= count,
        options,
      );
    } finally {
      await client.close();
    }
  }
}
