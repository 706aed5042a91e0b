import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TideError } from '../base/errors.ts';
import { describeOffset, Offset, resolveOffset } from './offset.ts';

describe('Offset', () => {
  const bounds = { logStartOffset: 100n, endOffset: 150n };

  test('resolves against log bounds, clamped to the log', () => {
    assert.equal(resolveOffset(Offset.beginning(), bounds), 100n);
    assert.equal(resolveOffset(Offset.end(), bounds), 150n);
    assert.equal(resolveOffset(Offset.absolute(7), bounds), 7n);
    assert.equal(resolveOffset(Offset.fromEnd(10), bounds), 140n);
    assert.equal(resolveOffset(Offset.fromEnd(1000), bounds), 100n);
    assert.equal(resolveOffset(Offset.fromBeginning(10), bounds), 110n);
    assert.equal(resolveOffset(Offset.fromBeginning(1000), bounds), 150n);
    assert.equal(resolveOffset(Offset.timestamp(5), bounds, 120n), 120n);
    assert.equal(resolveOffset(Offset.timestamp(5), bounds, -1n), 150n, 'no record that recent: the end');
  });

  test('refuses negative and fractional numbers with a TideError', () => {
    for (const make of [() => Offset.absolute(-1), () => Offset.fromEnd(1.5), () => Offset.timestamp(-3n)]) {
      assert.throws(make, (error: unknown) => error instanceof TideError && error.code === 'INVALID_OFFSET');
    }
  });

  test('timestamps accept dates; descriptions are readable', () => {
    assert.deepEqual(Offset.timestamp(new Date(1000)), { kind: 'timestamp', timestampMs: 1000n });
    assert.deepEqual(
      [
        Offset.beginning(),
        Offset.end(),
        Offset.absolute(4n),
        Offset.fromEnd(3),
        Offset.fromBeginning(2),
        Offset.timestamp(9),
      ].map(describeOffset),
      ['beginning', 'end', '4', 'end-3', 'beginning+2', '@9'],
    );
  });
});
