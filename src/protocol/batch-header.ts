import { crc32c } from './crc32c.ts';
import { ProtocolError } from './protocol-error.ts';

/**
 * The fixed header of a Kafka v2 record batch (magic 2), read and patched in place without decoding
 * records. This is all the broker hot path needs: validate, assign offsets, stamp the leader epoch.
 *
 * Byte layout (big-endian):
 *
 *   offset  size  field
 *        0     8  baseOffset
 *        8     4  batchLength            bytes after this field (so total = batchLength + 12)
 *       12     4  partitionLeaderEpoch
 *       16     1  magic                  always 2
 *       17     4  crc                    CRC32C of bytes [21, end)
 *       21     2  attributes             bits 0-2 codec, 3 timestamp type, 4 transactional, 5 control,
 *                                        6 delete horizon set
 *       23     4  lastOffsetDelta
 *       27     8  baseTimestamp
 *       35     8  maxTimestamp
 *       43     8  producerId
 *       51     2  producerEpoch
 *       53     4  baseSequence
 *       57     4  recordCount
 *       61        records (possibly compressed)
 *
 * Neither baseOffset nor partitionLeaderEpoch is covered by the CRC, which is why a leader can
 * rewrite both without recomputing it.
 */
export const batchHeader = Object.freeze({
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordCount: 57,
  /** Size of the fixed header; records start here. */
  bytes: 61,
  /** baseOffset + batchLength: the bytes not counted by batchLength. */
  logOverheadBytes: 12,
  /** First byte covered by the CRC. */
  crcStart: 21,
});

export const batchAttributes = Object.freeze({
  codecMask: 0x07,
  timestampTypeLogAppend: 0x08,
  transactional: 0x10,
  control: 0x20,
  deleteHorizon: 0x40,
});

export const currentMagic = 2;

/** The header fields of one batch, as numbers and bigints. */
export interface BatchHeader {
  readonly baseOffset: bigint;
  readonly batchLength: number;
  readonly partitionLeaderEpoch: number;
  readonly magic: number;
  readonly crc: number;
  readonly attributes: number;
  readonly lastOffsetDelta: number;
  readonly baseTimestamp: bigint;
  readonly maxTimestamp: bigint;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly recordCount: number;
}

/** Total bytes of the batch starting at `at` (from its length field), or -1 if the field is not there. */
export function batchTotalBytes(buffer: Buffer, at = 0): number {
  if (buffer.length - at < batchHeader.logOverheadBytes) return -1;
  return buffer.readInt32BE(at + batchHeader.batchLength) + batchHeader.logOverheadBytes;
}

/** Reads the fixed header. The caller guarantees 61 bytes are present (see `checkBatch`). */
export function readBatchHeader(batch: Buffer): BatchHeader {
  return {
    baseOffset: batch.readBigInt64BE(batchHeader.baseOffset),
    batchLength: batch.readInt32BE(batchHeader.batchLength),
    partitionLeaderEpoch: batch.readInt32BE(batchHeader.partitionLeaderEpoch),
    magic: batch.readInt8(batchHeader.magic),
    crc: batch.readUInt32BE(batchHeader.crc),
    attributes: batch.readInt16BE(batchHeader.attributes),
    lastOffsetDelta: batch.readInt32BE(batchHeader.lastOffsetDelta),
    baseTimestamp: batch.readBigInt64BE(batchHeader.baseTimestamp),
    maxTimestamp: batch.readBigInt64BE(batchHeader.maxTimestamp),
    producerId: batch.readBigInt64BE(batchHeader.producerId),
    producerEpoch: batch.readInt16BE(batchHeader.producerEpoch),
    baseSequence: batch.readInt32BE(batchHeader.baseSequence),
    recordCount: batch.readInt32BE(batchHeader.recordCount),
  };
}

export function computeBatchCrc(batch: Buffer): number {
  return crc32c(batch.subarray(batchHeader.crcStart));
}

/**
 * Validates the framing of one whole batch without its CRC: length field agrees with the buffer,
 * magic is 2, the header is complete and the counts are sane. Throws ProtocolError otherwise.
 */
export function checkBatchFraming(batch: Buffer): void {
  if (batch.length < batchHeader.bytes)
    throw new ProtocolError(`batch of ${batch.length} bytes is shorter than its header`);
  const total = batchTotalBytes(batch);
  if (total !== batch.length)
    throw new ProtocolError(`batch length field says ${total} bytes, buffer has ${batch.length}`);
  const magic = batch.readInt8(batchHeader.magic);
  if (magic !== currentMagic) throw new ProtocolError(`unsupported record batch magic ${magic}`);
  if (batch.readInt32BE(batchHeader.lastOffsetDelta) < 0 || batch.readInt32BE(batchHeader.recordCount) < 0)
    throw new ProtocolError('negative record count or offset delta');
}

/** `checkBatchFraming` and a matching CRC. Throws ProtocolError otherwise. */
export function checkBatch(batch: Buffer): void {
  checkBatchFraming(batch);
  const expected = batch.readUInt32BE(batchHeader.crc);
  const actual = computeBatchCrc(batch);
  if (expected !== actual)
    throw new ProtocolError(`batch CRC mismatch: stored ${expected}, computed ${actual}`);
}

/** Offset of the batch's last record. */
export function batchLastOffset(batch: Buffer): bigint {
  return (
    batch.readBigInt64BE(batchHeader.baseOffset) + BigInt(batch.readInt32BE(batchHeader.lastOffsetDelta))
  );
}

/** Rewrites baseOffset in place (not covered by the CRC). */
export function setBaseOffset(batch: Buffer, baseOffset: bigint): void {
  batch.writeBigInt64BE(baseOffset, batchHeader.baseOffset);
}

/** Rewrites partitionLeaderEpoch in place (not covered by the CRC). */
export function setPartitionLeaderEpoch(batch: Buffer, epoch: number): void {
  batch.writeInt32BE(epoch, batchHeader.partitionLeaderEpoch);
}

/**
 * Splits a concatenation of batches (a produce request's or fetch response's records field) into
 * views of whole batches. A trailing partial batch is returned as `partialBytes` (fetch responses
 * may end with one); validation of each batch is left to `checkBatch`.
 */
export function splitBatches(records: Buffer): { batches: Buffer[]; partialBytes: number } {
  const batches: Buffer[] = [];
  let at = 0;
  while (at < records.length) {
    const total = batchTotalBytes(records, at);
    if (total < batchHeader.logOverheadBytes || at + total > records.length) break;
    batches.push(records.subarray(at, at + total));
    at += total;
  }
  return { batches, partialBytes: records.length - at };
}
