/**
 * A fixed-rate publish schedule, as OMB's producers keep: message i is due at start + i / rate.
 * The sender asks how many messages are due now and takes them one by one; each taken message
 * reports how late it left against its slot (the publish delay). A producer that falls behind —
 * because the system under test pushes back — accumulates publish delay instead of silently
 * sending fewer messages, which guards the latency figures against coordinated omission.
 */

export class RateSchedule {
  readonly #startNs: bigint;
  readonly #intervalNs: number;
  #taken = 0;

  /** `ratePerSecond` messages per second starting at `startNs` (a `process.hrtime.bigint()` value). */
  constructor(ratePerSecond: number, startNs: bigint) {
    if (!(ratePerSecond > 0)) throw new Error(`rate must be positive, got ${ratePerSecond}`);
    this.#startNs = startNs;
    this.#intervalNs = 1e9 / ratePerSecond;
  }

  /** Messages taken so far. */
  get taken(): number {
    return this.#taken;
  }

  /** When message `index` is due, in hrtime nanoseconds. */
  dueAtNs(index: number): bigint {
    return this.#startNs + BigInt(Math.round(index * this.#intervalNs));
  }

  /** How many messages are due at `nowNs` and not yet taken. */
  due(nowNs: bigint): number {
    if (nowNs < this.#startNs) return 0;
    const elapsedNs = Number(nowNs - this.#startNs);
    const dueTotal = Math.floor(elapsedNs / this.#intervalNs) + 1;
    return Math.max(0, dueTotal - this.#taken);
  }

  /** Takes the next message, sent at `nowNs`; returns how late it is in nanoseconds (never negative). */
  take(nowNs: bigint): number {
    const dueAt = this.dueAtNs(this.#taken);
    this.#taken++;
    return nowNs > dueAt ? Number(nowNs - dueAt) : 0;
  }

  /** Nanoseconds until the next message is due (0 when one is due already). */
  waitNs(nowNs: bigint): number {
    const dueAt = this.dueAtNs(this.#taken);
    return dueAt > nowNs ? Number(dueAt - nowNs) : 0;
  }
}
