import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Logger } from '../base/logger.ts';
import { MetricsRegistry } from '../base/metrics.ts';
import { StorageHealth } from './storage-health.ts';

test('storage damage and background failures are logged and counted on /metrics', () => {
  const lines: string[] = [];
  const logger = new Logger({ sink: { write: (line: string) => lines.push(line) } });
  const metrics = new MetricsRegistry();
  const health = new StorageHealth({ logger, metrics });
  const log = { topic: 'orders', partition: 3 };
  health.onEvent(log, { kind: 'corrupt-read', path: '/data/orders-3/0.log', message: 'CRC mismatch' });
  health.onEvent(log, { kind: 'background-failure', task: 'checkpoint', message: 'EIO' });
  health.onEvent(log, { kind: 'background-failure', task: 'checkpoint', message: 'EIO' });
  health.onEvent(undefined, { kind: 'background-failure', task: 'tick', message: 'bug' });
  health.onEvent(log, { kind: 'index-rebuilt', path: '/data/orders-3/0.index', reason: 'missing' });
  const rendered = metrics.render();
  assert.match(rendered, /^tide_storage_corrupt_reads_total 1$/m);
  assert.match(rendered, /^tide_storage_background_failures_total\{task="checkpoint"\} 2$/m);
  assert.match(rendered, /^tide_storage_background_failures_total\{task="tick"\} 1$/m);
  assert.equal(lines.length, 5, 'every event is logged');
  assert.equal(lines.filter((line) => line.includes('"level":"error"')).length, 3);
  assert.ok(lines.every((line) => !line.includes('"tick"') || !line.includes('"topic"')));
});
