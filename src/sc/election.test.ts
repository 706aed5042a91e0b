import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { decideIsr, electAfterLoss, electPreferred } from './election.ts';
import type { PartitionRecord } from './topic-records.ts';

function partition(fields: Partial<PartitionRecord> = {}): PartitionRecord {
  return {
    topic: 't',
    partition: 0,
    replicas: [1, 2, 3],
    leader: 1,
    leaderEpoch: 4,
    isr: [1, 2, 3],
    partitionEpoch: 7,
    ...fields,
  };
}

const onlineOf =
  (...ids: number[]) =>
  (id: number): boolean =>
    ids.includes(id);

test('a lost leader is replaced by the first in-sync online replica, in replica order', () => {
  const next = electAfterLoss(partition({ replicas: [1, 3, 2], isr: [1, 3, 2] }), onlineOf(2, 3), false);
  assert.deepEqual(
    next,
    partition({ replicas: [1, 3, 2], leader: 3, leaderEpoch: 5, isr: [3, 2], partitionEpoch: 8 }),
  );
});

test('replicas outside the ISR are never elected without the unclean flag', () => {
  const next = electAfterLoss(partition({ isr: [1, 2] }), onlineOf(3), false);
  // Leaderless; the ISR keeps its last members so one of them returning is a clean election.
  assert.deepEqual(next, partition({ leader: -1, leaderEpoch: 5, isr: [1, 2], partitionEpoch: 8 }));
  assert.equal(electAfterLoss(next!, onlineOf(3), false), undefined, 'a second pass changes nothing');
  const back = electAfterLoss(next!, onlineOf(2, 3), false);
  assert.deepEqual(back, partition({ leader: 2, leaderEpoch: 6, isr: [2], partitionEpoch: 9 }));
});

test('the unclean flag elects any online replica, which becomes the whole ISR', () => {
  const next = electAfterLoss(partition({ isr: [1, 2] }), onlineOf(3), true);
  assert.deepEqual(next, partition({ leader: 3, leaderEpoch: 5, isr: [3], partitionEpoch: 8 }));
  assert.deepEqual(
    electAfterLoss(partition({ isr: [1] }), onlineOf(), true),
    partition({ leader: -1, leaderEpoch: 5, isr: [1], partitionEpoch: 8 }),
  );
});

test('a lost follower leaves the ISR with the partition epoch raised and the leader epoch kept', () => {
  const next = electAfterLoss(partition(), onlineOf(1, 3), false);
  assert.deepEqual(next, partition({ isr: [1, 3], partitionEpoch: 8 }));
  assert.equal(electAfterLoss(partition(), onlineOf(1, 2, 3), false), undefined);
  assert.equal(electAfterLoss(partition({ isr: [1] }), onlineOf(1), false), undefined);
});

test('the preferred replica takes leadership back once online and in the ISR', () => {
  const moved = partition({ leader: 2, leaderEpoch: 5, isr: [2, 3] });
  assert.equal(electPreferred(moved, onlineOf(1, 2, 3)), undefined, 'not in the ISR yet');
  const synced = { ...moved, isr: [1, 2, 3] };
  assert.equal(electPreferred(synced, onlineOf(2, 3)), undefined, 'not online');
  assert.deepEqual(
    electPreferred(synced, onlineOf(1, 2, 3)),
    partition({ leader: 1, leaderEpoch: 6, isr: [1, 2, 3], partitionEpoch: 8 }),
  );
  assert.equal(electPreferred(partition(), onlineOf(1, 2, 3)), undefined, 'already the leader');
});

test('an ISR proposal is checked against leader, epochs, replicas and liveness', () => {
  const all = onlineOf(1, 2, 3);
  const stored = partition({ isr: [1, 2] });
  const propose = (
    fields: Partial<{ brokerId: number; leaderEpoch: number; partitionEpoch: number; newIsr: number[] }>,
  ) =>
    decideIsr(stored, { brokerId: 1, leaderEpoch: 4, partitionEpoch: 7, newIsr: [1, 2, 3], ...fields }, all);
  assert.equal(propose({ brokerId: 2 }).errorCode, errorCodes.NOT_LEADER_OR_FOLLOWER);
  assert.equal(propose({ leaderEpoch: 3 }).errorCode, errorCodes.FENCED_LEADER_EPOCH);
  assert.equal(propose({ leaderEpoch: 5 }).errorCode, errorCodes.FENCED_LEADER_EPOCH);
  assert.equal(propose({ partitionEpoch: 6 }).errorCode, errorCodes.INVALID_UPDATE_VERSION);
  assert.equal(propose({ newIsr: [2, 3] }).errorCode, errorCodes.INVALID_REQUEST, 'leader missing');
  assert.equal(propose({ newIsr: [1, 4] }).errorCode, errorCodes.INVALID_REQUEST, 'not a replica');
  assert.equal(propose({ newIsr: [1, 2, 2] }).errorCode, errorCodes.INVALID_REQUEST, 'duplicate');
  assert.equal(
    decideIsr(stored, { brokerId: 1, leaderEpoch: 4, partitionEpoch: 7, newIsr: [1, 3] }, onlineOf(1, 2))
      .errorCode,
    errorCodes.INELIGIBLE_REPLICA,
  );
  assert.deepEqual(propose({ newIsr: [3, 1, 2] }), {
    errorCode: 0,
    record: partition({ isr: [1, 2, 3], partitionEpoch: 8 }),
    changed: true,
  });
  assert.deepEqual(propose({ newIsr: [2, 1] }), { errorCode: 0, record: stored, changed: false });
});
