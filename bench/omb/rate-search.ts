/**
 * Max-rate search, as OMB does for its "max rate" runs: publish at a rate for a short probe,
 * look at the backlogs, raise the rate while the system keeps up, and settle between the last
 * rate it sustained and the first it did not. A system keeps up when, at the end of a probe,
 * neither the publish backlog (messages due by the schedule but not yet acknowledged) nor the
 * receive backlog (acknowledged but not yet consumed) passes the threshold.
 */

export interface ProbeOutcome {
  /** Messages due by the schedule and not yet acknowledged, at the end of the probe. */
  readonly publishBacklog: number;
  /** Messages acknowledged and not yet received by the consumer, at the end of the probe. */
  readonly receiveBacklog: number;
}

export type Probe = (ratePerSecond: number) => Promise<ProbeOutcome>;

export interface RateSearchOptions {
  readonly startRate: number;
  readonly growthFactor: number;
  readonly backlogMessagesMax: number;
  readonly settleSteps: number;
  readonly rateMax: number;
}

export const rateSearchDefaults: RateSearchOptions = Object.freeze({
  startRate: 10_000, // msg/s of the first probe
  growthFactor: 2, // rate multiplier while every probe keeps up
  backlogMessagesMax: 1_000, // backlog beyond which a probe fails (OMB's threshold)
  settleSteps: 4, // bisection steps between the last good and the first bad rate
  rateMax: 5_000_000, // msg/s: stop raising here (the harness cannot generate more anyway)
});

export interface RateSearchStep {
  readonly rate: number;
  readonly publishBacklog: number;
  readonly receiveBacklog: number;
  readonly keptUp: boolean;
}

export interface RateSearchResult {
  /** The highest rate probed that the system sustained (0 if even the first failed). */
  readonly rate: number;
  readonly steps: readonly RateSearchStep[];
}

export function keptUp(outcome: ProbeOutcome, backlogMessagesMax: number): boolean {
  return outcome.publishBacklog <= backlogMessagesMax && outcome.receiveBacklog <= backlogMessagesMax;
}

export async function searchMaxRate(
  probe: Probe,
  options: Partial<RateSearchOptions> = {},
): Promise<RateSearchResult> {
  const settings = { ...rateSearchDefaults, ...options };
  const steps: RateSearchStep[] = [];
  const attempt = async (rate: number): Promise<boolean> => {
    const outcome = await probe(rate);
    const ok = keptUp(outcome, settings.backlogMessagesMax);
    steps.push({ rate, ...outcome, keptUp: ok });
    return ok;
  };
  let good = 0;
  let bad = 0;
  // Ramp: multiply until a probe fails (or the ceiling is reached).
  for (let rate = settings.startRate; ; rate = Math.round(rate * settings.growthFactor)) {
    const capped = Math.min(rate, settings.rateMax);
    if (await attempt(capped)) good = capped;
    else {
      bad = capped;
      break;
    }
    if (capped >= settings.rateMax) return { rate: good, steps };
  }
  // Settle: bisect between the last sustained rate and the first failed one.
  let low = good === 0 ? Math.round(bad / 16) : good;
  if (good === 0 && (await attempt(low))) good = low;
  else if (good === 0) return { rate: 0, steps };
  for (let step = 0; step < settings.settleSteps; step++) {
    const middle = Math.round((low + bad) / 2);
    if (middle <= low || middle >= bad) break;
    if (await attempt(middle)) {
      low = middle;
      good = middle;
    } else bad = middle;
  }
  return { rate: good, steps };
}
