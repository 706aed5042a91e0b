import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { ManualClock } from './clock.ts';
import { MetricsRegistry } from './metrics.ts';
import { registerProcessMetrics } from './process-metrics.ts';

function value(registry: MetricsRegistry, series: string): number {
  const line = registry
    .render()
    .split('\n')
    .find((candidate) => candidate.startsWith(`${series} `));
  assert.ok(line !== undefined, `${series} is exported`);
  return Number(line.slice(series.length + 1));
}

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Hold the event loop.
  }
}

test('a blocked event loop shows in the delay gauges of the window it happened in', async () => {
  const registry = new MetricsRegistry();
  const clock = new ManualClock();
  const windowMs = 400;
  const metrics = registerProcessMetrics(registry, { windowMs, clock });
  try {
    assert.equal(value(registry, 'tide_event_loop_delay_max_seconds'), 0);
    await delay(30); // let the monitor take samples before the stall
    busy(150);
    await delay(30); // and after it, so the stalled sample is recorded
    clock.advance(windowMs); // the window closes
    const max = value(registry, 'tide_event_loop_delay_max_seconds');
    assert.ok(max >= 0.1, `max ${max} s`);
    assert.ok(value(registry, 'tide_event_loop_delay_p99_seconds') <= max);
    // The next window had no stall of that size: its maximum is below the blocked time.
    await delay(30);
    clock.advance(windowMs);
    assert.ok(value(registry, 'tide_event_loop_delay_max_seconds') < 0.1);
  } finally {
    metrics.close();
  }
});

test('garbage collection is counted by kind, with its pause time', async () => {
  const registry = new MetricsRegistry();
  const metrics = registerProcessMetrics(registry);
  try {
    let kept: unknown[] = [];
    for (let round = 0; round < 200; round++) {
      kept = Array.from({ length: 10_000 }, (_, index) => ({ index, text: `item ${index}` }));
    }
    assert.equal(kept.length, 10_000);
    await delay(20); // observers are told after the collection, on a later turn
    assert.ok(value(registry, 'tide_gc_runs_total{kind="minor"}') > 0);
    assert.ok(value(registry, 'tide_gc_pause_seconds_total') > 0);
  } finally {
    metrics.close();
  }
});
