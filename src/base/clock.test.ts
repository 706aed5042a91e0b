import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock, systemClock } from './clock.ts';

describe('ManualClock', () => {
  test('fires timeouts in due order when advanced past them, reading each due time', () => {
    const clock = new ManualClock();
    const fired: Array<[string, number]> = [];
    clock.timeout(30, () => fired.push(['c', clock.monotonicMs()]));
    clock.timeout(10, () => fired.push(['a', clock.monotonicMs()]));
    clock.timeout(10, () => fired.push(['b', clock.monotonicMs()]));
    clock.advance(9);
    assert.deepEqual(fired, []);
    clock.advance(25);
    assert.deepEqual(fired, [
      ['a', 10],
      ['b', 10],
      ['c', 30],
    ]);
    assert.equal(clock.monotonicMs(), 34);
    assert.equal(clock.pendingTimers, 0);
  });

  test('a cancelled timeout never fires', () => {
    const clock = new ManualClock();
    let fired = false;
    clock.timeout(5, () => (fired = true)).cancel();
    clock.advance(10);
    assert.equal(fired, false);
  });

  test('intervals repeat until cancelled, and a timer set inside a callback fires in the same advance', () => {
    const clock = new ManualClock();
    const ticks: number[] = [];
    const interval = clock.interval(10, () => {
      ticks.push(clock.monotonicMs());
      if (ticks.length === 2) clock.timeout(1, () => ticks.push(-clock.monotonicMs()));
    });
    clock.advance(35);
    assert.deepEqual(ticks, [10, 20, -21, 30]);
    interval.cancel();
    clock.advance(100);
    assert.equal(ticks.length, 4);
  });

  test('wall time moves with monotonic time', () => {
    const clock = new ManualClock(1_000);
    clock.advance(250);
    assert.equal(clock.nowMs(), 1_250);
  });

  test('sleep resolves on advance and rejects with an AbortError when aborted first', async () => {
    const clock = new ManualClock();
    const slept = clock.sleep(100);
    clock.advance(100);
    await slept;
    const stop = new AbortController();
    const aborted = clock.sleep(100, stop.signal);
    stop.abort();
    await assert.rejects(aborted, { name: 'AbortError' });
    assert.equal(clock.pendingTimers, 0);
    await assert.rejects(clock.sleep(1, stop.signal), { name: 'AbortError' });
  });
});

describe('systemClock', () => {
  test('sleep waits on a real timer and honours abort', async () => {
    await systemClock.sleep(1);
    const stop = new AbortController();
    const sleeping = systemClock.sleep(60_000, stop.signal);
    stop.abort();
    await assert.rejects(sleeping, { name: 'AbortError' });
  });

  test('a timer that does not keep the process alive can still be cancelled', () => {
    let fired = false;
    systemClock.timeout(60_000, () => (fired = true), { keepAlive: false }).cancel();
    assert.equal(fired, false);
  });
});
