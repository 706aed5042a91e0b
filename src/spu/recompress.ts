import { batchAttributes, batchHeader } from '../protocol/batch-header.ts';
import { type Codec, codecFromAttributes } from '../protocol/compression/compression.ts';
import { decodeRecordBatch, encodeRecordBatch } from '../protocol/record-batch.ts';

/**
 * Topic-level `compression.type`: `producer` stores batches as the producer compressed them; any
 * other value makes the leader store every batch with that codec (`uncompressed` = none). This is
 * the only place the broker decodes records: a batch whose codec differs is decoded and re-encoded,
 * keeping every header field (producer id, epoch, sequence, timestamps, flags) and every record's
 * offset and timestamp deltas, so the stored batch is the same data in another codec.
 */

/** The codec a topic's `compression.type` demands, or undefined for `producer` (keep as sent). */
export function topicCodec(compressionType: string | undefined): Codec | undefined {
  switch (compressionType) {
    case undefined:
    case 'producer':
      return undefined;
    case 'uncompressed':
      return 'none';
    case 'gzip':
    case 'snappy':
    case 'lz4':
    case 'zstd':
      return compressionType;
    default:
      return undefined;
  }
}

/** Whether `batch` must be re-encoded to be stored with `codec`. */
export function needsRecompression(batch: Buffer, codec: Codec | undefined): boolean {
  if (codec === undefined) return false;
  return codecFromAttributes(batch.readInt16BE(batchHeader.attributes)) !== codec;
}

/**
 * Re-encodes a validated batch with `codec`. Throws ProtocolError when the records inside cannot be
 * decoded (a corrupt compressed payload whose CRC happened to match what the producer computed).
 */
export function recompressBatch(batch: Buffer, codec: Codec): Buffer {
  const decoded = decodeRecordBatch(batch, { verifyCrc: false });
  return encodeRecordBatch({
    baseOffset: decoded.baseOffset,
    partitionLeaderEpoch: decoded.partitionLeaderEpoch,
    attributes: decoded.attributes & ~batchAttributes.codecMask,
    codec,
    baseTimestamp: decoded.baseTimestamp,
    maxTimestamp: decoded.maxTimestamp,
    producerId: decoded.producerId,
    producerEpoch: decoded.producerEpoch,
    baseSequence: decoded.baseSequence,
    records: decoded.records.map((record) => ({
      key: record.key,
      value: record.value,
      headers: record.headers,
      timestamp: decoded.baseTimestamp + record.timestampDelta,
      offsetDelta: record.offsetDelta,
    })),
  });
}
