import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricsRegistry } from '../base/metrics.ts';
import { startMetricsServer } from './metrics-server.ts';

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
