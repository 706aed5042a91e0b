import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from './clock.ts';

describe('ManualClock timers', () => {
  it('fires timers in due order, each at its own moment, including ones set while advancing', () => {
    const clock = new ManualClock(1_000);
    const fired: string[] = [];
    clock.setTimer(30, () => fired.push(`b@${clock.monotonicMs()}`));
    clock.setTimer(10, () => {
      fired.push(`a@${clock.monotonicMs()}`);
      clock.setTimer(5, () => fired.push(`c@${clock.monotonicMs()}`));
    });
    clock.setTimer(10, () => fired.push(`a2@${clock.monotonicMs()}`));
    clock.advance(29);
    assert.deepEqual(fired, ['a@10', 'a2@10', 'c@15']);
    assert.equal(clock.monotonicMs(), 29);
    assert.equal(clock.nowMs(), 1_029, 'the wall clock moves with the monotonic one');
    clock.advance(1);
    assert.deepEqual(fired.at(-1), 'b@30');
    assert.equal(clock.pendingTimers, 0);
  });

  it('never fires a cancelled timer', () => {
    const clock = new ManualClock();
    let fired = false;
    const timer = clock.setTimer(5, () => {
      fired = true;
    });
    timer.cancel();
    clock.advance(10);
    assert.equal(fired, false);
    assert.equal(clock.pendingTimers, 0);
  });
});
