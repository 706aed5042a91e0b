import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { silentLogger } from '../base/logger.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { openScCore } from '../testing/sc-core.ts';
import { electLeadersHandler } from './elect-leaders.ts';
import type { PartitionRecord } from './topic-records.ts';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

const sessionTimeoutMs = 6000;

/** SPUs 1..3 registered, topic `t` with replicas [1, 2, 3], and SPU 1 offline. */
async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'tide-sc-elect-'));
  dirs.push(dir);
  const { store, clock, spus, topics } = await openScCore(dir, { sessionTimeoutMs, spuEvents: 'none' });
  const epochs = new Map<number, number>();
  for (const id of [1, 2, 3]) {
    const registered = await spus.register({
      id,
      clusterId: '',
      incarnationId: Buffer.alloc(16, id),
      host: '127.0.0.1',
      port: 9000 + id,
      internalHost: '127.0.0.1',
      internalPort: 9100 + id,
      rack: null,
    });
    epochs.set(id, registered.brokerEpoch);
  }
  const created = await topics.createTopic(
    { name: 't', partitions: 1, replicationFactor: 3, assignments: new Map([[0, [1, 2, 3]]]), configs: {} },
    { validateOnly: false },
  );
  assert.equal(created.errorCode, errorCodes.NONE);
  clock.advance(sessionTimeoutMs + 1);
  for (const id of [2, 3]) spus.heartbeat(id, epochs.get(id)!, false);
  spus.expireSessions();
  assert.equal(spus.isOnline(1), false);
  let changes = 0;
  const elect = electLeadersHandler({ store, spus, topics, logger: silentLogger, onChange: () => changes++ });
  const stored = () => store.get<PartitionRecord>('partitions', 't/0')!;
  /** The partition as a leadership pass would leave it when its last in-sync replica went away. */
  const lastInSyncGone = async (leader: number) => {
    const { value, revision } = stored();
    await store.commit([
      {
        kind: 'partitions',
        key: 't/0',
        value: { ...value, leader, isr: [1], leaderEpoch: 1, partitionEpoch: 1 },
        expectedRevision: revision,
      },
    ]);
  };
  return { elect, stored, lastInSyncGone, changes: () => changes };
}

const codes = (answer: Awaited<ReturnType<ReturnType<typeof electLeadersHandler>>>) =>
  answer.replicaElectionResults.flatMap(({ partitionResult }) =>
    partitionResult.map(({ partitionId, errorCode }) => [partitionId, errorCode]),
  );

test('an unclean election gives a partition whose in-sync replicas are gone its first online replica', async () => {
  const { elect, stored, lastInSyncGone, changes } = await setup();
  await lastInSyncGone(-1);
  const preferred = await elect(
    { electionType: 0, topicPartitions: [{ topic: 't', partitions: [0] }], timeoutMs: 0 },
    2,
  );
  assert.deepEqual(codes(preferred), [[0, errorCodes.PREFERRED_LEADER_NOT_AVAILABLE]]);
  const unclean = await elect(
    { electionType: 1, topicPartitions: [{ topic: 't', partitions: [0, 4] }], timeoutMs: 0 },
    2,
  );
  assert.deepEqual(codes(unclean), [
    [0, errorCodes.NONE],
    [4, errorCodes.UNKNOWN_TOPIC_OR_PARTITION],
  ]);
  const elected = stored().value;
  assert.deepEqual(
    {
      leader: elected.leader,
      isr: elected.isr,
      leaderEpoch: elected.leaderEpoch,
      partitionEpoch: elected.partitionEpoch,
    },
    { leader: 2, isr: [2], leaderEpoch: 2, partitionEpoch: 2 },
  );
  assert.equal(changes(), 1, 'the change is pushed');
  const again = await elect(
    { electionType: 1, topicPartitions: [{ topic: 't', partitions: [0] }], timeoutMs: 0 },
    2,
  );
  assert.deepEqual(codes(again), [[0, errorCodes.ELECTION_NOT_NEEDED]], 'its leader is online now');
});

test('with every partition asked, only the ones it could not elect are answered', async () => {
  const { elect, stored, changes } = await setup();
  const leader = stored().value.leader;
  assert.equal(leader, 1, 'SPU 1 still leads as stored: no leadership pass ran');
  const all = await elect({ electionType: 0, topicPartitions: null, timeoutMs: 0 }, 2);
  assert.deepEqual(all.replicaElectionResults, [], 'the preferred replica leads: nothing to answer');
  const v0 = await elect(
    { electionType: 1, topicPartitions: [{ topic: 't', partitions: [0] }], timeoutMs: 0 },
    0,
  );
  assert.deepEqual(codes(v0), [[0, errorCodes.ELECTION_NOT_NEEDED]], 'v0 elections are always preferred');
  const bad = await elect({ electionType: 7, topicPartitions: null, timeoutMs: 0 }, 2);
  assert.equal(bad.errorCode, errorCodes.INVALID_REQUEST);
  assert.equal(changes(), 0);
});
