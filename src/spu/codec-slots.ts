/**
 * A bound on the (de)compressions one SPU runs at once. Each may hold up to
 * limits.batchDecompressedBytesMax of output, so without a bound every connection sending a
 * decompression bomb would add its own such buffer; with it, others wait their turn in order.
 */
export class CodecSlots {
  readonly #slotsMax: number;
  #busy = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(slotsMax: number) {
    if (!(slotsMax >= 1)) throw new RangeError(`codec slots must be at least 1, not ${slotsMax}`);
    this.#slotsMax = slotsMax;
  }

  /** Runs `work` once a slot is free, and frees it when `work` settles. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#busy >= this.#slotsMax) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#busy++;
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next === undefined) this.#busy--;
      else next(); // the slot passes straight to the next in line
    }
  }

  /** Slots in use, for tests and metrics. */
  get busy(): number {
    return this.#busy;
  }
}
