import type * as ZstdBinding from 'zstd-napi/binding.js';
import { ProtocolError } from '../protocol-error.ts';
import { loadNativeModule, UnsupportedCodecError } from './native-module.ts';

/**
 * Zstandard frames, through zstd-napi. Decompression streams into output chunks whose total never
 * exceeds the limit by more than one byte, so a frame that claims (or really has) a huge output is
 * refused without allocating it. The decoder's window is capped as well (`windowLogMax`, below). A
 * declared content size is trusted only up to the limit, so a lying header can make the decoder
 * allocate up to the limit for a small input: the residual cost of a hostile batch.
 */

interface ZstdNapi {
  compress(data: Uint8Array, parameters?: { compressionLevel?: number }): Buffer;
}

const zstdNapi = loadNativeModule<ZstdNapi>('zstd-napi');
const binding = loadNativeModule<typeof ZstdBinding>('zstd-napi/binding');

/** Whether zstd-napi loaded on this host. */
export const zstdAvailable = zstdNapi !== undefined && binding !== undefined;

/**
 * 16 MiB windows bound the decoder's memory when it streams. A frame that declares its content size
 * (within the limit) is decoded in one pass into its output buffer, which then serves as the window;
 * only a frame without a declared size whose window exceeds 16 MiB (ultra levels or long mode on a
 * records section above 16 MiB) is refused.
 */
const windowLogMax = 24;
/** Output chunk size when a frame does not declare its content size. */
const chunkBytesMin = 128 * 1024; // bytes

const unavailable = 'zstd is not available on this host: its native module zstd-napi did not load';

let context: ZstdBinding.DCtx | undefined;

function decoder(): { context: ZstdBinding.DCtx; binding: typeof ZstdBinding } {
  if (binding === undefined) throw new UnsupportedCodecError(unavailable);
  if (context === undefined) {
    context = new binding.DCtx();
    context.setParameter(binding.DParameter.windowLogMax, windowLogMax);
  }
  // A previous call may have stopped mid-frame on bad input; start clean.
  context.reset(binding.ResetDirective.sessionOnly);
  return { context, binding };
}

export function zstdCompress(data: Buffer): Buffer {
  if (zstdNapi === undefined) throw new UnsupportedCodecError(unavailable);
  return zstdNapi.compress(data);
}

/** Where a streaming decode stands: output so far, input left, and the library's flush hint. */
interface DecodeState {
  readonly chunks: Buffer[];
  total: number;
  rest: Buffer;
  /** Bytes the library still has to flush; 0 once a frame is complete. */
  pending: number;
}

function startDecode(data: Buffer): DecodeState {
  if (data.length === 0) throw new ProtocolError('zstd data is empty');
  return { chunks: [], total: 0, rest: data, pending: 1 };
}

function decodeDone(state: DecodeState): boolean {
  return state.rest.length === 0 && state.pending === 0;
}

/** Decodes into one output chunk of at most `chunkBytes`, never passing the limit by more than a byte. */
function decodeStep(dctx: ZstdBinding.DCtx, state: DecodeState, chunkBytes: number, bytesMax: number): void {
  const chunk = Buffer.allocUnsafe(Math.min(chunkBytes, bytesMax - state.total + 1));
  const [hint, produced, consumed] = callLibrary(() => dctx.decompressStream(chunk, state.rest));
  if (produced === 0 && consumed === 0) throw new ProtocolError('zstd frame is truncated');
  state.total += produced;
  if (state.total > bytesMax) throw new ProtocolError(`zstd output is above ${bytesMax} bytes`);
  if (produced > 0) state.chunks.push(chunk.subarray(0, produced));
  state.rest = state.rest.subarray(consumed);
  state.pending = hint;
}

function decodeResult(state: DecodeState): Buffer {
  return state.chunks.length === 1 ? state.chunks[0]! : Buffer.concat(state.chunks, state.total);
}

export function zstdDecompress(data: Buffer, decompressedBytesMax: number): Buffer {
  const state = startDecode(data);
  const zstd = decoder();
  let chunkBytes = firstChunkBytes(zstd.binding, data, decompressedBytesMax);
  while (!decodeDone(state)) {
    decodeStep(zstd.context, state, chunkBytes, decompressedBytesMax);
    chunkBytes = Math.max(chunkBytesMin, state.rest.length * 4);
  }
  return decodeResult(state);
}

/**
 * Output chunk size of the asynchronous decoder: it yields to the event loop after each chunk, so no
 * single step of a 64 MiB frame holds the loop for more than a few milliseconds.
 */
const asyncChunkBytes = 4 * 1024 * 1024; // bytes

/**
 * zstdDecompress in steps of at most asyncChunkBytes of output with the event loop free between them
 * (zstd-napi has no asynchronous decoder). One decoder context per call, as calls may interleave.
 */
export async function zstdDecompressAsync(data: Buffer, decompressedBytesMax: number): Promise<Buffer> {
  const state = startDecode(data);
  if (binding === undefined) throw new UnsupportedCodecError(unavailable);
  const own = new binding.DCtx();
  own.setParameter(binding.DParameter.windowLogMax, windowLogMax);
  while (!decodeDone(state)) {
    decodeStep(own, state, asyncChunkBytes, decompressedBytesMax);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return decodeResult(state);
}

/** The declared content size when the first frame has one (exact fit, no join), else a guess. */
function firstChunkBytes(zstd: typeof ZstdBinding, data: Buffer, decompressedBytesMax: number): number {
  let declared: number | null = null;
  try {
    declared = zstd.getFrameContentSize(data);
  } catch {
    // Malformed headers are reported by the decoder itself.
  }
  if (declared !== null && declared <= decompressedBytesMax) return Math.max(declared, 1);
  return Math.max(chunkBytesMin, data.length * 4);
}

function callLibrary<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw new ProtocolError(`zstd: ${(error as Error).message}`, { cause: error });
  }
}
