import { compactLog } from './compaction.ts';
import { storageIoError } from './errors.ts';
import { enqueue, type LogState, persistEpochs, sizeBytesOf } from './log-state.ts';
import { removeOldest } from './log-truncation.ts';
import type { Segment } from './segment.ts';
import { ensureIndexes } from './segment-io.ts';

/** Retention (delete policy) and compaction (compact policy) passes over a partition log. */

/**
 * One retention pass (called by a bounded background tick): with the delete policy, removes the
 * oldest closed segments below the high watermark whose newest record is older than retention.ms,
 * then while the log is larger than retention.bytes. Returns the number of segments deleted.
 */
export function runRetention(log: LogState, nowMs: number): Promise<number> {
  return enqueue(log, async () => {
    if (log.closed || !log.settings.config.cleanupPolicy.includes('delete')) return 0;
    const { retentionMs, retentionBytes } = log.settings.config;
    let count = 0;
    let remainingBytes = sizeBytesOf(log);
    while (count + 1 < log.segments.length && log.segments[count + 1]!.baseOffset <= log.highWatermark) {
      const segment = log.segments[count]!;
      const expired = retentionMs >= 0 && nowMs - Number(await maxTimestampOf(log, segment)) > retentionMs;
      const oversized = retentionBytes >= 0 && remainingBytes - segment.size >= retentionBytes;
      if (!expired && !oversized) break;
      remainingBytes -= segment.size;
      count += 1;
    }
    if (count > 0) {
      await removeOldest(log, count);
      if (log.epochs.truncateFromStart(log.logStartOffset)) await persistEpochs(log);
    }
    return count;
  });
}

export async function maxTimestampOf(log: LogState, segment: Segment): Promise<bigint> {
  if (segment.indexesLoaded || segment.maxTimestamp >= 0n) return segment.maxTimestamp;
  await ensureIndexes(log.context, segment);
  const timestamp = segment.maxTimestamp;
  segment.dropIndexes();
  return timestamp;
}

/**
 * One compaction pass (compact policy): keeps the latest record per key across closed segments,
 * drops tombstones older than delete.retention.ms, preserving offsets; each cleaned segment is
 * swapped in atomically. Returns the number of segments rewritten.
 */
export function runCompaction(log: LogState, nowMs: number): Promise<number> {
  return enqueue(log, async () => {
    if (log.closed || !log.settings.config.cleanupPolicy.includes('compact')) return 0;
    const closed = log.segments.slice(0, -1);
    if (closed.length === 0) return 0;
    log.generation += 1;
    try {
      const rewritten = await compactLog(log.context, closed, nowMs);
      // The window still holds the batches as appended: readers must see the compacted ones.
      if (rewritten > 0) log.tail.clear();
      for (const segment of closed) segment.dropIndexes();
      log.loadedClosedIndexes.length = 0;
      return rewritten;
    } catch (error) {
      throw storageIoError(error, `compacting ${log.context.dir}`);
    } finally {
      log.generation += 1;
    }
  });
}
