import type { Partition } from './partitions.ts';

export type WakeReason = 'data' | 'timeout' | 'closed';

/**
 * A parked fetch's wake-up: armed on every partition the fetch reads *before* it reads them, so an
 * append that lands while the read is in progress still wakes it (no lost wake-ups, no polling).
 * `wait` resolves at the first of: data on any armed partition (or a high-watermark move), the
 * timeout, or the connection closing. Always `dispose()` it, which cancels every listener and timer.
 */
export class FetchWakeup {
  #fired = false;
  #resolve: ((reason: WakeReason) => void) | undefined;
  readonly #cancels: (() => void)[] = [];

  constructor(partitions: readonly Partition[]) {
    for (const partition of partitions) this.#cancels.push(partition.onData(() => this.#wake('data')));
  }

  wait(timeoutMs: number, closed: AbortSignal): Promise<WakeReason> {
    if (closed.aborted) return Promise.resolve('closed');
    if (this.#fired) return Promise.resolve('data');
    return new Promise<WakeReason>((resolve) => {
      this.#resolve = resolve;
      const timer = setTimeout(() => this.#wake('timeout'), Math.max(0, timeoutMs));
      const onClose = (): void => this.#wake('closed');
      closed.addEventListener('abort', onClose, { once: true });
      this.#cancels.push(
        () => clearTimeout(timer),
        () => closed.removeEventListener('abort', onClose),
      );
    });
  }

  dispose(): void {
    for (const cancel of this.#cancels.splice(0)) cancel();
    this.#resolve = undefined;
  }

  #wake(reason: WakeReason): void {
    if (reason === 'data') this.#fired = true;
    const resolve = this.#resolve;
    this.#resolve = undefined;
    resolve?.(reason);
  }
}
