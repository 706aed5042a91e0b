import { batchAttributes, batchHeader, checkBatch, computeBatchCrc } from '../protocol/batch-header.ts';
import { ProtocolError } from '../protocol/protocol-error.ts';
import { StorageError, storageErrorCodes } from './errors.ts';

/**
 * Checks on batches offered for append, before they touch the log. Per batch, never per record:
 * framing and CRC (checkBatch), size against max.message.bytes, and for a leader that the declared
 * offsets are dense (lastOffsetDelta = recordCount - 1), so a batch cannot burn offsets it does not use.
 *
 * A batch the produce path has already checked, records included, is marked validated and not
 * checked again: the CRC is the costly part and is computed once per produced batch.
 */
const validatedBatches = new WeakSet<Buffer>();

/** Marks a batch as fully checked by its producer-facing caller; returns it. */
export function markBatchValidated(batch: Buffer): Buffer {
  validatedBatches.add(batch);
  return batch;
}

export function validateBatches(
  batches: readonly Buffer[],
  batchBytesMax: number,
  asLeader: boolean,
): number {
  let bytes = 0;
  for (const batch of batches) {
    if (validatedBatches.has(batch)) {
      bytes += batch.length;
      continue;
    }
    if (batch.length > batchBytesMax)
      throw new StorageError(
        storageErrorCodes.batchTooLarge,
        `batch of ${batch.length} bytes exceeds max.message.bytes ${batchBytesMax}`,
      );
    try {
      checkBatch(batch);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      throw new StorageError(storageErrorCodes.invalidBatch, error.message, { cause: error });
    }
    const recordCount = batch.readInt32BE(batchHeader.recordCount);
    const lastOffsetDelta = batch.readInt32BE(batchHeader.lastOffsetDelta);
    if (asLeader && (recordCount < 1 || lastOffsetDelta !== recordCount - 1))
      throw new StorageError(
        storageErrorCodes.invalidBatch,
        `batch declares ${recordCount} records but a last offset delta of ${lastOffsetDelta}`,
      );
    bytes += batch.length;
  }
  return bytes;
}

/** Stamps the broker's time on a batch for LogAppendTime topics (the CRC covers it: recomputed). */
export function stampLogAppendTime(batch: Buffer, nowMs: number): void {
  const attributes = batch.readInt16BE(batchHeader.attributes) | batchAttributes.timestampTypeLogAppend;
  batch.writeInt16BE(attributes, batchHeader.attributes);
  batch.writeBigInt64BE(BigInt(nowMs), batchHeader.maxTimestamp);
  batch.writeUInt32BE(computeBatchCrc(batch), batchHeader.crc);
}
