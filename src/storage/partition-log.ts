import { assert } from '../base/assert.ts';
import { type Clock, systemClock } from '../base/clock.ts';
import { type LogConfig, logConfigDefaults, resolveLogConfig } from './config.ts';
import { type CorruptRange, StorageError, storageErrorCodes, storageIoError } from './errors.ts';
import { nodeStorageFs, type StorageFs } from './fs.ts';
import { SegmentHandleCache } from './handle-cache.ts';
import type { EpochEndOffset } from './leader-epoch-cache.ts';
import { appendFollower, appendLeader, rollSegment } from './log-append.ts';
import { runCompaction, runRetention } from './log-cleanup.ts';
import type { BackgroundTask, LogContext, StorageEvent } from './log-context.ts';
import { flushIfDue, markDurable, waitDurable } from './log-durability.ts';
import { offsetForTimestamp, readLog } from './log-reads.ts';
import { cleanShutdownName, type RecoveredLog, recoverLog, smallSegmentBytes } from './log-recovery.ts';
import {
  type AppendResult,
  assertOffsetsOrdered,
  checkWritable,
  enqueue,
  type LogState,
  persistEpochs,
  type ReadOptions,
  type ReadResult,
  sizeBytesOf,
  type TimestampOffset,
  writeCheckpoint,
} from './log-state.ts';
import { deleteRecordsBefore, resetLog, truncateLog } from './log-truncation.ts';
import { type ProducerStateConfig, ProducerStateManager } from './producer-state.ts';
import { rebuildProducerState, writeProducerSnapshot } from './producer-state-log.ts';
import { SerialQueue } from './serial-queue.ts';
import { type TailBudget, TailWindow } from './tail-window.ts';

export {
  type AppendResult,
  earliestTimestamp,
  latestTimestamp,
  type ReadOptions,
  type ReadResult,
  type TimestampOffset,
} from './log-state.ts';

export interface PartitionLogOptions {
  readonly dir: string;
  readonly config?: Partial<LogConfig>;
  readonly fs?: StorageFs;
  readonly clock?: Clock;
  /** Shared by every log of a LogManager; a private one is made otherwise. */
  readonly handleCache?: SegmentHandleCache;
  /** Shared memory budget for tail windows across logs. */
  readonly tailBudget?: TailBudget;
  /** Recovery findings and corrupt reads, for logging. */
  readonly onEvent?: (event: StorageEvent) => void;
  /** Idempotent-producer state limits (producer-state.ts). */
  readonly producerState?: Partial<ProducerStateConfig>;
}

/**
 * The log of one partition replica, in `<data>/<topic>-<partition>/` (log-folders.ts): an ordered
 * list of segments (segment.ts), the last of which is active and receives appends. Offsets are dense
 * and never reused. This class is the log's interface; the work is done by the log-*.ts files on its
 * LogState (log-state.ts).
 *
 * Writes (appends, rolls, truncations, retention, compaction swaps, checkpoints) run one at a time
 * on a per-log queue; each append call is one write of all its batches. Reads run concurrently: they
 * see only bytes whose write completed, and retry when a truncation or deletion raced them.
 */
export class PartitionLog {
  readonly dir: string;
  readonly #state: LogState;

  private constructor(
    context: LogContext,
    settings: { config: LogConfig },
    tail: TailWindow,
    recovered: RecoveredLog,
    producers: ProducerStateManager,
  ) {
    this.dir = context.dir;
    this.#state = {
      context,
      settings,
      queue: new SerialQueue(),
      tail,
      epochs: recovered.epochs,
      producers,
      segments: recovered.segments,
      logStartOffset: recovered.logStartOffset,
      logEndOffset: recovered.logEndOffset,
      highWatermark: recovered.highWatermark,
      checkpointDirty: false,
      generation: 0,
      durableOffset: recovered.logEndOffset,
      unflushedRecords: 0,
      lastFlushMs: context.clock.monotonicMs(),
      flushing: false,
      flushWaiters: [],
      failure: undefined,
      backgroundFailure: undefined,
      folderSyncPending: true,
      loadedClosedIndexes: [],
      damage: [],
      openGroup: undefined,
      closed: false,
    };
    assertOffsetsOrdered(this.#state, 'recovery');
  }

  /** Opens (creating if needed) the log in `options.dir`, recovering from a crash if there was one. */
  static async open(options: PartitionLogOptions): Promise<PartitionLog> {
    const settings = { config: resolveLogConfig(logConfigDefaults, options.config) };
    const cache = options.handleCache ?? new SegmentHandleCache(options.fs ?? nodeStorageFs);
    const context: LogContext = {
      dir: options.dir,
      fs: cache.boundedFs(),
      cache,
      clock: options.clock ?? systemClock,
      config: () => settings.config,
      report: options.onEvent ?? (() => {}),
    };
    let recovered: RecoveredLog;
    try {
      recovered = await recoverLog(context);
    } catch (error) {
      throw storageIoError(error, `opening log ${options.dir}`);
    }
    const tail = new TailWindow(settings.config.tailWindowBytes, options.tailBudget);
    const producers = new ProducerStateManager(options.producerState);
    try {
      await rebuildProducerState(context, producers, recovered.segments, recovered.logEndOffset);
    } catch (error) {
      throw storageIoError(error, `rebuilding the producer state of ${options.dir}`);
    }
    const log = new PartitionLog(context, settings, tail, recovered, producers);
    if (recovered.epochsChanged) await persistEpochs(log.#state);
    return log;
  }

  get config(): LogConfig {
    return this.#state.settings.config;
  }

  get logStartOffset(): bigint {
    return this.#state.logStartOffset;
  }

  get logEndOffset(): bigint {
    return this.#state.logEndOffset;
  }

  get highWatermark(): bigint {
    return this.#state.highWatermark;
  }

  /** True once a write, fsync or truncation failed: the log refuses writes until it is reopened. */
  get offline(): boolean {
    return this.#state.failure !== undefined;
  }

  /** Everything below this offset has been fsynced. */
  get durableOffset(): bigint {
    return this.#state.durableOffset;
  }

  get latestEpoch(): number {
    return this.#state.epochs.latestEpoch;
  }

  /** The idempotent producers this log remembers (read-only use: tests, status). */
  get producerState(): ProducerStateManager {
    return this.#state.producers;
  }

  get segmentCount(): number {
    return this.#state.segments.length;
  }

  /** Base offsets of the segments, oldest first. */
  get segmentBaseOffsets(): bigint[] {
    return this.#state.segments.map((segment) => segment.baseOffset);
  }

  /** Bytes of batches stored across all segments. */
  get sizeBytes(): number {
    return sizeBytesOf(this.#state);
  }

  updateConfig(partial: Partial<LogConfig>): void {
    this.#state.settings.config = resolveLogConfig(this.#state.settings.config, partial);
    this.#state.tail.setBytesMax(this.#state.settings.config.tailWindowBytes);
  }

  // Appends (log-append.ts) ---------------------------------------------------------------------------

  /**
   * Appends batches as the leader: validates each, assigns offsets from the log end by rewriting
   * baseOffset and partitionLeaderEpoch in place, and writes them in one write. The log takes
   * ownership of the buffers (they may stay in the tail window): callers must not reuse them.
   * Appends submitted while a write is in progress are coalesced into the next write (group write).
   * With flush.messages reached, resolves after the fsync that covers them (group commit).
   */
  append(batches: readonly Buffer[], options: { readonly leaderEpoch: number }): Promise<AppendResult> {
    return appendLeader(this.#state, batches, options);
  }

  /** Appends batches replicated from the leader, offsets already set; they must start at the log end. */
  appendAsFollower(batches: readonly Buffer[]): Promise<AppendResult> {
    return appendFollower(this.#state, batches);
  }

  /** Closes the active segment now, if it holds anything (tests, deleteRecords up to the end). */
  roll(): Promise<void> {
    const s = this.#state;
    return enqueue(s, async () => {
      checkWritable(s);
      if (s.segments.at(-1)!.size > 0) await rollSegment(s);
    });
  }

  /**
   * Background work on this log (flush.ms, checkpoint, retention, compaction) failed with no caller
   * to tell: the next append or read fails with it, once, so a client sees the storage error (and
   * retries) instead of it being lost. A failed fsync also takes the log offline (#failure).
   */
  noteBackgroundFailure(task: BackgroundTask, error: unknown): void {
    const cause = storageIoError(error, `background ${task} of ${this.dir}`);
    this.#state.backgroundFailure =
      cause instanceof StorageError
        ? cause
        : new StorageError(storageErrorCodes.ioError, `background ${task} of ${this.dir}: ${cause.message}`, {
            retriable: true,
            cause,
          });
  }

  // Durability (log-durability.ts) -------------------------------------------------------------------

  /**
   * Resolves once every batch below `offset` is fsynced, starting an fsync if none is running; all
   * waiters arriving during one fsync share the next (group commit). `offset` must be ≤ log end.
   */
  waitDurable(offset: bigint): Promise<void> {
    return waitDurable(this.#state, offset);
  }

  /** Fsyncs everything appended so far. */
  flush(): Promise<void> {
    return waitDurable(this.#state, this.#state.logEndOffset);
  }

  /** The flush.ms policy: fsyncs when unflushed data is older than flush.ms. Called by a tick. */
  flushIfDue(): Promise<void> {
    return flushIfDue(this.#state);
  }

  // Reads (log-reads.ts) -----------------------------------------------------------------------------

  /**
   * Whole batches from the one holding `fromOffset` on, up to `maxBytes` (at least one batch when
   * `minOneBatch`, the default), all below `upperBound`. Recent batches come from memory, older ones
   * from disk through the sparse index. OFFSET_OUT_OF_RANGE below log start or beyond log end.
   */
  read(fromOffset: bigint, options: ReadOptions): Promise<ReadResult> {
    return readLog(this.#state, fromOffset, options);
  }

  /** Damaged ranges reads have met since the log opened (a bounded list). */
  get damage(): readonly CorruptRange[] {
    return this.#state.damage;
  }

  /**
   * ListOffsets by time: the first offset whose record timestamp is ≥ `timestamp`, or undefined when
   * no record is that recent. -1 gives the log end, -2 the log start.
   */
  offsetForTimestamp(timestamp: bigint): Promise<TimestampOffset | undefined> {
    return offsetForTimestamp(this.#state, timestamp);
  }

  // High watermark, epochs, checkpoints --------------------------------------------------------------

  /** Sets the high watermark (≤ log end); persisted by the next `checkpoint()`. */
  setHighWatermark(offset: bigint): void {
    const s = this.#state;
    assert(offset <= s.logEndOffset, `high watermark ${offset} beyond log end ${s.logEndOffset}`);
    const bounded = offset < s.logStartOffset ? s.logStartOffset : offset;
    if (bounded !== s.highWatermark) s.checkpointDirty = true;
    s.highWatermark = bounded;
  }

  /** OffsetForLeaderEpoch: see LeaderEpochCache.endOffsetFor. */
  endOffsetForEpoch(epoch: number): EpochEndOffset {
    return this.#state.epochs.endOffsetFor(epoch, this.#state.logEndOffset);
  }

  get epochEntries(): readonly { epoch: number; startOffset: bigint }[] {
    return this.#state.epochs.entries;
  }

  /** Persists high watermark, log start and recovery point when they changed. */
  checkpoint(): Promise<void> {
    const s = this.#state;
    return enqueue(s, async () => {
      if (s.closed || !s.checkpointDirty) return;
      await writeCheckpoint(s);
    });
  }

  // Truncation and deletion (log-truncation.ts) --------------------------------------------------------

  /**
   * Drops every batch at or above `offset` (a follower cutting a divergent suffix). The cut falls on
   * a batch boundary: the log then ends at the start of the batch holding `offset`, or at `offset`
   * when a batch starts there. Below log start, the log is emptied and restarts at `offset`.
   */
  truncateTo(offset: bigint): Promise<void> {
    return truncateLog(this.#state, offset);
  }

  /**
   * Empties the log and starts it again at `offset`, which may lie beyond the current log end: a
   * follower whose whole log fell below its leader's log start (retention or DeleteRecords ran on the
   * leader while the follower was away) can only restart at the leader's log start. Every segment
   * goes; log start, log end and high watermark become `offset`; the leader-epoch history is cleared
   * (the next appended batch brings its epoch).
   */
  resetTo(offset: bigint): Promise<void> {
    return resetLog(this.#state, offset);
  }

  /**
   * DeleteRecords: moves log start up to `offset` (≤ log end) and deletes segments wholly below it.
   * Returns the new log start.
   */
  deleteRecordsBefore(offset: bigint): Promise<bigint> {
    return deleteRecordsBefore(this.#state, offset);
  }

  // Retention and compaction (log-cleanup.ts) ----------------------------------------------------------

  /**
   * One retention pass (called by a bounded background tick): with the delete policy, removes the
   * oldest closed segments below the high watermark whose newest record is older than retention.ms,
   * then while the log is larger than retention.bytes. Returns the number of segments deleted.
   */
  runRetention(nowMs: number = this.#state.context.clock.nowMs()): Promise<number> {
    return runRetention(this.#state, nowMs);
  }

  /**
   * One compaction pass (compact policy): keeps the latest record per key across closed segments,
   * drops tombstones older than delete.retention.ms, preserving offsets; each cleaned segment is
   * swapped in atomically. Returns the number of segments rewritten.
   */
  runCompaction(nowMs: number = this.#state.context.clock.nowMs()): Promise<number> {
    return runCompaction(this.#state, nowMs);
  }

  // Shutdown -------------------------------------------------------------------------------------------

  /**
   * Clean shutdown: waits for queued work, fsyncs, writes the active segment's indexes and the
   * checkpoints, then the clean-shutdown marker that lets the next open skip the recovery scan.
   */
  close(): Promise<void> {
    const s = this.#state;
    return enqueue(s, async () => {
      if (s.closed) return;
      s.closed = true;
      const active = s.segments.at(-1)!;
      if (s.failure === undefined) {
        try {
          await s.context.cache.with(active.logPath, (file) => file.sync());
          markDurable(s, s.logEndOffset);
          if (active.size > smallSegmentBytes) await active.writeIndexes(s.context.fs);
          await writeProducerSnapshot(s.context, s.producers, s.logEndOffset);
          await writeCheckpoint(s);
          const marker = await s.context.fs.open(`${this.dir}/${cleanShutdownName}`, 'create');
          await marker.close();
          await s.context.fs.syncDir(this.dir);
        } catch (error) {
          throw storageIoError(error, `closing ${this.dir}`);
        } finally {
          await this.#release();
        }
      } else {
        await this.#release();
      }
    });
  }

  /** Stops the log the way a crash would: no fsync, no index files, no marker (for tests). */
  abandon(): Promise<void> {
    const s = this.#state;
    return enqueue(s, async () => {
      s.closed = true;
      await this.#release();
    });
  }

  async #release(): Promise<void> {
    const s = this.#state;
    s.tail.clear();
    for (const segment of s.segments) await s.context.cache.discard(segment.logPath);
    const waiters = s.flushWaiters;
    s.flushWaiters = [];
    const error = new StorageError(storageErrorCodes.logClosed, `log ${this.dir} closed`);
    for (const waiter of waiters) waiter.reject(error);
  }
}
