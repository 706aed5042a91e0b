import { type CorruptRange, StorageError, storageErrorCodes } from './errors.ts';
import {
  earliestTimestamp,
  type LogState,
  latestTimestamp,
  type ReadOptions,
  type ReadResult,
  segmentIndexFor,
  surfaceBackgroundFailure,
  type TimestampOffset,
} from './log-state.ts';
import type { Segment } from './segment.ts';
import { ensureIndexes, IndexMismatch, readSegment, rebuildIndexes, type SegmentRead } from './segment-io.ts';
import { findTimestamp } from './timestamp-lookup.ts';

/**
 * Reads of a partition log: recent batches from the tail window, older ones from the segments through
 * their sparse indexes, retried when a truncation or deletion raced them. Damage met on the way ends
 * a read with the intact batches before it and is remembered for the partition's status.
 */
const readAttemptsMax = 3;
/** Damaged ranges a log remembers for reporting; more than a few means the whole disk is suspect. */
const damagedRangesMax = 16;
/** Closed segments per log whose indexes stay in memory after a read. */
const closedIndexesLoadedMax = 8;

interface ColdReadOptions {
  readonly maxBytes: number;
  readonly upperBound: bigint;
  readonly minOneBatch: boolean;
  readonly skipDamaged: boolean;
}

/**
 * Whole batches from the one holding `fromOffset` on, up to `maxBytes` (at least one batch when
 * `minOneBatch`, the default), all below `upperBound`. Recent batches come from memory, older ones
 * from disk through the sparse index. OFFSET_OUT_OF_RANGE below log start or beyond log end.
 */
export async function readLog(log: LogState, fromOffset: bigint, options: ReadOptions): Promise<ReadResult> {
  if (log.closed) throw new StorageError(storageErrorCodes.logClosed, `log ${log.context.dir} is closed`);
  surfaceBackgroundFailure(log);
  if (fromOffset < log.logStartOffset || fromOffset > log.logEndOffset)
    throw new StorageError(
      storageErrorCodes.offsetOutOfRange,
      `offset ${fromOffset} is outside [${log.logStartOffset}, ${log.logEndOffset}]`,
    );
  const upperBound = minBigint(options.upperBound ?? log.logEndOffset, log.logEndOffset);
  const minOneBatch = options.minOneBatch ?? true;
  let found = { batches: [] as Buffer[], bytes: 0 };
  if (fromOffset < upperBound) {
    found =
      log.tail.read(fromOffset, options.maxBytes, upperBound, minOneBatch) ??
      (await readCold(log, fromOffset, {
        maxBytes: options.maxBytes,
        upperBound,
        minOneBatch,
        skipDamaged: options.skipDamaged ?? false,
      }));
  }
  return {
    ...found,
    logStartOffset: log.logStartOffset,
    logEndOffset: log.logEndOffset,
    highWatermark: log.highWatermark,
  };
}

export async function readCold(
  log: LogState,
  fromOffset: bigint,
  options: ColdReadOptions,
): Promise<{ batches: Buffer[]; bytes: number }> {
  for (let attempt = 1; ; attempt++) {
    const generation = log.generation;
    try {
      return await readSegments(log, fromOffset, options);
    } catch (error) {
      if (attempt >= readAttemptsMax) throw error;
      if (error instanceof IndexMismatch) continue; // index rebuilt below; try again
      if (generation === log.generation) throw error;
      if (fromOffset < log.logStartOffset || fromOffset > log.logEndOffset)
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
export async function readSegments(
  log: LogState,
  fromOffset: bigint,
  options: ColdReadOptions,
): Promise<{ batches: Buffer[]; bytes: number }> {
  const segments = log.segments;
  const batches: Buffer[] = [];
  let bytes = 0;
  let from = fromOffset;
  for (let index = segmentIndexFor(log, from); index < segments.length; index++) {
    const segment = segments[index]!;
    const limits = {
      maxBytes: options.maxBytes - bytes,
      upperBound: options.upperBound,
      minOneBatch: options.minOneBatch && batches.length === 0,
      end: segment.size,
    };
    let read: SegmentRead;
    try {
      read = await readSegment(log.context, segment, from, limits);
    } catch (error) {
      if (error instanceof IndexMismatch)
        await rebuildIndexes(log.context, segment, 'index entry does not match the log');
      throw error;
    }
    if (index < segments.length - 1) noteIndexesLoaded(log, segment);
    batches.push(...read.batches);
    bytes += read.bytes;
    if (read.damage !== undefined) {
      noteDamage(log, read.damage.range);
      if (batches.length > 0) break;
      const resume = options.skipDamaged ? resumeAfter(log, segment, read.damage.range, from) : undefined;
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
export function resumeAfter(
  log: LogState,
  segment: Segment,
  range: CorruptRange,
  from: bigint,
): bigint | undefined {
  const entry = segment.indexesLoaded ? segment.offsetIndex.firstAfter(range.position) : undefined;
  // Only forward of where this read stood, so damage met again cannot hold the read in place.
  if (entry !== undefined && entry.offset > from && entry.offset > range.fromOffset) return entry.offset;
  const next = log.segments[log.segments.indexOf(segment) + 1];
  return next?.baseOffset;
}

/** Remembers a damaged range (once), so the partition can report it until the log is repaired. */
export function noteDamage(log: LogState, range: CorruptRange): void {
  const known = log.damage.some(
    (seen) => seen.segmentBaseOffset === range.segmentBaseOffset && seen.position === range.position,
  );
  if (!known && log.damage.length < damagedRangesMax) log.damage.push(range);
}

/**
 * Closed segments keep their indexes in memory only while recently read: beyond
 * `closedIndexesLoadedMax` per log, the least recently read ones are dropped (they reload from
 * their files on the next read), which bounds index memory however long the log grows.
 */
export function noteIndexesLoaded(log: LogState, segment: Segment): void {
  const loaded = log.loadedClosedIndexes;
  const at = loaded.indexOf(segment);
  if (at >= 0) loaded.splice(at, 1);
  loaded.push(segment);
  while (loaded.length > closedIndexesLoadedMax) {
    const oldest = loaded.shift()!;
    if (oldest !== log.segments.at(-1)) oldest.dropIndexes();
  }
}

/**
 * ListOffsets by time: the first offset whose record timestamp is ≥ `timestamp`, or undefined when
 * no record is that recent. -1 gives the log end, -2 the log start.
 */
export async function offsetForTimestamp(
  log: LogState,
  timestamp: bigint,
): Promise<TimestampOffset | undefined> {
  if (timestamp === latestTimestamp) return { offset: log.logEndOffset, timestamp: -1n };
  if (timestamp === earliestTimestamp) return { offset: log.logStartOffset, timestamp: -1n };
  for (const segment of [...log.segments]) {
    await ensureIndexes(log.context, segment);
    if (segment !== log.segments.at(-1)) noteIndexesLoaded(log, segment);
    if (segment.maxTimestamp < timestamp) continue;
    const found = await findTimestamp(log.context, segment, timestamp, log.logStartOffset);
    if (found !== undefined) return found;
  }
  return undefined;
}

function minBigint(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
