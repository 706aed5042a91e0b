import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createDescribeTopicStatusResponsePartition,
  createDescribeTopicStatusResponseReplicaOffset,
  createDescribeTopicStatusResponseTopic,
} from '../protocol/messages/describe-topic-status.ts';
import { partitionsFromStatus } from './partition-status.ts';

function topicWith(fields: Parameters<typeof createDescribeTopicStatusResponsePartition>[0]) {
  return createDescribeTopicStatusResponseTopic({
    name: 't',
    partitions: [createDescribeTopicStatusResponsePartition(fields)],
  });
}

const offsets = (entries: Array<[number, bigint]>) =>
  entries.map(([replicaId, logEndOffset]) =>
    createDescribeTopicStatusResponseReplicaOffset({ replicaId, logEndOffset }),
  );

test('lag per replica is the leader log end minus the replica log end, unknown as null', () => {
  const [partition] = partitionsFromStatus(
    topicWith({
      partition: 0,
      leader: 1,
      replicas: [1, 2, 3],
      isr: [1, 2],
      logEndOffset: 70n,
      status: 'under-replicated',
      replicaLogEndOffsets: offsets([
        [1, 70n],
        [2, 70n],
        [3, 50n],
      ]),
    }),
  );
  assert.deepEqual(partition?.replicaProgress, [
    { replicaId: 1, inSync: true, logEndOffset: 70n, lag: 0n },
    { replicaId: 2, inSync: true, logEndOffset: 70n, lag: 0n },
    { replicaId: 3, inSync: false, logEndOffset: 50n, lag: 20n },
  ]);
  assert.equal(partition?.underReplicated, true);
});

test('a replica the leader has not heard from, or no report at all, has unknown lag', () => {
  const [partition] = partitionsFromStatus(
    topicWith({
      partition: 0,
      leader: 2,
      replicas: [1, 2],
      isr: [1, 2],
      logEndOffset: -1n,
      status: 'online',
      replicaLogEndOffsets: offsets([
        [1, -1n],
        [2, -1n],
      ]),
      addingReplicas: [],
    }),
  );
  assert.deepEqual(
    partition?.replicaProgress.map((replica) => [replica.replicaId, replica.logEndOffset, replica.lag]),
    [
      [1, null, null],
      [2, null, null],
    ],
  );
  assert.equal(partition?.underReplicated, false);
});

test('an answer without the progress fields (an older SC) still lists the leader', () => {
  const [partition] = partitionsFromStatus(
    topicWith({ partition: 0, leader: 1, replicas: [1], isr: [1], logEndOffset: 9n, status: 'online' }),
  );
  assert.deepEqual(partition?.replicaProgress, [{ replicaId: 1, inSync: true, logEndOffset: 9n, lag: 0n }]);
  assert.deepEqual([partition?.addingReplicas, partition?.removingReplicas], [[], []]);
});

test('a move in progress is reported with its added and removed replicas', () => {
  const [partition] = partitionsFromStatus(
    topicWith({
      partition: 0,
      leader: 1,
      replicas: [1, 2, 4],
      isr: [1, 2],
      logEndOffset: 5n,
      status: 'under-replicated',
      addingReplicas: [4],
      removingReplicas: [1],
    }),
  );
  assert.deepEqual([partition?.addingReplicas, partition?.removingReplicas], [[4], [1]]);
});

test('a size the leader has not reported yet is unknown, not -1 bytes', () => {
  const [partition] = partitionsFromStatus(
    topicWith({ partition: 0, leader: 1, replicas: [1], isr: [1], sizeBytes: -1n, status: 'online' }),
  );
  assert.equal(partition?.sizeBytes, null);
});
