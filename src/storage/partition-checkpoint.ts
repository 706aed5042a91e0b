import { crc32c } from '../protocol/crc32c.ts';
import { type StorageFs, writeFileAtomic } from './fs.ts';

/**
 * The offsets a log keeps across restarts (`partition-checkpoint`), replaced atomically (temporary
 * file, fsync, rename) by `PartitionLog.checkpoint()`.
 *
 * Byte layout (big-endian, 36 bytes):
 *
 *   offset  size  field
 *        0     4  magic            0x54434b31 ("TCK1")
 *        4     8  highWatermark
 *       12     8  logStartOffset
 *       20     8  recoveryPoint    every segment below the one holding it was fsynced whole
 *       28     4  reserved         zero
 *       32     4  crc              CRC32C of bytes [0, 32)
 */
export const partitionCheckpointName = 'partition-checkpoint';
const checkpointMagic = 0x54434b31;
const checkpointBytes = 36;

export interface PartitionCheckpoint {
  readonly highWatermark: bigint;
  readonly logStartOffset: bigint;
  readonly recoveryPoint: bigint;
}

export function encodePartitionCheckpoint(checkpoint: PartitionCheckpoint): Buffer {
  const buffer = Buffer.alloc(checkpointBytes);
  buffer.writeUInt32BE(checkpointMagic, 0);
  buffer.writeBigInt64BE(checkpoint.highWatermark, 4);
  buffer.writeBigInt64BE(checkpoint.logStartOffset, 12);
  buffer.writeBigInt64BE(checkpoint.recoveryPoint, 20);
  buffer.writeUInt32BE(crc32c(buffer.subarray(0, 32)), 32);
  return buffer;
}

/** The checkpoint, or undefined when the content is missing, short or fails its CRC. */
export function decodePartitionCheckpoint(content: Buffer | undefined): PartitionCheckpoint | undefined {
  if (content === undefined || content.length !== checkpointBytes) return undefined;
  if (content.readUInt32BE(0) !== checkpointMagic) return undefined;
  if (content.readUInt32BE(32) !== crc32c(content.subarray(0, 32))) return undefined;
  const checkpoint = {
    highWatermark: content.readBigInt64BE(4),
    logStartOffset: content.readBigInt64BE(12),
    recoveryPoint: content.readBigInt64BE(20),
  };
  if (checkpoint.highWatermark < 0n || checkpoint.logStartOffset < 0n || checkpoint.recoveryPoint < 0n)
    return undefined;
  return checkpoint;
}

export function writePartitionCheckpoint(
  fs: StorageFs,
  dir: string,
  checkpoint: PartitionCheckpoint,
): Promise<void> {
  return writeFileAtomic(fs, dir, partitionCheckpointName, encodePartitionCheckpoint(checkpoint));
}
