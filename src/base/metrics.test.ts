import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricsRegistry, startMetricsServer } from './metrics.ts';

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

test('serves /metrics and /health over HTTP', async () => {
  const registry = new MetricsRegistry();
  registry.counter('tide_requests_total', 'requests').add(2);
  let healthy = true;
  const { server, port } = await startMetricsServer({
    host: '127.0.0.1',
    port: 0,
    registry,
    health: () => ({ healthy, partitions: 1 }),
  });
  try {
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /tide_requests_total 2/);
    const ok = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { healthy: true, partitions: 1 });
    healthy = false;
    assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 503);
    assert.equal((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404);
  } finally {
    server.close();
  }
});
