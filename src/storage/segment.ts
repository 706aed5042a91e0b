import { assert } from '../base/assert.ts';
import { batchHeader } from '../protocol/batch-header.ts';
import { type StorageFs, writeFileDurable } from './fs.ts';
import { OffsetIndex, offsetIndexProblem } from './offset-index.ts';
import { TimeIndex, timeIndexProblem } from './time-index.ts';

/**
 * One segment of a partition log: `<base>.log` holds Kafka v2 record batches exactly as received
 * (each batch: 8-byte baseOffset, 4-byte batchLength, then batchLength bytes; see batch-header.ts),
 * back to back with no framing of our own, beside its sparse `<base>.index` and `<base>.timeindex`
 * (layouts in offset-index.ts and time-index.ts). `<base>` is the first offset the segment may hold,
 * as 20 zero-padded decimal digits.
 *
 * This class holds the segment's in-memory state; file I/O goes through the log's handle cache.
 */
export const segmentSuffixes = Object.freeze({ log: '.log', index: '.index', timeIndex: '.timeindex' });

const baseOffsetDigits = 20;

export function segmentBaseName(baseOffset: bigint): string {
  return baseOffset.toString().padStart(baseOffsetDigits, '0');
}

/** Base offset named by a segment file name such as `00000000000000000042.log`, or undefined. */
export function parseSegmentFileName(name: string): { baseOffset: bigint; suffix: string } | undefined {
  const match = /^(\d{20})(\.log|\.index|\.timeindex)$/.exec(name);
  if (match === null) return undefined;
  return { baseOffset: BigInt(match[1]!), suffix: match[2]! };
}

/** What the log knows about a batch it just wrote or scanned. */
export interface BatchPlacement {
  readonly baseOffset: bigint;
  readonly lastOffset: bigint;
  readonly position: number;
  readonly bytes: number;
  readonly maxTimestamp: bigint;
}

export function placementOf(batch: Buffer, position: number): BatchPlacement {
  const baseOffset = batch.readBigInt64BE(batchHeader.baseOffset);
  return {
    baseOffset,
    lastOffset: baseOffset + BigInt(batch.readInt32BE(batchHeader.lastOffsetDelta)),
    position,
    bytes: batch.length,
    maxTimestamp: batch.readBigInt64BE(batchHeader.maxTimestamp),
  };
}

export class Segment {
  readonly baseOffset: bigint;
  readonly dir: string;
  /** Bytes of valid batches. */
  size: number;
  /** Offset after the last batch (the base offset when empty); exact for the active segment. */
  nextOffset: bigint;
  /** Largest batch timestamp, -1n when unknown or empty. */
  maxTimestamp = -1n;
  /** Clock time (monotonic ms) of the first append, for segment.ms. */
  firstAppendMs: number | undefined;
  #offsetIndex: OffsetIndex | undefined;
  #timeIndex: TimeIndex | undefined;
  #bytesSinceIndexEntry = 0;

  constructor(dir: string, baseOffset: bigint, size: number) {
    this.dir = dir;
    this.baseOffset = baseOffset;
    this.size = size;
    this.nextOffset = baseOffset;
  }

  get logPath(): string {
    return this.#path(segmentSuffixes.log);
  }

  get indexPath(): string {
    return this.#path(segmentSuffixes.index);
  }

  get timeIndexPath(): string {
    return this.#path(segmentSuffixes.timeIndex);
  }

  get indexesLoaded(): boolean {
    return this.#offsetIndex !== undefined;
  }

  /** The offset index; callers load it first (ensureIndexes) unless the segment is active. */
  get offsetIndex(): OffsetIndex {
    assert(this.#offsetIndex !== undefined, `indexes of segment ${this.baseOffset} are not loaded`);
    return this.#offsetIndex;
  }

  get timeIndex(): TimeIndex {
    assert(this.#timeIndex !== undefined, `indexes of segment ${this.baseOffset} are not loaded`);
    return this.#timeIndex;
  }

  /** Entries in the offset index (0 when not loaded). */
  get indexEntries(): number {
    return this.#offsetIndex?.entries ?? 0;
  }

  /** Starts empty indexes, to be filled by `noteBatch` (a new segment or a rebuild). */
  resetIndexes(): void {
    this.#offsetIndex = new OffsetIndex(this.baseOffset);
    this.#timeIndex = new TimeIndex(this.baseOffset);
    this.#bytesSinceIndexEntry = 0;
    this.maxTimestamp = -1n;
  }

  /** Set while the segment is (or is becoming) the active one: its indexes exist only in memory. */
  indexesPinned = false;

  /** Frees index memory of a closed segment; it loads again from its files when needed. */
  dropIndexes(): void {
    if (this.indexesPinned) return;
    this.#offsetIndex = undefined;
    this.#timeIndex = undefined;
  }

  /**
   * Installs indexes read from files when they are sound for this segment; returns why not otherwise
   * (the caller then rebuilds them by scanning).
   */
  adoptIndexes(
    offsetContent: Buffer | undefined,
    timeContent: Buffer | undefined,
    entriesMax: number,
  ): string | undefined {
    if (offsetContent === undefined || timeContent === undefined) return 'index file missing';
    const problem =
      offsetIndexProblem(offsetContent, this.size, entriesMax) ?? timeIndexProblem(timeContent, entriesMax);
    if (problem !== undefined) return problem;
    if (this.size > 0 && timeContent.length === 0) return 'time index empty for a non-empty segment';
    this.#offsetIndex = new OffsetIndex(this.baseOffset, offsetContent);
    this.#timeIndex = new TimeIndex(this.baseOffset, timeContent);
    this.maxTimestamp = this.#timeIndex.lastTimestamp;
    this.#bytesSinceIndexEntry = 0;
    return undefined;
  }

  /** Takes the indexes (and what they imply) of a copy built by scanning this segment's file. */
  adoptBuilt(built: Segment): void {
    this.#offsetIndex = built.offsetIndex;
    this.#timeIndex = built.timeIndex;
    this.#bytesSinceIndexEntry = built.#bytesSinceIndexEntry;
    this.maxTimestamp = built.maxTimestamp;
    this.size = built.size;
    this.nextOffset = built.nextOffset;
  }

  /** Accounts for a batch written or scanned at the end of the segment: indexes, size, next offset. */
  noteBatch(placement: BatchPlacement, indexIntervalBytes: number): void {
    const offsetIndex = this.offsetIndex;
    const due = this.#bytesSinceIndexEntry >= indexIntervalBytes;
    if (due && placement.position > offsetIndex.lastPosition) {
      offsetIndex.append(placement.baseOffset, placement.position);
      this.timeIndex.maybeAppend(this.maxTimestamp, placement.baseOffset);
      this.#bytesSinceIndexEntry = 0;
    }
    this.#bytesSinceIndexEntry += placement.bytes;
    if (placement.maxTimestamp > this.maxTimestamp) this.maxTimestamp = placement.maxTimestamp;
    this.size = placement.position + placement.bytes;
    this.nextOffset = placement.lastOffset + 1n;
  }

  /** After the log was cut at `position` (ending at `nextOffset`), drops index entries beyond it. */
  truncateIndexes(position: number, nextOffset: bigint): void {
    this.offsetIndex.truncateToPosition(position);
    this.timeIndex.truncateToOffset(nextOffset);
    this.size = position;
    this.nextOffset = nextOffset;
    this.#bytesSinceIndexEntry = Number.MAX_SAFE_INTEGER; // next batch gets an entry: cheap and safe
  }

  /** Writes both index files (the segment is closing), with the final time index entry. */
  async writeIndexes(fs: StorageFs): Promise<void> {
    const timeIndex = this.timeIndex;
    if (this.size > 0)
      timeIndex.maybeAppend(this.maxTimestamp < 0n ? 0n : this.maxTimestamp, this.nextOffset);
    await writeFileDurable(fs, this.indexPath, Buffer.from(this.offsetIndex.bytes()));
    await writeFileDurable(fs, this.timeIndexPath, Buffer.from(timeIndex.bytes()));
  }

  #path(suffix: string): string {
    return `${this.dir}/${segmentBaseName(this.baseOffset)}${suffix}`;
  }
}
