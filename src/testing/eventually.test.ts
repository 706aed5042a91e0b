import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from './eventually.ts';

test('eventually resolves with the first value that is not undefined or false', async () => {
  let calls = 0;
  const value = await eventually('the third call', () => (++calls === 3 ? { calls } : undefined), {
    intervalMs: 1,
  });
  assert.deepEqual(value, { calls: 3 });
});

test('eventually treats a throwing probe as not yet, and names what it waited for', async () => {
  await assert.rejects(
    eventually(
      'a server that never starts',
      () => {
        throw new Error('connection refused');
      },
      { timeoutMs: 20, intervalMs: 1 },
    ),
    /waiting for a server that never starts; last error: Error: connection refused/,
  );
});

test('eventually keeps a probe returning false waiting', async () => {
  await assert.rejects(
    eventually('never', () => false, { timeoutMs: 10, intervalMs: 1 }),
    /waiting for never/,
  );
});
