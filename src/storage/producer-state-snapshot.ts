import { crc32c } from '../protocol/crc32c.ts';
import { type ProducerBatch, type ProducerEntry, producerBatchesRetained } from './producer-state.ts';

/**
 * Producer-state snapshots: `<offset>.snapshot` in the log folder (offset as 20 zero-padded digits)
 * holds the state of every producer as of log end `offset`, written at each segment roll and at a
 * clean shutdown, so that opening the log scans only the batches after the latest snapshot.
 *
 * Byte layout (big-endian):
 *
 *   offset  size  field
 *        0     2  version                 1
 *        2     4  crc                     CRC32C of bytes [6, end)
 *        6     8  offset                  the log end the state is for (same as in the name)
 *       14     4  producerCount
 *       18        producers, each:
 *                   8  producerId
 *                   2  epoch
 *                   8  lastAppendMs        wall-clock ms of its last append
 *                   1  batchCount          0..5
 *                      batches, oldest first, each:
 *                        4  firstSequence
 *                        4  lastSequence
 *                        8  baseOffset
 *                        4  lastOffsetDelta  lastOffset - baseOffset
 *
 * A snapshot whose length, version or CRC does not match is ignored (reported), and the state is
 * rebuilt from an older snapshot or from the batches themselves.
 */
export const producerSnapshotSuffix = '.snapshot';

const snapshotVersion = 1;
const headerBytes = 18;
const producerHeaderBytes = 19;
const batchBytes = 20;
const offsetDigits = 20;

export function producerSnapshotName(offset: bigint): string {
  return `${offset.toString().padStart(offsetDigits, '0')}${producerSnapshotSuffix}`;
}

/** The offset a snapshot file name stands for, or undefined for any other name. */
export function parseProducerSnapshotName(name: string): bigint | undefined {
  const match = /^(\d{20})\.snapshot$/.exec(name);
  return match === null ? undefined : BigInt(match[1]!);
}

export interface ProducerSnapshot {
  readonly offset: bigint;
  readonly producers: ReadonlyArray<readonly [bigint, ProducerEntry]>;
}

export function encodeProducerSnapshot(snapshot: ProducerSnapshot): Buffer {
  let bytes = headerBytes;
  for (const [, entry] of snapshot.producers)
    bytes += producerHeaderBytes + entry.batches.length * batchBytes;
  const buffer = Buffer.alloc(bytes);
  buffer.writeInt16BE(snapshotVersion, 0);
  buffer.writeBigInt64BE(snapshot.offset, 6);
  buffer.writeInt32BE(snapshot.producers.length, 14);
  let at = headerBytes;
  for (const [producerId, entry] of snapshot.producers) {
    buffer.writeBigInt64BE(producerId, at);
    buffer.writeInt16BE(entry.epoch, at + 8);
    buffer.writeBigInt64BE(BigInt(Math.trunc(entry.lastAppendMs)), at + 10);
    buffer.writeUInt8(entry.batches.length, at + 18);
    at += producerHeaderBytes;
    for (const batch of entry.batches) {
      buffer.writeInt32BE(batch.firstSequence, at);
      buffer.writeInt32BE(batch.lastSequence, at + 4);
      buffer.writeBigInt64BE(batch.baseOffset, at + 8);
      buffer.writeInt32BE(Number(batch.lastOffset - batch.baseOffset), at + 16);
      at += batchBytes;
    }
  }
  buffer.writeUInt32BE(crc32c(buffer.subarray(6)), 2);
  return buffer;
}

/** The snapshot in `content`, or undefined when it is damaged in any way. */
export function decodeProducerSnapshot(content: Buffer): ProducerSnapshot | undefined {
  if (content.length < headerBytes || content.readInt16BE(0) !== snapshotVersion) return undefined;
  if (content.readUInt32BE(2) !== crc32c(content.subarray(6))) return undefined;
  const offset = content.readBigInt64BE(6);
  const count = content.readInt32BE(14);
  const producers: Array<readonly [bigint, ProducerEntry]> = [];
  let at = headerBytes;
  for (let index = 0; index < count; index++) {
    if (content.length - at < producerHeaderBytes) return undefined;
    const producerId = content.readBigInt64BE(at);
    const epoch = content.readInt16BE(at + 8);
    const lastAppendMs = Number(content.readBigInt64BE(at + 10));
    const batchCount = content.readUInt8(at + 18);
    at += producerHeaderBytes;
    if (batchCount > producerBatchesRetained || content.length - at < batchCount * batchBytes)
      return undefined;
    const batches: ProducerBatch[] = [];
    for (let batch = 0; batch < batchCount; batch++) {
      const baseOffset = content.readBigInt64BE(at + 8);
      batches.push({
        firstSequence: content.readInt32BE(at),
        lastSequence: content.readInt32BE(at + 4),
        baseOffset,
        lastOffset: baseOffset + BigInt(content.readInt32BE(at + 16)),
      });
      at += batchBytes;
    }
    producers.push([producerId, { epoch, batches, lastAppendMs }]);
  }
  return at === content.length ? { offset, producers } : undefined;
}
