import { batchHeader } from '../protocol/batch-header.ts';
import { scanBatches } from './batch-scanner.ts';
import { LeaderEpochCache, leaderEpochCheckpointName } from './leader-epoch-cache.ts';
import { type LogContext, scanChunkBytes } from './log-context.ts';
import { logNameFileName } from './log-folders.ts';
import { decodePartitionCheckpoint, partitionCheckpointName } from './partition-checkpoint.ts';
import { parseProducerSnapshotName } from './producer-state-snapshot.ts';
import { parseSegmentFileName, placementOf, Segment, segmentSuffixes } from './segment.ts';

/**
 * Opening a log folder: find its segments, trust what a clean shutdown left or rescan what a crash
 * may have torn, and work out log start, log end, high watermark and leader epochs.
 *
 * - After a clean shutdown (marker file present) only the active segment's tail past its last index
 *   entry is read, to find the log end.
 * - Otherwise every segment from the one holding the recovery point on (at least the active one)
 *   is scanned, CRCs checked; at the first torn or corrupt batch the file is cut there and any later
 *   segments are dropped; their indexes are rebuilt from the scan.
 * - Closed segments' indexes are checked when first used and rebuilt if unsound.
 * - Files that do not belong to the log are reported, never deleted. Leftovers of our own
 *   interrupted atomic writes (`*.tmp`, `*.cleaned`) are removed.
 */
export const cleanShutdownName = '.clean-shutdown';

/**
 * An active segment this small is closed without index files (rescanning it costs less than writing
 * two files), which matters when thousands of mostly idle partitions shut down.
 */
export const smallSegmentBytes = 64 * 1024; // bytes

const ownFiles = new Set([
  cleanShutdownName,
  partitionCheckpointName,
  leaderEpochCheckpointName,
  logNameFileName,
]);

export interface RecoveredLog {
  readonly segments: Segment[];
  readonly logStartOffset: bigint;
  readonly logEndOffset: bigint;
  readonly highWatermark: bigint;
  readonly epochs: LeaderEpochCache;
  readonly cleanShutdown: boolean;
  /** The epochs differ from the checkpoint file (rebuilt from batches or cut at the log end). */
  readonly epochsChanged: boolean;
}

export async function recoverLog(context: LogContext): Promise<RecoveredLog> {
  const { fs, dir } = context;
  await fs.mkdir(dir);
  const names = await fs.readdir(dir);
  const cleanShutdown = names.includes(cleanShutdownName);
  const segments = await findSegments(context, names);
  const checkpointContent = names.includes(partitionCheckpointName)
    ? await fs.readFile(`${dir}/${partitionCheckpointName}`)
    : undefined;
  const checkpoint = decodePartitionCheckpoint(checkpointContent);
  if (checkpointContent !== undefined && checkpoint === undefined)
    context.report({ kind: 'checkpoint-invalid', path: `${dir}/${partitionCheckpointName}` });
  const epochs = names.includes(leaderEpochCheckpointName)
    ? await loadEpochs(context)
    : new LeaderEpochCache();
  if (segments.length === 0)
    segments.push(await createSegment(context, checkpoint?.logStartOffset ?? 0n, { fresh: true }));
  for (let index = 0; index + 1 < segments.length; index++)
    segments[index]!.nextOffset = segments[index + 1]!.baseOffset;
  const scanFrom = cleanShutdown
    ? segments.length - 1
    : recoveryStart(segments, checkpoint?.recoveryPoint ?? 0n);
  const seenEpochs: Array<[number, bigint]> = [];
  for (let index = scanFrom; index < segments.length; index++) {
    const segment = segments[index]!;
    const intact = await recoverSegment(context, segment, cleanShutdown, seenEpochs);
    if (!intact) await dropSegmentsAfter(context, segments, index);
  }
  const active = segments.at(-1)!;
  active.indexesPinned = true;
  const logEndOffset = active.nextOffset;
  const logStartOffset = clamp(checkpoint?.logStartOffset ?? 0n, segments[0]!.baseOffset, logEndOffset);
  const highWatermark = clamp(checkpoint?.highWatermark ?? 0n, logStartOffset, logEndOffset);
  let epochsChanged = false;
  for (const [epoch, offset] of seenEpochs) epochsChanged = epochs.assign(epoch, offset) || epochsChanged;
  epochsChanged = epochs.truncateFromEnd(logEndOffset) || epochsChanged;
  if (cleanShutdown) await fs.unlink(`${dir}/${cleanShutdownName}`);
  return { segments, logStartOffset, logEndOffset, highWatermark, epochs, cleanShutdown, epochsChanged };
}

function clamp(value: bigint, low: bigint, high: bigint): bigint {
  return value < low ? low : value > high ? high : value;
}

async function findSegments(context: LogContext, names: string[]): Promise<Segment[]> {
  const { fs, dir } = context;
  const logs: bigint[] = [];
  for (const name of names) {
    const parsed = parseSegmentFileName(name);
    if (parsed?.suffix === segmentSuffixes.log) logs.push(parsed.baseOffset);
    else if (name.endsWith('.tmp') || name.endsWith('.cleaned')) await fs.unlink(`${dir}/${name}`);
    else if (parsed === undefined && !ownFiles.has(name) && parseProducerSnapshotName(name) === undefined)
      context.report({ kind: 'unknown-file', path: `${dir}/${name}` });
  }
  logs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const segments: Segment[] = [];
  for (const baseOffset of logs) {
    const segment = new Segment(dir, baseOffset, 0);
    segment.size = (await fs.fileSize(segment.logPath)) ?? 0;
    segments.push(segment);
  }
  return segments;
}

/** Index of the segment holding `recoveryPoint`: everything before it was fsynced when it closed. */
function recoveryStart(segments: Segment[], recoveryPoint: bigint): number {
  let index = 0;
  while (index + 1 < segments.length && segments[index + 1]!.baseOffset <= recoveryPoint) index += 1;
  return index;
}

async function loadEpochs(context: LogContext): Promise<LeaderEpochCache> {
  const epochs = new LeaderEpochCache();
  const path = `${context.dir}/${leaderEpochCheckpointName}`;
  const content = await context.fs.readFile(path);
  if (content !== undefined && !epochs.decode(content)) context.report({ kind: 'checkpoint-invalid', path });
  return epochs;
}

/**
 * Creates an empty segment file (and clears stale index files of the same base). The folder entry
 * is made durable by the log's next fsync or checkpoint, not here: a new segment holds nothing yet.
 */
export async function createSegment(
  context: LogContext,
  baseOffset: bigint,
  options: { fresh?: boolean } = {},
): Promise<Segment> {
  const segment = new Segment(context.dir, baseOffset, 0);
  if (options.fresh !== true) {
    await context.fs.unlink(segment.indexPath);
    await context.fs.unlink(segment.timeIndexPath);
  }
  await context.cache.discard(segment.logPath);
  await context.cache.with(segment.logPath, async () => {}, 'create');
  segment.resetIndexes();
  segment.indexesPinned = true;
  return segment;
}

/**
 * Scans a segment from its last trusted index entry (clean shutdown) or from its start, rebuilding
 * its indexes as it goes; cuts the file at the first invalid batch. False when it had to cut.
 */
async function recoverSegment(
  context: LogContext,
  segment: Segment,
  trustIndexes: boolean,
  seenEpochs: Array<[number, bigint]>,
): Promise<boolean> {
  const config = context.config();
  let start = { offset: segment.baseOffset, position: 0 };
  const fileBytes = segment.size;
  if (trustIndexes) {
    const [offsetContent, timeContent] = await Promise.all([
      context.fs.readFile(segment.indexPath),
      context.fs.readFile(segment.timeIndexPath),
    ]);
    const problem = segment.adoptIndexes(offsetContent, timeContent, config.indexEntriesMax);
    const skipped =
      offsetContent === undefined && timeContent === undefined && fileBytes <= smallSegmentBytes;
    if (problem === undefined) start = segment.offsetIndex.lookup(segment.baseOffset + 0xffffffffn);
    else if (!skipped) context.report({ kind: 'index-rebuilt', path: segment.indexPath, reason: problem });
  }
  if (start.position === 0) segment.resetIndexes();
  segment.size = start.position;
  segment.nextOffset = start.offset;
  let latestEpoch = seenEpochs.at(-1)?.[0] ?? -1;
  const result = await context.cache.with(segment.logPath, (file) =>
    scanBatches(
      file,
      {
        from: start.position,
        end: fileBytes,
        offsetMin: start.offset,
        verifyCrc: true,
        chunkBytes: scanChunkBytes,
      },
      (batch, position) => {
        const placement = placementOf(batch, position);
        if (position === start.position && position > 0 && placement.baseOffset !== start.offset)
          return false;
        segment.noteBatch(placement, config.indexIntervalBytes);
        const epoch = batch.readInt32BE(batchHeader.partitionLeaderEpoch);
        if (epoch > latestEpoch) {
          seenEpochs.push([epoch, placement.baseOffset]);
          latestEpoch = epoch;
        }
        return true;
      },
    ),
  );
  if (result.end === fileBytes) return true;
  if (start.position > 0 && result.end === start.position) {
    // The batch at the trusted index entry is not there: the index lied. Rescan from the start.
    context.report({
      kind: 'index-rebuilt',
      path: segment.indexPath,
      reason: 'entry does not match the log',
    });
    segment.size = fileBytes;
    return recoverSegment(context, segment, false, seenEpochs);
  }
  const reason = result.problem ?? 'scan stopped early';
  context.report({ kind: 'truncated-tail', path: segment.logPath, position: result.end, reason });
  await context.cache.with(segment.logPath, async (file) => {
    await file.truncate(result.end);
    await file.sync();
  });
  return false;
}

async function dropSegmentsAfter(context: LogContext, segments: Segment[], index: number): Promise<void> {
  const dropped = segments.splice(index + 1);
  for (const segment of dropped) {
    context.report({
      kind: 'segment-dropped',
      path: segment.logPath,
      reason: 'follows a torn or corrupt batch',
    });
    await context.cache.discard(segment.logPath);
    await context.fs.unlink(segment.logPath);
    await context.fs.unlink(segment.indexPath);
    await context.fs.unlink(segment.timeIndexPath);
  }
  if (dropped.length > 0) await context.fs.syncDir(context.dir);
}
