import { type Clock, systemClock } from '../base/clock.ts';
import type { LogConfig } from './config.ts';
import { StorageError, storageErrorCodes, storageIoError } from './errors.ts';
import { nodeStorageFs, type StorageFs, writeFileAtomic } from './fs.ts';
import { SegmentHandleCache } from './handle-cache.ts';
import type { BackgroundTask, StorageEvent } from './log-context.ts';
import {
  decodeLogName,
  deletingFolderName,
  deletingSuffix,
  encodeLogName,
  isHashedLogFolder,
  logFolderName,
  logNameFileName,
  parseLogFolderName,
  type TopicPartition,
} from './log-folders.ts';
import { PartitionLog } from './partition-log.ts';
import { TailBudget } from './tail-window.ts';

/**
 * Owns a data folder holding one sub-folder per partition log (`<topic>-<partition>`): opens,
 * creates, lists and deletes logs, shares one file-handle cache and one tail-window memory budget
 * among them, runs the bounded background tick (flush.ms, checkpoints, retention, compaction) and
 * closes every log cleanly at shutdown.
 */
export const logManagerDefaults = Object.freeze({
  openHandlesMax: 1024, // segment files open at once across all logs
  tailWindowBytesTotalMax: 256 * 1024 * 1024, // bytes of tail windows across all logs
  tickIntervalMs: 250, // ms between background ticks
  checkpointIntervalMs: 5000, // ms between high-watermark checkpoints
  cleanupIntervalMs: 60_000, // ms between retention/compaction passes over a log
  cleanupLogsPerTickMax: 64, // logs given a retention/compaction pass per tick
  closeConcurrency: 64, // logs closed in parallel at shutdown
});

export type { TopicPartition } from './log-folders.ts';
export { parseLogFolderName } from './log-folders.ts';

export interface LogManagerOptions {
  readonly dataDir: string;
  readonly fs?: StorageFs;
  readonly clock?: Clock;
  /** Settings for every log unless a log is opened with its own. */
  readonly logConfig?: Partial<LogConfig>;
  readonly openHandlesMax?: number;
  readonly tailWindowBytesTotalMax?: number;
  /** Storage events; `log` is undefined for a failure of the tick itself (a bug). */
  readonly onEvent?: (log: TopicPartition | undefined, event: StorageEvent) => void;
}

export class LogManager {
  readonly dataDir: string;
  readonly handleCache: SegmentHandleCache;
  readonly tailBudget: TailBudget;
  readonly #fs: StorageFs;
  readonly #clock: Clock;
  readonly #logConfig: Partial<LogConfig>;
  readonly #onEvent: LogManagerOptions['onEvent'];
  readonly #logs = new Map<string, Promise<PartitionLog>>();
  readonly #opened = new Map<string, PartitionLog>();
  /** Topic and partition of each open log, by folder name (hashed names cannot be read back). */
  readonly #identities = new Map<string, TopicPartition>();
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;
  #lastCheckpointMs: number;
  #cleanupCursor = 0;
  readonly #lastCleanupMs = new Map<string, number>();
  #closed = false;

  private constructor(options: LogManagerOptions, fs: StorageFs) {
    this.dataDir = options.dataDir;
    this.#fs = fs;
    this.#clock = options.clock ?? systemClock;
    this.#logConfig = options.logConfig ?? {};
    this.#onEvent = options.onEvent;
    this.handleCache = new SegmentHandleCache(
      fs,
      options.openHandlesMax ?? logManagerDefaults.openHandlesMax,
    );
    this.tailBudget = new TailBudget(
      options.tailWindowBytesTotalMax ?? logManagerDefaults.tailWindowBytesTotalMax,
    );
    this.#lastCheckpointMs = this.#clock.monotonicMs();
  }

  /** Opens the data folder (creating it), finishing any interrupted log deletions. */
  static async open(options: LogManagerOptions): Promise<LogManager> {
    const fs = options.fs ?? nodeStorageFs;
    try {
      await fs.mkdir(options.dataDir);
      for (const name of await fs.readdir(options.dataDir))
        if (name.endsWith(deletingSuffix)) await fs.removeTree(`${options.dataDir}/${name}`);
    } catch (error) {
      throw storageIoError(error, `opening data folder ${options.dataDir}`);
    }
    return new LogManager(options, fs);
  }

  /** Logs present on disk (open or not). */
  async list(): Promise<TopicPartition[]> {
    const found: TopicPartition[] = [];
    for (const name of await this.#fs.readdir(this.dataDir)) {
      const parsed = isHashedLogFolder(name)
        ? decodeLogName(name, await this.#fs.readFile(`${this.dataDir}/${name}/${logNameFileName}`))
        : parseLogFolderName(name);
      if (parsed !== undefined && (await this.#fs.isDirectory(`${this.dataDir}/${name}`))) found.push(parsed);
    }
    return found;
  }

  /** The open log, if it is open. */
  get(topic: string, partition: number): PartitionLog | undefined {
    return this.#opened.get(logFolderName(topic, partition));
  }

  get openLogCount(): number {
    return this.#opened.size;
  }

  /** Opens a log, creating it when absent; opening an open log returns it. */
  async openLog(
    topic: string,
    partition: number,
    options: { config?: Partial<LogConfig> } = {},
  ): Promise<PartitionLog> {
    if (this.#closed) throw new StorageError(storageErrorCodes.logClosed, 'log manager is closed');
    const name = logFolderName(topic, partition);
    const existing = this.#logs.get(name);
    if (existing !== undefined) return await existing;
    const opening = PartitionLog.open({
      dir: `${this.dataDir}/${name}`,
      config: { ...this.#logConfig, ...options.config },
      fs: this.#fs,
      clock: this.#clock,
      handleCache: this.handleCache,
      tailBudget: this.tailBudget,
      onEvent: (event) => this.#onEvent?.({ topic, partition }, event),
    }).then(
      async (log) => {
        if (isHashedLogFolder(name)) await this.#writeLogName(name, { topic, partition }, log);
        this.#opened.set(name, log);
        this.#identities.set(name, { topic, partition });
        return log;
      },
      (error: unknown) => {
        this.#logs.delete(name);
        throw error;
      },
    );
    this.#logs.set(name, opening);
    return await opening;
  }

  /** A hashed folder's name cannot be read back: the `log.name` file inside says whose log it is. */
  async #writeLogName(name: string, log: TopicPartition, opened: PartitionLog): Promise<void> {
    const dir = `${this.dataDir}/${name}`;
    const content = encodeLogName(log);
    if ((await this.#fs.readFile(`${dir}/${logNameFileName}`))?.equals(content)) return;
    try {
      await writeFileAtomic(this.#fs, dir, logNameFileName, content);
    } catch (error) {
      await opened.abandon();
      throw storageIoError(error, `naming log folder ${dir}`);
    }
  }

  /** Closes a log cleanly (it stays on disk). */
  async closeLog(topic: string, partition: number): Promise<void> {
    const name = logFolderName(topic, partition);
    const log = await this.#logs.get(name);
    this.#logs.delete(name);
    this.#opened.delete(name);
    this.#identities.delete(name);
    await log?.close();
  }

  /** Deletes a log and its folder: renamed aside first, so a crash midway cannot leave half a log. */
  async deleteLog(topic: string, partition: number): Promise<void> {
    const name = logFolderName(topic, partition);
    const log = await this.#logs.get(name)?.catch(() => undefined);
    this.#logs.delete(name);
    this.#opened.delete(name);
    this.#identities.delete(name);
    await log?.abandon();
    const dir = `${this.dataDir}/${name}`;
    if (!(await this.#fs.isDirectory(dir))) return;
    const aside = `${this.dataDir}/${deletingFolderName(name, this.#clock.nowMs())}`;
    await this.#fs.rename(dir, aside);
    await this.#fs.syncDir(this.dataDir);
    await this.#fs.removeTree(aside);
  }

  /** Starts the background tick (timers unref'd: they never keep the process alive). */
  start(intervalMs: number = logManagerDefaults.tickIntervalMs): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(
      () => void this.tick().catch((error: unknown) => this.#reportFailure(undefined, 'tick', error)),
      intervalMs,
    );
    this.#timer.unref();
  }

  /**
   * One background tick: flush.ms fsyncs, periodic checkpoints, and retention/compaction for at most
   * `cleanupLogsPerTickMax` logs whose last pass is older than `cleanupIntervalMs`. A failure of one
   * log does not stop the others: it is reported (onEvent) and surfaces on that log's next append or
   * read.
   */
  async tick(): Promise<void> {
    if (this.#ticking || this.#closed) return;
    this.#ticking = true;
    try {
      const logs = [...this.#opened.entries()];
      const now = this.#clock.monotonicMs();
      const checkpointDue = now - this.#lastCheckpointMs >= logManagerDefaults.checkpointIntervalMs;
      if (checkpointDue) this.#lastCheckpointMs = now;
      for (const [name, log] of logs) {
        await this.#runBackground(name, log, 'flush', () => log.flushIfDue());
        if (checkpointDue) await this.#runBackground(name, log, 'checkpoint', () => log.checkpoint());
      }
      await this.#cleanupSome(logs, now);
    } finally {
      this.#ticking = false;
    }
  }

  async #cleanupSome(logs: Array<[string, PartitionLog]>, now: number): Promise<void> {
    for (let done = 0; done < Math.min(logs.length, logManagerDefaults.cleanupLogsPerTickMax); done++) {
      this.#cleanupCursor = (this.#cleanupCursor + 1) % logs.length;
      const [name, log] = logs[this.#cleanupCursor]!;
      const last = this.#lastCleanupMs.get(name);
      if (last !== undefined && now - last < logManagerDefaults.cleanupIntervalMs) continue;
      this.#lastCleanupMs.set(name, now);
      await this.#runBackground(name, log, 'retention', () => log.runRetention());
      await this.#runBackground(name, log, 'compaction', () => log.runCompaction());
    }
  }

  /** Runs one log's background task; a failure is reported and handed to the log to surface. */
  async #runBackground(
    name: string,
    log: PartitionLog,
    task: BackgroundTask,
    run: () => Promise<unknown>,
  ): Promise<void> {
    try {
      await run();
    } catch (error) {
      log.noteBackgroundFailure(task, error);
      this.#reportFailure(this.#identities.get(name), task, error);
    }
  }

  #reportFailure(log: TopicPartition | undefined, task: BackgroundTask | 'tick', error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.#onEvent?.(log, { kind: 'background-failure', task, message });
  }

  /** Stops the tick and closes every log cleanly. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    const logs = [...this.#logs.values()];
    this.#logs.clear();
    this.#opened.clear();
    const errors: unknown[] = [];
    for (let start = 0; start < logs.length; start += logManagerDefaults.closeConcurrency) {
      const slice = logs.slice(start, start + logManagerDefaults.closeConcurrency);
      const results = await Promise.allSettled(slice.map(async (opening) => (await opening).close()));
      for (const result of results) if (result.status === 'rejected') errors.push(result.reason);
    }
    if (errors.length > 0) throw new AggregateError(errors, `${errors.length} logs failed to close cleanly`);
  }
}
