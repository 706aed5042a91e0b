import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricsRegistry } from './metrics.ts';

test('renders counters and gauges in the Prometheus text format', () => {
  const registry = new MetricsRegistry();
  const produced = registry.counter('tide_produce_bytes_total', 'bytes appended', { topic: 'a"b' });
  produced.add(10);
  produced.add(5);
  let live = 3;
  registry.gauge('tide_connections', 'open connections', {}, () => live);
  live = 4;
  const text = registry.render();
  assert.match(text, /# TYPE tide_produce_bytes_total counter/);
  assert.match(text, /tide_produce_bytes_total\{topic="a\\"b"\} 15/);
  assert.match(text, /tide_connections 4/);
  registry.remove('tide_produce_bytes_total', { topic: 'a"b' });
  assert.doesNotMatch(registry.render(), /topic=/);
  assert.throws(() => registry.counter('bad name', 'x'));
});
