import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { limits } from '../../base/limits.ts';
import { ProtocolError } from '../protocol-error.ts';
import { lz4Available, lz4Compress, lz4CompressAsync, lz4Decompress, lz4DecompressAsync } from './lz4.ts';
import { missingNativeModules, UnsupportedCodecError } from './native-module.ts';
import { snappyCompressRaw, snappyCompressXerial, snappyDecompress } from './snappy.ts';
import { zstdAvailable, zstdCompress, zstdDecompress, zstdDecompressAsync } from './zstd.ts';

/**
 * The compression codecs of Kafka record batches, chosen by bits 0-2 of the batch attributes:
 * 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd; 5-7 are unassigned and refused. Every decompression is
 * bounded by `decompressedBytesMax` (see each codec's module for how), and every failure of a
 * codec library on outside input becomes a ProtocolError.
 *
 * Synchronous calls suit small batches; the async variants move gzip and lz4 work off the event loop
 * and decode zstd in steps that yield to it (its library has no async decoder); snappy runs
 * synchronously in both.
 */

export const codecIds = Object.freeze({ none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const);

export type Codec = keyof typeof codecIds;

const codecsById: readonly Codec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export const compressionDefaults = Object.freeze({
  /** Largest output one decompression may produce. */
  decompressedBytesMax: limits.batchDecompressedBytesMax, // bytes
  /** Snappy as the Java client writes it (xerial framing) rather than one raw block. */
  snappyFraming: 'xerial' as SnappyFraming,
});

export type SnappyFraming = 'xerial' | 'raw';

export interface CompressOptions {
  readonly snappyFraming?: SnappyFraming;
}

export interface DecompressOptions {
  readonly decompressedBytesMax?: number;
}

export { UnsupportedCodecError };

/** The package each native codec needs; the others are built in or pure JavaScript. */
const nativePackages: Partial<Record<Codec, string>> = { lz4: 'lz4-napi', zstd: 'zstd-napi' };

export function codecAvailable(codec: Codec): boolean {
  if (codec === 'zstd') return zstdAvailable;
  if (codec === 'lz4') return lz4Available;
  return true;
}

/** Why `codec` cannot be used on this host, or undefined when it can. */
export function codecUnavailableReason(codec: Codec): string | undefined {
  if (codecAvailable(codec)) return undefined;
  return `${codec} is not available on this host: its native module ${nativePackages[codec]} did not load`;
}

/** Throws UnsupportedCodecError unless `codec` can be used on this host. */
export function requireCodec(codec: Codec): void {
  const reason = codecUnavailableReason(codec);
  if (reason !== undefined) throw new UnsupportedCodecError(reason);
}

/**
 * What is missing on this host, for one warning at start: the codecs that cannot be used, and
 * whether CRC32C falls back to the portable (slower) implementation.
 */
export function nativeCodecReport(): { codecsUnavailable: Codec[]; modulesMissing: readonly string[] } {
  const codecsUnavailable = (Object.keys(codecIds) as Codec[]).filter((codec) => !codecAvailable(codec));
  return { codecsUnavailable, modulesMissing: missingNativeModules() };
}

/** The codec named by the low three bits of `attributes`; ProtocolError for unassigned values. */
export function codecFromAttributes(attributes: number): Codec {
  const codec = codecsById[attributes & 0x07];
  if (codec === undefined) throw new ProtocolError(`unknown compression codec ${attributes & 0x07}`);
  return codec;
}

export function compress(codec: Codec, data: Buffer, options: CompressOptions = {}): Buffer {
  switch (codec) {
    case 'none':
      return data;
    case 'gzip':
      return zlib.gzipSync(data);
    case 'snappy':
      return snappyFraming(options) === 'xerial' ? snappyCompressXerial(data) : snappyCompressRaw(data);
    case 'lz4':
      return lz4Compress(data);
    case 'zstd':
      return zstdCompress(data);
  }
}

export function decompress(codec: Codec, data: Buffer, options: DecompressOptions = {}): Buffer {
  const bytesMax = options.decompressedBytesMax ?? compressionDefaults.decompressedBytesMax;
  return guard(codec, () => {
    switch (codec) {
      case 'none':
        return data;
      case 'gzip':
        return zlib.gunzipSync(data, { maxOutputLength: Math.max(bytesMax, 1) });
      case 'snappy':
        return snappyDecompress(data, bytesMax);
      case 'lz4':
        return lz4Decompress(data, bytesMax);
      case 'zstd':
        return zstdDecompress(data, bytesMax);
    }
  });
}

const gzipAsync = promisify(zlib.gzip);
const gunzipAsync = promisify(zlib.gunzip);

export async function compressAsync(
  codec: Codec,
  data: Buffer,
  options: CompressOptions = {},
): Promise<Buffer> {
  if (codec === 'gzip') return gzipAsync(data);
  if (codec === 'lz4') return lz4CompressAsync(data);
  return compress(codec, data, options);
}

export async function decompressAsync(
  codec: Codec,
  data: Buffer,
  options: DecompressOptions = {},
): Promise<Buffer> {
  const bytesMax = options.decompressedBytesMax ?? compressionDefaults.decompressedBytesMax;
  try {
    if (codec === 'gzip') return await gunzipAsync(data, { maxOutputLength: Math.max(bytesMax, 1) });
    if (codec === 'lz4') return await lz4DecompressAsync(data, bytesMax);
    if (codec === 'zstd') return await zstdDecompressAsync(data, bytesMax);
  } catch (error) {
    throw asProtocolError(codec, error);
  }
  return decompress(codec, data, options);
}

function snappyFraming(options: CompressOptions): SnappyFraming {
  return options.snappyFraming ?? compressionDefaults.snappyFraming;
}

function guard(codec: Codec, decode: () => Buffer): Buffer {
  try {
    return decode();
  } catch (error) {
    throw asProtocolError(codec, error);
  }
}

function asProtocolError(codec: Codec, error: unknown): ProtocolError {
  if (error instanceof ProtocolError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ProtocolError(`${codec} decompression failed: ${message}`, { cause: error });
}
