import { limits } from '../base/limits.ts';
import { ProtocolError } from './protocol-error.ts';

/**
 * Checks the framing of a batch's records section (its layout is in record-batch.ts) by walking the
 * bytes, as Kafka's LogValidator does before a leader assigns offsets: exactly `recordCount` records
 * fill the section, each record's length matches its fields, every varint is well formed, key, value
 * and header lengths fit, header counts are bounded, and offset deltas run 0, 1, 2 … so the offsets
 * the batch claims are the offsets it uses. Nothing is decoded into objects, so a hostile batch costs
 * one pass over bytes the broker holds anyway.
 */

/** A record that breaks the batch format: Kafka's InvalidRecordException, answered INVALID_RECORD. */
export class InvalidRecordError extends ProtocolError {
  override name = 'InvalidRecordError';
}

export interface RecordFramingOptions {
  /** Records the batch header declares. */
  readonly recordCount: number;
  /** Most headers one record may carry (default limits.recordHeadersMax). */
  readonly recordHeadersMax?: number;
  /** Most headers all records of the batch may carry together (default limits.batchHeadersMax). */
  readonly batchHeadersMax?: number;
}

/** The smallest encoding of one record: seven one-byte fields. */
export const recordBytesMin = 7;
/** The smallest encoding of one header: an empty key and a null value. */
export const headerBytesMin = 2;

/** Throws InvalidRecordError unless `section` holds exactly `recordCount` well-framed records. */
export function checkRecordFraming(section: Buffer, options: RecordFramingOptions): void {
  const count = options.recordCount;
  if (count < 1) throw new InvalidRecordError(`batch declares ${count} records`);
  if (count > section.length / recordBytesMin)
    throw new InvalidRecordError(`${count} records cannot fit in ${section.length} bytes`);
  const cursor = new SectionCursor(section, {
    recordHeadersMax: options.recordHeadersMax ?? limits.recordHeadersMax,
    batchHeadersMax: options.batchHeadersMax ?? limits.batchHeadersMax,
  });
  for (let index = 0; index < count; index++) cursor.skipRecord(index);
  if (cursor.offset !== section.length)
    throw new InvalidRecordError(
      `${section.length - cursor.offset} bytes follow the batch's ${count} records`,
    );
}

/** A read position in one records section; reads never pass `end` (the current record's end). */
class SectionCursor {
  offset = 0;
  #end: number;
  #headersLeft: number;
  readonly #buffer: Buffer;
  readonly #recordHeadersMax: number;

  constructor(buffer: Buffer, bounds: { recordHeadersMax: number; batchHeadersMax: number }) {
    this.#buffer = buffer;
    this.#end = buffer.length;
    this.#recordHeadersMax = bounds.recordHeadersMax;
    this.#headersLeft = bounds.batchHeadersMax;
  }

  skipRecord(index: number): void {
    this.#end = this.#buffer.length;
    const length = this.#varint();
    if (length < recordBytesMin - 1 || length > this.#end - this.offset)
      throw new InvalidRecordError(
        `record ${index} length ${length} does not fit the ${this.#end - this.offset} bytes left`,
      );
    this.#end = this.offset + length;
    this.#skip(1); // attributes: unused in v2 records
    this.#skipVarlong(); // timestampDelta
    const offsetDelta = this.#varint();
    if (offsetDelta !== index)
      throw new InvalidRecordError(`record ${index} has offset delta ${offsetDelta}`);
    this.#skipBytes(-1, 'key');
    this.#skipBytes(-1, 'value');
    this.#skipHeaders(index);
    if (this.offset !== this.#end)
      throw new InvalidRecordError(`record ${index} length ${length} disagrees with its content`);
  }

  #skipHeaders(index: number): void {
    const count = this.#varint();
    if (count < 0 || count > this.#recordHeadersMax || count > this.#headersLeft)
      throw new InvalidRecordError(
        `record ${index} declares ${count} headers (at most ${Math.min(this.#recordHeadersMax, this.#headersLeft)} allowed)`,
      );
    if (count * headerBytesMin > this.#end - this.offset)
      throw new InvalidRecordError(`record ${index}: ${count} headers cannot fit in its length`);
    this.#headersLeft -= count;
    for (let header = 0; header < count; header++) {
      this.#skipBytes(0, 'header key');
      this.#skipBytes(-1, 'header value');
    }
  }

  /** Skips a varint length and that many bytes; `lengthMin` is -1 where null is allowed. */
  #skipBytes(lengthMin: number, field: string): void {
    const length = this.#varint();
    if (length < lengthMin) throw new InvalidRecordError(`invalid ${field} length ${length}`);
    if (length > 0) this.#skip(length);
  }

  #skip(bytes: number): void {
    if (bytes > this.#end - this.offset)
      throw new InvalidRecordError(`a field of ${bytes} bytes runs past its record`);
    this.offset += bytes;
  }

  /** Zigzag varint of at most 5 bytes, as Reader.varint. */
  #varint(): number {
    const buffer = this.#buffer;
    let raw = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.offset >= this.#end) throw new InvalidRecordError('a varint runs past its record');
      const byte = buffer[this.offset++]!;
      if (shift === 28 && byte > 0x0f) throw new InvalidRecordError('a varint overflows 32 bits');
      raw |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return (raw >>> 1) ^ -(raw & 1);
    }
    throw new InvalidRecordError('a varint is longer than 5 bytes');
  }

  /** A varlong of at most 10 bytes, skipped without building its value. */
  #skipVarlong(): void {
    const buffer = this.#buffer;
    for (let index = 0; index < 10; index++) {
      if (this.offset >= this.#end) throw new InvalidRecordError('a varlong runs past its record');
      const byte = buffer[this.offset++]!;
      if (index === 9 && byte > 0x01) throw new InvalidRecordError('a varlong overflows 64 bits');
      if ((byte & 0x80) === 0) return;
    }
    throw new InvalidRecordError('a varlong is longer than 10 bytes');
  }
}
