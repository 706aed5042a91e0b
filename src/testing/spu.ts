import { makeTempDir, startTide, type TideProcess } from './processes.ts';

export interface TestSpu {
  readonly process: TideProcess;
  /** `127.0.0.1:<port>`, for kcat `-b` and Kafka clients' bootstrap lists. */
  readonly bootstrap: string;
  readonly port: number;
  readonly httpPort: number;
  readonly dataDir: string;
  /** Stops the process (SIGTERM: clean shutdown; SIGKILL: crash). */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
  /** Starts a new SPU process on the same data dir (a new port). */
  restart(): Promise<TestSpu>;
  /** Stops the process if running and removes its data. */
  destroy(): Promise<void>;
}

/**
 * Starts a real standalone SPU process (`tide spu`) on free loopback ports with a temporary data dir.
 * Pass `dataDir` to reuse one (restarts). Always pair with `destroy()` or `stopAll()` in `after`.
 */
export async function startSpu(
  options: { dataDir?: string; args?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<TestSpu> {
  const temp = options.dataDir === undefined ? await makeTempDir('tide-spu-') : undefined;
  const dataDir = options.dataDir ?? temp!.path;
  const process = await startTide(
    [
      'spu',
      '--listen',
      '127.0.0.1:0',
      '--http',
      '127.0.0.1:0',
      '--data-dir',
      dataDir,
      ...(options.args ?? []),
    ],
    { readyMessage: 'spu ready', env: { TIDE_LOG_LEVEL: 'info', ...options.env } },
  );
  const port = Number(process.ready.port);
  const spu: TestSpu = {
    process,
    bootstrap: `127.0.0.1:${port}`,
    port,
    httpPort: Number(process.ready.httpPort),
    dataDir,
    stop: (signal) => process.stop(signal),
    restart: () =>
      startSpu({
        dataDir,
        ...(options.args === undefined ? {} : { args: options.args }),
        ...(options.env === undefined ? {} : { env: options.env }),
      }),
    destroy: async () => {
      await process.stop('SIGKILL');
      await temp?.remove();
    },
  };
  return spu;
}
