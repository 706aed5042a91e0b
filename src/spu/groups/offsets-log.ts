import type { Clock } from '../../base/clock.ts';
import type { Logger } from '../../base/logger.ts';
import { batchAttributes, batchLastOffset } from '../../protocol/batch-header.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import { ProtocolError } from '../../protocol/protocol-error.ts';
import { decodeRecordBatch, encodeRecordBatch } from '../../protocol/record-batch.ts';
import type { Partition } from '../partitions.ts';
import { OffsetsReplay } from './loader.ts';

/**
 * Reading and writing one `__consumer_offsets` partition that this SPU leads. Writes go through the
 * same leader append as producers' batches (Partition.appendAsLeader) and are answered only once
 * the high watermark passes them: every in-sync replica holds them (acks=all), so a committed
 * offset survives the loss of the coordinator.
 */

export interface OffsetsRecord {
  readonly key: Buffer;
  /** null = tombstone. */
  readonly value: Buffer | null;
}

const readChunkBytes = 1024 * 1024; // bytes read from the log per step while loading

/**
 * Appends `records` as one batch and waits for replication. Answers NONE, NOT_COORDINATOR (the
 * partition's leadership moved), COORDINATOR_NOT_AVAILABLE (storage failed or replication took
 * longer than `timeoutMs`) or `tooLargeCode` when the batch exceeds the topic's max.message.bytes.
 */
export async function appendOffsetsRecords(
  partition: Partition,
  records: readonly OffsetsRecord[],
  options: { clock: Clock; logger: Logger; timeoutMs: number; tooLargeCode: number },
): Promise<number> {
  if (!partition.leading) return errorCodes.NOT_COORDINATOR;
  const timestamp = BigInt(options.clock.nowMs());
  const batch = encodeRecordBatch({
    records: records.map(({ key, value }) => ({ key, value, timestamp })),
  });
  if (batch.length > partition.log.config.batchBytesMax) return options.tooLargeCode;
  let endOffset: bigint;
  try {
    endOffset = (await partition.appendAsLeader([batch])).lastOffset + 1n;
  } catch (error) {
    options.logger.warn('offsets append failed', { partition: partition.index, error });
    return errorCodes.COORDINATOR_NOT_AVAILABLE;
  }
  return awaitHighWatermark(partition, endOffset, options);
}

async function awaitHighWatermark(
  partition: Partition,
  endOffset: bigint,
  options: { clock: Clock; timeoutMs: number },
): Promise<number> {
  const deadlineMs = options.clock.monotonicMs() + options.timeoutMs;
  for (;;) {
    if (!partition.leading) return errorCodes.NOT_COORDINATOR;
    if (partition.log.highWatermark >= endOffset) return errorCodes.NONE;
    const remainingMs = deadlineMs - options.clock.monotonicMs();
    if (remainingMs <= 0) return errorCodes.COORDINATOR_NOT_AVAILABLE;
    await partition.nextData(remainingMs);
  }
}

/**
 * Replays the whole partition, from its log start to its log end at the time of the call. A batch
 * that cannot be decoded is logged and skipped; control batches carry no group state.
 */
export async function readOffsetsPartition(partition: Partition, logger: Logger): Promise<OffsetsReplay> {
  const replay = new OffsetsReplay();
  const log = partition.log;
  const endOffset = log.logEndOffset;
  let offset = log.logStartOffset;
  while (offset < endOffset) {
    const read = await log.read(offset, { maxBytes: readChunkBytes, upperBound: endOffset });
    if (read.batches.length === 0) break;
    for (const batch of read.batches) offset = replayBatch(batch, offset, replay, logger);
  }
  if (replay.skippedRecords > 0)
    logger.warn('unreadable offsets records skipped', {
      partition: partition.index,
      records: replay.skippedRecords,
    });
  return replay;
}

/** Applies one batch's records at or above `fromOffset`; answers the offset after the batch. */
function replayBatch(batch: Buffer, fromOffset: bigint, replay: OffsetsReplay, logger: Logger): bigint {
  let decoded: ReturnType<typeof decodeRecordBatch>;
  try {
    decoded = decodeRecordBatch(batch);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    logger.warn('unreadable offsets batch skipped', { error });
    const after = batchLastOffset(batch) + 1n;
    return after > fromOffset ? after : fromOffset + 1n;
  }
  const next = decoded.baseOffset + BigInt(decoded.lastOffsetDelta) + 1n;
  if ((decoded.attributes & batchAttributes.control) !== 0) return next;
  for (const record of decoded.records) {
    if (record.offset >= fromOffset) replay.apply(record.key, record.value);
  }
  return next > fromOffset ? next : fromOffset + 1n;
}
