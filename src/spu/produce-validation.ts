import { limits } from '../base/limits.ts';
import { batchAttributes, batchHeader, checkBatch } from '../protocol/batch-header.ts';
import {
  type Codec,
  codecFromAttributes,
  decompressAsync,
  requireCodec,
} from '../protocol/compression/compression.ts';
import { ProtocolError } from '../protocol/protocol-error.ts';
import { checkRecordFraming, InvalidRecordError } from '../protocol/record-framing.ts';
import { markBatchValidated } from '../storage/append-validation.ts';
import type { CodecSlots } from './codec-slots.ts';
import { needsRecompression, rebuildBatch } from './recompress.ts';

/**
 * Everything a leader checks in one produced batch before it may be appended, done once here (the
 * log trusts batches marked validated): framing and CRC (CORRUPT_MESSAGE), a known codec and records
 * that match their header (InvalidRecordError, from record-framing.ts). Compressed batches are
 * decompressed to be checked, with the output bounded and at most a few decompressions per SPU at a
 * time (CodecSlots), so a decompression bomb costs one bounded buffer rather than one per batch. When
 * the topic's compression.type differs, the checked records section is compressed again as it is:
 * no record is decoded.
 */

export interface ProducedBatchOptions {
  /** The codec the topic stores, or undefined to keep the producer's. */
  readonly topicCodec: Codec | undefined;
  readonly codecSlots: CodecSlots;
  /** Largest records section after decompression (default limits.batchDecompressedBytesMax). */
  readonly decompressedBytesMax?: number;
}

/** The batch to store for `batch`: itself or its recompressed copy, marked validated. Throws ProtocolError. */
export async function validateProducedBatch(batch: Buffer, options: ProducedBatchOptions): Promise<Buffer> {
  checkBatch(batch);
  const attributes = batch.readInt16BE(batchHeader.attributes);
  const codec = batchCodec(attributes);
  const recordCount = batch.readInt32BE(batchHeader.recordCount);
  const lastOffsetDelta = batch.readInt32BE(batchHeader.lastOffsetDelta);
  if (recordCount > limits.batchRecordsMax)
    throw new InvalidRecordError(`batch declares ${recordCount} records, above ${limits.batchRecordsMax}`);
  if (lastOffsetDelta !== recordCount - 1)
    throw new InvalidRecordError(
      `batch declares ${recordCount} records but a last offset delta of ${lastOffsetDelta}`,
    );
  requireCodec(codec);
  if (options.topicCodec !== undefined) requireCodec(options.topicCodec);
  const payload = batch.subarray(batchHeader.bytes);
  if (codec === 'none' && !needsRecompression(batch, options.topicCodec)) {
    checkRecordFraming(payload, { recordCount });
    return markBatchValidated(unpinned(batch));
  }
  return options.codecSlots.run(async () => {
    const section =
      codec === 'none'
        ? payload
        : await decompressAsync(codec, payload, {
            decompressedBytesMax: options.decompressedBytesMax ?? limits.batchDecompressedBytesMax,
          });
    checkRecordFraming(section, { recordCount });
    const stored =
      options.topicCodec === undefined || options.topicCodec === codec
        ? unpinned(batch)
        : await rebuildBatch(batch, section, options.topicCodec);
    return markBatchValidated(stored);
  });
}

/**
 * A stored batch stays in the log's tail window, and a view keeps its whole backing buffer alive: a
 * 100-byte batch inside a 64 KiB socket read would pin all of it for as long as it stays there. A
 * batch much smaller than what backs it is copied into a buffer of its own; larger ones (the common
 * case, a batch being most of its frame) stay views.
 */
function unpinned(batch: Buffer): Buffer {
  if (batch.buffer.byteLength <= pinnedRatioMax * batch.length) return batch;
  const copy = Buffer.allocUnsafeSlow(batch.length);
  batch.copy(copy);
  return copy;
}

/** Most bytes of backing buffer a stored batch may keep alive per byte of its own. */
const pinnedRatioMax = 8;

/** The batch's codec; codecs 5-7 are not Kafka's, so the batch breaks the format. */
function batchCodec(attributes: number): Codec {
  try {
    return codecFromAttributes(attributes & batchAttributes.codecMask);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    throw new InvalidRecordError(error.message);
  }
}
