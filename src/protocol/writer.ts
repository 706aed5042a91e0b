import { assert } from '../base/assert.ts';

/** Byte arrays at least this long are appended by reference instead of copied into the block. */
const zeroCopyBytesMin = 512; // bytes
const blockBytes = 8 * 1024; // bytes

/** A slot reserved for a value known only later (a length or CRC), patched in place. */
export interface Slot {
  readonly buffer: Buffer;
  readonly offset: number;
}

/**
 * Writes Kafka primitive types as a list of chunks. Small values are copied into fixed-size blocks
 * (never grown and copied); large byte arrays such as record batches are appended by reference, so a
 * produced batch travels from socket to disk to socket without being copied. `chunks()` suits
 * `socket.writev`/cork; `toBuffer()` joins them once.
 */
export class Writer {
  #chunks: Buffer[] = [];
  #block: Buffer;
  #position = 0;
  #flushedBytes = 0;

  constructor(initialBlockBytes = blockBytes) {
    this.#block = Buffer.allocUnsafe(initialBlockBytes);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#flushedBytes + this.#position;
  }

  #room(n: number): void {
    if (this.#position + n <= this.#block.length) return;
    this.#sealBlock();
    this.#block = Buffer.allocUnsafe(Math.max(blockBytes, n));
    this.#position = 0;
  }

  #sealBlock(): void {
    if (this.#position === 0) return;
    const used = this.#block.subarray(0, this.#position);
    this.#chunks.push(used);
    this.#flushedBytes += used.length;
    this.#block = this.#block.subarray(this.#position);
    this.#position = 0;
  }

  bool(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }

  int8(value: number): this {
    this.#room(1);
    this.#block.writeInt8(value, this.#position);
    this.#position += 1;
    return this;
  }

  uint8(value: number): this {
    this.#room(1);
    this.#block[this.#position++] = value;
    return this;
  }

  int16(value: number): this {
    this.#room(2);
    this.#block.writeInt16BE(value, this.#position);
    this.#position += 2;
    return this;
  }

  uint16(value: number): this {
    this.#room(2);
    this.#block.writeUInt16BE(value, this.#position);
    this.#position += 2;
    return this;
  }

  int32(value: number): this {
    this.#room(4);
    this.#block.writeInt32BE(value, this.#position);
    this.#position += 4;
    return this;
  }

  uint32(value: number): this {
    this.#room(4);
    this.#block.writeUInt32BE(value, this.#position);
    this.#position += 4;
    return this;
  }

  int64(value: bigint): this {
    this.#room(8);
    this.#block.writeBigInt64BE(value, this.#position);
    this.#position += 8;
    return this;
  }

  float64(value: number): this {
    this.#room(8);
    this.#block.writeDoubleBE(value, this.#position);
    this.#position += 8;
    return this;
  }

  uvarint(value: number): this {
    assert(value >= 0 && value <= 0xffffffff && Number.isInteger(value), `uvarint out of range: ${value}`);
    this.#room(5);
    let v = value >>> 0;
    while (v >= 0x80) {
      this.#block[this.#position++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.#block[this.#position++] = v;
    return this;
  }

  varint(value: number): this {
    assert(value >= -0x80000000 && value <= 0x7fffffff, `varint out of range: ${value}`);
    return this.uvarint(((value << 1) ^ (value >> 31)) >>> 0);
  }

  uvarlong(value: bigint): this {
    assert(value >= 0n && value <= 0xffffffffffffffffn, `uvarlong out of range: ${value}`);
    if (value <= 0xfffffffn) return this.uvarint(Number(value));
    this.#room(10);
    let v = value;
    while (v >= 0x80n) {
      this.#block[this.#position++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.#block[this.#position++] = Number(v);
    return this;
  }

  varlong(value: bigint): this {
    assert(value >= -(2n ** 63n) && value < 2n ** 63n, `varlong out of range: ${value}`);
    return this.uvarlong(BigInt.asUintN(64, (value << 1n) ^ (value >> 63n)));
  }

  uuid(value: Buffer): this {
    assert(value.length === 16, 'uuid must be 16 bytes');
    return this.raw(value);
  }

  /** Appends bytes without a length prefix; large ones by reference (do not mutate them afterwards). */
  raw(value: Buffer): this {
    if (value.length >= zeroCopyBytesMin) {
      this.#sealBlock();
      this.#chunks.push(value);
      this.#flushedBytes += value.length;
      return this;
    }
    this.#room(value.length);
    value.copy(this.#block, this.#position);
    this.#position += value.length;
    return this;
  }

  /** Appends another writer's chunks (used for nested sizes such as tagged fields). */
  append(other: Writer): this {
    for (const chunk of other.chunks()) this.raw(chunk);
    return this;
  }

  // Strings -----------------------------------------------------------------------------------------

  string(value: string): this {
    const n = Buffer.byteLength(value, 'utf8');
    assert(n <= 0x7fff, 'string longer than 32767 bytes');
    this.int16(n);
    return this.#text(value, n);
  }

  nullableString(value: string | null): this {
    return value === null ? this.int16(-1) : this.string(value);
  }

  compactString(value: string): this {
    const n = Buffer.byteLength(value, 'utf8');
    this.uvarint(n + 1);
    return this.#text(value, n);
  }

  compactNullableString(value: string | null): this {
    return value === null ? this.uvarint(0) : this.compactString(value);
  }

  #text(value: string, n: number): this {
    this.#room(n);
    this.#block.write(value, this.#position, n, 'utf8');
    this.#position += n;
    return this;
  }

  // Bytes -------------------------------------------------------------------------------------------

  bytes(value: Buffer): this {
    return this.int32(value.length).raw(value);
  }

  nullableBytes(value: Buffer | null): this {
    return value === null ? this.int32(-1) : this.bytes(value);
  }

  compactBytes(value: Buffer): this {
    return this.uvarint(value.length + 1).raw(value);
  }

  compactNullableBytes(value: Buffer | null): this {
    return value === null ? this.uvarint(0) : this.compactBytes(value);
  }

  // Arrays ------------------------------------------------------------------------------------------

  arrayLength(n: number): this {
    return this.int32(n);
  }

  compactArrayLength(n: number): this {
    return this.uvarint(n + 1);
  }

  // Slots -------------------------------------------------------------------------------------------

  /** Reserves `bytes` bytes to be patched later; blocks are never reallocated, so the slot stays valid. */
  reserve(bytes: number): Slot {
    this.#room(bytes);
    const slot = { buffer: this.#block, offset: this.#position };
    this.#position += bytes;
    return slot;
  }

  // Output ------------------------------------------------------------------------------------------

  chunks(): Buffer[] {
    this.#sealBlock();
    return this.#chunks;
  }

  toBuffer(): Buffer {
    const chunks = this.chunks();
    if (chunks.length === 1) return chunks[0]!;
    return Buffer.concat(chunks, this.#flushedBytes);
  }
}
