import { ProtocolError } from '../protocol-error.ts';
import { loadModule } from './native-module.ts';

/**
 * Snappy as Kafka clients send it, in two forms.
 *
 * Raw snappy block: an unsigned LEB128 varint (at most 32 bits) giving the uncompressed length,
 * then elements, each starting with a tag byte whose low two bits give its kind:
 *
 *   kind 0  literal    length-1 in the tag's upper six bits; values 60..63 mean the length-1 follows
 *                      as 1..4 little-endian bytes; then the literal bytes themselves
 *   kind 1  copy       length-4 in tag bits 2-4, distance bits 8-10 in tag bits 5-7, one more byte
 *                      of distance bits 0-7
 *   kind 2  copy       length-1 in the tag's upper six bits, distance as 2 little-endian bytes
 *   kind 3  copy       length-1 in the tag's upper six bits, distance as 4 little-endian bytes
 *
 * A copy repeats `length` bytes starting `distance` bytes back in the output (it may overlap itself).
 *
 * Xerial framing (what the Java client writes through snappy-java, and librdkafka accepts):
 *
 *   offset  size  field
 *        0     8  magic: 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00
 *        8     4  version, int32 big-endian (1)
 *       12     4  oldest compatible version, int32 big-endian (1)
 *       16        blocks, each: int32 big-endian compressed length, then one raw snappy block
 *
 * Compression uses snappyjs for each block. Decompression is done here rather than by snappyjs,
 * because Tide must refuse hostile input: snappyjs neither checks that the output fills exactly the
 * declared length nor that a 4-byte literal length is non-negative (which can loop forever).
 */

interface SnappyJs {
  compress(data: Uint8Array): Buffer;
}

const snappyJs = loadModule<SnappyJs>('snappyjs');

const xerialMagic = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const xerialHeaderBytes = 16;
const xerialVersion = 1;
/** Uncompressed bytes per xerial block, as snappy-java writes by default. */
const xerialBlockBytes = 32 * 1024; // bytes

/** Compresses `data` into one raw snappy block. */
export function snappyCompressRaw(data: Buffer): Buffer {
  return snappyJs.compress(data);
}

/** Compresses `data` with xerial framing, as the Java client does. */
export function snappyCompressXerial(data: Buffer): Buffer {
  const header = Buffer.allocUnsafe(xerialHeaderBytes);
  xerialMagic.copy(header, 0);
  header.writeInt32BE(xerialVersion, 8);
  header.writeInt32BE(xerialVersion, 12);
  const parts: Buffer[] = [header];
  let total = xerialHeaderBytes;
  for (let at = 0; at < data.length; at += xerialBlockBytes) {
    const block = snappyJs.compress(data.subarray(at, at + xerialBlockBytes));
    const length = Buffer.allocUnsafe(4);
    length.writeInt32BE(block.length, 0);
    parts.push(length, block);
    total += 4 + block.length;
  }
  return Buffer.concat(parts, total);
}

/** True when `data` starts with the xerial magic. */
export function isXerialFramed(data: Buffer): boolean {
  return data.length >= xerialMagic.length && data.compare(xerialMagic, 0, 8, 0, 8) === 0;
}

/** Decompresses raw or xerial-framed snappy, refusing output above `decompressedBytesMax`. */
export function snappyDecompress(data: Buffer, decompressedBytesMax: number): Buffer {
  return isXerialFramed(data)
    ? decompressXerial(data, decompressedBytesMax)
    : decompressRaw(data, 0, data.length, decompressedBytesMax);
}

function decompressRaw(data: Buffer, start: number, end: number, decompressedBytesMax: number): Buffer {
  const { length, at } = readPreamble(data, start, end);
  if (length > decompressedBytesMax)
    throw new ProtocolError(`snappy block declares ${length} bytes, above ${decompressedBytesMax}`);
  const out = Buffer.allocUnsafe(length);
  decodeElements(data, at, end, out, 0, length);
  return out;
}

/** Walks the xerial blocks twice: once to sum their declared sizes, once to decode into one buffer. */
function decompressXerial(data: Buffer, decompressedBytesMax: number): Buffer {
  if (data.length < xerialHeaderBytes) throw new ProtocolError('xerial snappy header is truncated');
  let total = 0;
  for (let at = xerialHeaderBytes; at < data.length; ) {
    const end = xerialBlockEnd(data, at);
    total += readPreamble(data, at + 4, end).length;
    if (total > decompressedBytesMax)
      throw new ProtocolError(`xerial snappy declares over ${decompressedBytesMax} bytes`);
    at = end;
  }
  const out = Buffer.allocUnsafe(total);
  let written = 0;
  for (let at = xerialHeaderBytes; at < data.length; ) {
    const end = xerialBlockEnd(data, at);
    const preamble = readPreamble(data, at + 4, end);
    decodeElements(data, preamble.at, end, out, written, written + preamble.length);
    written += preamble.length;
    at = end;
  }
  return out;
}

function xerialBlockEnd(data: Buffer, at: number): number {
  if (data.length - at < 4) throw new ProtocolError('xerial snappy block length is truncated');
  const length = data.readInt32BE(at);
  if (length < 0 || length > data.length - at - 4)
    throw new ProtocolError(`xerial snappy block length ${length} runs past the data`);
  return at + 4 + length;
}

function readPreamble(data: Buffer, start: number, end: number): { length: number; at: number } {
  let length = 0;
  for (let i = 0, at = start; i < 5; i++, at++) {
    if (at >= end) throw new ProtocolError('snappy length preamble is truncated');
    const byte = data[at]!;
    if (i === 4 && byte > 0x0f) throw new ProtocolError('snappy length preamble overflows 32 bits');
    length += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) return { length, at: at + 1 };
  }
  throw new ProtocolError('snappy length preamble is longer than 5 bytes');
}

/** Decodes the elements in data[at, end) into out[outStart, outEnd), which they must fill exactly. */
function decodeElements(
  data: Buffer,
  at: number,
  end: number,
  out: Buffer,
  outStart: number,
  outEnd: number,
) {
  let position = outStart;
  while (at < end) {
    const tag = data[at++]!;
    const kind = tag & 3;
    let length: number;
    if (kind === 0) {
      length = (tag >>> 2) + 1;
      if (length > 60) {
        const lengthBytes = length - 60;
        if (end - at < lengthBytes) throw new ProtocolError('snappy literal length is truncated');
        length = data.readUIntLE(at, lengthBytes) + 1;
        at += lengthBytes;
      }
      if (length > end - at || length > outEnd - position)
        throw new ProtocolError('snappy literal runs past its input or output');
      copyBytes(data, at, out, position, length);
      at += length;
      position += length;
      continue;
    }
    let distance: number;
    if (kind === 1) {
      if (at >= end) throw new ProtocolError('snappy copy is truncated');
      length = ((tag >>> 2) & 7) + 4;
      distance = ((tag >>> 5) << 8) | data[at++]!;
    } else {
      const distanceBytes = kind === 2 ? 2 : 4;
      if (end - at < distanceBytes) throw new ProtocolError('snappy copy is truncated');
      length = (tag >>> 2) + 1;
      distance = data.readUIntLE(at, distanceBytes);
      at += distanceBytes;
    }
    if (distance === 0 || distance > position - outStart || length > outEnd - position)
      throw new ProtocolError('snappy copy reaches outside its output');
    repeatBytes(out, position, distance, length);
    position += length;
  }
  if (position !== outEnd)
    throw new ProtocolError(`snappy block produced ${position - outStart} of ${outEnd - outStart} bytes`);
}

/** Short runs by hand: a native copy call costs more than it saves below a few dozen bytes. */
const nativeCopyBytesMin = 32; // bytes

function copyBytes(from: Buffer, at: number, to: Buffer, position: number, length: number): void {
  if (length >= nativeCopyBytesMin) {
    from.copy(to, position, at, at + length);
    return;
  }
  for (let i = 0; i < length; i++) to[position + i] = from[at + i]!;
}

function repeatBytes(out: Buffer, position: number, distance: number, length: number): void {
  if (distance >= length && length >= nativeCopyBytesMin) {
    out.copyWithin(position, position - distance, position - distance + length);
    return;
  }
  // Overlapping copies repeat the last `distance` bytes, so they must go forward one byte at a time.
  for (let i = 0; i < length; i++) out[position + i] = out[position - distance + i]!;
}
