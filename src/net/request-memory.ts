/**
 * A budget of bytes a process holds for all its connections at once, used twice: for requests and
 * for responses (response-budget.ts). For requests: the budget of request bytes a process holds for all its connections at once: frames being
 * received (split across reads), waiting to start, or in progress. A connection takes a frame's
 * bytes before its buffer is allocated and gives them back when the request has been answered (or
 * the connection closes). When the budget is spent the connection stops reading, leaving the bytes
 * in the kernel and the client under TCP backpressure, and waits its turn: each release wakes the
 * waiting connections in arrival order. One frame is always let in when nothing is held, so a
 * budget below the largest frame cannot lock a large request out for ever.
 */
export class RequestMemory {
  readonly bytesMax: number;
  #heldBytes = 0;
  readonly #waiting = new Set<() => void>();

  constructor(bytesMax: number) {
    this.bytesMax = bytesMax;
  }

  /** Bytes held now, over every connection sharing this budget. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** Connections waiting for bytes to be released. */
  get waitingCount(): number {
    return this.#waiting.size;
  }

  /** Takes `bytes` from the budget if they fit (or nothing is held); false otherwise. */
  take(bytes: number): boolean {
    if (this.#heldBytes > 0 && this.#heldBytes + bytes > this.bytesMax) return false;
    this.#heldBytes += bytes;
    return true;
  }

  /** Counts bytes that are in memory already, whether or not they fit (a built response). */
  hold(bytes: number): void {
    this.#heldBytes += bytes;
  }

  release(bytes: number): void {
    if (bytes <= 0) return;
    this.#heldBytes -= bytes;
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const wake of waiting) wake();
  }

  /** Calls `wake` once, at the next release; the returned function cancels that. */
  waitForRelease(wake: () => void): () => void {
    this.#waiting.add(wake);
    return () => this.#waiting.delete(wake);
  }
}
