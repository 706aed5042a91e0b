import { batchAttributes, batchHeader, computeBatchCrc } from '../protocol/batch-header.ts';
import {
  type Codec,
  codecFromAttributes,
  codecIds,
  compressAsync,
} from '../protocol/compression/compression.ts';

/**
 * Topic-level `compression.type`: `producer` stores batches as the producer compressed them; any
 * other value makes the leader store every batch with that codec (`uncompressed` = none). This is
 * the only place the broker compresses records: a batch whose codec differs gets its records section
 * compressed again, keeping every header field (producer id, epoch, sequence, timestamps, flags) and
 * every record byte, so the stored batch is the same data in another codec.
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
 * The batch with its records section (already decompressed and checked) compressed with `codec`:
 * the header is kept field for field but for the codec bits, the length and the CRC. The records
 * section is the same bytes whatever the codec, so nothing is decoded, however many records or
 * headers the batch carries.
 */
export async function rebuildBatch(batch: Buffer, section: Buffer, codec: Codec): Promise<Buffer> {
  const payload = await compressAsync(codec, section);
  const rebuilt = Buffer.allocUnsafe(batchHeader.bytes + payload.length);
  batch.copy(rebuilt, 0, 0, batchHeader.bytes);
  payload.copy(rebuilt, batchHeader.bytes);
  const attributes =
    (batch.readInt16BE(batchHeader.attributes) & ~batchAttributes.codecMask) | codecIds[codec];
  rebuilt.writeInt16BE(attributes, batchHeader.attributes);
  rebuilt.writeInt32BE(rebuilt.length - batchHeader.logOverheadBytes, batchHeader.batchLength);
  rebuilt.writeUInt32BE(computeBatchCrc(rebuilt), batchHeader.crc);
  return rebuilt;
}
