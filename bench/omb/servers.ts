/**
 * Peer servers (nats-server, redis-server, RabbitMQ) run by the harness: each on 127.0.0.1 with a
 * free port and a temporary data folder, tracked by PID so a finished run, a failed one or Ctrl-C
 * stops exactly the processes this harness started (Tide's own go through src/testing).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { type AddressInfo, connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { stopAll } from '../../src/testing/processes.ts';

export const serverDefaults = Object.freeze({
  readyTimeoutMs: 60_000, // ms a server may take to say it is ready (RabbitMQ is slow)
  stopTimeoutMs: 15_000, // ms after SIGTERM before SIGKILL
  logLinesMax: 200, // log lines kept for error messages
});

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly logs: string[];
  /** Milliseconds from spawn to the ready line. */
  readonly startupMs: number;
  stop(): Promise<void>;
}

const running = new Map<number, ChildProcess>();

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls until `port` on 127.0.0.1 accepts a connection; false once `deadline` (epoch ms) passed. */
export async function waitForPort(port: number, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), serverDefaults.stopTimeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export interface ServerSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** A line on stdout or stderr that says the server accepts clients… */
  readonly readyLine?: RegExp;
  /** …or else a loopback port that accepts connections once it is ready. */
  readonly readyPort?: number;
  readonly readyTimeoutMs?: number;
}

export async function startServer(spec: ServerSpec): Promise<ServerProcess> {
  const startedAt = Date.now();
  const child = spawn(spec.command, [...spec.args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...spec.env },
  });
  if (child.pid === undefined) throw new Error(`${spec.name}: could not start ${spec.command}`);
  const pid = child.pid;
  running.set(pid, child);
  child.once('exit', () => running.delete(pid));
  const logs: string[] = [];
  const timeoutMs = spec.readyTimeoutMs ?? serverDefaults.readyTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${spec.name} not ready after ${timeoutMs} ms:\n${logs.slice(-30).join('\n')}`)),
      timeoutMs,
    );
    child.once('error', (error) => reject(new Error(`${spec.name}: ${error.message}`)));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${spec.name} exited (${code ?? signal}):\n${logs.slice(-30).join('\n')}`));
    });
    const onLine = (line: string): void => {
      logs.push(line);
      if (logs.length > serverDefaults.logLinesMax) logs.shift();
      if (spec.readyLine?.test(line) === true) {
        clearTimeout(timer);
        resolve();
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    if (spec.readyPort !== undefined)
      void waitForPort(spec.readyPort, Date.now() + timeoutMs).then((open) => {
        if (!open) return;
        clearTimeout(timer);
        resolve();
      });
  }).catch(async (error: unknown) => {
    await stopChild(child);
    throw error;
  });
  return { name: spec.name, pid, logs, startupMs: Date.now() - startedAt, stop: () => stopChild(child) };
}

/** Stops every peer server still running, then every Tide process. */
export async function stopEverything(): Promise<void> {
  await Promise.all([...running.values()].map(stopChild));
  await stopAll();
}

let cleanupInstalled = false;

/** On Ctrl-C or SIGTERM: stop what was started, then exit. */
export function installSignalCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping servers…\n`);
      void stopEverything().finally(() => process.exit(130));
    });
  }
}
