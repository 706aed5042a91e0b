import { type Clock, systemClock } from '../base/clock.ts';

export const eventuallyDefaults = Object.freeze({
  /** Long enough for a process on a loaded 2-core machine to start, elect or catch up. */
  timeoutMs: 20_000, // ms
  /** Short enough that a test ends soon after the condition holds. */
  intervalMs: 25, // ms
});

export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
  clock?: Clock;
}

/**
 * The one way tests wait for something: polls `probe` until it returns a value other than
 * `undefined` or `false`, and resolves with that value. Errors thrown by `probe` count as "not yet"
 * (a process that is still starting). After `timeoutMs` it throws, naming `what` it waited for and
 * the probe's last error, so a failing test says what never happened.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: EventuallyOptions = {},
): Promise<T> {
  const { timeoutMs, intervalMs, clock } = { ...eventuallyDefaults, clock: systemClock, ...options };
  const deadlineMs = clock.monotonicMs() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const answer = await probe();
      if (answer !== undefined && answer !== false) return answer;
    } catch (error) {
      lastError = error;
    }
    if (clock.monotonicMs() >= deadlineMs) {
      const cause = lastError === undefined ? '' : `; last error: ${String(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`, { cause: lastError });
    }
    await clock.sleep(intervalMs);
  }
}
