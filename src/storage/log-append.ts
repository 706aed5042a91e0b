import {
  batchHeader,
  batchLastOffset,
  setBaseOffset,
  setPartitionLeaderEpoch,
} from '../protocol/batch-header.ts';
import { stampLogAppendTime, validateBatches } from './append-validation.ts';
import { StorageError, storageErrorCodes, storageIoError } from './errors.ts';
import { writeAllFully } from './fs.ts';
import { flushAfterAppend, markDurable } from './log-durability.ts';
import { createSegment } from './log-recovery.ts';
import {
  type AppendResult,
  advanceLogEnd,
  checkWritable,
  type LogState,
  type PendingAppend,
  persistEpochs,
  type QueuedAppend,
  surfaceBackgroundFailure,
  writeCheckpoint,
} from './log-state.ts';
import type { DuplicateAppend } from './producer-state.ts';
import { writeProducerSnapshot } from './producer-state-log.ts';
import { placementOf, type Segment } from './segment.ts';

/**
 * Appends to a partition log: leader appends get their offsets here, replicated ones are checked;
 * appends that arrive while a write is in progress are grouped into the next write (group write),
 * cut only where a segment must roll or a leader epoch starts.
 */

/**
 * Appends batches as the leader: validates each, assigns offsets from the log end by rewriting
 * baseOffset and partitionLeaderEpoch in place, and writes them in one write. The log takes
 * ownership of the buffers (they may stay in the tail window): callers must not reuse them.
 * Appends submitted while a write is in progress are coalesced into the next write (group write).
 * With flush.messages reached, resolves after the fsync that covers them (group commit).
 */
export async function appendLeader(
  log: LogState,
  batches: readonly Buffer[],
  options: { readonly leaderEpoch: number },
): Promise<AppendResult> {
  surfaceBackgroundFailure(log);
  const bytes = validateBatches(batches, log.settings.config.batchBytesMax, true);
  const result = await submit(log, batches, bytes, options.leaderEpoch);
  await flushAfterAppend(log, result);
  return result.append;
}

/** Appends batches replicated from the leader, offsets already set; they must start at the log end. */
export async function appendFollower(log: LogState, batches: readonly Buffer[]): Promise<AppendResult> {
  surfaceBackgroundFailure(log);
  const bytes = validateBatches(batches, Math.max(log.settings.config.batchBytesMax, 2 ** 31 - 1), false);
  const result = await submit(log, batches, bytes, undefined);
  await flushAfterAppend(log, result);
  return result.append;
}

/** Queues an append, joining the group of appends not yet started if there is one. */
export function submit(
  log: LogState,
  batches: readonly Buffer[],
  bytes: number,
  leaderEpoch: number | undefined,
): Promise<QueuedAppend> {
  return new Promise<QueuedAppend>((resolve, reject) => {
    let group = log.openGroup;
    if (group === undefined) {
      const created: PendingAppend[] = [];
      group = created;
      log.openGroup = created;
      void log.queue.run(async () => {
        if (log.openGroup === created) log.openGroup = undefined;
        await appendGroup(log, created);
      });
    }
    group.push({ batches, bytes, leaderEpoch, resolve, reject });
  });
}

/**
 * Applies a group of appends in submission order, writing as many as possible in one write: a
 * write is cut only where a segment must roll or a leader epoch starts. A refused append (not at
 * the log end, log offline) fails alone; a failed write fails the appends it carried.
 */
export async function appendGroup(log: LogState, group: readonly PendingAppend[]): Promise<void> {
  const chunk: PreparedAppend[] = [];
  const duplicates: Array<{ item: PendingAppend; original: DuplicateAppend }> = [];
  let chunkBytes = 0;
  let chunkBatches = 0;
  for (const item of group) {
    let mark: number | undefined;
    try {
      checkWritable(log);
      // In append order, against every append before it (written or in this chunk).
      const original =
        item.leaderEpoch === undefined
          ? undefined
          : log.producers.checkAppend(item.batches, log.context.clock.nowMs());
      if (original !== undefined) {
        duplicates.push({ item, original });
        continue;
      }
      const next = log.logEndOffset + chunkRecords(chunk);
      const lastOffset = item.leaderEpoch === undefined ? lastOffsetOf(item, next) : next + spanOf(item) - 1n;
      const newEpoch = startsEpoch(log, item);
      const roll = item.bytes > 0 && shouldRoll(log, chunkBytes + item.bytes, lastOffset, chunkBatches);
      if ((newEpoch || roll) && chunk.length > 0) {
        await writeChunk(log, chunk.splice(0));
        chunkBytes = 0;
        chunkBatches = 0;
        checkWritable(log);
      }
      if (roll && shouldRoll(log, item.bytes, lastOffset, 0)) await rollSegment(log);
      mark = log.producers.mark();
      const prepared = prepareAppend(log, item, log.logEndOffset + chunkRecords(chunk));
      if (newEpoch) await persistEpochs(log);
      chunk.push(prepared);
      chunkBytes += item.bytes;
      chunkBatches += item.batches.length;
    } catch (error) {
      if (mark !== undefined) log.producers.rollbackTo(mark);
      item.reject(error);
    }
  }
  await writeChunk(log, chunk);
  for (const { item, original } of duplicates) answerDuplicate(log, item, original);
}

/** A retried append: answered with the original offsets once those are written, nothing appended. */
export function answerDuplicate(log: LogState, item: PendingAppend, original: DuplicateAppend): void {
  if (original.lastOffset >= log.logEndOffset) {
    item.reject(
      new StorageError(storageErrorCodes.ioError, `the original of a retried append was not written`, {
        retriable: true,
      }),
    );
    return;
  }
  const append: AppendResult = { ...original, logEndOffset: log.logEndOffset };
  item.resolve({ append, endOffset: original.lastOffset + 1n, records: 0 });
}

/** True when the append carries a leader epoch newer than the latest recorded. */
export function startsEpoch(log: LogState, item: PendingAppend): boolean {
  if (item.batches.length === 0) return false;
  if (item.leaderEpoch !== undefined) return item.leaderEpoch > log.epochs.latestEpoch;
  return item.batches.some(
    (batch) => batch.readInt32BE(batchHeader.partitionLeaderEpoch) > log.epochs.latestEpoch,
  );
}

/** Assigns offsets (leader) or checks them (follower) from `next`; records new epochs in memory. */
export function prepareAppend(log: LogState, item: PendingAppend, next: bigint): PreparedAppend {
  const baseOffset = next;
  const config = log.settings.config;
  const timestampMs =
    item.leaderEpoch !== undefined && config.timestampType === 'LogAppendTime'
      ? log.context.clock.nowMs()
      : undefined;
  const appendMs = timestampMs ?? log.context.clock.nowMs();
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
    log.epochs.assign(epoch, batch.readBigInt64BE(batchHeader.baseOffset));
    log.producers.update(batch, appendMs);
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
export async function writeChunk(log: LogState, chunk: readonly PreparedAppend[]): Promise<void> {
  if (chunk.length === 0) return;
  const batches =
    chunk.length === 1 ? chunk[0]!.item.batches : chunk.flatMap((prepared) => prepared.item.batches);
  try {
    await writeBatches(log, batches);
  } catch (error) {
    log.producers.rollback();
    for (const prepared of chunk) prepared.item.reject(error);
    return;
  }
  log.producers.commit();
  for (const prepared of chunk) {
    const append: AppendResult = { ...prepared.append, logEndOffset: log.logEndOffset };
    prepared.item.resolve({ append, endOffset: prepared.endOffset, records: prepared.records });
  }
}

/** Writes batches (offsets set) at the end of the active segment in one write, then indexes them. */
export async function writeBatches(log: LogState, batches: readonly Buffer[]): Promise<void> {
  if (batches.length === 0) return;
  const lastOffset = batchLastOffset(batches.at(-1)!);
  const active = log.segments.at(-1)!;
  const buffers = ownedBuffers(batches);
  const position = active.size;
  try {
    await log.context.cache.with(active.logPath, (file) => writeAllFully(file, buffers, position));
  } catch (error) {
    await undoWrite(log, active, position);
    throw storageIoError(error, `appending to ${active.logPath}`);
  }
  let at = position;
  const indexIntervalBytes = log.settings.config.indexIntervalBytes;
  for (const batch of buffers) {
    const placement = placementOf(batch, at);
    active.noteBatch(placement, indexIntervalBytes);
    log.tail.push(batch, placement.baseOffset, placement.lastOffset);
    at += batch.length;
  }
  log.tail.settle();
  active.firstAppendMs ??= log.context.clock.monotonicMs();
  advanceLogEnd(log, lastOffset + 1n);
}

/** After a failed or short write, cuts the file back so no partial batch can surface later. */
export async function undoWrite(log: LogState, segment: Segment, position: number): Promise<void> {
  try {
    await log.context.cache.with(segment.logPath, (file) => file.truncate(position));
  } catch (error) {
    log.failure = storageIoError(error, `cutting back ${segment.logPath} after a failed write`);
  }
}

export function shouldRoll(log: LogState, bytes: number, lastOffset: bigint, batchCount: number): boolean {
  // `bytes` and `batchCount` are what the coming write would add (a size-0 segment never rolls).
  const active = log.segments.at(-1)!;
  if (active.size === 0) return false;
  const config = log.settings.config;
  if (active.size + bytes > config.segmentBytes) return true;
  if (lastOffset - active.baseOffset > 0xffffffffn) return true;
  if (active.indexEntries + batchCount >= config.indexEntriesMax) return true;
  const firstAppendMs = active.firstAppendMs;
  return firstAppendMs !== undefined && log.context.clock.monotonicMs() - firstAppendMs >= config.segmentMs;
}

/** Closes the active segment (fsynced, indexes written) and starts a new one at the log end. */
export async function rollSegment(log: LogState): Promise<void> {
  const active = log.segments.at(-1)!;
  const target = log.logEndOffset;
  try {
    await log.context.cache.with(active.logPath, (file) => file.sync());
    await active.writeIndexes(log.context.fs);
    const next = await createSegment(log.context, log.logEndOffset);
    log.segments.push(next);
    log.folderSyncPending = true;
    await writeProducerSnapshot(log.context, log.producers, log.logEndOffset);
  } catch (error) {
    throw storageIoError(error, `rolling ${active.logPath}`);
  }
  active.indexesPinned = false;
  active.dropIndexes();
  markDurable(log, target);
  await writeCheckpoint(log);
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
