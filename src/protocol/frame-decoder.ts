import { limits } from '../base/limits.ts';
import { ProtocolError } from './protocol-error.ts';

/**
 * Splits a byte stream into Kafka frames.
 *
 * Wire layout, repeated:
 *
 *   offset  size  field
 *        0     4  length, int32 big-endian, bytes that follow (0 ≤ length ≤ frameBytesMax)
 *        4     N  the frame (a request or response)
 *
 * `push` returns the frames (without their prefix) that each chunk completes. A frame lying within
 * one chunk is returned as a view of that chunk, without copying; only a frame split across chunks
 * is copied, once, into a buffer allocated when its prefix is complete (as Kafka brokers do). So the
 * decoder holds at most one frame plus a 4-byte prefix.
 *
 * A negative length or one above `frameBytesMax` throws ProtocolError as soon as its four bytes have
 * arrived, before anything is allocated for it; the decoder then stays failed (the stream cannot be
 * resynchronised), and frames earlier in the same chunk are not returned: the caller closes the
 * connection.
 *
 * Returning an array rather than calling back per frame: callers queue frames anyway (pipelined
 * requests wait their turn), the array costs one allocation per chunk, not per frame, and a failing
 * consumer cannot leave the decoder half-way through a chunk.
 */

export const frameDecoderDefaults = Object.freeze({
  /** Largest frame accepted, excluding its 4-byte length prefix. */
  frameBytesMax: limits.frameBytesMax, // bytes
});

export interface FrameDecoderOptions {
  readonly frameBytesMax?: number;
  /**
   * Gives the buffer for a frame split across chunks, or undefined when none can be had now (a
   * memory budget is spent): the decoder then stalls, keeping what it has not decoded, until
   * `retry` finds a buffer. Without it every split frame gets its buffer at once.
   */
  readonly allocate?: (bytes: number) => Buffer | undefined;
}

const prefixBytes = 4;

export class FrameDecoder {
  readonly frameBytesMax: number;
  /** The prefix of the next frame while fewer than 4 of its bytes have arrived. */
  readonly #prefix = Buffer.alloc(prefixBytes);
  #prefixFilled = 0;
  /** The frame being joined from several chunks, and how much of it has arrived. */
  #frame: Buffer | undefined;
  #frameFilled = 0;
  #failed = false;
  readonly #allocate: (bytes: number) => Buffer | undefined;
  /** While stalled: the length of the frame waiting for a buffer, and the bytes after its prefix. */
  #stalledLength = -1;
  #stalledRest: Buffer[] = [];

  constructor(options: FrameDecoderOptions = {}) {
    this.frameBytesMax = options.frameBytesMax ?? frameDecoderDefaults.frameBytesMax;
    // Filled completely before anyone sees it, so uninitialised memory never leaks out.
    this.#allocate = options.allocate ?? ((bytes) => Buffer.allocUnsafe(bytes));
  }

  /** Whether a split frame waits for a buffer (see FrameDecoderOptions.allocate). */
  get stalled(): boolean {
    return this.#stalledLength >= 0;
  }

  /** Tries again to get the stalled frame's buffer; returns the frames that then complete. */
  retry(): Buffer[] {
    if (this.#stalledLength < 0) return [];
    const frame = this.#allocate(this.#stalledLength);
    if (frame === undefined) return [];
    const rest = Buffer.concat(this.#stalledRest);
    this.#stalledLength = -1;
    this.#stalledRest = [];
    this.#frame = frame;
    this.#frameFilled = 0;
    return this.push(rest);
  }

  /** Bytes received but not yet returned as part of a frame. */
  get bufferedBytes(): number {
    let stalled = 0;
    for (const chunk of this.#stalledRest) stalled += chunk.length;
    return this.#prefixFilled + this.#frameFilled + stalled;
  }

  /** Length of the frame being joined, or -1 when no split frame is pending. */
  get pendingFrameBytes(): number {
    return this.#frame === undefined ? -1 : this.#frame.length;
  }

  push(chunk: Buffer): Buffer[] {
    if (this.#failed) throw new ProtocolError('the stream had unreadable framing earlier');
    if (this.#stalledLength >= 0) {
      this.#stalledRest.push(chunk);
      return [];
    }
    const frames: Buffer[] = [];
    let at = this.#prefixFilled > 0 || this.#frame !== undefined ? this.#resume(chunk, frames) : 0;
    if (at < 0) return frames;
    const end = chunk.length;
    while (end - at >= prefixBytes) {
      const length = this.#checkLength(chunk.readInt32BE(at));
      const start = at + prefixBytes;
      if (end - start < length) {
        this.#startFrame(chunk, start, length);
        return frames;
      }
      at = start + length;
      frames.push(chunk.subarray(start, at));
    }
    if (at < end) this.#prefixFilled = chunk.copy(this.#prefix, 0, at, end);
    return frames;
  }

  /**
   * Continues a split prefix or frame with the start of `chunk`. Returns where the rest of the chunk
   * begins, or -1 when the chunk was used up without finishing the pending frame.
   */
  #resume(chunk: Buffer, frames: Buffer[]): number {
    let at = 0;
    if (this.#frame === undefined) {
      at = chunk.copy(this.#prefix, this.#prefixFilled, 0, prefixBytes - this.#prefixFilled);
      this.#prefixFilled += at;
      if (this.#prefixFilled < prefixBytes) return -1;
      this.#prefixFilled = 0;
      const length = this.#checkLength(this.#prefix.readInt32BE(0));
      if (chunk.length - at >= length) {
        frames.push(chunk.subarray(at, at + length));
        return at + length;
      }
      this.#startFrame(chunk, at, length);
      return -1;
    }
    const frame = this.#frame;
    const copied = chunk.copy(frame, this.#frameFilled, 0, frame.length - this.#frameFilled);
    this.#frameFilled += copied;
    if (this.#frameFilled < frame.length) return -1;
    this.#frame = undefined;
    this.#frameFilled = 0;
    frames.push(frame);
    return copied;
  }

  #startFrame(chunk: Buffer, start: number, length: number): void {
    const frame = this.#allocate(length);
    if (frame === undefined) {
      this.#stalledLength = length;
      this.#stalledRest = [chunk.subarray(start)];
      return;
    }
    this.#frameFilled = chunk.copy(frame, 0, start);
    this.#frame = frame;
  }

  #checkLength(length: number): number {
    if (length < 0 || length > this.frameBytesMax) {
      this.#failed = true;
      throw new ProtocolError(`frame length ${length} is outside 0..${this.frameBytesMax}`);
    }
    return length;
  }
}
