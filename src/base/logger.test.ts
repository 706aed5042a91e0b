import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Logger } from './logger.ts';

test('logs one JSON line per event at or above the level, with child fields', () => {
  const lines: string[] = [];
  const logger = new Logger({ level: 'info', sink: { write: (line: string) => lines.push(line) } });
  logger.debug('hidden');
  const child = logger.child({ component: 'listener' });
  child.warn('slow consumer', { offset: 42n, error: Object.assign(new Error('boom'), { code: 'EPIPE' }) });
  assert.equal(lines.length, 1);
  const event = JSON.parse(lines[0]!);
  assert.equal(event.level, 'warn');
  assert.equal(event.component, 'listener');
  assert.equal(event.msg, 'slow consumer');
  assert.equal(event.offset, '42');
  assert.deepEqual(event.error, { message: 'boom', code: 'EPIPE' });
  assert.equal(child.level, 'info');
  assert.ok(lines[0]!.endsWith('\n'));
});
