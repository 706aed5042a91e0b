import { batchHeader } from '../protocol/batch-header.ts';
import { scanBatches } from './batch-scanner.ts';
import { CorruptLogError, storageIoError } from './errors.ts';
import { type LogContext, scanChunkBytes } from './log-context.ts';
import { placementOf, Segment } from './segment.ts';

/**
 * Disk operations on one segment that need its file: loading or rebuilding its indexes, reading the
 * batches around an offset, finding where to cut it.
 */

/** Rebuilds a segment's indexes by scanning its batches (framing and CRC checked). */
export async function rebuildIndexes(context: LogContext, segment: Segment, reason: string): Promise<void> {
  const indexIntervalBytes = context.config().indexIntervalBytes;
  // Built aside and swapped in whole, so reads running meanwhile keep using a consistent index.
  const built = new Segment(segment.dir, segment.baseOffset, 0);
  built.resetIndexes();
  const scanned = await context.cache.with(segment.logPath, (file) =>
    scanBatches(
      file,
      {
        from: 0,
        end: segment.size,
        offsetMin: segment.baseOffset,
        verifyCrc: true,
        chunkBytes: scanChunkBytes,
      },
      (batch, position) => {
        built.noteBatch(placementOf(batch, position), indexIntervalBytes);
        return true;
      },
    ),
  );
  context.report({ kind: 'index-rebuilt', path: segment.indexPath, reason });
  if (scanned.problem === undefined) {
    segment.adoptBuilt(built);
  } else {
    const error = new CorruptLogError(`stored batch invalid (${scanned.problem})`, {
      segmentBaseOffset: segment.baseOffset,
      position: scanned.end,
      fromOffset: scanned.nextOffset,
      toOffset: segment.nextOffset - 1n,
    });
    context.report({ kind: 'corrupt-read', path: segment.logPath, message: error.message });
    throw error;
  }
}

/** Makes sure a closed segment's indexes are in memory, from its files or by a rebuild. */
export async function ensureIndexes(context: LogContext, segment: Segment): Promise<void> {
  if (segment.indexesLoaded) return;
  const [offsetContent, timeContent] = await Promise.all([
    context.fs.readFile(segment.indexPath),
    context.fs.readFile(segment.timeIndexPath),
  ]);
  const problem = segment.adoptIndexes(offsetContent, timeContent, context.config().indexEntriesMax);
  if (problem !== undefined) await rebuildIndexes(context, segment, problem);
}

/** The index entry's offset disagrees with the batch at its position: the index file is damaged. */
export class IndexMismatch extends Error {
  override name = 'IndexMismatch';
}

/**
 * Scans a segment from the sparse index entry at or below `offset`, to `end`. When the batch at the
 * entry is not the one the entry names (a damaged index file), the index is rebuilt and the scan
 * starts over once. An invalid batch met on the way is reported and raised as CorruptLogError:
 * stored data that fails validation is never served.
 */
export async function scanFrom(
  context: LogContext,
  segment: Segment,
  offset: bigint,
  options: { readonly end: number; readonly verifyCrc: boolean; readonly chunkBytes: number },
  visit: (batch: Buffer, position: number) => boolean,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await ensureIndexes(context, segment);
    const entry = segment.offsetIndex.lookup(offset);
    let mismatch = false;
    const scanned = await context.cache
      .with(segment.logPath, (file) =>
        scanBatches(
          file,
          {
            from: entry.position,
            end: options.end,
            offsetMin: entry.offset,
            verifyCrc: options.verifyCrc,
            chunkBytes: options.chunkBytes,
          },
          (batch, position) => {
            mismatch =
              position === entry.position && position > 0 && batch.readBigInt64BE(0) !== entry.offset;
            return !mismatch && visit(batch, position);
          },
        ),
      )
      .catch((error: unknown) => {
        throw storageIoError(error, `reading ${segment.logPath}`);
      });
    const atEntry = entry.position > 0 && scanned.end === entry.position;
    if ((mismatch || (atEntry && scanned.problem !== undefined)) && attempt === 1) {
      await rebuildIndexes(context, segment, 'an index entry does not match the log');
      continue;
    }
    if (mismatch) throw new IndexMismatch();
    if (scanned.problem === undefined) return;
    const error = new CorruptLogError(`stored batch invalid (${scanned.problem})`, {
      segmentBaseOffset: segment.baseOffset,
      position: scanned.end,
      fromOffset: scanned.nextOffset,
      toOffset: segment.nextOffset > scanned.nextOffset ? segment.nextOffset - 1n : scanned.nextOffset,
    });
    context.report({ kind: 'corrupt-read', path: segment.logPath, message: error.message });
    throw error;
  }
}

export interface SegmentRead {
  readonly batches: Buffer[];
  readonly bytes: number;
  /** True when the read stopped at a limit (bytes or upper bound), not at the segment's end. */
  readonly limited: boolean;
  /** Set when the read stopped at stored data that failed validation; `batches` are those before it. */
  readonly damage?: CorruptLogError;
}

export interface SegmentReadOptions {
  readonly maxBytes: number;
  readonly upperBound: bigint;
  readonly minOneBatch: boolean;
  /** Limit of the segment's bytes to consider (its size when the read started). */
  readonly end: number;
}

/**
 * Reads whole batches from the one holding `fromOffset` on, by positioned reads from the sparse
 * index entry at or below it.
 */
export async function readSegment(
  context: LogContext,
  segment: Segment,
  fromOffset: bigint,
  options: SegmentReadOptions,
): Promise<SegmentRead> {
  const config = context.config();
  const chunkBytes = Math.max(
    64 * 1024,
    Math.min(options.maxBytes, scanChunkBytes) + 2 * config.indexIntervalBytes,
  );
  const batches: Buffer[] = [];
  let bytes = 0;
  let limited = false;
  const scan = { end: options.end, verifyCrc: config.verifyColdReads, chunkBytes };
  const scanned = scanFrom(context, segment, fromOffset, scan, (batch) => {
    const lastOffset = batch.readBigInt64BE(0) + BigInt(batch.readInt32BE(batchHeader.lastOffsetDelta));
    if (lastOffset < fromOffset) return true;
    const full = bytes + batch.length > options.maxBytes && (batches.length > 0 || !options.minOneBatch);
    if (lastOffset >= options.upperBound || full) {
      limited = true;
      return false;
    }
    batches.push(batch);
    bytes += batch.length;
    return true;
  });
  try {
    await scanned;
  } catch (error) {
    // What was read before the damage is intact (framing and CRC checked): the caller serves it.
    if (error instanceof CorruptLogError) return { batches, bytes, limited: true, damage: error };
    throw error;
  }
  return { batches, bytes, limited };
}

/**
 * Where to cut a segment so that it keeps only offsets below `offset`: the position and base offset
 * of the first batch whose last offset is at or above it (the segment's end when none is).
 */
export async function findCut(
  context: LogContext,
  segment: Segment,
  offset: bigint,
): Promise<{ position: number; nextOffset: bigint }> {
  await ensureIndexes(context, segment);
  let cut = { position: segment.size, nextOffset: segment.offsetIndex.lookup(offset).offset };
  const scan = { end: segment.size, verifyCrc: false, chunkBytes: scanChunkBytes };
  await scanFrom(context, segment, offset, scan, (batch, position) => {
    const placement = placementOf(batch, position);
    if (placement.lastOffset < offset) {
      cut = { position: segment.size, nextOffset: placement.lastOffset + 1n };
      return true;
    }
    cut = { position, nextOffset: placement.baseOffset };
    return false;
  });
  return cut;
}
