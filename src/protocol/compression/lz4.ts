import { ProtocolError } from '../protocol-error.ts';
import { loadNativeModule, UnsupportedCodecError } from './native-module.ts';

/**
 * LZ4 frames (the standard frame format; the broken header checksum of old Kafka clients only ever
 * applied to message format v0/v1, never to v2 batches). Compression and decompression are done by
 * lz4-napi; this module walks the frame structure first, because lz4-napi neither bounds its output
 * nor rejects truncated frames.
 *
 * Frame layout (little-endian):
 *
 *   size  field
 *      4  magic 0x184D2204
 *      1  FLG: bits 7-6 version (01), bit 5 block independence, bit 4 block checksums,
 *              bit 3 content size present, bit 2 content checksum, bit 1 reserved (0), bit 0 dict id
 *      1  BD:  bits 6-4 block maximum size (4 = 64 KiB, 5 = 256 KiB, 6 = 1 MiB, 7 = 4 MiB), others 0
 *      8  content size, if FLG bit 3
 *      4  dictionary id, if FLG bit 0
 *      1  header checksum
 *         blocks, each: uint32 size (bit 31 set = stored uncompressed, 0 = end mark), data,
 *                       4-byte checksum if FLG bit 4
 *      4  content checksum, if FLG bit 2
 *
 * Kafka clients send exactly one frame per batch, and lz4-napi decodes only the first of several
 * and no skippable frames, so anything but one frame is refused rather than partly decoded.
 *
 * Bounding the output: a compressed block decodes to at most the frame's block maximum size and a
 * stored block to exactly its size, so their sum bounds the output before anything is decoded. The
 * bound exceeds the real size by less than one block (at most 4 MiB), so a batch whose records come
 * within one block of the limit may be refused even though it would fit.
 */

interface Lz4Napi {
  compressFrameSync(data: Buffer): Buffer;
  decompressFrameSync(data: Buffer): Buffer;
  compressFrame(data: Uint8Array): Promise<Buffer>;
  decompressFrame(data: Uint8Array): Promise<Buffer>;
}

const lz4Napi = loadNativeModule<Lz4Napi>('lz4-napi');

/** Whether lz4-napi loaded on this host. */
export const lz4Available = lz4Napi !== undefined;

const frameMagic = 0x184d2204;
const storedBlockBit = 0x80000000;
const flags = Object.freeze({ blockChecksum: 0x10, contentSize: 0x08, contentChecksum: 0x04, dictId: 0x01 });

function library(): Lz4Napi {
  if (lz4Napi === undefined)
    throw new UnsupportedCodecError(
      'lz4 is not available on this host: its native module lz4-napi did not load',
    );
  return lz4Napi;
}

export function lz4Compress(data: Buffer): Buffer {
  return library().compressFrameSync(data);
}

export function lz4CompressAsync(data: Buffer): Promise<Buffer> {
  return library().compressFrame(data);
}

export function lz4Decompress(data: Buffer, decompressedBytesMax: number): Buffer {
  lz4CheckFrame(data, decompressedBytesMax);
  return checkOutput(library().decompressFrameSync(data), decompressedBytesMax);
}

export async function lz4DecompressAsync(data: Buffer, decompressedBytesMax: number): Promise<Buffer> {
  lz4CheckFrame(data, decompressedBytesMax);
  return checkOutput(await library().decompressFrame(data), decompressedBytesMax);
}

function checkOutput(output: Buffer, decompressedBytesMax: number): Buffer {
  if (output.length > decompressedBytesMax)
    throw new ProtocolError(`lz4 output of ${output.length} bytes is above ${decompressedBytesMax}`);
  return output;
}

/**
 * Checks that `data` is exactly one complete frame and that its output cannot exceed
 * `decompressedBytesMax`. Returns the bound on the output size.
 */
export function lz4CheckFrame(data: Buffer, decompressedBytesMax: number): number {
  need(data, 0, 4);
  const magic = data.readUInt32LE(0);
  if (magic !== frameMagic) throw new ProtocolError(`bad lz4 frame magic 0x${magic.toString(16)}`);
  const frame = walkFrame(data, 4, decompressedBytesMax);
  if (frame.end !== data.length) throw new ProtocolError('bytes follow the lz4 frame');
  return frame.bound;
}

/** Walks one frame after its magic; returns where it ends and the bound on its output. */
function walkFrame(data: Buffer, at: number, budgetBytes: number): { end: number; bound: number } {
  need(data, at, 2);
  const flg = data[at]!;
  const bd = data[at + 1]!;
  const blockSizeId = (bd >>> 4) & 7;
  if (flg >>> 6 !== 1 || (flg & 0x02) !== 0 || (bd & 0x8f) !== 0 || blockSizeId < 4)
    throw new ProtocolError('unsupported lz4 frame descriptor');
  const blockBytesMax = 1 << (8 + 2 * blockSizeId);
  at += 2 + (flg & flags.contentSize ? 8 : 0) + (flg & flags.dictId ? 4 : 0) + 1;
  const checksumBytes = flg & flags.blockChecksum ? 4 : 0;
  let bound = 0;
  for (;;) {
    need(data, at, 4);
    const size = data.readUInt32LE(at);
    at += 4;
    if (size === 0) break;
    const blockBytes = (size & ~storedBlockBit) >>> 0;
    if (blockBytes > blockBytesMax) throw new ProtocolError('lz4 block is larger than its frame allows');
    need(data, at, blockBytes + checksumBytes);
    at += blockBytes + checksumBytes;
    bound += size & storedBlockBit ? blockBytes : blockBytesMax;
    if (bound > budgetBytes) throw new ProtocolError('lz4 frame may decompress above the batch limit');
  }
  if (flg & flags.contentChecksum) at += 4;
  need(data, at, 0);
  return { end: at, bound };
}

function need(data: Buffer, at: number, bytes: number): void {
  if (at + bytes > data.length) throw new ProtocolError('lz4 frame is truncated');
}
