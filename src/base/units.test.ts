import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, parseBytes, parseDuration } from './units.ts';

test('sizes parse in binary and decimal units', () => {
  assert.equal(parseBytes('1048576'), 1048576);
  assert.equal(parseBytes('1GiB'), 2 ** 30);
  assert.equal(parseBytes('1.5 KiB'), 1536);
  assert.equal(parseBytes('2mb'), 2_000_000);
  assert.throws(() => parseBytes('lots'), /not a size/);
  assert.throws(() => parseBytes('1 parsec'), /not a size/);
  assert.throws(() => parseBytes('-1KiB'), /not a size/);
});

test('durations parse with units; bare numbers are milliseconds', () => {
  assert.equal(parseDuration('7d'), 604_800_000);
  assert.equal(parseDuration('12h'), 43_200_000);
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1500'), 1500);
  assert.throws(() => parseDuration('soon'), /not a duration/);
  assert.throws(() => parseDuration('3 fortnights'), /not a duration/);
});

test('sizes format for people', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(2 ** 30), '1 GiB');
});
