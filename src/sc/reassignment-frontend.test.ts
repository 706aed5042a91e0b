import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  createAlterPartitionRequest,
  createAlterPartitionRequestPartitionData,
  createAlterPartitionRequestTopicData,
} from '../protocol/messages/alter-partition.ts';
import {
  createAlterPartitionReassignmentsRequest,
  createAlterPartitionReassignmentsRequestReassignablePartition,
  createAlterPartitionReassignmentsRequestReassignableTopic,
} from '../protocol/messages/alter-partition-reassignments.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { createListPartitionReassignmentsRequest } from '../protocol/messages/list-partition-reassignments.ts';
import { openScCore } from '../testing/sc-core.ts';
import type { DeletionRecord, PartitionRecord } from './topic-records.ts';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

const sessionTimeoutMs = 6000;

/** An SC's state in `dir` with SPUs 1..4 registered; topic `t` (replicas [1, 2]) when `create`. */
async function open(dir: string, create: boolean) {
  const { store, spus, topics, leadership } = await openScCore(dir, {
    sessionTimeoutMs,
    spuEvents: 'none',
  });
  const epochs = new Map<number, number>();
  for (const id of [1, 2, 3, 4]) epochs.set(id, (await spus.register(registration(id))).brokerEpoch);
  if (create) {
    const spec = { name: 't', partitions: 1, replicationFactor: 2, configs: {} };
    const created = await topics.createTopic(
      { ...spec, assignments: new Map([[0, [1, 2]]]) },
      { validateOnly: false },
    );
    assert.equal(created.errorCode, errorCodes.NONE);
  }
  const stored = () => store.get<PartitionRecord>('partitions', 't/0')!.value;
  const deletions = () => store.list<DeletionRecord>('deletions').map((entry) => entry.value);
  /** The leader's AlterPartition proposing `isr`, from the current stored epochs. */
  const expandIsr = async (isr: number[]) => {
    const current = stored();
    const response = await leadership.alterPartition(
      createAlterPartitionRequest({
        brokerId: current.leader,
        brokerEpoch: BigInt(epochs.get(current.leader)!),
        topics: [
          createAlterPartitionRequestTopicData({
            topicName: 't',
            partitions: [
              createAlterPartitionRequestPartitionData({
                partitionIndex: 0,
                leaderEpoch: current.leaderEpoch,
                partitionEpoch: current.partitionEpoch,
                newIsr: isr,
              }),
            ],
          }),
        ],
      }),
      1,
    );
    assert.equal(response.topics[0]?.partitions[0]?.errorCode, errorCodes.NONE);
  };
  return { store, leadership, stored, deletions, expandIsr };
}

function registration(id: number) {
  return {
    id,
    clusterId: '',
    incarnationId: Buffer.alloc(16, id),
    host: '127.0.0.1',
    port: 9000 + id,
    internalHost: '127.0.0.1',
    internalPort: 9100 + id,
    rack: null,
  };
}

function alter(entries: Array<{ topic?: string; partition?: number; replicas: number[] | null }>) {
  return createAlterPartitionReassignmentsRequest({
    topics: entries.map((entry) =>
      createAlterPartitionReassignmentsRequestReassignableTopic({
        name: entry.topic ?? 't',
        partitions: [
          createAlterPartitionReassignmentsRequestReassignablePartition({
            partitionIndex: entry.partition ?? 0,
            replicas: entry.replicas,
          }),
        ],
      }),
    ),
  });
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tide-sc-reassign-'));
  dirs.push(dir);
  return dir;
}

test('a move runs to its end through ISR expansion, handover and drop, across a reopen', async () => {
  const dir = await tempDir();
  const first = await open(dir, true);
  const answer = await first.leadership.reassignments.alter(alter([{ replicas: [3, 4] }]));
  assert.equal(answer.responses[0]?.partitions[0]?.errorCode, errorCodes.NONE);
  assert.deepEqual(first.stored().replicas, [1, 2, 3, 4]);
  const listed = await first.leadership.reassignments.list(createListPartitionReassignmentsRequest());
  assert.deepEqual(
    listed.topics.map((t) => t.partitions.map((p) => [p.replicas, p.addingReplicas, p.removingReplicas])),
    [
      [
        [
          [1, 2, 3, 4],
          [3, 4],
          [1, 2],
        ],
      ],
    ],
  );
  assert.equal(await first.leadership.repair(), false, 'nothing moves before the new replicas catch up');
  await first.expandIsr([1, 2, 3]);
  assert.equal(await first.leadership.repair(), false, 'SPU 4 is not in sync yet');

  // An SC restart: a new process reads the same store and carries on.
  const second = await open(dir, false);
  assert.deepEqual(second.stored().reassignment, { originalReplicas: [1, 2], targetReplicas: [3, 4] });
  await second.expandIsr([1, 2, 3, 4]);
  assert.equal(await second.leadership.repair(), true);
  assert.equal(second.stored().leader, 3, 'leadership moves to the first target replica in sync');
  assert.deepEqual(second.stored().replicas, [1, 2, 3, 4]);
  assert.equal(await second.leadership.repair(), true);
  const final = second.stored();
  assert.deepEqual([final.replicas, final.isr, final.leader], [[3, 4], [3, 4], 3]);
  assert.equal(final.reassignment, undefined);
  assert.deepEqual(
    second
      .deletions()
      .map((d) => d.spuId)
      .sort(),
    [1, 2],
  );
  assert.equal(await second.leadership.repair(), false, 'a finished move changes nothing more');
  const after = await second.leadership.reassignments.list(createListPartitionReassignmentsRequest());
  assert.deepEqual(after.topics, []);
});

test('bad input gets the Kafka error codes, per partition, and changes nothing', async () => {
  const { leadership, stored } = await open(await tempDir(), true);
  const before = stored();
  const bad = [
    { topic: 'missing', replicas: [1, 2] },
    { partition: 5, replicas: [1, 2] },
    { replicas: [] },
    { replicas: [1, 9] },
    { replicas: [3, 3] },
  ];
  const answers = await Promise.all(bad.map((entry) => leadership.reassignments.alter(alter([entry]))));
  const codes = answers.map((answer) => answer.responses[0]?.partitions[0]?.errorCode);
  assert.deepEqual(codes, [
    errorCodes.UNKNOWN_TOPIC_OR_PARTITION,
    errorCodes.UNKNOWN_TOPIC_OR_PARTITION,
    errorCodes.INVALID_REPLICA_ASSIGNMENT,
    errorCodes.INVALID_REPLICA_ASSIGNMENT,
    errorCodes.INVALID_REPLICA_ASSIGNMENT,
  ]);
  for (const answer of answers) assert.ok(answer.responses[0]?.partitions[0]?.errorMessage);
  const cancel = await leadership.reassignments.alter(alter([{ replicas: null }]));
  assert.equal(cancel.responses[0]?.partitions[0]?.errorCode, errorCodes.NO_REASSIGNMENT_IN_PROGRESS);
  const twice = await leadership.reassignments.alter(alter([{ replicas: [3, 4] }, { replicas: [2, 3] }]));
  assert.deepEqual(
    twice.responses.map((t) => t.partitions[0]?.errorCode),
    [errorCodes.INVALID_REQUEST, errorCodes.INVALID_REQUEST],
  );
  assert.deepEqual(stored(), before);
});

test('cancel restores the original replicas and deletes the added ones; re-adding keeps them', async () => {
  const { leadership, stored, deletions, expandIsr } = await open(await tempDir(), true);
  await leadership.reassignments.alter(alter([{ replicas: [1, 3] }]));
  await expandIsr([1, 2, 3]);
  const cancel = await leadership.reassignments.alter(alter([{ replicas: null }]));
  assert.equal(cancel.responses[0]?.partitions[0]?.errorCode, errorCodes.NONE);
  assert.deepEqual(
    [stored().replicas, stored().isr],
    [
      [1, 2],
      [1, 2],
    ],
  );
  assert.deepEqual(
    deletions().map((d) => d.spuId),
    [3],
  );
  // Moving onto SPU 3 again before it deleted its copy: the pending deletion must go.
  await leadership.reassignments.alter(alter([{ replicas: [1, 3] }]));
  assert.deepEqual(deletions(), []);
});
