import { limits } from '../base/limits.ts';
import { ProtocolError } from './protocol-error.ts';

/**
 * Reads Kafka primitive types from one Buffer view. Every read checks the remaining length first, so
 * nothing reads past the frame and every short or malformed input becomes a ProtocolError (never a
 * RangeError). Byte and string reads return views into the frame, not copies.
 */
export class Reader {
  readonly buffer: Buffer;
  offset: number;
  readonly end: number;

  constructor(buffer: Buffer, offset = 0, end = buffer.length) {
    this.buffer = buffer;
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  /** Throws unless n more bytes are available; returns the current offset and advances past them. */
  take(n: number): number {
    if (n < 0 || this.offset + n > this.end) {
      throw new ProtocolError(
        `short read: need ${n} bytes at ${this.offset}, have ${this.end - this.offset}`,
      );
    }
    const at = this.offset;
    this.offset += n;
    return at;
  }

  bool(): boolean {
    return this.buffer[this.take(1)] !== 0;
  }

  int8(): number {
    return this.buffer.readInt8(this.take(1));
  }

  uint8(): number {
    return this.buffer.readUInt8(this.take(1));
  }

  int16(): number {
    return this.buffer.readInt16BE(this.take(2));
  }

  uint16(): number {
    return this.buffer.readUInt16BE(this.take(2));
  }

  int32(): number {
    return this.buffer.readInt32BE(this.take(4));
  }

  uint32(): number {
    return this.buffer.readUInt32BE(this.take(4));
  }

  int64(): bigint {
    return this.buffer.readBigInt64BE(this.take(8));
  }

  float64(): number {
    return this.buffer.readDoubleBE(this.take(8));
  }

  /** Unsigned LEB128 varint up to 32 bits. */
  uvarint(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const byte = this.buffer[this.take(1)]!;
      if (i === 4 && byte > 0x0f) throw new ProtocolError('unsigned varint overflows 32 bits');
      result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
    throw new ProtocolError('unsigned varint longer than 5 bytes');
  }

  /** Zigzag-encoded signed varint up to 32 bits. */
  varint(): number {
    const raw = this.uvarint();
    return (raw >>> 1) ^ -(raw & 1);
  }

  /** Unsigned LEB128 varint up to 64 bits. */
  uvarlong(): bigint {
    // Fast path: values that fit in 28 bits are the common case (timestamps deltas, lengths).
    let low = 0;
    let shift = 0;
    for (let i = 0; i < 4; i++) {
      const byte = this.buffer[this.take(1)]!;
      low |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt(low >>> 0);
      shift += 7;
    }
    let result = BigInt(low >>> 0);
    let bigShift = 28n;
    for (let i = 4; i < 10; i++) {
      const byte = this.buffer[this.take(1)]!;
      if (i === 9 && byte > 0x01) throw new ProtocolError('varlong overflows 64 bits');
      result |= BigInt(byte & 0x7f) << bigShift;
      if ((byte & 0x80) === 0) return result;
      bigShift += 7n;
    }
    throw new ProtocolError('varlong longer than 10 bytes');
  }

  /** Zigzag-encoded signed varint up to 64 bits. */
  varlong(): bigint {
    const raw = this.uvarlong();
    return (raw >> 1n) ^ -(raw & 1n);
  }

  uuid(): Buffer {
    const at = this.take(16);
    return this.buffer.subarray(at, at + 16);
  }

  /** Raw bytes as a view into the frame. */
  raw(n: number): Buffer {
    const at = this.take(n);
    return this.buffer.subarray(at, at + n);
  }

  // Lengths -----------------------------------------------------------------------------------------

  /** int16 length, -1 = null. */
  #stringLength(): number {
    const n = this.int16();
    if (n < -1) throw new ProtocolError(`invalid string length ${n}`);
    return n;
  }

  /** Compact length: uvarint N+1, 0 = null (returns -1). */
  #compactLength(): number {
    return this.uvarint() - 1;
  }

  #bytesLength(): number {
    const n = this.int32();
    if (n < -1) throw new ProtocolError(`invalid bytes length ${n}`);
    return n;
  }

  /** Array length as declared; checked against the bytes left so a hostile count cannot allocate. */
  #checkedCount(n: number, minElementBytes: number): number {
    if (n < -1) throw new ProtocolError(`invalid array length ${n}`);
    if (n > limits.arrayLengthMax || n * minElementBytes > this.remaining) {
      throw new ProtocolError(`array length ${n} exceeds the ${this.remaining} bytes left`);
    }
    return n;
  }

  // Strings -----------------------------------------------------------------------------------------

  #text(n: number): string {
    const at = this.take(n);
    return this.buffer.toString('utf8', at, at + n);
  }

  string(): string {
    const n = this.#stringLength();
    if (n < 0) throw new ProtocolError('null string where a string is required');
    return this.#text(n);
  }

  nullableString(): string | null {
    const n = this.#stringLength();
    return n < 0 ? null : this.#text(n);
  }

  compactString(): string {
    const n = this.#compactLength();
    if (n < 0) throw new ProtocolError('null compact string where a string is required');
    return this.#text(n);
  }

  compactNullableString(): string | null {
    const n = this.#compactLength();
    return n < 0 ? null : this.#text(n);
  }

  // Bytes -------------------------------------------------------------------------------------------

  bytes(): Buffer {
    const n = this.#bytesLength();
    if (n < 0) throw new ProtocolError('null bytes where bytes are required');
    return this.raw(n);
  }

  nullableBytes(): Buffer | null {
    const n = this.#bytesLength();
    return n < 0 ? null : this.raw(n);
  }

  compactBytes(): Buffer {
    const n = this.#compactLength();
    if (n < 0) throw new ProtocolError('null compact bytes where bytes are required');
    return this.raw(n);
  }

  compactNullableBytes(): Buffer | null {
    const n = this.#compactLength();
    return n < 0 ? null : this.raw(n);
  }

  // Arrays ------------------------------------------------------------------------------------------

  /** int32 array length, -1 = null. `minElementBytes` bounds the count by the bytes left. */
  arrayLength(minElementBytes = 1): number {
    return this.#checkedCount(this.int32(), minElementBytes);
  }

  /** Compact array length (uvarint N+1, 0 = null → -1). */
  compactArrayLength(minElementBytes = 1): number {
    return this.#checkedCount(this.#compactLength(), minElementBytes);
  }

  // Tagged fields -----------------------------------------------------------------------------------

  /**
   * Reads a tagged-field section. `onTag` handles known tags by reading exactly `size` bytes from the
   * sub-reader it is given; unknown tags are skipped. Tags must rise strictly, as the spec requires.
   */
  taggedFields(onTag?: (tag: number, field: Reader) => void): void {
    const count = this.uvarint();
    let previous = -1;
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint();
      if (tag <= previous) throw new ProtocolError(`tagged field ${tag} out of order`);
      previous = tag;
      const size = this.uvarint();
      const at = this.take(size);
      if (onTag !== undefined) {
        const field = new Reader(this.buffer, at, at + size);
        onTag(tag, field);
      }
    }
  }
}
