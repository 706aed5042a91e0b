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
export class ResponseBudget {
  readonly #bytesMax: number;
  readonly #process: RequestMemory;
  readonly #closed: AbortSignal;
  #heldBytes = 0;
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
   * Waits until `bytes` fit in both bounds and takes them; resolves with the function that gives them
   * back (call it once the response is built: it is then counted by `hold`). Resolves at once, with
   * nothing taken, when the connection has closed.
   */
  async reserve(bytes: number): Promise<() => void> {
    while (!this.#closed.aborted && !this.#take(bytes)) await this.#nextRelease();
    if (this.#closed.aborted) return () => undefined;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.#give(bytes);
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
    this.#give(bytes);
  }

  #take(bytes: number): boolean {
    if (this.#heldBytes > 0 && this.#heldBytes + bytes > this.#bytesMax) return false;
    if (!this.#process.take(bytes)) return false;
    this.#heldBytes += bytes;
    return true;
  }

  #give(bytes: number): void {
    if (this.#closed.aborted || bytes <= 0) return;
    this.#heldBytes -= bytes;
    this.#process.release(bytes);
    this.#wake();
  }

  #releaseAll(): void {
    const bytes = this.#heldBytes;
    this.#heldBytes = 0;
    this.#undrainedBytes = 0;
    this.#process.release(bytes);
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
