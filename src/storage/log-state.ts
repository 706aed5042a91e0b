import { assert } from '../base/assert.ts';
import type { LogConfig } from './config.ts';
import { type CorruptRange, StorageError, storageErrorCodes, storageIoError } from './errors.ts';
import { writeFileAtomic } from './fs.ts';
import { type LeaderEpochCache, leaderEpochCheckpointName } from './leader-epoch-cache.ts';
import type { LogContext } from './log-context.ts';
import { writePartitionCheckpoint } from './partition-checkpoint.ts';
import type { ProducerStateManager } from './producer-state.ts';
import type { Segment } from './segment.ts';
import type { SerialQueue } from './serial-queue.ts';
import type { TailWindow } from './tail-window.ts';

/**
 * The state of one partition log (partition-log.ts), shared by the files that work on it: appends
 * (log-append.ts), durability (log-durability.ts), reads (log-reads.ts), truncation and deletion
 * (log-truncation.ts), retention and compaction (log-cleanup.ts). Each takes the state as its first
 * argument, as compaction.ts takes the log's context. Only the log's queue changes it, except what
 * durability and reads note (flush waiters, loaded indexes, damage).
 *
 * The offsets move under paired assertions (below): the log end only rises on append, the log start
 * never falls (except when the log is emptied and restarted), and log start ≤ high watermark ≤ log
 * end holds after recovery, truncation, reset and deletion.
 */
export interface LogState {
  readonly context: LogContext;
  /** Shared with the context, so every part of the log sees configuration changes at once. */
  readonly settings: { config: LogConfig };
  readonly queue: SerialQueue;
  readonly tail: TailWindow;
  readonly epochs: LeaderEpochCache;
  /** Idempotent producers' epochs and recent sequences, in step with the stored batches. */
  readonly producers: ProducerStateManager;
  segments: Segment[];
  logStartOffset: bigint;
  logEndOffset: bigint;
  highWatermark: bigint;
  checkpointDirty: boolean;
  /** Bumped by anything that removes or rewrites stored batches, so racing reads retry. */
  generation: number;
  durableOffset: bigint;
  unflushedRecords: number;
  lastFlushMs: number;
  flushing: boolean;
  flushWaiters: DurabilityWaiter[];
  /** Set when a write, truncation or fsync failed: the log refuses writes from then on. */
  failure: Error | undefined;
  /** A failure of background work, thrown once by the next append or read. */
  backgroundFailure: StorageError | undefined;
  /** A segment file (or the log folder) was created since the folder was last fsynced. */
  folderSyncPending: boolean;
  readonly loadedClosedIndexes: Segment[];
  readonly damage: CorruptRange[];
  /** Appends submitted but not yet started: later appends join it (one write for all). */
  openGroup: PendingAppend[] | undefined;
  closed: boolean;
}

export interface DurabilityWaiter {
  readonly offset: bigint;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export interface AppendResult {
  readonly baseOffset: bigint;
  readonly lastOffset: bigint;
  readonly logEndOffset: bigint;
  /** Set for LogAppendTime logs: the time stamped on the batches. */
  readonly logAppendTimeMs?: number;
}

/** What an append resolves with inside the log: its result and what must be durable for it. */
export interface QueuedAppend {
  readonly append: AppendResult;
  /** Offset after the append's last record: what must be durable for it. */
  readonly endOffset: bigint;
  readonly records: number;
}

export interface PendingAppend {
  readonly batches: readonly Buffer[];
  readonly bytes: number;
  /** Undefined for replicated batches, whose offsets and epochs are already set. */
  readonly leaderEpoch: number | undefined;
  readonly resolve: (result: QueuedAppend) => void;
  readonly reject: (error: unknown) => void;
}

export interface ReadOptions {
  /** Soft limit: the first batch is returned whole even when larger (unless minOneBatch is false). */
  readonly maxBytes: number;
  /** Exclusive: only batches entirely below it (the high watermark for consumers). Default: log end. */
  readonly upperBound?: bigint;
  readonly minOneBatch?: boolean;
  /**
   * A read starting at damaged data resumes at the next intact data beyond it, instead of failing
   * (consumers: the offsets skipped are lost on this replica; followers must not skip).
   */
  readonly skipDamaged?: boolean;
}

export interface ReadResult {
  /** Whole batches; the first may start before the offset asked for. */
  readonly batches: Buffer[];
  readonly bytes: number;
  readonly logStartOffset: bigint;
  readonly logEndOffset: bigint;
  readonly highWatermark: bigint;
}

export interface TimestampOffset {
  readonly offset: bigint;
  readonly timestamp: bigint;
}

/** ListOffsets' special timestamps. */
export const latestTimestamp = -1n;
export const earliestTimestamp = -2n;

/** Moves the log end up to `offset` after a write: an append only ever raises it. */
export function advanceLogEnd(log: LogState, offset: bigint): void {
  assert(offset > log.logEndOffset, `log end would not rise from ${log.logEndOffset} to ${offset} on append`);
  log.logEndOffset = offset;
  assert(log.logEndOffset >= log.highWatermark, 'the high watermark stays at or below the log end');
}

/** Moves the log start up to `offset` (deletion, retention): it never falls, nor passes the log end. */
export function raiseLogStart(log: LogState, offset: bigint): void {
  assert(offset >= log.logStartOffset, `log start would fall from ${log.logStartOffset} to ${offset}`);
  assert(offset <= log.logEndOffset, `log start ${offset} beyond log end ${log.logEndOffset}`);
  log.logStartOffset = offset;
  if (log.highWatermark < offset) log.highWatermark = offset;
}

/** log start ≤ high watermark ≤ log end, and durability within the log: after recovery, truncation, reset. */
export function assertOffsetsOrdered(log: LogState, after: string): void {
  assert(
    log.logStartOffset <= log.highWatermark && log.highWatermark <= log.logEndOffset,
    `after ${after}: log start ${log.logStartOffset} ≤ high watermark ${log.highWatermark} ≤ log end ${log.logEndOffset} does not hold`,
  );
  assert(log.durableOffset <= log.logEndOffset, `after ${after}: durable offset beyond the log end`);
  assert(log.segments.length > 0, `after ${after}: a log has at least its active segment`);
}

/** Bytes of batches stored across all segments. */
export function sizeBytesOf(log: LogState): number {
  return log.segments.reduce((total, segment) => total + segment.size, 0);
}

/** Runs a non-append task on the queue; appends submitted after it are applied after it. */
export function enqueue<T>(log: LogState, task: () => Promise<T>): Promise<T> {
  log.openGroup = undefined;
  return log.queue.run(task);
}

export function surfaceBackgroundFailure(log: LogState): void {
  const failure = log.backgroundFailure;
  if (failure === undefined) return;
  log.backgroundFailure = undefined;
  throw failure;
}

export function checkWritable(log: LogState): void {
  if (log.closed) throw new StorageError(storageErrorCodes.logClosed, `log ${log.context.dir} is closed`);
  if (log.failure !== undefined)
    throw new StorageError(
      storageErrorCodes.ioError,
      `log ${log.context.dir} is offline: ${log.failure.message}`,
      {
        cause: log.failure,
      },
    );
}

/** Index of the last segment whose base offset is at or below `offset` (0 when none is). */
export function segmentIndexFor(log: LogState, offset: bigint): number {
  let low = 0;
  let high = log.segments.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if (log.segments[middle]!.baseOffset <= offset) low = middle;
    else high = middle - 1;
  }
  return low;
}

export async function writeCheckpoint(log: LogState): Promise<void> {
  log.checkpointDirty = false;
  try {
    await writePartitionCheckpoint(log.context.fs, log.context.dir, {
      highWatermark: log.highWatermark,
      logStartOffset: log.logStartOffset,
      recoveryPoint: log.segments.at(-1)!.baseOffset,
    });
  } catch (error) {
    log.checkpointDirty = true;
    throw storageIoError(error, `writing the checkpoint of ${log.context.dir}`);
  }
}

export async function persistEpochs(log: LogState): Promise<void> {
  try {
    await writeFileAtomic(log.context.fs, log.context.dir, leaderEpochCheckpointName, log.epochs.encode());
  } catch (error) {
    throw storageIoError(error, `writing the leader epochs of ${log.context.dir}`);
  }
}

export async function deleteSegments(log: LogState, segments: readonly Segment[]): Promise<void> {
  for (const segment of segments) {
    await log.context.cache.discard(segment.logPath);
    await log.context.fs.unlink(segment.logPath);
    await log.context.fs.unlink(segment.indexPath);
    await log.context.fs.unlink(segment.timeIndexPath);
  }
  if (segments.length > 0) await log.context.fs.syncDir(log.context.dir);
}
