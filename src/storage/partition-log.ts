import { dirname } from 'node:path';
import { assert } from '../base/assert.ts';
import { type Clock, systemClock } from '../base/clock.ts';
import {
  batchHeader,
  batchLastOffset,
  setBaseOffset,
  setPartitionLeaderEpoch,
} from '../protocol/batch-header.ts';
import { stampLogAppendTime, validateBatches } from './append-validation.ts';
import { compactLog } from './compaction.ts';
import { type LogConfig, logConfigDefaults, resolveLogConfig } from './config.ts';
import { type CorruptRange, StorageError, storageErrorCodes, storageIoError } from './errors.ts';
import { nodeStorageFs, type StorageFs, writeAllFully, writeFileAtomic } from './fs.ts';
import { SegmentHandleCache } from './handle-cache.ts';
import {
  type EpochEndOffset,
  type LeaderEpochCache,
  leaderEpochCheckpointName,
} from './leader-epoch-cache.ts';
import type { BackgroundTask, LogContext, StorageEvent } from './log-context.ts';
import {
  cleanShutdownName,
  createSegment,
  type RecoveredLog,
  recoverLog,
  smallSegmentBytes,
} from './log-recovery.ts';
import { writePartitionCheckpoint } from './partition-checkpoint.ts';
import { type DuplicateAppend, type ProducerStateConfig, ProducerStateManager } from './producer-state.ts';
import { rebuildProducerState, writeProducerSnapshot } from './producer-state-log.ts';
import { placementOf, type Segment } from './segment.ts';
import {
  ensureIndexes,
  findCut,
  IndexMismatch,
  readSegment,
  rebuildIndexes,
  type SegmentRead,
} from './segment-io.ts';
import { SerialQueue } from './serial-queue.ts';
import { type TailBudget, TailWindow } from './tail-window.ts';
import { findTimestamp } from './timestamp-lookup.ts';

/**
 * The log of one partition replica, in `<data>/<topic>-<partition>/`: an ordered list of segments
 * (segment.ts), the last of which is active and receives appends. Offsets are dense and never reused.
 *
 * Writes (appends, rolls, truncations, retention, compaction swaps, checkpoints) run one at a time
 * on a per-log queue; each append call is one write of all its batches. Reads run concurrently: they
 * see only bytes whose write completed, and retry when a truncation or deletion raced them.
 */
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

export interface AppendResult {
  readonly baseOffset: bigint;
  readonly lastOffset: bigint;
  readonly logEndOffset: bigint;
  /** Set for LogAppendTime logs: the time stamped on the batches. */
  readonly logAppendTimeMs?: number;
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

interface ColdReadOptions {
  readonly maxBytes: number;
  readonly upperBound: bigint;
  readonly minOneBatch: boolean;
  readonly skipDamaged: boolean;
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

interface DurabilityWaiter {
  readonly offset: bigint;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

const readAttemptsMax = 3;
/** Damaged ranges a log remembers for reporting; more than a few means the whole disk is suspect. */
const damagedRangesMax = 16;
/** Closed segments per log whose indexes stay in memory after a read. */
const closedIndexesLoadedMax = 8;

export class PartitionLog {
  readonly dir: string;
  readonly #context: LogContext;
  readonly #fs: StorageFs;
  readonly #cache: SegmentHandleCache;
  readonly #clock: Clock;
  readonly #queue = new SerialQueue();
  readonly #tail: TailWindow;
  readonly #epochs: LeaderEpochCache;
  /** Shared with the context, so every part of the log sees configuration changes at once. */
  readonly #settings: { config: LogConfig };
  #segments: Segment[];
  #logStartOffset: bigint;
  #logEndOffset: bigint;
  #highWatermark: bigint;
  #checkpointDirty = false;
  /** Bumped by anything that removes or rewrites stored batches, so racing reads retry. */
  #generation = 0;
  #durableOffset: bigint;
  #unflushedRecords = 0;
  #lastFlushMs: number;
  #flushing = false;
  #flushWaiters: DurabilityWaiter[] = [];
  #failure: Error | undefined;
  #backgroundFailure: StorageError | undefined;
  /** A segment file (or the log folder) was created since the folder was last fsynced. */
  #folderSyncPending = true;
  readonly #loadedClosedIndexes: Segment[] = [];
  readonly #damage: CorruptRange[] = [];
  /** Appends submitted but not yet started: later appends join it (one write for all). */
  #openGroup: PendingAppend[] | undefined;
  #closed = false;
  /** Idempotent producers' epochs and recent sequences, in step with the stored batches. */
  readonly #producers: ProducerStateManager;

  private constructor(
    context: LogContext,
    settings: { config: LogConfig },
    tail: TailWindow,
    recovered: RecoveredLog,
    producers: ProducerStateManager,
  ) {
    this.#producers = producers;
    this.dir = context.dir;
    this.#context = context;
    this.#fs = context.fs;
    this.#cache = context.cache;
    this.#clock = context.clock;
    this.#settings = settings;
    this.#tail = tail;
    this.#segments = recovered.segments;
    this.#epochs = recovered.epochs;
    this.#logStartOffset = recovered.logStartOffset;
    this.#logEndOffset = recovered.logEndOffset;
    this.#highWatermark = recovered.highWatermark;
    this.#durableOffset = recovered.logEndOffset;
    this.#lastFlushMs = context.clock.monotonicMs();
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
    if (recovered.epochsChanged) await log.#persistEpochs();
    return log;
  }

  get config(): LogConfig {
    return this.#settings.config;
  }

  get logStartOffset(): bigint {
    return this.#logStartOffset;
  }

  get logEndOffset(): bigint {
    return this.#logEndOffset;
  }

  get highWatermark(): bigint {
    return this.#highWatermark;
  }

  /** True once a write, fsync or truncation failed: the log refuses writes until it is reopened. */
  get offline(): boolean {
    return this.#failure !== undefined;
  }

  /** Everything below this offset has been fsynced. */
  get durableOffset(): bigint {
    return this.#durableOffset;
  }

  get latestEpoch(): number {
    return this.#epochs.latestEpoch;
  }

  /** The idempotent producers this log remembers (read-only use: tests, status). */
  get producerState(): ProducerStateManager {
    return this.#producers;
  }

  get segmentCount(): number {
    return this.#segments.length;
  }

  /** Base offsets of the segments, oldest first. */
  get segmentBaseOffsets(): bigint[] {
    return this.#segments.map((segment) => segment.baseOffset);
  }

  /** Bytes of batches stored across all segments. */
  get sizeBytes(): number {
    return this.#segments.reduce((total, segment) => total + segment.size, 0);
  }

  updateConfig(partial: Partial<LogConfig>): void {
    this.#settings.config = resolveLogConfig(this.#settings.config, partial);
    this.#tail.setBytesMax(this.#settings.config.tailWindowBytes);
  }

  // Appends -------------------------------------------------------------------------------------------

  /**
   * Appends batches as the leader: validates each, assigns offsets from the log end by rewriting
   * baseOffset and partitionLeaderEpoch in place, and writes them in one write. The log takes
   * ownership of the buffers (they may stay in the tail window): callers must not reuse them.
   * Appends submitted while a write is in progress are coalesced into the next write (group write).
   * With flush.messages reached, resolves after the fsync that covers them (group commit).
   */
  async append(batches: readonly Buffer[], options: { readonly leaderEpoch: number }): Promise<AppendResult> {
    this.#surfaceBackgroundFailure();
    const bytes = validateBatches(batches, this.#settings.config.batchBytesMax, true);
    const result = await this.#submit(batches, bytes, options.leaderEpoch);
    await this.#flushAfterAppend(result);
    return result.append;
  }

  /** Appends batches replicated from the leader, offsets already set; they must start at the log end. */
  async appendAsFollower(batches: readonly Buffer[]): Promise<AppendResult> {
    this.#surfaceBackgroundFailure();
    const bytes = validateBatches(batches, Math.max(this.#settings.config.batchBytesMax, 2 ** 31 - 1), false);
    const result = await this.#submit(batches, bytes, undefined);
    await this.#flushAfterAppend(result);
    return result.append;
  }

  /** Queues an append, joining the group of appends not yet started if there is one. */
  #submit(batches: readonly Buffer[], bytes: number, leaderEpoch: number | undefined): Promise<QueuedAppend> {
    return new Promise<QueuedAppend>((resolve, reject) => {
      let group = this.#openGroup;
      if (group === undefined) {
        const created: PendingAppend[] = [];
        group = created;
        this.#openGroup = created;
        void this.#queue.run(async () => {
          if (this.#openGroup === created) this.#openGroup = undefined;
          await this.#appendGroup(created);
        });
      }
      group.push({ batches, bytes, leaderEpoch, resolve, reject });
    });
  }

  /** Runs a non-append task on the queue; appends submitted after it are applied after it. */
  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    this.#openGroup = undefined;
    return this.#queue.run(task);
  }

  /**
   * Applies a group of appends in submission order, writing as many as possible in one write: a
   * write is cut only where a segment must roll or a leader epoch starts. A refused append (not at
   * the log end, log offline) fails alone; a failed write fails the appends it carried.
   */
  async #appendGroup(group: readonly PendingAppend[]): Promise<void> {
    const chunk: PreparedAppend[] = [];
    const duplicates: Array<{ item: PendingAppend; original: DuplicateAppend }> = [];
    let chunkBytes = 0;
    let chunkBatches = 0;
    for (const item of group) {
      let mark: number | undefined;
      try {
        this.#checkWritable();
        // In append order, against every append before it (written or in this chunk).
        const original =
          item.leaderEpoch === undefined
            ? undefined
            : this.#producers.checkAppend(item.batches, this.#clock.nowMs());
        if (original !== undefined) {
          duplicates.push({ item, original });
          continue;
        }
        const next = this.#logEndOffset + chunkRecords(chunk);
        const lastOffset =
          item.leaderEpoch === undefined ? lastOffsetOf(item, next) : next + spanOf(item) - 1n;
        const newEpoch = this.#startsEpoch(item);
        const roll = item.bytes > 0 && this.#shouldRoll(chunkBytes + item.bytes, lastOffset, chunkBatches);
        if ((newEpoch || roll) && chunk.length > 0) {
          await this.#writeChunk(chunk.splice(0));
          chunkBytes = 0;
          chunkBatches = 0;
          this.#checkWritable();
        }
        if (roll && this.#shouldRoll(item.bytes, lastOffset, 0)) await this.#roll();
        mark = this.#producers.mark();
        const prepared = this.#prepare(item, this.#logEndOffset + chunkRecords(chunk));
        if (newEpoch) await this.#persistEpochs();
        chunk.push(prepared);
        chunkBytes += item.bytes;
        chunkBatches += item.batches.length;
      } catch (error) {
        if (mark !== undefined) this.#producers.rollbackTo(mark);
        item.reject(error);
      }
    }
    await this.#writeChunk(chunk);
    for (const { item, original } of duplicates) this.#answerDuplicate(item, original);
  }

  /** A retried append: answered with the original offsets once those are written, nothing appended. */
  #answerDuplicate(item: PendingAppend, original: DuplicateAppend): void {
    if (original.lastOffset >= this.#logEndOffset) {
      item.reject(
        new StorageError(storageErrorCodes.ioError, `the original of a retried append was not written`, {
          retriable: true,
        }),
      );
      return;
    }
    const append: AppendResult = { ...original, logEndOffset: this.#logEndOffset };
    item.resolve({ append, endOffset: original.lastOffset + 1n, records: 0 });
  }

  /** True when the append carries a leader epoch newer than the latest recorded. */
  #startsEpoch(item: PendingAppend): boolean {
    if (item.batches.length === 0) return false;
    if (item.leaderEpoch !== undefined) return item.leaderEpoch > this.#epochs.latestEpoch;
    return item.batches.some(
      (batch) => batch.readInt32BE(batchHeader.partitionLeaderEpoch) > this.#epochs.latestEpoch,
    );
  }

  /** Assigns offsets (leader) or checks them (follower) from `next`; records new epochs in memory. */
  #prepare(item: PendingAppend, next: bigint): PreparedAppend {
    const baseOffset = next;
    const config = this.#settings.config;
    const timestampMs =
      item.leaderEpoch !== undefined && config.timestampType === 'LogAppendTime'
        ? this.#clock.nowMs()
        : undefined;
    const appendMs = timestampMs ?? this.#clock.nowMs();
    let records = 0;
    for (const batch of item.batches) {
      if (item.leaderEpoch !== undefined) {
        setBaseOffset(batch, next);
        setPartitionLeaderEpoch(batch, item.leaderEpoch);
        if (timestampMs !== undefined) stampLogAppendTime(batch, timestampMs);
      } else {
        const first = batch.readBigInt64BE(batchHeader.baseOffset);
        if (next === baseOffset ? first !== baseOffset : first < next)
          throw new StorageError(
            storageErrorCodes.notAtLogEnd,
            `replicated batch starts at ${first}, expected ${next === baseOffset ? 'exactly' : 'at least'} ${next}`,
          );
      }
      const epoch = batch.readInt32BE(batchHeader.partitionLeaderEpoch);
      this.#epochs.assign(epoch, batch.readBigInt64BE(batchHeader.baseOffset));
      this.#producers.update(batch, appendMs);
      records += batch.readInt32BE(batchHeader.recordCount);
      next = batchLastOffset(batch) + 1n;
    }
    const append = {
      baseOffset,
      lastOffset: next - 1n,
      ...(timestampMs === undefined ? {} : { logAppendTimeMs: timestampMs }),
    };
    return { item, append, endOffset: next, records };
  }

  /** Writes the prepared appends in one write and settles their promises. */
  async #writeChunk(chunk: readonly PreparedAppend[]): Promise<void> {
    if (chunk.length === 0) return;
    const batches =
      chunk.length === 1 ? chunk[0]!.item.batches : chunk.flatMap((prepared) => prepared.item.batches);
    try {
      await this.#writeBatches(batches);
    } catch (error) {
      this.#producers.rollback();
      for (const prepared of chunk) prepared.item.reject(error);
      return;
    }
    this.#producers.commit();
    for (const prepared of chunk) {
      const append: AppendResult = { ...prepared.append, logEndOffset: this.#logEndOffset };
      prepared.item.resolve({ append, endOffset: prepared.endOffset, records: prepared.records });
    }
  }

  /** Writes batches (offsets set) at the end of the active segment in one write, then indexes them. */
  async #writeBatches(batches: readonly Buffer[]): Promise<void> {
    if (batches.length === 0) return;
    const lastOffset = batchLastOffset(batches.at(-1)!);
    const active = this.#segments.at(-1)!;
    const buffers = ownedBuffers(batches);
    const position = active.size;
    try {
      await this.#cache.with(active.logPath, (file) => writeAllFully(file, buffers, position));
    } catch (error) {
      await this.#undoWrite(active, position);
      throw storageIoError(error, `appending to ${active.logPath}`);
    }
    let at = position;
    const indexIntervalBytes = this.#settings.config.indexIntervalBytes;
    for (const batch of buffers) {
      const placement = placementOf(batch, at);
      active.noteBatch(placement, indexIntervalBytes);
      this.#tail.push(batch, placement.baseOffset, placement.lastOffset);
      at += batch.length;
    }
    this.#tail.settle();
    active.firstAppendMs ??= this.#clock.monotonicMs();
    this.#logEndOffset = lastOffset + 1n;
  }

  /** After a failed or short write, cuts the file back so no partial batch can surface later. */
  async #undoWrite(segment: Segment, position: number): Promise<void> {
    try {
      await this.#cache.with(segment.logPath, (file) => file.truncate(position));
    } catch (error) {
      this.#failure = storageIoError(error, `cutting back ${segment.logPath} after a failed write`);
    }
  }

  #shouldRoll(bytes: number, lastOffset: bigint, batchCount: number): boolean {
    // `bytes` and `batchCount` are what the coming write would add (a size-0 segment never rolls).
    const active = this.#segments.at(-1)!;
    if (active.size === 0) return false;
    const config = this.#settings.config;
    if (active.size + bytes > config.segmentBytes) return true;
    if (lastOffset - active.baseOffset > 0xffffffffn) return true;
    if (active.indexEntries + batchCount >= config.indexEntriesMax) return true;
    const firstAppendMs = active.firstAppendMs;
    return firstAppendMs !== undefined && this.#clock.monotonicMs() - firstAppendMs >= config.segmentMs;
  }

  /** Closes the active segment (fsynced, indexes written) and starts a new one at the log end. */
  async #roll(): Promise<void> {
    const active = this.#segments.at(-1)!;
    const target = this.#logEndOffset;
    try {
      await this.#cache.with(active.logPath, (file) => file.sync());
      await active.writeIndexes(this.#fs);
      const next = await createSegment(this.#context, this.#logEndOffset);
      this.#segments.push(next);
      this.#folderSyncPending = true;
      await writeProducerSnapshot(this.#context, this.#producers, this.#logEndOffset);
    } catch (error) {
      throw storageIoError(error, `rolling ${active.logPath}`);
    }
    active.indexesPinned = false;
    active.dropIndexes();
    this.#markDurable(target);
    await this.#writeCheckpoint();
  }

  /** Closes the active segment now, if it holds anything (tests, deleteRecords up to the end). */
  roll(): Promise<void> {
    return this.#enqueue(async () => {
      this.#checkWritable();
      if (this.#segments.at(-1)!.size > 0) await this.#roll();
    });
  }

  /**
   * Background work on this log (flush.ms, checkpoint, retention, compaction) failed with no caller
   * to tell: the next append or read fails with it, once, so a client sees the storage error (and
   * retries) instead of it being lost. A failed fsync also takes the log offline (#failure).
   */
  noteBackgroundFailure(task: BackgroundTask, error: unknown): void {
    const cause = storageIoError(error, `background ${task} of ${this.dir}`);
    this.#backgroundFailure =
      cause instanceof StorageError
        ? cause
        : new StorageError(storageErrorCodes.ioError, `background ${task} of ${this.dir}: ${cause.message}`, {
            retriable: true,
            cause,
          });
  }

  #surfaceBackgroundFailure(): void {
    const failure = this.#backgroundFailure;
    if (failure === undefined) return;
    this.#backgroundFailure = undefined;
    throw failure;
  }

  #checkWritable(): void {
    if (this.#closed) throw new StorageError(storageErrorCodes.logClosed, `log ${this.dir} is closed`);
    if (this.#failure !== undefined)
      throw new StorageError(
        storageErrorCodes.ioError,
        `log ${this.dir} is offline: ${this.#failure.message}`,
        {
          cause: this.#failure,
        },
      );
  }

  // Durability ----------------------------------------------------------------------------------------

  async #flushAfterAppend(result: QueuedAppend): Promise<void> {
    this.#unflushedRecords += result.records;
    if (this.#unflushedRecords < this.#settings.config.flushMessages) return;
    this.#unflushedRecords = 0;
    await this.waitDurable(result.endOffset);
  }

  /**
   * Resolves once every batch below `offset` is fsynced, starting an fsync if none is running; all
   * waiters arriving during one fsync share the next (group commit). `offset` must be ≤ log end.
   */
  waitDurable(offset: bigint): Promise<void> {
    if (offset > this.#logEndOffset)
      return Promise.reject(
        new StorageError(
          storageErrorCodes.offsetOutOfRange,
          `offset ${offset} is beyond log end ${this.#logEndOffset}`,
        ),
      );
    if (offset <= this.#durableOffset) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#flushWaiters.push({ offset, resolve, reject });
      if (!this.#flushing) void this.#flushLoop();
    });
  }

  /** Fsyncs everything appended so far. */
  flush(): Promise<void> {
    return this.waitDurable(this.#logEndOffset);
  }

  /** The flush.ms policy: fsyncs when unflushed data is older than flush.ms. Called by a tick. */
  async flushIfDue(): Promise<void> {
    if (this.#closed || this.#durableOffset >= this.#logEndOffset) return;
    if (this.#clock.monotonicMs() - this.#lastFlushMs < this.#settings.config.flushMs) return;
    await this.flush();
  }

  async #flushLoop(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#flushWaiters.some((waiter) => waiter.offset > this.#durableOffset)) {
        // Group commit: let the appends already queued finish their writes, so this fsync covers
        // them too instead of leaving them for the next one.
        if (this.#queue.pending > 0) await this.#queue.run(() => Promise.resolve());
        const target = this.#logEndOffset;
        const generation = this.#generation;
        const active = this.#segments.at(-1)!;
        await this.#syncFolderIfPending();
        await this.#cache.with(active.logPath, (file) => file.sync());
        // A truncation during the fsync may have replaced what it covered: do not count it.
        if (generation === this.#generation) this.#markDurable(target);
      }
    } catch (error) {
      this.#failure = storageIoError(error, `fsync of ${this.dir}`);
      const waiters = this.#flushWaiters;
      this.#flushWaiters = [];
      for (const waiter of waiters) waiter.reject(this.#failure);
    } finally {
      this.#flushing = false;
    }
  }

  /** Makes new segment files' folder entries (and a new log folder's) durable before their data. */
  async #syncFolderIfPending(): Promise<void> {
    if (!this.#folderSyncPending) return;
    this.#folderSyncPending = false;
    try {
      await this.#fs.syncDir(this.dir);
      await this.#fs.syncDir(dirname(this.dir));
    } catch (error) {
      this.#folderSyncPending = true;
      throw error;
    }
  }

  #markDurable(offset: bigint): void {
    if (offset > this.#durableOffset) this.#durableOffset = offset;
    this.#lastFlushMs = this.#clock.monotonicMs();
    const waiting: DurabilityWaiter[] = [];
    for (const waiter of this.#flushWaiters) {
      if (waiter.offset <= this.#durableOffset) waiter.resolve();
      else waiting.push(waiter);
    }
    this.#flushWaiters = waiting;
  }

  // Reads ---------------------------------------------------------------------------------------------

  /**
   * Whole batches from the one holding `fromOffset` on, up to `maxBytes` (at least one batch when
   * `minOneBatch`, the default), all below `upperBound`. Recent batches come from memory, older ones
   * from disk through the sparse index. OFFSET_OUT_OF_RANGE below log start or beyond log end.
   */
  async read(fromOffset: bigint, options: ReadOptions): Promise<ReadResult> {
    if (this.#closed) throw new StorageError(storageErrorCodes.logClosed, `log ${this.dir} is closed`);
    this.#surfaceBackgroundFailure();
    if (fromOffset < this.#logStartOffset || fromOffset > this.#logEndOffset)
      throw new StorageError(
        storageErrorCodes.offsetOutOfRange,
        `offset ${fromOffset} is outside [${this.#logStartOffset}, ${this.#logEndOffset}]`,
      );
    const upperBound = minBigint(options.upperBound ?? this.#logEndOffset, this.#logEndOffset);
    const minOneBatch = options.minOneBatch ?? true;
    let found = { batches: [] as Buffer[], bytes: 0 };
    if (fromOffset < upperBound) {
      found =
        this.#tail.read(fromOffset, options.maxBytes, upperBound, minOneBatch) ??
        (await this.#readCold(fromOffset, {
          maxBytes: options.maxBytes,
          upperBound,
          minOneBatch,
          skipDamaged: options.skipDamaged ?? false,
        }));
    }
    return {
      ...found,
      logStartOffset: this.#logStartOffset,
      logEndOffset: this.#logEndOffset,
      highWatermark: this.#highWatermark,
    };
  }

  async #readCold(
    fromOffset: bigint,
    options: ColdReadOptions,
  ): Promise<{ batches: Buffer[]; bytes: number }> {
    for (let attempt = 1; ; attempt++) {
      const generation = this.#generation;
      try {
        return await this.#readSegments(fromOffset, options);
      } catch (error) {
        if (attempt >= readAttemptsMax) throw error;
        if (error instanceof IndexMismatch) continue; // index rebuilt below; try again
        if (generation === this.#generation) throw error;
        if (fromOffset < this.#logStartOffset || fromOffset > this.#logEndOffset)
          throw new StorageError(
            storageErrorCodes.offsetOutOfRange,
            `offset ${fromOffset} was deleted during the read`,
          );
      }
    }
  }

  /**
   * Reads on across segments until a limit is met, so a fetch is as full as the tail path's. Damage
   * met on the way ends the read with the intact batches before it; a read that starts at damage
   * fails, or with `skipDamaged` resumes at the first intact index entry or segment beyond it.
   */
  async #readSegments(
    fromOffset: bigint,
    options: ColdReadOptions,
  ): Promise<{ batches: Buffer[]; bytes: number }> {
    const segments = this.#segments;
    const batches: Buffer[] = [];
    let bytes = 0;
    let from = fromOffset;
    for (let index = this.#segmentIndexFor(from); index < segments.length; index++) {
      const segment = segments[index]!;
      const limits = {
        maxBytes: options.maxBytes - bytes,
        upperBound: options.upperBound,
        minOneBatch: options.minOneBatch && batches.length === 0,
        end: segment.size,
      };
      let read: SegmentRead;
      try {
        read = await readSegment(this.#context, segment, from, limits);
      } catch (error) {
        if (error instanceof IndexMismatch)
          await rebuildIndexes(this.#context, segment, 'index entry does not match the log');
        throw error;
      }
      if (index < segments.length - 1) this.#noteIndexesLoaded(segment);
      batches.push(...read.batches);
      bytes += read.bytes;
      if (read.damage !== undefined) {
        this.#noteDamage(read.damage.range);
        if (batches.length > 0) break;
        const resume = options.skipDamaged ? this.#resumeAfter(segment, read.damage.range, from) : undefined;
        if (resume === undefined) throw read.damage;
        from = resume;
        if (resume < segment.nextOffset) index -= 1; // resume within this segment
        continue;
      }
      if (read.limited) break;
    }
    return { batches, bytes };
  }

  /**
   * Where a read may resume past damage in `segment`: the first index entry beyond the damaged
   * position, else the next segment's start (undefined when the damage is in the active segment).
   */
  #resumeAfter(segment: Segment, range: CorruptRange, from: bigint): bigint | undefined {
    const entry = segment.indexesLoaded ? segment.offsetIndex.firstAfter(range.position) : undefined;
    // Only forward of where this read stood, so damage met again cannot hold the read in place.
    if (entry !== undefined && entry.offset > from && entry.offset > range.fromOffset) return entry.offset;
    const next = this.#segments[this.#segments.indexOf(segment) + 1];
    return next?.baseOffset;
  }

  /** Remembers a damaged range (once), so the partition can report it until the log is repaired. */
  #noteDamage(range: CorruptRange): void {
    const known = this.#damage.some(
      (seen) => seen.segmentBaseOffset === range.segmentBaseOffset && seen.position === range.position,
    );
    if (!known && this.#damage.length < damagedRangesMax) this.#damage.push(range);
  }

  /** Damaged ranges reads have met since the log opened (at most `damagedRangesMax`). */
  get damage(): readonly CorruptRange[] {
    return this.#damage;
  }

  /**
   * Closed segments keep their indexes in memory only while recently read: beyond
   * `closedIndexesLoadedMax` per log, the least recently read ones are dropped (they reload from
   * their files on the next read), which bounds index memory however long the log grows.
   */
  #noteIndexesLoaded(segment: Segment): void {
    const loaded = this.#loadedClosedIndexes;
    const at = loaded.indexOf(segment);
    if (at >= 0) loaded.splice(at, 1);
    loaded.push(segment);
    while (loaded.length > closedIndexesLoadedMax) {
      const oldest = loaded.shift()!;
      if (oldest !== this.#segments.at(-1)) oldest.dropIndexes();
    }
  }

  /** Index of the last segment whose base offset is at or below `offset` (0 when none is). */
  #segmentIndexFor(offset: bigint): number {
    let low = 0;
    let high = this.#segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (this.#segments[middle]!.baseOffset <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  /**
   * ListOffsets by time: the first offset whose record timestamp is ≥ `timestamp`, or undefined when
   * no record is that recent. -1 gives the log end, -2 the log start.
   */
  async offsetForTimestamp(timestamp: bigint): Promise<TimestampOffset | undefined> {
    if (timestamp === latestTimestamp) return { offset: this.#logEndOffset, timestamp: -1n };
    if (timestamp === earliestTimestamp) return { offset: this.#logStartOffset, timestamp: -1n };
    for (const segment of [...this.#segments]) {
      await ensureIndexes(this.#context, segment);
      if (segment !== this.#segments.at(-1)) this.#noteIndexesLoaded(segment);
      if (segment.maxTimestamp < timestamp) continue;
      const found = await findTimestamp(this.#context, segment, timestamp, this.#logStartOffset);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  // High watermark, epochs, checkpoints --------------------------------------------------------------

  /** Sets the high watermark (≤ log end); persisted by the next `checkpoint()`. */
  setHighWatermark(offset: bigint): void {
    assert(offset <= this.#logEndOffset, `high watermark ${offset} beyond log end ${this.#logEndOffset}`);
    const bounded = offset < this.#logStartOffset ? this.#logStartOffset : offset;
    if (bounded !== this.#highWatermark) this.#checkpointDirty = true;
    this.#highWatermark = bounded;
  }

  /** OffsetForLeaderEpoch: see LeaderEpochCache.endOffsetFor. */
  endOffsetForEpoch(epoch: number): EpochEndOffset {
    return this.#epochs.endOffsetFor(epoch, this.#logEndOffset);
  }

  get epochEntries(): readonly { epoch: number; startOffset: bigint }[] {
    return this.#epochs.entries;
  }

  /** Persists high watermark, log start and recovery point when they changed. */
  checkpoint(): Promise<void> {
    return this.#enqueue(async () => {
      if (this.#closed || !this.#checkpointDirty) return;
      await this.#writeCheckpoint();
    });
  }

  async #writeCheckpoint(): Promise<void> {
    this.#checkpointDirty = false;
    try {
      await writePartitionCheckpoint(this.#fs, this.dir, {
        highWatermark: this.#highWatermark,
        logStartOffset: this.#logStartOffset,
        recoveryPoint: this.#segments.at(-1)!.baseOffset,
      });
    } catch (error) {
      this.#checkpointDirty = true;
      throw storageIoError(error, `writing the checkpoint of ${this.dir}`);
    }
  }

  async #persistEpochs(): Promise<void> {
    try {
      await writeFileAtomic(this.#fs, this.dir, leaderEpochCheckpointName, this.#epochs.encode());
    } catch (error) {
      throw storageIoError(error, `writing the leader epochs of ${this.dir}`);
    }
  }

  // Truncation and deletion ----------------------------------------------------------------------------

  /**
   * Drops every batch at or above `offset` (a follower cutting a divergent suffix). The cut falls on
   * a batch boundary: the log then ends at the start of the batch holding `offset`, or at `offset`
   * when a batch starts there. Below log start, the log is emptied and restarts at `offset`.
   */
  truncateTo(offset: bigint): Promise<void> {
    return this.#enqueue(async () => {
      this.#checkWritable();
      if (offset >= this.#logEndOffset) return;
      this.#generation += 1;
      this.#tail.clear();
      try {
        if (offset < this.#logStartOffset || offset <= this.#segments[0]!.baseOffset)
          await this.#restartAt(offset);
        else await this.#cutAt(offset);
      } catch (error) {
        this.#failure = storageIoError(error, `truncating ${this.dir}`);
        throw this.#failure;
      }
      try {
        await rebuildProducerState(this.#context, this.#producers, this.#segments, this.#logEndOffset);
      } catch (error) {
        this.#failure = storageIoError(error, `rebuilding the producer state of ${this.dir}`);
        throw this.#failure;
      }
      if (this.#highWatermark > this.#logEndOffset) this.#highWatermark = this.#logEndOffset;
      if (this.#durableOffset > this.#logEndOffset) this.#durableOffset = this.#logEndOffset;
      if (this.#epochs.truncateFromEnd(this.#logEndOffset)) await this.#persistEpochs();
      await this.#writeCheckpoint();
    });
  }

  /**
   * Empties the log and starts it again at `offset`, which may lie beyond the current log end: a
   * follower whose whole log fell below its leader's log start (retention or DeleteRecords ran on the
   * leader while the follower was away) can only restart at the leader's log start. Every segment
   * goes; log start, log end and high watermark become `offset`; the leader-epoch history is cleared
   * (the next appended batch brings its epoch).
   */
  resetTo(offset: bigint): Promise<void> {
    assert(offset >= 0n, `resetTo(${offset}): offsets are not negative`);
    return this.#enqueue(async () => {
      this.#checkWritable();
      this.#generation += 1;
      this.#tail.clear();
      try {
        await this.#restartAt(offset);
        await rebuildProducerState(this.#context, this.#producers, this.#segments, this.#logEndOffset);
      } catch (error) {
        this.#failure = storageIoError(error, `resetting ${this.dir} to ${offset}`);
        throw this.#failure;
      }
      this.#highWatermark = offset;
      this.#durableOffset = offset;
      this.#markDurable(offset);
      // Every entry starts at or above offset 0: this clears the history.
      if (this.#epochs.truncateFromEnd(0n)) await this.#persistEpochs();
      await this.#writeCheckpoint();
    });
  }

  async #cutAt(offset: bigint): Promise<void> {
    const index = this.#segmentIndexFor(offset);
    const segment = this.#segments[index]!;
    segment.indexesPinned = true; // it becomes the active segment
    const cut = await findCut(this.#context, segment, offset);
    await this.#cache.with(segment.logPath, async (file) => {
      await file.truncate(cut.position);
      await file.sync();
    });
    segment.truncateIndexes(cut.position, cut.nextOffset);
    segment.firstAppendMs = cut.position > 0 ? this.#clock.monotonicMs() : undefined;
    await this.#deleteSegments(this.#segments.splice(index + 1));
    // The segment is active again: its index lives in memory; stale files must not be trusted.
    await this.#fs.unlink(segment.indexPath);
    await this.#fs.unlink(segment.timeIndexPath);
    this.#logEndOffset = cut.nextOffset;
  }

  async #restartAt(offset: bigint): Promise<void> {
    const old = this.#segments;
    this.#segments = [];
    await this.#deleteSegments(old);
    this.#segments = [await createSegment(this.#context, offset)];
    this.#folderSyncPending = true;
    this.#logStartOffset = offset;
    this.#logEndOffset = offset;
  }

  async #deleteSegments(segments: readonly Segment[]): Promise<void> {
    for (const segment of segments) {
      await this.#cache.discard(segment.logPath);
      await this.#fs.unlink(segment.logPath);
      await this.#fs.unlink(segment.indexPath);
      await this.#fs.unlink(segment.timeIndexPath);
    }
    if (segments.length > 0) await this.#fs.syncDir(this.dir);
  }

  /**
   * DeleteRecords: moves log start up to `offset` (≤ log end) and deletes segments wholly below it.
   * Returns the new log start.
   */
  deleteRecordsBefore(offset: bigint): Promise<bigint> {
    return this.#enqueue(async () => {
      this.#checkWritable();
      if (offset > this.#logEndOffset)
        throw new StorageError(
          storageErrorCodes.offsetOutOfRange,
          `cannot delete records before ${offset}: log ends at ${this.#logEndOffset}`,
        );
      if (offset <= this.#logStartOffset) return this.#logStartOffset;
      this.#logStartOffset = offset;
      if (this.#highWatermark < offset) this.#highWatermark = offset;
      if (offset === this.#logEndOffset && this.#segments.at(-1)!.size > 0) await this.#roll();
      await this.#writeCheckpoint();
      await this.#removeSegmentsBelowStart();
      return this.#logStartOffset;
    });
  }

  /** Deletes closed segments whose successor starts at or below log start. */
  async #removeSegmentsBelowStart(): Promise<void> {
    let count = 0;
    while (count + 1 < this.#segments.length && this.#segments[count + 1]!.baseOffset <= this.#logStartOffset)
      count += 1;
    if (count > 0) await this.#removeOldest(count);
    if (this.#epochs.truncateFromStart(this.#logStartOffset)) await this.#persistEpochs();
  }

  async #removeOldest(count: number): Promise<void> {
    this.#generation += 1;
    const removed = this.#segments.splice(0, count);
    const first = this.#segments[0]!.baseOffset;
    if (first > this.#logStartOffset) this.#logStartOffset = first;
    if (this.#highWatermark < this.#logStartOffset) this.#highWatermark = this.#logStartOffset;
    await this.#writeCheckpoint();
    await this.#deleteSegments(removed);
  }

  // Retention and compaction ---------------------------------------------------------------------------

  /**
   * One retention pass (called by a bounded background tick): with the delete policy, removes the
   * oldest closed segments below the high watermark whose newest record is older than retention.ms,
   * then while the log is larger than retention.bytes. Returns the number of segments deleted.
   */
  runRetention(nowMs: number = this.#clock.nowMs()): Promise<number> {
    return this.#enqueue(async () => {
      if (this.#closed || !this.#settings.config.cleanupPolicy.includes('delete')) return 0;
      const { retentionMs, retentionBytes } = this.#settings.config;
      let count = 0;
      let remainingBytes = this.sizeBytes;
      while (
        count + 1 < this.#segments.length &&
        this.#segments[count + 1]!.baseOffset <= this.#highWatermark
      ) {
        const segment = this.#segments[count]!;
        const expired = retentionMs >= 0 && nowMs - Number(await this.#maxTimestampOf(segment)) > retentionMs;
        const oversized = retentionBytes >= 0 && remainingBytes - segment.size >= retentionBytes;
        if (!expired && !oversized) break;
        remainingBytes -= segment.size;
        count += 1;
      }
      if (count > 0) {
        await this.#removeOldest(count);
        if (this.#epochs.truncateFromStart(this.#logStartOffset)) await this.#persistEpochs();
      }
      return count;
    });
  }

  async #maxTimestampOf(segment: Segment): Promise<bigint> {
    if (segment.indexesLoaded || segment.maxTimestamp >= 0n) return segment.maxTimestamp;
    await ensureIndexes(this.#context, segment);
    const timestamp = segment.maxTimestamp;
    segment.dropIndexes();
    return timestamp;
  }

  /**
   * One compaction pass (compact policy): keeps the latest record per key across closed segments,
   * drops tombstones older than delete.retention.ms, preserving offsets; each cleaned segment is
   * swapped in atomically. Returns the number of segments rewritten.
   */
  runCompaction(nowMs: number = this.#clock.nowMs()): Promise<number> {
    return this.#enqueue(async () => {
      if (this.#closed || !this.#settings.config.cleanupPolicy.includes('compact')) return 0;
      const closed = this.#segments.slice(0, -1);
      if (closed.length === 0) return 0;
      this.#generation += 1;
      try {
        const rewritten = await compactLog(this.#context, closed, nowMs);
        // The window still holds the batches as appended: readers must see the compacted ones.
        if (rewritten > 0) this.#tail.clear();
        for (const segment of closed) segment.dropIndexes();
        this.#loadedClosedIndexes.length = 0;
        return rewritten;
      } catch (error) {
        throw storageIoError(error, `compacting ${this.dir}`);
      } finally {
        this.#generation += 1;
      }
    });
  }

  // Shutdown -------------------------------------------------------------------------------------------

  /**
   * Clean shutdown: waits for queued work, fsyncs, writes the active segment's indexes and the
   * checkpoints, then the clean-shutdown marker that lets the next open skip the recovery scan.
   */
  close(): Promise<void> {
    return this.#enqueue(async () => {
      if (this.#closed) return;
      this.#closed = true;
      const active = this.#segments.at(-1)!;
      if (this.#failure === undefined) {
        try {
          await this.#cache.with(active.logPath, (file) => file.sync());
          this.#markDurable(this.#logEndOffset);
          if (active.size > smallSegmentBytes) await active.writeIndexes(this.#fs);
          await writeProducerSnapshot(this.#context, this.#producers, this.#logEndOffset);
          await this.#writeCheckpoint();
          const marker = await this.#fs.open(`${this.dir}/${cleanShutdownName}`, 'create');
          await marker.close();
          await this.#fs.syncDir(this.dir);
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
    return this.#enqueue(async () => {
      this.#closed = true;
      await this.#release();
    });
  }

  async #release(): Promise<void> {
    this.#tail.clear();
    for (const segment of this.#segments) await this.#cache.discard(segment.logPath);
    const waiters = this.#flushWaiters;
    this.#flushWaiters = [];
    const error = new StorageError(storageErrorCodes.logClosed, `log ${this.dir} closed`);
    for (const waiter of waiters) waiter.reject(error);
  }
}

interface QueuedAppend {
  readonly append: AppendResult;
  /** Offset after the append's last record: what must be durable for it. */
  readonly endOffset: bigint;
  readonly records: number;
}

interface PendingAppend {
  readonly batches: readonly Buffer[];
  readonly bytes: number;
  /** Undefined for replicated batches, whose offsets and epochs are already set. */
  readonly leaderEpoch: number | undefined;
  readonly resolve: (result: QueuedAppend) => void;
  readonly reject: (error: unknown) => void;
}

interface PreparedAppend {
  readonly item: PendingAppend;
  readonly append: Omit<AppendResult, 'logEndOffset'>;
  readonly endOffset: bigint;
  readonly records: number;
}

/** Records the prepared appends will add (their offsets are dense). */
function chunkRecords(chunk: readonly PreparedAppend[]): bigint {
  const last = chunk.at(-1);
  return last === undefined ? 0n : last.endOffset - chunk[0]!.append.baseOffset;
}

/** Offsets a leader append will take: the batches' declared spans. */
function spanOf(item: PendingAppend): bigint {
  let span = 0n;
  for (const batch of item.batches) span += BigInt(batch.readInt32BE(batchHeader.lastOffsetDelta)) + 1n;
  return span;
}

/** Last offset of a replicated append (or the one before `next` when it is empty). */
function lastOffsetOf(item: PendingAppend, next: bigint): bigint {
  const last = item.batches.at(-1);
  return last === undefined ? next - 1n : batchLastOffset(last);
}

/**
 * The buffers to write for one write. A batch that fills (most of) its memory is written as is and
 * kept by the tail window; a small view into a larger buffer (a batch inside a caller's request
 * frame) is copied, so the window never keeps a whole frame alive for it.
 */
function ownedBuffers(batches: readonly Buffer[]): Buffer[] {
  return batches.map((batch) => (batch.buffer.byteLength <= 2 * batch.length ? batch : Buffer.from(batch)));
}

function minBigint(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
