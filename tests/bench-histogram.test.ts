import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LatencyHistogram, nearestRank } from '../bench/omb/histogram.ts';

describe('LatencyHistogram', () => {
  it('reports zeros when empty', () => {
    const histogram = new LatencyHistogram();
    assert.deepEqual(histogram.percentiles(), { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 });
  });

  it('gives exact percentiles for 1..1000 µs', () => {
    const histogram = new LatencyHistogram();
    for (let value = 1; value <= 1000; value++) histogram.recordUs(value);
    const p = histogram.percentiles();
    assert.equal(p.count, 1000);
    assert.equal(p.p50, 500);
    assert.equal(p.p90, 900);
    assert.equal(p.p99, 990);
    assert.equal(p.p999, 999);
    assert.equal(p.max, 1000);
    assert.equal(p.mean, 500.5);
  });

  it('converts nanoseconds to microseconds and clamps below 1 µs', () => {
    const histogram = new LatencyHistogram();
    histogram.recordNs(2_500_000n);
    histogram.recordNs(10);
    const p = histogram.percentiles();
    assert.equal(p.max, 2500);
    assert.equal(p.p50, 1);
  });

  it('resets', () => {
    const histogram = new LatencyHistogram();
    histogram.recordUs(5);
    histogram.reset();
    assert.equal(histogram.count, 0);
  });

  it('agrees with the nearest-rank percentile within 0.1 % (3 significant digits)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 50_000_000 }), { minLength: 1, maxLength: 400 }),
        (values) => {
          const histogram = new LatencyHistogram();
          for (const value of values) histogram.recordUs(value);
          const sorted = [...values].sort((a, b) => a - b);
          const p = histogram.percentiles();
          for (const [percentile, measured] of [
            [50, p.p50],
            [90, p.p90],
            [99, p.p99],
            [99.9, p.p999],
            [100, p.max],
          ] as const) {
            const exact = nearestRank(sorted, percentile);
            assert.ok(
              Math.abs(measured - exact) <= exact * 0.001 + 1,
              `p${percentile}: ${measured} vs exact ${exact}`,
            );
          }
        },
      ),
    );
  });

  it('nearestRank picks the ceil(p × n)-th smallest value', () => {
    assert.equal(nearestRank([10, 20, 30, 40], 50), 20);
    assert.equal(nearestRank([10, 20, 30, 40], 51), 30);
    assert.equal(nearestRank([10, 20, 30, 40], 100), 40);
    assert.equal(nearestRank([], 99), 0);
  });
});
