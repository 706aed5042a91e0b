import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

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
