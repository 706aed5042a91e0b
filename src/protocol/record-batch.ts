import { limits } from '../base/limits.ts';
import {
  type BatchHeader,
  batchAttributes,
  batchHeader,
  checkBatch,
  checkBatchFraming,
  computeBatchCrc,
  currentMagic,
  readBatchHeader,
} from './batch-header.ts';
import {
  type Codec,
  codecFromAttributes,
  codecIds,
  compress,
  decompress,
} from './compression/compression.ts';
import { ProtocolError } from './protocol-error.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

/**
 * Whole Kafka v2 record batches: the fixed header (laid out in batch-header.ts) followed by the
 * records section, compressed as a whole when the codec is not `none`.
 *
 * Records section: `recordCount` records back to back, each:
 *
 *   field            type
 *   length           varint     bytes of the record after this field
 *   attributes       int8       unused, 0
 *   timestampDelta   varlong    timestamp - baseTimestamp
 *   offsetDelta      varint     offset - baseOffset
 *   keyLength        varint     -1 = null key
 *   key              bytes
 *   valueLength      varint     -1 = null value
 *   value            bytes
 *   headerCount      varint
 *   headers          each: keyLength varint, key (UTF-8, never null), valueLength varint (-1 = null),
 *                    value bytes
 *
 * varint/varlong are zigzag-encoded LEB128 (see reader.ts).
 *
 * Decoding is for clients, transforms and tools; the broker's hot path reads only the header. For
 * uncompressed batches, keys and values are views into the batch buffer.
 */

export type TimestampType = 'create-time' | 'log-append-time';

export interface RecordHeader {
  readonly key: string;
  readonly value: Buffer | null;
}

export interface RecordInput {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: readonly RecordHeader[];
  /** Defaults to the batch's baseTimestamp. */
  readonly timestamp?: bigint;
  /** Defaults to the record's index in the batch. */
  readonly offsetDelta?: number;
}

export interface RecordBatchInput {
  readonly baseOffset?: bigint;
  readonly partitionLeaderEpoch?: number;
  /** Raw attributes; the codec, timestampType, transactional and control options override their bits. */
  readonly attributes?: number;
  readonly codec?: Codec;
  readonly timestampType?: TimestampType;
  /** Defaults to the first record's timestamp, or -1 (no timestamp) when it has none. */
  readonly baseTimestamp?: bigint;
  /** Defaults to the largest record timestamp. */
  readonly maxTimestamp?: bigint;
  readonly producerId?: bigint;
  readonly producerEpoch?: number;
  readonly baseSequence?: number;
  readonly transactional?: boolean;
  readonly control?: boolean;
  readonly records: readonly RecordInput[];
}

export interface DecodedRecord {
  /** Absolute offset: baseOffset + offsetDelta. */
  readonly offset: bigint;
  /** Absolute timestamp: baseTimestamp + timestampDelta, or maxTimestamp for log-append-time batches. */
  readonly timestamp: bigint;
  readonly offsetDelta: number;
  readonly timestampDelta: bigint;
  readonly attributes: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: RecordHeader[];
}

export interface RecordBatch extends BatchHeader {
  readonly codec: Codec;
  readonly timestampType: TimestampType;
  readonly isTransactional: boolean;
  readonly isControl: boolean;
  readonly records: DecodedRecord[];
}

export interface DecodeRecordBatchOptions {
  /** Check the CRC before anything else (default true). */
  readonly verifyCrc?: boolean;
  /** Largest records section after decompression (default limits.batchDecompressedBytesMax). */
  readonly decompressedBytesMax?: number;
  /** Most records the batch may declare (default limits.batchRecordsMax). */
  readonly recordsMax?: number;
}

export const recordBatchDefaults = Object.freeze({
  /** Largest records section after decompression. */
  decompressedBytesMax: limits.batchDecompressedBytesMax, // bytes
  /** Most records one batch may declare. */
  recordsMax: limits.batchRecordsMax, // records
  partitionLeaderEpoch: -1, // no epoch: the leader stamps its own
  producerId: -1n, // not idempotent
  producerEpoch: -1,
  baseSequence: -1,
  baseTimestamp: -1n, // Kafka's "no timestamp"
});

/** The smallest encoding of one record: seven one-byte fields. */
const recordBytesMin = 7;
/** The smallest encoding of one header: an empty key and a null value. */
const headerBytesMin = 2;

// Encoding --------------------------------------------------------------------------------------------

/** Encodes a whole batch: header, records (compressed with the chosen codec) and CRC. */
export function encodeRecordBatch(input: RecordBatchInput): Buffer {
  const baseTimestamp =
    input.baseTimestamp ?? input.records[0]?.timestamp ?? recordBatchDefaults.baseTimestamp;
  const codec = input.codec ?? codecFromAttributes(input.attributes ?? 0);
  const writer = new Writer(firstBlockBytes(input.records));
  if (codec === 'none') writer.reserve(batchHeader.bytes);
  const summary = writeRecords(writer, input.records, baseTimestamp);
  let batch: Buffer;
  if (codec === 'none') {
    batch = writer.toBuffer();
  } else {
    const payload = compress(codec, writer.toBuffer());
    batch = Buffer.allocUnsafe(batchHeader.bytes + payload.length);
    payload.copy(batch, batchHeader.bytes);
  }
  writeHeader(batch, input, {
    attributes: attributesOf(input, codec),
    baseTimestamp,
    maxTimestamp: input.maxTimestamp ?? summary.maxTimestamp,
    lastOffsetDelta: summary.lastOffsetDelta,
  });
  batch.writeUInt32BE(computeBatchCrc(batch), batchHeader.crc);
  return batch;
}

/** Arrays of at least this many bytes are appended to a Writer by reference, not copied into a block. */
const copiedBytesMax = 511; // bytes
const writerBlockBytes = 8 * 1024; // bytes

/**
 * Room for the header and whatever the writer will copy rather than reference, capped at its usual
 * block size, so a small batch is one right-sized allocation rather than a view into a large block.
 */
function firstBlockBytes(records: readonly RecordInput[]): number {
  let bytes = batchHeader.bytes;
  for (const record of records) {
    bytes += 36 + Math.min(record.key?.length ?? 0, copiedBytesMax);
    bytes += Math.min(record.value?.length ?? 0, copiedBytesMax);
    for (const header of record.headers ?? []) {
      bytes += 10 + 3 * header.key.length + Math.min(header.value?.length ?? 0, copiedBytesMax);
    }
    if (bytes >= writerBlockBytes) return writerBlockBytes;
  }
  return bytes;
}

function attributesOf(input: RecordBatchInput, codec: Codec): number {
  let attributes = ((input.attributes ?? 0) & ~batchAttributes.codecMask) | codecIds[codec];
  const flag = (bit: number, on: boolean | undefined): void => {
    if (on !== undefined) attributes = on ? attributes | bit : attributes & ~bit;
  };
  const logAppendTime =
    input.timestampType === undefined ? undefined : input.timestampType === 'log-append-time';
  flag(batchAttributes.timestampTypeLogAppend, logAppendTime);
  flag(batchAttributes.transactional, input.transactional);
  flag(batchAttributes.control, input.control);
  return attributes;
}

interface HeaderValues {
  readonly attributes: number;
  readonly baseTimestamp: bigint;
  readonly maxTimestamp: bigint;
  readonly lastOffsetDelta: number;
}

function writeHeader(batch: Buffer, input: RecordBatchInput, values: HeaderValues): void {
  const defaults = recordBatchDefaults;
  batch.writeBigInt64BE(input.baseOffset ?? 0n, batchHeader.baseOffset);
  batch.writeInt32BE(batch.length - batchHeader.logOverheadBytes, batchHeader.batchLength);
  batch.writeInt32BE(
    input.partitionLeaderEpoch ?? defaults.partitionLeaderEpoch,
    batchHeader.partitionLeaderEpoch,
  );
  batch.writeInt8(currentMagic, batchHeader.magic);
  batch.writeInt16BE(values.attributes, batchHeader.attributes);
  batch.writeInt32BE(values.lastOffsetDelta, batchHeader.lastOffsetDelta);
  batch.writeBigInt64BE(values.baseTimestamp, batchHeader.baseTimestamp);
  batch.writeBigInt64BE(values.maxTimestamp, batchHeader.maxTimestamp);
  batch.writeBigInt64BE(input.producerId ?? defaults.producerId, batchHeader.producerId);
  batch.writeInt16BE(input.producerEpoch ?? defaults.producerEpoch, batchHeader.producerEpoch);
  batch.writeInt32BE(input.baseSequence ?? defaults.baseSequence, batchHeader.baseSequence);
  batch.writeInt32BE(input.records.length, batchHeader.recordCount);
}

function writeRecords(
  writer: Writer,
  records: readonly RecordInput[],
  baseTimestamp: bigint,
): { lastOffsetDelta: number; maxTimestamp: bigint } {
  let lastOffsetDelta = 0;
  let maxTimestamp = records.length === 0 ? baseTimestamp : -(2n ** 63n);
  for (let index = 0; index < records.length; index++) {
    const record = records[index]!;
    const offsetDelta = record.offsetDelta ?? index;
    const timestamp = record.timestamp ?? baseTimestamp;
    writeRecord(writer, record, offsetDelta, BigInt.asIntN(64, timestamp - baseTimestamp));
    if (offsetDelta > lastOffsetDelta) lastOffsetDelta = offsetDelta;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
  }
  return { lastOffsetDelta, maxTimestamp };
}

function writeRecord(writer: Writer, record: RecordInput, offsetDelta: number, timestampDelta: bigint): void {
  const headers = record.headers ?? [];
  const headerKeys = headers.map((header) => Buffer.from(header.key, 'utf8'));
  let bodyBytes = 1 + varlongBytes(timestampDelta) + varintBytes(offsetDelta) + nullableBytesSize(record.key);
  bodyBytes += nullableBytesSize(record.value) + varintBytes(headers.length);
  for (let i = 0; i < headers.length; i++) {
    bodyBytes += nullableBytesSize(headerKeys[i]!) + nullableBytesSize(headers[i]!.value);
  }
  writer.varint(bodyBytes).int8(0).varlong(timestampDelta).varint(offsetDelta);
  writeNullableBytes(writer, record.key);
  writeNullableBytes(writer, record.value);
  writer.varint(headers.length);
  for (let i = 0; i < headers.length; i++) {
    writeNullableBytes(writer, headerKeys[i]!);
    writeNullableBytes(writer, headers[i]!.value);
  }
}

function writeNullableBytes(writer: Writer, value: Buffer | null): void {
  if (value === null) writer.varint(-1);
  else writer.varint(value.length).raw(value);
}

function nullableBytesSize(value: Buffer | null): number {
  return value === null ? 1 : varintBytes(value.length) + value.length;
}

/** Encoded size of a zigzag varint. */
export function varintBytes(value: number): number {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  let bytes = 1;
  while (zigzag >= 0x80) {
    zigzag >>>= 7;
    bytes++;
  }
  return bytes;
}

/** Encoded size of a zigzag varlong. */
export function varlongBytes(value: bigint): number {
  if (value >= -0x8000000n && value < 0x8000000n) return varintBytes(Number(value));
  let zigzag = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  let bytes = 1;
  while (zigzag >= 0x80n) {
    zigzag >>= 7n;
    bytes++;
  }
  return bytes;
}

// Decoding --------------------------------------------------------------------------------------------

/** Decodes a whole batch, records included. Every malformed input raises ProtocolError. */
export function decodeRecordBatch(batch: Buffer, options: DecodeRecordBatchOptions = {}): RecordBatch {
  if (options.verifyCrc ?? true) checkBatch(batch);
  else checkBatchFraming(batch);
  const header = readBatchHeader(batch);
  const codec = codecFromAttributes(header.attributes);
  const recordsMax = options.recordsMax ?? recordBatchDefaults.recordsMax;
  if (header.recordCount > recordsMax)
    throw new ProtocolError(`batch declares ${header.recordCount} records, above ${recordsMax}`);
  const payload = batch.subarray(batchHeader.bytes);
  const section =
    codec === 'none'
      ? payload
      : decompress(codec, payload, {
          decompressedBytesMax: options.decompressedBytesMax ?? recordBatchDefaults.decompressedBytesMax,
        });
  const logAppendTime = (header.attributes & batchAttributes.timestampTypeLogAppend) !== 0;
  return {
    ...header,
    codec,
    timestampType: logAppendTime ? 'log-append-time' : 'create-time',
    isTransactional: (header.attributes & batchAttributes.transactional) !== 0,
    isControl: (header.attributes & batchAttributes.control) !== 0,
    records: decodeRecords(section, header, logAppendTime),
  };
}

/** Decodes exactly `header.recordCount` records that must fill `section` exactly. */
function decodeRecords(section: Buffer, header: BatchHeader, logAppendTime: boolean): DecodedRecord[] {
  const count = header.recordCount;
  if (count * recordBytesMin > section.length)
    throw new ProtocolError(`${count} records cannot fit in ${section.length} bytes`);
  const reader = new Reader(section);
  const records: DecodedRecord[] = [];
  for (let index = 0; index < count; index++) records.push(decodeRecord(reader, header, logAppendTime));
  if (reader.remaining !== 0)
    throw new ProtocolError(`${reader.remaining} bytes follow the batch's ${count} records`);
  return records;
}

function decodeRecord(reader: Reader, header: BatchHeader, logAppendTime: boolean): DecodedRecord {
  const length = reader.varint();
  if (length < recordBytesMin - 1 || length > reader.remaining)
    throw new ProtocolError(`record length ${length} does not fit the ${reader.remaining} bytes left`);
  const end = reader.offset + length;
  const attributes = reader.int8();
  const timestampDelta = reader.varlong();
  const offsetDelta = reader.varint();
  const key = readNullableBytes(reader);
  const value = readNullableBytes(reader);
  const headers = readHeaders(reader, end);
  // Reads are bounded by the section, not the record, so a record that overran its length shows here.
  if (reader.offset !== end) throw new ProtocolError(`record length ${length} disagrees with its content`);
  return {
    offset: BigInt.asIntN(64, header.baseOffset + BigInt(offsetDelta)),
    timestamp: logAppendTime ? header.maxTimestamp : BigInt.asIntN(64, header.baseTimestamp + timestampDelta),
    offsetDelta,
    timestampDelta,
    attributes,
    key,
    value,
    headers,
  };
}

function readHeaders(reader: Reader, end: number): RecordHeader[] {
  const count = reader.varint();
  if (count < 0 || count * headerBytesMin > end - reader.offset)
    throw new ProtocolError(`header count ${count} does not fit its record`);
  const headers: RecordHeader[] = [];
  for (let i = 0; i < count; i++) {
    const keyLength = reader.varint();
    if (keyLength < 0) throw new ProtocolError(`invalid header key length ${keyLength}`);
    const keyAt = reader.take(keyLength);
    const key = reader.buffer.toString('utf8', keyAt, keyAt + keyLength);
    headers.push({ key, value: readNullableBytes(reader) });
  }
  return headers;
}

function readNullableBytes(reader: Reader): Buffer | null {
  const length = reader.varint();
  if (length < -1) throw new ProtocolError(`invalid length ${length}`);
  return length === -1 ? null : reader.raw(length);
}
