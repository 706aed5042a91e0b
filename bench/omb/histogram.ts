/**
 * Latency histograms for the OMB-style suites: a thin wrapper over hdr-histogram-js that records
 * microseconds (from nanosecond inputs) and reports the percentiles every result carries.
 */
import * as hdr from 'hdr-histogram-js';

/** The percentiles every latency figure reports, in microseconds. */
export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

export const histogramDefaults = Object.freeze({
  highestTrackableUs: 120_000_000, // µs: two minutes; larger values are clamped, not lost
  significantDigits: 3 as const, // relative precision 0.1 %
});

export class LatencyHistogram {
  readonly #histogram = hdr.build({
    bitBucketSize: 64,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: histogramDefaults.highestTrackableUs,
    numberOfSignificantValueDigits: histogramDefaults.significantDigits,
  });

  /** Records one value in microseconds; values below 1 µs count as 1, above the range as the top. */
  recordUs(valueUs: number): void {
    const clamped = Math.min(Math.max(1, Math.round(valueUs)), histogramDefaults.highestTrackableUs);
    this.#histogram.recordValue(clamped);
  }

  /** Records a duration given in nanoseconds (as from `process.hrtime.bigint()` differences). */
  recordNs(valueNs: bigint | number): void {
    this.recordUs(Number(valueNs) / 1000);
  }

  get count(): number {
    return this.#histogram.totalCount;
  }

  reset(): void {
    this.#histogram.reset();
  }

  percentiles(): Percentiles {
    // A percentile reads the top of its bucket, which can lie above the largest value recorded.
    const at = (percentile: number): number =>
      this.count === 0
        ? 0
        : Math.min(this.#histogram.getValueAtPercentile(percentile), this.#histogram.maxValue);
    return {
      count: this.count,
      p50: at(50),
      p90: at(90),
      p99: at(99),
      p999: at(99.9),
      max: this.count === 0 ? 0 : this.#histogram.maxValue,
      mean: this.count === 0 ? 0 : Math.round(this.#histogram.mean * 10) / 10,
    };
  }
}

/** Exact percentile of a sorted array by the nearest-rank method (the oracle for the tests). */
export function nearestRank(sorted: readonly number[], percentile: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((percentile / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? 0;
}
