import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  createAlterPartitionRequest,
  createAlterPartitionRequestBrokerState,
  createAlterPartitionRequestPartitionData,
  createAlterPartitionRequestTopicData,
} from '../protocol/messages/alter-partition.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { openScCore } from '../testing/sc-core.ts';
import { LocalMetadataStore } from './metadata-store.ts';
import type { PartitionRecord } from './topic-records.ts';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

const sessionTimeoutMs = 6000;

/** An SC's state with SPUs 1..3 registered and topic `t` (RF 3, replicas [1, 2, 3]) placed. */
async function setup(options: { autoRebalance?: boolean; configs?: Record<string, string> } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'tide-sc-leadership-'));
  dirs.push(dir);
  let changes = 0;
  const { store, clock, spus, topics, leadership } = await openScCore(dir, {
    sessionTimeoutMs,
    spuEvents: 'online',
    autoRebalance: options.autoRebalance ?? true,
    onLeadershipChange: () => changes++,
  });
  const epochs = new Map<number, number>();
  for (const id of [1, 2, 3]) epochs.set(id, (await spus.register(registration(id))).brokerEpoch);
  const created = await topics.createTopic(
    {
      name: 't',
      partitions: 1,
      replicationFactor: 3,
      assignments: new Map([[0, [1, 2, 3]]]),
      configs: options.configs ?? {},
    },
    { validateOnly: false },
  );
  assert.equal(created.errorCode, errorCodes.NONE);
  /** Takes `ids` offline by letting their sessions expire while the others heartbeat. */
  const expire = (...ids: number[]) => {
    clock.advance(sessionTimeoutMs + 1);
    for (const [id, epoch] of epochs) if (!ids.includes(id)) spus.heartbeat(id, epoch, false);
    spus.expireSessions();
  };
  const stored = () => store.get<PartitionRecord>('partitions', 't/0')!.value;
  return { dir, store, clock, spus, topics, leadership, epochs, expire, stored, changes: () => changes };
}

function registration(id: number, incarnation = id) {
  return {
    id,
    clusterId: '',
    incarnationId: Buffer.alloc(16, incarnation),
    host: '127.0.0.1',
    port: 9000 + id,
    internalHost: '127.0.0.1',
    internalPort: 9100 + id,
    rack: null,
  };
}

function proposal(
  brokerId: number,
  brokerEpoch: number,
  fields: { leaderEpoch?: number; partitionEpoch?: number; newIsr: number[]; topic?: string },
) {
  return createAlterPartitionRequest({
    brokerId,
    brokerEpoch: BigInt(brokerEpoch),
    topics: [
      createAlterPartitionRequestTopicData({
        topicName: fields.topic ?? 't',
        partitions: [
          createAlterPartitionRequestPartitionData({
            partitionIndex: 0,
            leaderEpoch: fields.leaderEpoch ?? 0,
            partitionEpoch: fields.partitionEpoch ?? 0,
            newIsr: fields.newIsr,
          }),
        ],
      }),
    ],
  });
}

test('a lost leader is replaced from the ISR, epochs raised, and the state survives a reopen', async () => {
  const { dir, leadership, expire, stored, changes } = await setup();
  expire(1);
  assert.equal(await leadership.repair(), true);
  const elected = stored();
  assert.deepEqual(
    {
      leader: elected.leader,
      leaderEpoch: elected.leaderEpoch,
      isr: elected.isr,
      epoch: elected.partitionEpoch,
    },
    { leader: 2, leaderEpoch: 1, isr: [2, 3], epoch: 1 },
  );
  assert.equal(changes(), 1);
  assert.equal(await leadership.repair(), false, 'a second pass changes nothing');
  const reopened = await LocalMetadataStore.open(dir);
  assert.deepEqual(reopened.get<PartitionRecord>('partitions', 't/0')?.value, elected);
});

test('with every ISR member gone the partition is leaderless unless unclean election is on', async () => {
  const clean = await setup();
  clean.expire(1, 2, 3);
  await clean.leadership.repair();
  assert.equal(clean.stored().leader, -1);
  assert.deepEqual(clean.stored().isr, [1, 2, 3], 'the last in-sync replicas stay listed');
  // SPU 3 returns: it was in the ISR, so it is elected cleanly.
  await clean.spus.register(registration(3, 30));
  await clean.leadership.repair();
  assert.deepEqual([clean.stored().leader, clean.stored().isr], [3, [3]]);

  const unclean = await setup({ configs: { 'unclean.leader.election.enable': 'true' } });
  unclean.expire(2, 3);
  await unclean.leadership.repair();
  assert.deepEqual([unclean.stored().leader, unclean.stored().isr], [1, [1]]);
  unclean.expire(1);
  await unclean.spus.register(registration(2, 20));
  await unclean.leadership.repair();
  assert.deepEqual([unclean.stored().leader, unclean.stored().isr], [2, [2]], 'outside the ISR, but allowed');
});

test('the preferred replica gets leadership back once in sync, unless rebalancing is off', async () => {
  for (const autoRebalance of [true, false]) {
    const { leadership, spus, expire, stored } = await setup({ autoRebalance });
    expire(1);
    await leadership.repair();
    assert.equal((await spus.register(registration(1, 10))).errorCode, errorCodes.NONE);
    await leadership.repair();
    assert.equal(stored().leader, 2, 'SPU 1 is back but not in the ISR');
    const added = await leadership.alterPartition(
      proposal(2, spus.get(2)!.brokerEpoch, { leaderEpoch: 1, partitionEpoch: 1, newIsr: [2, 3, 1] }),
      1,
    );
    assert.deepEqual(added.topics[0]?.partitions[0]?.isr, [1, 2, 3]);
    await leadership.repair();
    assert.equal(stored().leader, autoRebalance ? 1 : 2);
    assert.equal(stored().leaderEpoch, autoRebalance ? 2 : 1);
  }
});

test('AlterPartition refuses each kind of bad proposal and applies a good one', async () => {
  const { leadership, topics, epochs, expire, stored, changes } = await setup();
  const epoch1 = epochs.get(1)!;
  const errorOf = async (request: ReturnType<typeof proposal>, version = 1) =>
    (await leadership.alterPartition(request, version)).topics[0]?.partitions[0]?.errorCode;
  assert.equal(
    (await leadership.alterPartition(proposal(1, epoch1 + 100, { newIsr: [1, 2] }), 1)).errorCode,
    errorCodes.STALE_BROKER_EPOCH,
  );
  assert.equal(
    await errorOf(proposal(1, epoch1, { newIsr: [1], topic: 'nope' })),
    errorCodes.UNKNOWN_TOPIC_OR_PARTITION,
  );
  assert.equal(
    await errorOf(proposal(1, epoch1, { newIsr: [1] }), 2),
    errorCodes.UNKNOWN_TOPIC_ID,
    'v2 names topics by id',
  );
  assert.equal(
    await errorOf(proposal(2, epochs.get(2)!, { newIsr: [2] })),
    errorCodes.NOT_LEADER_OR_FOLLOWER,
  );
  assert.equal(
    await errorOf(proposal(1, epoch1, { leaderEpoch: 1, newIsr: [1] })),
    errorCodes.FENCED_LEADER_EPOCH,
  );
  assert.equal(
    await errorOf(proposal(1, epoch1, { partitionEpoch: 3, newIsr: [1] })),
    errorCodes.INVALID_UPDATE_VERSION,
  );
  assert.equal(await errorOf(proposal(1, epoch1, { newIsr: [2, 3] })), errorCodes.INVALID_REQUEST);
  assert.equal(await errorOf(proposal(1, epoch1, { newIsr: [1, 9] })), errorCodes.INVALID_REQUEST);
  assert.equal(changes(), 0, 'nothing refused was applied');

  const shrunk = await leadership.alterPartition(proposal(1, epoch1, { newIsr: [1, 2] }), 1);
  assert.deepEqual(shrunk.topics[0]?.partitions[0], {
    partitionIndex: 0,
    errorCode: 0,
    leaderId: 1,
    leaderEpoch: 0,
    isr: [1, 2],
    leaderRecoveryState: 0,
    partitionEpoch: 1,
  });
  assert.deepEqual([stored().isr, stored().partitionEpoch, changes()], [[1, 2], 1, 1]);

  expire(3);
  await leadership.repair();
  assert.equal(
    await errorOf(proposal(1, epochs.get(1)!, { partitionEpoch: 1, newIsr: [1, 2, 3] })),
    errorCodes.INELIGIBLE_REPLICA,
  );
  const v3 = createAlterPartitionRequest({
    brokerId: 1,
    brokerEpoch: BigInt(epoch1),
    topics: [
      createAlterPartitionRequestTopicData({
        topicId: Buffer.from(topics.topic('t')!.topicId, 'hex'),
        partitions: [
          createAlterPartitionRequestPartitionData({
            partitionIndex: 0,
            leaderEpoch: 0,
            partitionEpoch: 1,
            newIsrWithEpochs: [
              createAlterPartitionRequestBrokerState({ brokerId: 1, brokerEpoch: BigInt(epoch1) }),
              createAlterPartitionRequestBrokerState({
                brokerId: 2,
                brokerEpoch: BigInt(epochs.get(2)! + 50),
              }),
            ],
          }),
        ],
      }),
    ],
  });
  assert.equal(await errorOf(v3, 3), errorCodes.INELIGIBLE_REPLICA, 'a member with an old broker epoch');
});

test('after an SC restart, SPUs not registered again count as alive for one session timeout', async () => {
  const { dir } = await setup();
  const { store, clock, spus, leadership } = await openScCore(dir, { sessionTimeoutMs, spuEvents: 'none' });
  assert.equal(await leadership.repair(), false, 'nobody registered yet, but it is too early to judge');
  await spus.register(registration(2, 20));
  clock.advance(sessionTimeoutMs);
  assert.equal(await leadership.repair(), true);
  const partition = store.get<PartitionRecord>('partitions', 't/0')!.value;
  assert.deepEqual([partition.leader, partition.isr, partition.leaderEpoch], [2, [2], 1]);
});

test('an SPU that comes back as a new process leaves every ISR first, even one the SC never saw go', async () => {
  const { dir } = await setup();
  // The SC restarts; meanwhile SPU 1 (leader, replicas [1, 2, 3]) crashed and started again.
  const { store, clock, spus, leadership } = await openScCore(dir, {
    sessionTimeoutMs,
    spuEvents: 'online-and-restarts',
  });
  const state = () => {
    const partition = store.get<PartitionRecord>('partitions', 't/0')!.value;
    return [partition.leader, partition.isr, partition.leaderEpoch];
  };
  await spus.register(registration(2)); // the same process as before the SC restart: nothing changes
  assert.deepEqual(state(), [1, [1, 2, 3], 0]);
  await spus.register(registration(1, 10)); // a new process of the leader
  assert.deepEqual(state(), [2, [2, 3], 1], 'SPU 1 left the ISR and the leadership');
  await spus.register(registration(3, 30));
  assert.deepEqual(state(), [2, [2], 1]);
  // The last in-sync replica stays listed when it restarts too: no other copy is as recent. (Its
  // old session must end first: a second live process of one SPU is refused.)
  clock.advance(sessionTimeoutMs + 1);
  spus.expireSessions();
  await spus.register(registration(2, 20));
  assert.deepEqual(state(), [-1, [2], 2]);
  assert.equal(await leadership.repair(), true);
  assert.deepEqual(state(), [2, [2], 3], 'elected again, cleanly, once registered');
});
