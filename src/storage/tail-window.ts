/**
 * The in-memory window of a log's most recent batches, so consumers and followers at the tail are
 * served without touching the disk. Batches are kept as the views written to the segment; the window
 * always ends at the log end offset. Memory is bounded twice: per log (`tailWindowBytes`) and across
 * all logs of a LogManager by a shared `TailBudget` that empties the least recently appended windows.
 */
export class TailBudget {
  readonly bytesMax: number;
  #bytes = 0;
  /** Insertion order is recency order of appends. */
  readonly #windows = new Map<TailWindow, number>();

  constructor(bytesMax: number) {
    this.bytesMax = bytesMax;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Records a window's new size and empties the least recently used windows while over budget. */
  update(window: TailWindow, bytes: number): void {
    this.#bytes += bytes - (this.#windows.get(window) ?? 0);
    this.#windows.delete(window);
    if (bytes > 0) this.#windows.set(window, bytes);
    for (const [other] of this.#windows) {
      if (this.#bytes <= this.bytesMax) break;
      if (other !== window) other.clear();
    }
    if (this.#bytes > this.bytesMax) window.trimTo(Math.max(0, bytes - (this.#bytes - this.bytesMax)));
  }
}

export interface TailRead {
  readonly batches: Buffer[];
  readonly bytes: number;
}

export class TailWindow {
  readonly #budget: TailBudget | undefined;
  #bytesMax: number;
  #batches: Buffer[] = [];
  #baseOffsets: bigint[] = [];
  #lastOffsets: bigint[] = [];
  #first = 0;
  #bytes = 0;

  constructor(bytesMax: number, budget?: TailBudget) {
    this.#bytesMax = bytesMax;
    this.#budget = budget;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** First offset the window can serve, or undefined when it is empty. */
  get firstOffset(): bigint | undefined {
    return this.#baseOffsets[this.#first];
  }

  setBytesMax(bytesMax: number): void {
    this.#bytesMax = bytesMax;
    this.trimTo(bytesMax);
  }

  /** Adds batches that were just appended at the log end. */
  push(batch: Buffer, baseOffset: bigint, lastOffset: bigint): void {
    if (batch.length > this.#bytesMax) {
      this.clear();
      return;
    }
    this.#batches.push(batch);
    this.#baseOffsets.push(baseOffset);
    this.#lastOffsets.push(lastOffset);
    this.#bytes += batch.length;
  }

  /** Ends a group of pushes: trims to the bounds. */
  settle(): void {
    this.trimTo(this.#bytesMax);
    this.#budget?.update(this, this.#bytes);
  }

  /** Drops the oldest batches until at most `bytes` remain. */
  trimTo(bytes: number): void {
    while (this.#bytes > bytes && this.#first < this.#batches.length) {
      this.#bytes -= this.#batches[this.#first]!.length;
      this.#first += 1;
    }
    if (this.#first > 64 && this.#first * 2 > this.#batches.length) this.#compact();
  }

  clear(): void {
    this.#batches = [];
    this.#baseOffsets = [];
    this.#lastOffsets = [];
    this.#first = 0;
    this.#bytes = 0;
    this.#budget?.update(this, 0);
  }

  /**
   * Batches from the one holding `fromOffset` on, whole, each ending below `upperBound`, within
   * `maxBytes` except that the first is always included when `minOneBatch`. Undefined when the window
   * does not reach back to `fromOffset`.
   */
  read(fromOffset: bigint, maxBytes: number, upperBound: bigint, minOneBatch: boolean): TailRead | undefined {
    const firstOffset = this.firstOffset;
    if (firstOffset === undefined || fromOffset < firstOffset) return undefined;
    let index = this.#findBatch(fromOffset);
    const batches: Buffer[] = [];
    let bytes = 0;
    for (; index < this.#batches.length; index++) {
      if (this.#lastOffsets[index]! >= upperBound) break;
      const batch = this.#batches[index]!;
      if (bytes + batch.length > maxBytes && (batches.length > 0 || !minOneBatch)) break;
      batches.push(batch);
      bytes += batch.length;
    }
    return { batches, bytes };
  }

  /** Index of the first batch whose last offset is at or above `offset`. */
  #findBatch(offset: bigint): number {
    let low = this.#first;
    let high = this.#batches.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#lastOffsets[middle]! < offset) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  #compact(): void {
    this.#batches.splice(0, this.#first);
    this.#baseOffsets.splice(0, this.#first);
    this.#lastOffsets.splice(0, this.#first);
    this.#first = 0;
  }
}
