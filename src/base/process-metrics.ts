import {
  constants,
  type IntervalHistogram,
  monitorEventLoopDelay,
  PerformanceObserver,
} from 'node:perf_hooks';
import { type Clock, systemClock } from './clock.ts';
import type { MetricsRegistry } from './metrics.ts';

/**
 * Process-level metrics every Tide server exports: how late the event loop ran its callbacks (over
 * fixed windows, so a stall shows up whatever the scrape interval) and the time spent in garbage
 * collection, the two usual sources of latency spikes in a Node.js server.
 */

export const processMetricsDefaults = Object.freeze({
  windowMs: 10_000, // the event-loop delay gauges describe the last window of this length
  resolutionMs: 10, // the delay monitor's sampling interval
});

const gcKinds: ReadonlyMap<number, string> = new Map([
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);

export interface ProcessMetrics {
  /** Stops sampling (the gauges keep their last values). */
  close(): void;
}

export function registerProcessMetrics(
  registry: MetricsRegistry,
  options: { windowMs?: number; clock?: Clock } = {},
): ProcessMetrics {
  const windowMs = options.windowMs ?? processMetricsDefaults.windowMs;
  const delay: IntervalHistogram = monitorEventLoopDelay({ resolution: processMetricsDefaults.resolutionMs });
  delay.enable();
  const p50 = registry.gauge(
    'tide_event_loop_delay_p50_seconds',
    `event-loop delay, median over the last ${windowMs} ms`,
  );
  const p99 = registry.gauge(
    'tide_event_loop_delay_p99_seconds',
    `event-loop delay, 99th percentile over the last ${windowMs} ms`,
  );
  const max = registry.gauge(
    'tide_event_loop_delay_max_seconds',
    `event-loop delay, longest in the last ${windowMs} ms`,
  );
  // The monitor's samples include its own sampling interval; an empty window reports no delay.
  const intervalNs = processMetricsDefaults.resolutionMs * 1e6;
  const seconds = (nanoseconds: number): number =>
    delay.count === 0 ? 0 : Math.max(0, nanoseconds - intervalNs) / 1e9;
  const clock = options.clock ?? systemClock;
  const roll = clock.interval(
    windowMs,
    () => {
      p50.set(seconds(delay.percentile(50)));
      p99.set(seconds(delay.percentile(99)));
      max.set(seconds(delay.max));
      delay.reset();
    },
    { keepAlive: false },
  );

  const pauses = registry.counter(
    'tide_gc_pause_seconds_total',
    'time the process was paused for garbage collection',
  );
  const runs = new Map(
    [...gcKinds.values()].map((kind) => [
      kind,
      registry.counter('tide_gc_runs_total', 'garbage collections by kind', { kind }),
    ]),
  );
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      pauses.add(entry.duration / 1000);
      const { detail } = entry as { detail?: { kind?: number } };
      const kind = gcKinds.get(detail?.kind ?? -1);
      if (kind !== undefined) runs.get(kind)?.add();
    }
  });
  observer.observe({ entryTypes: ['gc'] });

  return {
    close: () => {
      roll.cancel();
      delay.disable();
      observer.disconnect();
    },
  };
}
