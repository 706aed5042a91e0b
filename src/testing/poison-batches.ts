import { batchHeader, computeBatchCrc, currentMagic } from '../protocol/batch-header.ts';
import { type Codec, codecIds, compress } from '../protocol/compression/compression.ts';
import { encodeRecordBatch, varintBytes } from '../protocol/record-batch.ts';
import { Writer } from '../protocol/writer.ts';

/**
 * Record batches whose header and CRC are valid but whose records are not: what a broken or hostile
 * producer sends to get past a broker that checks only the header. Used by the produce tests and by
 * the frame fuzzer.
 */

export interface SectionBatchOptions {
  /** Records the header declares (default 1). */
  readonly recordCount?: number;
  /** Default recordCount - 1. */
  readonly lastOffsetDelta?: number;
  /** The codec the section is compressed with (default none). */
  readonly codec?: Codec;
  /** Raw codec bits, to declare codecs Kafka does not have (5-7). */
  readonly codecBits?: number;
}

/** A batch around `section` (a records section, valid or not) with a correct header and CRC. */
export function batchFromSection(section: Buffer, options: SectionBatchOptions = {}): Buffer {
  const codec = options.codec ?? 'none';
  const payload = compress(codec, section);
  const recordCount = options.recordCount ?? 1;
  const batch = Buffer.alloc(batchHeader.bytes + payload.length);
  payload.copy(batch, batchHeader.bytes);
  batch.writeInt32BE(batch.length - batchHeader.logOverheadBytes, batchHeader.batchLength);
  batch.writeInt32BE(-1, batchHeader.partitionLeaderEpoch);
  batch.writeInt8(currentMagic, batchHeader.magic);
  batch.writeInt16BE(options.codecBits ?? codecIds[codec], batchHeader.attributes);
  batch.writeInt32BE(options.lastOffsetDelta ?? recordCount - 1, batchHeader.lastOffsetDelta);
  batch.writeBigInt64BE(-1n, batchHeader.producerId);
  batch.writeInt16BE(-1, batchHeader.producerEpoch);
  batch.writeInt32BE(-1, batchHeader.baseSequence);
  batch.writeInt32BE(recordCount, batchHeader.recordCount);
  batch.writeUInt32BE(computeBatchCrc(batch), batchHeader.crc);
  return batch;
}

/** The records section of a valid batch of `values` (uncompressed, as encodeRecordBatch writes it). */
export function validSection(values: readonly string[]): Buffer {
  const batch = encodeRecordBatch({
    records: values.map((value) => ({ key: null, value: Buffer.from(value) })),
  });
  return Buffer.from(batch.subarray(batchHeader.bytes));
}

export interface RecordFields {
  readonly offsetDelta?: number;
  readonly keyLength?: number;
  readonly key?: Buffer;
  readonly valueLength?: number;
  readonly value?: Buffer;
  readonly headerCount?: number;
  /** Bytes after the header count (the headers, valid or not). */
  readonly headerBytes?: Buffer;
  /** The record's length field; default the true length of what follows. */
  readonly length?: number;
}

/** One record written field by field, every length free to lie. */
export function recordWithFields(fields: RecordFields): Buffer {
  const body = new Writer()
    .int8(0)
    .varlong(0n)
    .varint(fields.offsetDelta ?? 0)
    .varint(fields.keyLength ?? -1)
    .raw(fields.key ?? Buffer.alloc(0))
    .varint(fields.valueLength ?? (fields.value ?? Buffer.alloc(0)).length)
    .raw(fields.value ?? Buffer.alloc(0))
    .varint(fields.headerCount ?? 0)
    .raw(fields.headerBytes ?? Buffer.alloc(0))
    .toBuffer();
  return Buffer.concat([new Writer().varint(fields.length ?? body.length).toBuffer(), body]);
}

export interface PoisonBatch {
  readonly name: string;
  readonly batch: Buffer;
}

/** Batches every broker must refuse as INVALID_RECORD, though their header and CRC are intact. */
export function poisonBatches(): PoisonBatch[] {
  const two = validSection(['a', 'b']);
  const one = validSection(['a']);
  return [
    { name: 'garbage records', batch: batchFromSection(Buffer.from('this is not a record at all')) },
    { name: 'a record count above the records', batch: batchFromSection(two, { recordCount: 3 }) },
    { name: 'a record count below the records', batch: batchFromSection(two, { recordCount: 1 }) },
    { name: 'no records', batch: batchFromSection(Buffer.alloc(0), { recordCount: 0, lastOffsetDelta: 0 }) },
    {
      name: 'a claimed 2^31 - 1 records',
      batch: batchFromSection(one, { recordCount: 2 ** 31 - 1 }),
    },
    {
      name: 'an offset range wider than the records',
      batch: batchFromSection(one, { recordCount: 1, lastOffsetDelta: 2 ** 31 - 1 }),
    },
    { name: 'a negative key length', batch: batchFromSection(recordWithFields({ keyLength: -5 })) },
    {
      name: 'a value longer than its record',
      batch: batchFromSection(recordWithFields({ valueLength: 100, value: Buffer.from('short') })),
    },
    { name: 'a negative header count', batch: batchFromSection(recordWithFields({ headerCount: -1 })) },
    {
      name: 'headers that do not fit',
      batch: batchFromSection(recordWithFields({ headerCount: 1_000, headerBytes: Buffer.alloc(4) })),
    },
    { name: 'a record length that lies', batch: batchFromSection(recordWithFields({ length: 40 })) },
    { name: 'an offset delta out of order', batch: batchFromSection(recordWithFields({ offsetDelta: 7 })) },
    {
      name: 'a varint longer than 5 bytes',
      batch: batchFromSection(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 0, 0, 0, 0])),
    },
    { name: 'compression codec 5', batch: batchFromSection(one, { codecBits: 5 }) },
    { name: 'gzip records that lie', batch: batchFromSection(two, { recordCount: 5, codec: 'gzip' }) },
  ];
}

/** A valid records section of `count` records with null keys and `valueBytes` zero bytes of value. */
export function manyRecordsSection(count: number, valueBytes: number): Buffer {
  const writer = new Writer();
  const value = Buffer.alloc(valueBytes);
  for (let offsetDelta = 0; offsetDelta < count; offsetDelta++) {
    const body = 1 + 1 + varintBytes(offsetDelta) + 1 + varintBytes(valueBytes) + valueBytes + 1;
    writer.varint(body).int8(0).varlong(0n).varint(offsetDelta).varint(-1);
    writer.varint(valueBytes).raw(value).varint(0);
  }
  return writer.toBuffer();
}
