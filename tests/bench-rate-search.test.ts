import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type ProbeOutcome, searchMaxRate } from '../bench/omb/rate-search.ts';

/**
 * A simulated system: it acknowledges up to `publishCapacity` msg/s and its consumer reads up to
 * `consumeCapacity` msg/s; whatever exceeds a capacity piles up as backlog over the probe.
 */
function simulated(publishCapacity: number, consumeCapacity = Number.POSITIVE_INFINITY, probeSeconds = 2) {
  const probes: number[] = [];
  const probe = async (rate: number): Promise<ProbeOutcome> => {
    probes.push(rate);
    const acked = Math.min(rate, publishCapacity) * probeSeconds;
    const received = Math.min(acked / probeSeconds, consumeCapacity) * probeSeconds;
    return { publishBacklog: rate * probeSeconds - acked, receiveBacklog: acked - received };
  };
  return { probe, probes };
}

describe('searchMaxRate', () => {
  it('ramps up, then settles just under the capacity', async () => {
    const system = simulated(73_000);
    const result = await searchMaxRate(system.probe, { startRate: 10_000, settleSteps: 5 });
    assert.deepEqual(system.probes.slice(0, 4), [10_000, 20_000, 40_000, 80_000]);
    assert.ok(result.rate <= 73_500, `${result.rate} is above what the system sustains`);
    assert.ok(result.rate >= 70_000, `${result.rate} settled too low`);
    for (const step of result.steps) assert.equal(step.keptUp, step.rate <= 73_500, `step at ${step.rate}`);
  });

  it('is limited by the consumer when it is the slower side', async () => {
    const result = await searchMaxRate(simulated(1_000_000, 25_000).probe, {
      startRate: 10_000,
      settleSteps: 6,
    });
    assert.ok(result.rate <= 25_500 && result.rate >= 23_000, `settled at ${result.rate}`);
  });

  it('tolerates a backlog up to the threshold', async () => {
    // 500 msg/s over capacity for 2 s is a backlog of 1,000: still kept up.
    const probe = simulated(10_000).probe;
    const result = await searchMaxRate(probe, { startRate: 10_500, growthFactor: 2, settleSteps: 0 });
    assert.equal(result.rate, 10_500);
  });

  it('goes below the start rate when even that fails', async () => {
    const result = await searchMaxRate(simulated(3_000).probe, { startRate: 10_000, settleSteps: 4 });
    assert.ok(result.rate > 0 && result.rate <= 3_500, `settled at ${result.rate}`);
  });

  it('stops at rateMax when the system never falls behind', async () => {
    const result = await searchMaxRate(simulated(Number.POSITIVE_INFINITY).probe, {
      startRate: 1_000,
      rateMax: 64_000,
    });
    assert.equal(result.rate, 64_000);
  });

  it('never reports a rate that failed, and lands within 10 % of any capacity above the start', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 10_000, max: 2_000_000 }), async (capacity) => {
        const result = await searchMaxRate(simulated(capacity).probe, { startRate: 10_000, settleSteps: 4 });
        const failed = new Set(result.steps.filter((step) => !step.keptUp).map((step) => step.rate));
        assert.ok(!failed.has(result.rate));
        assert.ok(result.rate <= capacity + 500, `${result.rate} > ${capacity}`);
        assert.ok(result.rate >= capacity * 0.9, `${result.rate} < 90 % of ${capacity}`);
      }),
    );
  });
});
