/** Time as a seam: production uses the system clock, tests advance a manual one without sleeping. */
export interface Clock {
  /** Wall-clock milliseconds since the epoch (record timestamps, retention). */
  nowMs(): number;
  /** Monotonic milliseconds (timeouts, intervals); never goes backwards. */
  monotonicMs(): number;
  /**
   * Calls `callback` once, `delayMs` from now on the monotonic clock. System timers never keep the
   * process alive on their own: a server stays up through its sockets, not its deadlines.
   */
  setTimer(delayMs: number, callback: () => void): Timer;
}

export interface Timer {
  /** Stops a timer that has not fired yet; harmless after it fired. */
  cancel(): void;
}

export const systemClock: Clock = Object.freeze({
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
  setTimer: (delayMs: number, callback: () => void): Timer => {
    const timeout = setTimeout(callback, Math.max(0, delayMs));
    timeout.unref();
    return { cancel: () => clearTimeout(timeout) };
  },
});

interface ManualTimer {
  readonly dueMs: number;
  /** Creation order, so timers due at the same moment fire in the order they were set. */
  readonly sequence: number;
  readonly callback: () => void;
}

export class ManualClock implements Clock {
  #wallMs: number;
  #monotonicMs = 0;
  #timers = new Set<ManualTimer>();
  #sequence = 0;

  constructor(startWallMs = 1_700_000_000_000) {
    this.#wallMs = startWallMs;
  }

  nowMs(): number {
    return this.#wallMs;
  }

  monotonicMs(): number {
    return this.#monotonicMs;
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    const timer: ManualTimer = {
      dueMs: this.#monotonicMs + Math.max(0, delayMs),
      sequence: this.#sequence++,
      callback,
    };
    this.#timers.add(timer);
    return { cancel: () => this.#timers.delete(timer) };
  }

  /** Timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /**
   * Moves both clocks forward by `ms`, firing every timer that falls due on the way at its own
   * moment (the clock reads its due time while it runs), including timers those callbacks set.
   */
  advance(ms: number): void {
    const targetMs = this.#monotonicMs + ms;
    for (let timer = this.#nextDue(targetMs); timer !== undefined; timer = this.#nextDue(targetMs)) {
      this.#timers.delete(timer);
      this.#moveTo(timer.dueMs);
      timer.callback();
    }
    this.#moveTo(targetMs);
  }

  #nextDue(targetMs: number): ManualTimer | undefined {
    let next: ManualTimer | undefined;
    for (const timer of this.#timers) {
      if (timer.dueMs > targetMs) continue;
      if (
        next === undefined ||
        timer.dueMs < next.dueMs ||
        (timer.dueMs === next.dueMs && timer.sequence < next.sequence)
      )
        next = timer;
    }
    return next;
  }

  #moveTo(monotonicMs: number): void {
    if (monotonicMs <= this.#monotonicMs) return;
    this.#wallMs += monotonicMs - this.#monotonicMs;
    this.#monotonicMs = monotonicMs;
  }
}
