/**
 * Time as a seam: production uses the system clock, tests advance a manual one without sleeping.
 * The Clock is the only source of time in src/: reading it, waiting on it, and timers that fire on
 * it (the tidy check bans direct timers and time reads elsewhere).
 */
export interface Clock {
  /** Wall-clock milliseconds since the epoch (record timestamps, retention). */
  nowMs(): number;
  /** Monotonic milliseconds (timeouts, intervals); never goes backwards. */
  monotonicMs(): number;
  /** Calls `callback` once, `ms` from now, unless cancelled first. */
  timeout(ms: number, callback: () => void, options?: TimerOptions): Timer;
  /** Calls `callback` every `ms` until cancelled. */
  interval(ms: number, callback: () => void, options?: TimerOptions): Timer;
  /** Resolves `ms` from now; rejects with the signal's reason (an AbortError) when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface Timer {
  cancel(): void;
}

export interface TimerOptions {
  /** False lets the process exit while the timer is pending (Node's `unref`). Default true. */
  keepAlive?: boolean;
}

function systemTimer(
  handle: NodeJS.Timeout,
  cancel: (handle: NodeJS.Timeout) => void,
  options?: TimerOptions,
) {
  if (options?.keepAlive === false) handle.unref();
  return { cancel: () => cancel(handle) };
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/** A promise on `clock.timeout` that an AbortSignal can end early. */
function sleepOn(clock: Pick<Clock, 'timeout'>, ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted === true) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      timer.cancel();
      reject(abortReason(signal as AbortSignal));
    };
    const timer = clock.timeout(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const systemClock: Clock = Object.freeze({
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
  timeout: (ms: number, callback: () => void, options?: TimerOptions) =>
    systemTimer(setTimeout(callback, ms), clearTimeout, options),
  interval: (ms: number, callback: () => void, options?: TimerOptions) =>
    systemTimer(setInterval(callback, ms), clearInterval, options),
  sleep: (ms: number, signal?: AbortSignal) => sleepOn(systemClock, ms, signal),
});

interface ManualTimer {
  dueMs: number;
  /** Insertion order breaks ties, so timers due at the same time fire in the order they were set. */
  sequence: number;
  repeatMs: number | undefined;
  callback: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told to. `advance` fires every timer that falls due, in due order,
 * with the clock reading each timer's due time while its callback runs.
 */
export class ManualClock implements Clock {
  #wallMs: number;
  #monotonicMs = 0;
  #timers: ManualTimer[] = [];
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

  timeout(ms: number, callback: () => void): Timer {
    return this.#schedule(ms, undefined, callback);
  }

  interval(ms: number, callback: () => void): Timer {
    return this.#schedule(ms, Math.max(1, ms), callback);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.#timers.filter((timer) => !timer.cancelled).length;
  }

  advance(ms: number): void {
    const targetMs = this.#monotonicMs + ms;
    for (;;) {
      const next = this.#nextDue(targetMs);
      if (next === undefined) break;
      this.#moveTo(next.dueMs);
      if (next.repeatMs === undefined) next.cancelled = true;
      else next.dueMs += next.repeatMs;
      next.callback();
    }
    this.#moveTo(targetMs);
    this.#timers = this.#timers.filter((timer) => !timer.cancelled);
  }

  #schedule(ms: number, repeatMs: number | undefined, callback: () => void): Timer {
    const timer: ManualTimer = {
      dueMs: this.#monotonicMs + Math.max(0, ms),
      sequence: this.#sequence++,
      repeatMs,
      callback,
      cancelled: false,
    };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  #nextDue(targetMs: number): ManualTimer | undefined {
    let next: ManualTimer | undefined;
    for (const timer of this.#timers) {
      if (timer.cancelled || timer.dueMs > targetMs) continue;
      const earlier = next === undefined || timer.dueMs < next.dueMs;
      if (earlier || (timer.dueMs === next?.dueMs && timer.sequence < next.sequence)) next = timer;
    }
    return next;
  }

  #moveTo(monotonicMs: number): void {
    this.#wallMs += monotonicMs - this.#monotonicMs;
    this.#monotonicMs = monotonicMs;
  }
}
