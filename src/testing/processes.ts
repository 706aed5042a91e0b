import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { systemClock } from '../base/clock.ts';

/**
 * Starting real Tide processes for tests: each gets a temporary data folder and binds port 0, and
 * reports the port it got in its "ready" log line, so tests never race for ports. Everything started
 * is tracked and killed by `stopAll()` (call it from an `after` hook, so a failing test cleans up too).
 */

const repoRoot = resolve(import.meta.dirname, '../..');
const tideBin = join(repoRoot, 'bin', 'tide.js');
const started = new Set<ChildProcess>();

export interface TideProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Fields of the ready log line (for example `port`, `httpPort`). */
  readonly ready: Readonly<Record<string, unknown>>;
  /** Every log line the process wrote to stderr so far (for diagnosing failures). */
  readonly logs: string[];
  /** Resolves with the exit code (or signal) once the process has exited. */
  readonly exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export async function makeTempDir(
  prefix = 'tide-test-',
): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Runs `tide <args>` and resolves once it logs a line whose msg is `readyMessage`. */
export async function startTide(
  args: readonly string[],
  options: { readyMessage: string; timeoutMs?: number; env?: NodeJS.ProcessEnv },
): Promise<TideProcess> {
  const child = spawn(process.execPath, [tideBin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  started.add(child);
  const logs: string[] = [];
  const exited = new Promise<number | string>((resolveExit) => {
    child.once('exit', (code, signal) => {
      started.delete(child);
      resolveExit(code ?? signal ?? 'unknown');
    });
  });
  child.stdout?.resume();
  const ready = await new Promise<Record<string, unknown>>((resolveReady, reject) => {
    const timer = systemClock.timeout(options.timeoutMs ?? 20_000, () =>
      reject(new Error(`tide ${args.join(' ')} not ready:\n${logs.join('\n')}`)),
    );
    exited.then((code) => {
      timer.cancel();
      reject(new Error(`tide ${args.join(' ')} exited (${code}):\n${logs.join('\n')}`));
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      logs.push(line);
      if (!line.includes(options.readyMessage)) return;
      try {
        const event = JSON.parse(line) as Record<string, unknown>;
        if (event.msg === options.readyMessage) {
          timer.cancel();
          resolveReady(event);
        }
      } catch {
        // Not a structured line; keep waiting.
      }
    });
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    child,
    pid: child.pid!,
    ready,
    logs,
    exited,
    stop: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Kills every process started through this module that is still running. */
export async function stopAll(): Promise<void> {
  const running = [...started];
  for (const child of running) child.kill('SIGKILL');
  await Promise.all(
    running.map(
      (child) =>
        new Promise((done) =>
          child.exitCode !== null || child.signalCode !== null ? done(undefined) : child.once('exit', done),
        ),
    ),
  );
}
