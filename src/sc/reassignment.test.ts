import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import {
  addingReplicas,
  advanceReassignment,
  cancelReassignment,
  type ReassignmentProblem,
  type ReassignmentStep,
  removingReplicas,
  startReassignment,
  targetProblem,
} from './reassignment.ts';
import type { PartitionRecord } from './topic-records.ts';

const allOnline = (): boolean => true;

function partition(fields: Partial<PartitionRecord> = {}): PartitionRecord {
  return {
    topic: 't',
    partition: 0,
    replicas: [1, 2],
    leader: 1,
    leaderEpoch: 3,
    isr: [1, 2],
    partitionEpoch: 7,
    ...fields,
  };
}

type Outcome = ReassignmentStep | ReassignmentProblem | undefined;

/** The step of an outcome, failing the test when there is none. */
function stepOf(outcome: Outcome): ReassignmentStep {
  assert.ok(outcome !== undefined && 'record' in outcome, `no step: ${JSON.stringify(outcome)}`);
  return outcome;
}

function recordOf(outcome: Outcome): PartitionRecord {
  return stepOf(outcome).record;
}

describe('reassignment state machine', () => {
  it('validates targets: empty, duplicate and unknown SPUs are INVALID_REPLICA_ASSIGNMENT', () => {
    const known = new Set([1, 2, 3]);
    assert.equal(targetProblem(0, [], known)?.errorCode, errorCodes.INVALID_REPLICA_ASSIGNMENT);
    assert.equal(targetProblem(0, [1, 1], known)?.errorCode, errorCodes.INVALID_REPLICA_ASSIGNMENT);
    assert.equal(targetProblem(0, [1, 9], known)?.errorCode, errorCodes.INVALID_REPLICA_ASSIGNMENT);
    assert.match(targetProblem(0, [1, 9], known)?.message ?? '', /SPU 9/);
    assert.equal(targetProblem(0, [3, 1, 2], known), undefined);
  });

  it('starts by adding the new replicas to the old ones', () => {
    const step = startReassignment(partition(), [2, 3], allOnline);
    const record = recordOf(step);
    assert.deepEqual(record.replicas, [1, 2, 3]);
    assert.deepEqual(record.isr, [1, 2]);
    assert.equal(record.leader, 1);
    assert.equal(record.leaderEpoch, 3);
    assert.equal(record.partitionEpoch, 8);
    assert.deepEqual(record.reassignment, { originalReplicas: [1, 2], targetReplicas: [2, 3] });
    assert.deepEqual(addingReplicas(record), [3]);
    assert.deepEqual(removingReplicas(record), [1]);
    assert.deepEqual(stepOf(step).dropped, []);
  });

  it('waits until every added replica is in the ISR', () => {
    const moving = recordOf(startReassignment(partition(), [2, 3], allOnline));
    assert.equal(advanceReassignment(moving, allOnline), undefined);
  });

  it('moves leadership off a removed leader, then drops the removed replicas', () => {
    const moving = recordOf(startReassignment(partition(), [2, 3], allOnline));
    const caughtUp: PartitionRecord = {
      ...moving,
      isr: [1, 2, 3],
      partitionEpoch: moving.partitionEpoch + 1,
    };
    const handover = advanceReassignment(caughtUp, allOnline);
    const led = recordOf(handover);
    assert.equal(led.leader, 2);
    assert.equal(led.leaderEpoch, caughtUp.leaderEpoch + 1);
    assert.equal(led.partitionEpoch, caughtUp.partitionEpoch + 1);
    assert.deepEqual(led.replicas, [1, 2, 3], 'replicas stay until the new leader leads');
    assert.deepEqual(handover?.dropped, []);
    const done = advanceReassignment(led, allOnline);
    const final = recordOf(done);
    assert.deepEqual(final.replicas, [2, 3]);
    assert.deepEqual(final.isr, [2, 3]);
    assert.equal(final.leader, 2);
    assert.equal(final.leaderEpoch, led.leaderEpoch, 'dropping a follower is no leader change');
    assert.equal(final.reassignment, undefined);
    assert.deepEqual(done?.dropped, [1]);
    assert.equal(advanceReassignment(final, allOnline), undefined);
  });

  it('hands leadership only to an online target replica in the ISR', () => {
    const moving = recordOf(startReassignment(partition(), [3, 4], allOnline));
    const caughtUp: PartitionRecord = { ...moving, isr: [1, 2, 3, 4] };
    const onlyFour = (id: number): boolean => id !== 3;
    assert.equal(recordOf(advanceReassignment(caughtUp, onlyFour)).leader, 4);
    assert.equal(
      advanceReassignment(caughtUp, (id) => id === 1),
      undefined,
    );
  });

  it('waits while the partition has no leader', () => {
    const moving = recordOf(startReassignment(partition(), [2, 3], allOnline));
    assert.equal(advanceReassignment({ ...moving, leader: -1, isr: [2, 3] }, allOnline), undefined);
  });

  it('keeps the leader when it stays, dropping only the removed follower', () => {
    const moving = recordOf(startReassignment(partition(), [1, 3], allOnline));
    const done = advanceReassignment({ ...moving, isr: [1, 2, 3] }, allOnline);
    const final = recordOf(done);
    assert.deepEqual(final.replicas, [1, 3]);
    assert.equal(final.leader, 1);
    assert.equal(final.leaderEpoch, moving.leaderEpoch);
    assert.deepEqual(done?.dropped, [2]);
  });

  it('drops an out-of-sync removed replica from the ISR too (it need not catch up)', () => {
    const moving = recordOf(startReassignment(partition({ isr: [1] }), [1, 3], allOnline));
    const final = recordOf(advanceReassignment({ ...moving, isr: [1, 3] }, allOnline));
    assert.deepEqual(final.isr, [1, 3]);
  });

  it('cancels back to the original replicas, deleting the added ones', () => {
    const moving = recordOf(startReassignment(partition(), [2, 3], allOnline));
    const step = cancelReassignment({ ...moving, isr: [1, 2, 3] }, allOnline);
    const record = recordOf(step);
    assert.deepEqual(record.replicas, [1, 2]);
    assert.deepEqual(record.isr, [1, 2]);
    assert.equal(record.reassignment, undefined);
    assert.deepEqual(stepOf(step).dropped, [3]);
  });

  it('cancel after the handover gives leadership back to an original replica', () => {
    const moving = recordOf(startReassignment(partition(), [3, 4], allOnline));
    const led = recordOf(advanceReassignment({ ...moving, isr: [1, 2, 3, 4] }, allOnline));
    assert.equal(led.leader, 3);
    const record = recordOf(cancelReassignment(led, allOnline));
    assert.deepEqual(record.replicas, [1, 2]);
    assert.equal(record.leader, 1);
    assert.equal(record.leaderEpoch, led.leaderEpoch + 1);
  });

  it('cancel of nothing is NO_REASSIGNMENT_IN_PROGRESS', () => {
    const outcome = cancelReassignment(partition(), allOnline);
    assert.ok(outcome !== undefined && !('record' in outcome));
    assert.equal(outcome.errorCode, errorCodes.NO_REASSIGNMENT_IN_PROGRESS);
  });

  it('a new target replaces the one in progress and keeps the original list', () => {
    const first = recordOf(startReassignment(partition(), [3, 4], allOnline));
    const step = startReassignment({ ...first, isr: [1, 2, 3] }, [2, 5], allOnline);
    const record = recordOf(step);
    assert.deepEqual(record.replicas, [1, 2, 5]);
    assert.deepEqual(record.isr, [1, 2]);
    assert.deepEqual(record.reassignment, { originalReplicas: [1, 2], targetReplicas: [2, 5] });
    assert.deepEqual(stepOf(step).dropped, [3, 4]);
  });

  it('the same SPUs in another order only reorder, at once; the same list changes nothing', () => {
    const record = recordOf(startReassignment(partition(), [2, 1], allOnline));
    assert.deepEqual(record.replicas, [2, 1]);
    assert.deepEqual(record.isr, [2, 1]);
    assert.equal(record.reassignment, undefined);
    assert.equal(startReassignment(partition(), [1, 2], allOnline), undefined);
  });

  it('refuses a change that would leave no in-sync replica', () => {
    const outOfSync = partition({ replicas: [1, 2, 3], isr: [1], leader: 1 });
    const moving = recordOf(startReassignment(outOfSync, [2, 4], allOnline));
    const led = advanceReassignment({ ...moving, isr: [1, 4] }, allOnline);
    assert.equal(recordOf(led).leader, 4);
    const leaderless = recordOf(startReassignment(partition({ isr: [1] }), [1, 3], allOnline));
    const outcome = cancelReassignment({ ...leaderless, isr: [3], leader: 3 }, allOnline);
    assert.ok(outcome !== undefined && !('record' in outcome));
    assert.equal(outcome.errorCode, errorCodes.INVALID_REPLICA_ASSIGNMENT);
  });
});
