import type { RequestMemory } from './request-memory.ts';

/**
 * Bytes of responses one connection holds: reserved by handlers about to build a large response,
 * built and waiting for an earlier response (responses leave in request order), or written and not
 * yet taken by the client. A handler reserves before it reads (`reserve`), so a client that pipelines
 * many fetches and never reads gets one response's worth built, not one per request: the others wait
 * for room, holding only their request frames. Two bounds apply: `bytesMax` for the connection and a
 * process-wide RequestMemory shared by every connection. Either lets one response in when it holds
 * nothing, so a response larger than a bound still goes out. Closing the connection gives back all.
 */
/** Room taken for one response (see ResponseBudget.reserve). */
export interface ResponseReservation {
  /** The response is built (or will not be): give the room back. */
  release(): void;
  /** The request parks: give back the process's share, keep the connection's. */
  suspend(): void;
  /** The request woke: wait for the process's share again. */
  resume(): Promise<void>;
}

export class ResponseBudget {
  readonly #bytesMax: number;
  readonly #process: RequestMemory;
  readonly #closed: AbortSignal;
  #heldBytes = 0;
  /** Reserved by parked requests: held against the connection's bound, not the process's. */
  #suspendedBytes = 0;
  /** Written to the socket and still in its buffer: given back at the socket's next drain. */
  #undrainedBytes = 0;
  readonly #waiting = new Set<() => void>();

  constructor(options: { bytesMax: number; process: RequestMemory; closed: AbortSignal }) {
    this.#bytesMax = options.bytesMax;
    this.#process = options.process;
    this.#closed = options.closed;
    this.#closed.addEventListener('abort', () => this.#releaseAll(), { once: true });
  }

  get heldBytes(): number {
    return this.#heldBytes;
  }

  /**
   * Waits until `bytes` fit in both bounds and takes them. The reservation is given back once the
   * response is built (it is then counted by `hold`). A request that parks keeps its share of the
   * connection's bound, so requests behind it cannot build responses that would wait behind it, and
   * suspends its share of the process's, which parked requests must not hold. Resolves at once,
   * with nothing taken, when the connection has closed.
   */
  async reserve(bytes: number): Promise<ResponseReservation> {
    while (!this.#closed.aborted && !this.#take(bytes)) await this.#nextRelease();
    if (this.#closed.aborted)
      return { release: () => undefined, suspend: () => undefined, resume: async () => {} };
    let state: 'held' | 'suspended' | 'given' = 'held';
    return {
      // After the close everything was given back at once (#releaseAll): nothing more to give.
      release: () => {
        if (state === 'given' || this.#closed.aborted) return;
        if (state === 'held') this.#process.release(bytes);
        else this.#suspendedBytes -= bytes;
        state = 'given';
        this.#give(bytes, false);
      },
      suspend: () => {
        if (state !== 'held' || this.#closed.aborted) return;
        state = 'suspended';
        this.#suspendedBytes += bytes;
        this.#process.release(bytes);
      },
      resume: async () => {
        while (state === 'suspended' && !this.#closed.aborted && !this.#process.take(bytes))
          await this.#nextRelease();
        if (state !== 'suspended' || this.#closed.aborted) return;
        state = 'held';
        this.#suspendedBytes -= bytes;
      },
    };
  }

  /** Counts a built response until it has been written and drained (it is in memory already). */
  hold(bytes: number): void {
    if (this.#closed.aborted || bytes <= 0) return;
    this.#heldBytes += bytes;
    this.#process.hold(bytes);
  }

  /** A held response went to the socket; `needDrain` tells whether the socket still buffers it. */
  written(bytes: number, needDrain: boolean): void {
    this.#undrainedBytes += bytes;
    if (!needDrain) this.drained();
  }

  /** The socket's buffer emptied: what was written is the kernel's now. */
  drained(): void {
    const bytes = this.#undrainedBytes;
    this.#undrainedBytes = 0;
    this.#give(bytes, true);
  }

  #take(bytes: number): boolean {
    if (this.#heldBytes > 0 && this.#heldBytes + bytes > this.#bytesMax) return false;
    if (!this.#process.take(bytes)) return false;
    this.#heldBytes += bytes;
    return true;
  }

  /** Gives back the connection's share of `bytes`, and the process's when `process` says so. */
  #give(bytes: number, process: boolean): void {
    if (this.#closed.aborted || bytes <= 0) return;
    this.#heldBytes -= bytes;
    if (process) this.#process.release(bytes);
    this.#wake();
  }

  #releaseAll(): void {
    this.#process.release(this.#heldBytes - this.#suspendedBytes);
    this.#heldBytes = 0;
    this.#suspendedBytes = 0;
    this.#undrainedBytes = 0;
    this.#wake();
  }

  #wake(): void {
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const wake of waiting) wake();
  }

  /** Resolves at this connection's next release, the process's next release, or the close. */
  #nextRelease(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.#waiting.delete(done);
        cancelProcess();
        this.#closed.removeEventListener('abort', done);
        resolve();
      };
      this.#waiting.add(done);
      const cancelProcess = this.#process.waitForRelease(done);
      this.#closed.addEventListener('abort', done, { once: true });
    });
  }
}
