import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { isPortFree } from '../../src/cli/local-cluster.ts';
import { stablePortRange } from '../../src/testing/ports.ts';

/** Runs the real `tide` command for CLI tests, with its own profiles file and no colours. */

const tideBin = resolve(import.meta.dirname, '..', '..', 'bin', 'tide.js');

export const cliKitDefaults = Object.freeze({
  // ms one command may run: a waiting command gives up after its own limit, well before this
  commandTimeoutMs: 90_000,
});

export interface TideOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface TideRunOptions {
  /** The profiles file (TIDE_CONFIG); default: one that does not exist. */
  readonly config?: string;
  /** TIDE_HOME (the local cluster's folder). */
  readonly home?: string;
  readonly input?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** Runs `tide ARGS`; resolves with its exit code and output (a kill by the timeout is code -1). */
export function tideCli(args: readonly string[], options: TideRunOptions = {}): Promise<TideOutcome> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [tideBin, ...args],
      {
        timeout: cliKitDefaults.commandTimeoutMs,
        maxBuffer: 64 << 20,
        env: {
          ...process.env,
          NO_COLOR: '1',
          TIDE_CONFIG: options.config ?? '/nonexistent/tide-test.toml',
          ...(options.home === undefined ? {} : { TIDE_HOME: options.home }),
          ...options.env,
        },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

/**
 * A base port whose whole local-cluster layout for `spus` SPUs (SC at P-89/P-88, SPU n at P+n-1,
 * P+100+n-1, P+200+n-1) is free now, from the stable range so it stays ours across restarts.
 */
export async function freeBasePort(spus: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base =
      stablePortRange.min +
      100 +
      Math.floor(Math.random() * (stablePortRange.max - stablePortRange.min - 300));
    const spuPorts = Array.from({ length: spus }, (_, n) => [base + n, base + 100 + n, base + 200 + n]);
    const ports = [base - 89, base - 88, ...spuPorts.flat()];
    const free = await Promise.all(ports.map((port) => isPortFree(port)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free port range found');
}
