import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RateSchedule } from '../bench/omb/rate-limiter.ts';

const ms = (value: number): bigint => BigInt(value) * 1_000_000n;

describe('RateSchedule', () => {
  it('makes one message due per interval from the start', () => {
    const schedule = new RateSchedule(1000, ms(1000));
    assert.equal(schedule.due(ms(999)), 0, 'nothing before the start');
    assert.equal(schedule.due(ms(1000)), 1, 'message 0 is due at the start');
    assert.equal(schedule.due(ms(1010)), 11);
    assert.equal(schedule.dueAtNs(5), ms(1005));
  });

  it('counts taken messages against what is due', () => {
    const schedule = new RateSchedule(1000, 0n);
    for (let index = 0; index < 6; index++) schedule.take(ms(5));
    assert.equal(schedule.taken, 6);
    assert.equal(schedule.due(ms(5)), 0);
    assert.equal(schedule.due(ms(9)), 4);
  });

  it('reports no delay for a message taken on time or early', () => {
    const schedule = new RateSchedule(100, 0n);
    assert.equal(schedule.take(0n), 0);
    assert.equal(schedule.take(ms(5)), 0, 'message 1 is due at 10 ms; taking it early is not a delay');
  });

  it('accounts a stalled producer as publish delay for every message it owes', () => {
    // The producer stalls for 100 ms at 1000 msg/s, then catches up in one go: message i was due
    // at i ms, so it is 100 - i ms late. Sending fewer messages instead would hide the stall.
    const schedule = new RateSchedule(1000, 0n);
    const due = schedule.due(ms(100));
    assert.equal(due, 101);
    const delays = Array.from({ length: due }, () => schedule.take(ms(100)));
    assert.equal(delays[0], 100_000_000);
    assert.equal(delays[50], 50_000_000);
    assert.equal(delays[100], 0);
    assert.equal(schedule.due(ms(100)), 0);
  });

  it('tells how long until the next slot', () => {
    const schedule = new RateSchedule(1000, 0n);
    schedule.take(0n);
    assert.equal(schedule.waitNs(ms(0)), 1_000_000);
    assert.equal(schedule.waitNs(ms(3)), 0, 'already late: no wait');
  });

  it('never schedules more than rate × elapsed + 1 messages', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2_000_000 }),
        fc.integer({ min: 0, max: 10_000_000_000 }),
        (rate, elapsedNs) => {
          const schedule = new RateSchedule(rate, 0n);
          const due = schedule.due(BigInt(elapsedNs));
          const expected = Math.floor((elapsedNs * rate) / 1e9) + 1;
          assert.ok(Math.abs(due - expected) <= 1, `rate ${rate}, ${elapsedNs} ns: ${due} vs ${expected}`);
        },
      ),
    );
  });

  it('rejects a rate that is not positive', () => {
    assert.throws(() => new RateSchedule(0, 0n), /positive/);
    assert.throws(() => new RateSchedule(Number.NaN, 0n), /positive/);
  });
});
