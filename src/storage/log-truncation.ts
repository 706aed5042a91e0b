import { assert } from '../base/assert.ts';
import { StorageError, storageErrorCodes, storageIoError } from './errors.ts';
import { rollSegment } from './log-append.ts';
import { markDurable } from './log-durability.ts';
import { createSegment } from './log-recovery.ts';
import {
  assertOffsetsOrdered,
  checkWritable,
  deleteSegments,
  enqueue,
  type LogState,
  persistEpochs,
  raiseLogStart,
  segmentIndexFor,
  writeCheckpoint,
} from './log-state.ts';
import { rebuildProducerState } from './producer-state-log.ts';
import { findCut } from './segment-io.ts';

/**
 * Truncation and deletion of a partition log: cutting a divergent suffix (a follower), emptying and
 * restarting it at an offset, and DeleteRecords moving the log start up.
 */

/**
 * Drops every batch at or above `offset` (a follower cutting a divergent suffix). The cut falls on
 * a batch boundary: the log then ends at the start of the batch holding `offset`, or at `offset`
 * when a batch starts there. Below log start, the log is emptied and restarts at `offset`.
 */
export function truncateLog(log: LogState, offset: bigint): Promise<void> {
  return enqueue(log, async () => {
    checkWritable(log);
    if (offset >= log.logEndOffset) return;
    log.generation += 1;
    log.tail.clear();
    try {
      if (offset < log.logStartOffset || offset <= log.segments[0]!.baseOffset) await restartAt(log, offset);
      else await cutAt(log, offset);
    } catch (error) {
      log.failure = storageIoError(error, `truncating ${log.context.dir}`);
      throw log.failure;
    }
    try {
      await rebuildProducerState(log.context, log.producers, log.segments, log.logEndOffset);
    } catch (error) {
      log.failure = storageIoError(error, `rebuilding the producer state of ${log.context.dir}`);
      throw log.failure;
    }
    if (log.highWatermark > log.logEndOffset) log.highWatermark = log.logEndOffset;
    if (log.durableOffset > log.logEndOffset) log.durableOffset = log.logEndOffset;
    assertOffsetsOrdered(log, 'truncation');
    if (log.epochs.truncateFromEnd(log.logEndOffset)) await persistEpochs(log);
    await writeCheckpoint(log);
  });
}

/**
 * Empties the log and starts it again at `offset`, which may lie beyond the current log end: a
 * follower whose whole log fell below its leader's log start (retention or DeleteRecords ran on the
 * leader while the follower was away) can only restart at the leader's log start. Every segment
 * goes; log start, log end and high watermark become `offset`; the leader-epoch history is cleared
 * (the next appended batch brings its epoch).
 */
export function resetLog(log: LogState, offset: bigint): Promise<void> {
  assert(offset >= 0n, `resetTo(${offset}): offsets are not negative`);
  return enqueue(log, async () => {
    checkWritable(log);
    log.generation += 1;
    log.tail.clear();
    try {
      await restartAt(log, offset);
      await rebuildProducerState(log.context, log.producers, log.segments, log.logEndOffset);
    } catch (error) {
      log.failure = storageIoError(error, `resetting ${log.context.dir} to ${offset}`);
      throw log.failure;
    }
    log.highWatermark = offset;
    log.durableOffset = offset;
    markDurable(log, offset);
    assertOffsetsOrdered(log, 'reset');
    // Every entry starts at or above offset 0: this clears the history.
    if (log.epochs.truncateFromEnd(0n)) await persistEpochs(log);
    await writeCheckpoint(log);
  });
}

export async function cutAt(log: LogState, offset: bigint): Promise<void> {
  const index = segmentIndexFor(log, offset);
  const segment = log.segments[index]!;
  segment.indexesPinned = true; // it becomes the active segment
  const cut = await findCut(log.context, segment, offset);
  await log.context.cache.with(segment.logPath, async (file) => {
    await file.truncate(cut.position);
    await file.sync();
  });
  segment.truncateIndexes(cut.position, cut.nextOffset);
  segment.firstAppendMs = cut.position > 0 ? log.context.clock.monotonicMs() : undefined;
  await deleteSegments(log, log.segments.splice(index + 1));
  // The segment is active again: its index lives in memory; stale files must not be trusted.
  await log.context.fs.unlink(segment.indexPath);
  await log.context.fs.unlink(segment.timeIndexPath);
  log.logEndOffset = cut.nextOffset;
}

export async function restartAt(log: LogState, offset: bigint): Promise<void> {
  const old = log.segments;
  log.segments = [];
  await deleteSegments(log, old);
  log.segments = [await createSegment(log.context, offset)];
  log.folderSyncPending = true;
  log.logStartOffset = offset;
  log.logEndOffset = offset;
}

/**
 * DeleteRecords: moves log start up to `offset` (≤ log end) and deletes segments wholly below it.
 * Returns the new log start.
 */
export function deleteRecordsBefore(log: LogState, offset: bigint): Promise<bigint> {
  return enqueue(log, async () => {
    checkWritable(log);
    if (offset > log.logEndOffset)
      throw new StorageError(
        storageErrorCodes.offsetOutOfRange,
        `cannot delete records before ${offset}: log ends at ${log.logEndOffset}`,
      );
    if (offset <= log.logStartOffset) return log.logStartOffset;
    raiseLogStart(log, offset);
    assertOffsetsOrdered(log, 'deleting records');
    if (offset === log.logEndOffset && log.segments.at(-1)!.size > 0) await rollSegment(log);
    await writeCheckpoint(log);
    await removeSegmentsBelowStart(log);
    return log.logStartOffset;
  });
}

/** Deletes closed segments whose successor starts at or below log start. */
export async function removeSegmentsBelowStart(log: LogState): Promise<void> {
  let count = 0;
  while (count + 1 < log.segments.length && log.segments[count + 1]!.baseOffset <= log.logStartOffset)
    count += 1;
  if (count > 0) await removeOldest(log, count);
  if (log.epochs.truncateFromStart(log.logStartOffset)) await persistEpochs(log);
}

export async function removeOldest(log: LogState, count: number): Promise<void> {
  log.generation += 1;
  const removed = log.segments.splice(0, count);
  const first = log.segments[0]!.baseOffset;
  if (first > log.logStartOffset) raiseLogStart(log, first);
  await writeCheckpoint(log);
  await deleteSegments(log, removed);
}
