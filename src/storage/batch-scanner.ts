import { limits } from '../base/limits.ts';
import { batchHeader, computeBatchCrc, currentMagic } from '../protocol/batch-header.ts';
import { readFully, type StorageFile } from './fs.ts';

/**
 * Walks the batches stored in a segment file, validating each one's framing (length, magic, offsets
 * rising) and optionally its CRC, reading the file in large chunks rather than header by header.
 * Used by recovery (to find the last valid batch), index rebuilds, cold reads and timestamp lookups.
 */
export interface ScanOptions {
  /** First byte to read. */
  readonly from: number;
  /** Byte after the last one that may hold batches (the segment's size). */
  readonly end: number;
  /** Every batch's baseOffset must be at least this (the segment base, or the index entry's offset). */
  readonly offsetMin: bigint;
  readonly verifyCrc: boolean;
  /** Bytes read per chunk when batches are small. */
  readonly chunkBytes: number;
}

export interface ScanResult {
  /** Byte after the last valid batch visited (or where the visitor stopped). */
  readonly end: number;
  /** Why scanning stopped before `options.end`, when a batch was invalid. */
  readonly problem?: string;
  /** The offset the invalid batch should have started at. */
  readonly nextOffset: bigint;
}

/** Returns false to stop scanning. `batch` is a view into a buffer that is not reused. */
export type BatchVisitor = (batch: Buffer, position: number) => boolean;

/** Hard bound on one stored batch, whatever max.message.bytes says now (it may have been lowered). */
export const storedBatchBytesMax = Math.max(limits.batchBytesMax, limits.frameBytesMax); // bytes

/** Why the batch at the start of `view` is invalid, or undefined. `view` holds the whole batch. */
function batchProblem(view: Buffer, offsetMin: bigint, verifyCrc: boolean): string | undefined {
  if (view.readInt8(batchHeader.magic) !== currentMagic) return 'bad magic';
  if (view.readInt32BE(batchHeader.lastOffsetDelta) < 0) return 'negative last offset delta';
  if (view.readBigInt64BE(batchHeader.baseOffset) < offsetMin) return 'offsets go backwards';
  if (verifyCrc && view.readUInt32BE(batchHeader.crc) !== computeBatchCrc(view)) return 'CRC mismatch';
  return undefined;
}

export async function scanBatches(
  file: StorageFile,
  options: ScanOptions,
  visit: BatchVisitor,
): Promise<ScanResult> {
  let position = options.from;
  let offsetMin = options.offsetMin;
  let chunk: Buffer = Buffer.alloc(0);
  let chunkStart = position;
  for (;;) {
    if (position >= options.end) return { end: position, nextOffset: offsetMin };
    let at = position - chunkStart;
    if (chunk.length - at < batchHeader.bytes) {
      chunk = await readChunk(file, position, Math.min(options.chunkBytes, options.end - position));
      chunkStart = position;
      at = 0;
      if (chunk.length < batchHeader.bytes)
        return { end: position, problem: 'torn header', nextOffset: offsetMin };
    }
    const total = chunk.readInt32BE(at + batchHeader.batchLength) + batchHeader.logOverheadBytes;
    if (total < batchHeader.bytes || total > storedBatchBytesMax)
      return { end: position, problem: `impossible batch length ${total}`, nextOffset: offsetMin };
    if (position + total > options.end)
      return { end: position, problem: 'torn batch', nextOffset: offsetMin };
    if (at + total > chunk.length) {
      chunk = await readChunk(
        file,
        position,
        Math.max(total, Math.min(options.chunkBytes, options.end - position)),
      );
      chunkStart = position;
      at = 0;
      if (chunk.length < total) return { end: position, problem: 'torn batch', nextOffset: offsetMin };
    }
    const view = chunk.subarray(at, at + total);
    const problem = batchProblem(view, offsetMin, options.verifyCrc);
    if (problem !== undefined) return { end: position, problem, nextOffset: offsetMin };
    if (!visit(view, position)) return { end: position, nextOffset: offsetMin };
    offsetMin =
      view.readBigInt64BE(batchHeader.baseOffset) +
      BigInt(view.readInt32BE(batchHeader.lastOffsetDelta)) +
      1n;
    position += total;
  }
}

async function readChunk(file: StorageFile, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  const read = await readFully(file, buffer, length, position);
  return buffer.subarray(0, read);
}
