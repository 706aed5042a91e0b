import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../base/clock.ts';
import { silentLogger } from '../../base/logger.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import { createJoinGroupRequest } from '../../protocol/messages/join-group.ts';
import { createOffsetCommitRequest } from '../../protocol/messages/offset-commit.ts';
import { makeTempDir } from '../../testing/processes.ts';
import type { RequestContext, SpuServices } from '../handler.ts';
import { joinGroupHandler } from '../handlers/groups/membership.ts';
import { offsetCommitHandler } from '../handlers/groups/offsets.ts';
import { PartitionManager } from '../partitions.ts';
import { StandaloneCluster } from '../standalone.ts';
import { TopicStore } from '../topic-store.ts';
import {
  type CoordinatorSettings,
  GroupCoordinator,
  groupPartition,
  offsetsTopicName,
  type Shard,
} from './coordinator.ts';
import type { Group } from './group.ts';
import { groupStates } from './group-types.ts';

const temps: Array<() => Promise<void>> = [];
after(async () => {
  for (const remove of temps) await remove();
});

const retentionMs = 60_000;

async function openSpu(settings: Partial<CoordinatorSettings> = {}) {
  const temp = await makeTempDir('tide-groups-');
  temps.push(temp.remove);
  const clock = new ManualClock();
  const partitions = await PartitionManager.open({ dataDir: temp.path, clock, logger: silentLogger });
  const cluster = new StandaloneCluster({
    clusterId: 'test',
    self: { id: 1, host: '127.0.0.1', port: 9092, rack: null },
    store: await TopicStore.open(temp.path),
    partitions,
    clock,
    logger: silentLogger,
    defaults: { partitions: 1, replicationFactor: 1, partitionsPerTopicMax: 100 },
  });
  const created = await cluster.createTopic(
    { name: 'orders', partitions: 1, replicationFactor: 1, assignments: new Map(), configs: {} },
    { validateOnly: false },
  );
  assert.equal(created.errorCode, errorCodes.NONE);
  const coordinator = () =>
    new GroupCoordinator({
      selfId: 1,
      partitions,
      cluster,
      admin: cluster,
      clock,
      logger: silentLogger,
      settings: {
        offsetsTopicPartitions: 3,
        initialRebalanceDelayMs: 0,
        offsetsRetentionMs: retentionMs,
        ...settings,
      },
    });
  return { clock, partitions, coordinator };
}

/** Polls (without a clock) until the group's shard is loaded; loading reads the log asynchronously. */
async function loadedShard(coordinator: GroupCoordinator, groupId: string): Promise<Shard> {
  for (let attempt = 0; attempt < 1_000; attempt++) {
    const shard = coordinator.shardOf(groupId);
    if (typeof shard !== 'number') return shard;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('the shard never loaded');
}

const context = {
  apiKey: 8,
  apiVersion: 8,
  correlationId: 1,
  clientId: 'test',
  connection: { id: 1, remote: '127.0.0.1:1', closed: new AbortController().signal },
} satisfies RequestContext;

async function stableMember(group: Group): Promise<{ memberId: string; generationId: number }> {
  const joined = await group.join({
    memberId: '',
    groupInstanceId: null,
    clientId: 'c',
    clientHost: 'h',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from('sub') }],
    requireKnownMemberId: false,
  });
  assert.equal(joined.errorCode, errorCodes.NONE);
  const synced = await group.sync({
    memberId: joined.memberId,
    groupInstanceId: null,
    generationId: joined.generationId,
    protocolType: null,
    protocolName: null,
    assignments: [{ memberId: joined.memberId, assignment: Buffer.from('assigned') }],
  });
  assert.equal(synced.errorCode, errorCodes.NONE);
  return { memberId: joined.memberId, generationId: joined.generationId };
}

function commit(
  coordinator: GroupCoordinator,
  member: { memberId: string; generationId: number },
  offset: bigint,
  target: { groupId?: string; topic?: string; partition?: number } = {},
) {
  const request = createOffsetCommitRequest({
    groupId: target.groupId ?? 'g',
    generationIdOrMemberEpoch: member.generationId,
    memberId: member.memberId,
    topics: [
      {
        name: target.topic ?? 'orders',
        partitions: [
          {
            partitionIndex: target.partition ?? 0,
            committedOffset: offset,
            committedLeaderEpoch: 3,
            commitTimestamp: -1n,
            committedMetadata: 'm',
          },
        ],
      },
    ],
  });
  return offsetCommitHandler(coordinator)(request, context, {} as unknown as SpuServices);
}

describe('GroupCoordinator', () => {
  it('hashes group ids like Java String.hashCode', () => {
    // "hello".hashCode() = 99162322; Integer.MIN_VALUE-like hashes lose their sign bit.
    assert.equal(groupPartition('hello', 1_000_000_000), 99162322);
    assert.equal(groupPartition('polygenelubricants', 50), (-2147483648 & 0x7fffffff) % 50);
    assert.equal(groupPartition('', 50), 0);
  });

  it('creates the offsets topic on first need, then coordinates from it', async () => {
    const { coordinator } = await openSpu();
    const groups = coordinator();
    assert.equal(groups.locate('g').errorCode, errorCodes.COORDINATOR_NOT_AVAILABLE);
    await loadedShard(groups, 'g');
    const location = groups.locate('g');
    assert.deepEqual(location, { errorCode: errorCodes.NONE, nodeId: 1, host: '127.0.0.1', port: 9092 });
    assert.equal(groups.partitionOf('g'), groupPartition('g', 3));
    groups.stop();
  });

  it('rebuilds groups and offsets from the partition when it loads again', async () => {
    const { coordinator } = await openSpu();
    const first = coordinator();
    const shard = await loadedShard(first, 'g');
    const group = first.groupOf(shard, 'g', 'join') as Group;
    const member = await stableMember(group);
    const answer = await commit(first, member, 42n);
    assert.equal(answer?.topics[0]?.partitions[0]?.errorCode, errorCodes.NONE);
    const stale = await commit(first, { ...member, generationId: 0 }, 50n);
    assert.equal(stale?.topics[0]?.partitions[0]?.errorCode, errorCodes.ILLEGAL_GENERATION);
    first.stop();
    assert.equal(group.state, groupStates.dead, 'an unloaded group answers nobody any more');

    const second = coordinator();
    const reloaded = (await loadedShard(second, 'g')).groups.get('g');
    assert.ok(reloaded !== undefined);
    assert.equal(reloaded.state, groupStates.stable);
    assert.equal(reloaded.generationId, 1);
    assert.equal(reloaded.heartbeat({ ...member, groupInstanceId: null }), errorCodes.NONE);
    assert.deepEqual(
      [...reloaded.offsets.values()].map(({ offset, leaderEpoch, metadata }) => [
        offset,
        leaderEpoch,
        metadata,
      ]),
      [[42n, 3, 'm']],
    );
    second.stop();
  });

  it('expires the members of a reloaded group on their own deadline, without a sweep', async () => {
    const { coordinator, clock } = await openSpu();
    const first = coordinator();
    const member = await stableMember(first.groupOf(await loadedShard(first, 'g'), 'g', 'join') as Group);
    first.stop();
    const second = coordinator();
    const reloaded = (await loadedShard(second, 'g')).groups.get('g')!;
    assert.equal(reloaded.hasMember(member.memberId), true);
    clock.advance(10_000 - 1);
    assert.equal(reloaded.hasMember(member.memberId), true, 'its session has 1 ms left');
    clock.advance(1);
    assert.equal(reloaded.hasMember(member.memberId), false, 'expired when its session ended');
    second.stop();
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION for a topic or partition that does not exist, storing nothing', async () => {
    const { coordinator } = await openSpu();
    const groups = coordinator();
    const shard = await loadedShard(groups, 'lost');
    const simple = { memberId: '', generationId: -1 };
    const missingTopic = await commit(groups, simple, 5n, { groupId: 'lost', topic: 'no-such-topic' });
    assert.equal(missingTopic?.topics[0]?.partitions[0]?.errorCode, errorCodes.UNKNOWN_TOPIC_OR_PARTITION);
    const missingPartition = await commit(groups, simple, 5n, { groupId: 'lost', partition: 7 });
    assert.equal(
      missingPartition?.topics[0]?.partitions[0]?.errorCode,
      errorCodes.UNKNOWN_TOPIC_OR_PARTITION,
    );
    assert.equal(shard.groups.has('lost'), false, 'no group was created for nothing');
    const known = await commit(groups, simple, 5n, { groupId: 'lost' });
    assert.equal(known?.topics[0]?.partitions[0]?.errorCode, errorCodes.NONE);
    assert.deepEqual(
      [...(shard.groups.get('lost')?.offsets.values() ?? [])].map(({ topic, partition }) => [
        topic,
        partition,
      ]),
      [['orders', 0]],
    );
    groups.stop();
  });

  it('lets real groups in after commits for many fake group ids fill the groups without members', async () => {
    const { coordinator } = await openSpu({ groupsMax: 4, emptyGroupsMax: 6 });
    const groups = coordinator();
    const simple = { memberId: '', generationId: -1 };
    const fakeIds = Array.from({ length: 10 }, (_, at) => `fake-${at}`);
    for (const groupId of fakeIds) await loadedShard(groups, groupId);
    const answers: number[] = [];
    for (const groupId of fakeIds) {
      const answer = await commit(groups, simple, 1n, { groupId });
      answers.push(answer?.topics[0]?.partitions[0]?.errorCode ?? -1);
    }
    assert.deepEqual(
      answers,
      [...Array(6).fill(errorCodes.NONE), ...Array(4).fill(errorCodes.GROUP_MAX_SIZE_REACHED)],
      'groups that only hold offsets have their own bound',
    );
    const join = joinGroupHandler(groups);
    const joinAnswers: number[] = [];
    for (const groupId of ['real-1', 'real-2', 'real-3', 'real-4', 'real-5']) {
      await loadedShard(groups, groupId);
      const joined = await join(
        createJoinGroupRequest({
          groupId,
          sessionTimeoutMs: 10_000,
          rebalanceTimeoutMs: 10_000,
          protocolType: 'consumer',
          protocols: [{ name: 'range', metadata: Buffer.from('sub') }],
        }),
        { ...context, apiKey: 11, apiVersion: 3 },
        {} as unknown as SpuServices,
      );
      joinAnswers.push(joined?.errorCode ?? -1);
    }
    assert.deepEqual(
      joinAnswers,
      [errorCodes.NONE, errorCodes.NONE, errorCodes.NONE, errorCodes.NONE, errorCodes.GROUP_MAX_SIZE_REACHED],
      'groups with members get in up to their own bound',
    );
    assert.equal(groups.groupCount(), 10);
    groups.stop();
  });

  it('expires the offsets of an empty group, writing tombstones', async () => {
    const { coordinator, clock } = await openSpu();
    const first = coordinator();
    const shard = await loadedShard(first, 'g');
    const group = first.groupOf(shard, 'g', 'join') as Group;
    const member = await stableMember(group);
    await commit(first, member, 7n);
    group.leave([{ memberId: member.memberId, groupInstanceId: null }]);
    assert.equal(group.state, groupStates.empty);
    clock.advance(retentionMs - 1);
    await first.expireOffsets();
    assert.equal(group.offsets.size, 1, 'not yet');
    clock.advance(1);
    await first.expireOffsets();
    assert.equal(group.offsets.size, 0);
    assert.equal(shard.groups.has('g'), false, 'a group with neither members nor offsets is removed');
    first.stop();
    const second = coordinator();
    assert.equal((await loadedShard(second, 'g')).groups.has('g'), false, 'the tombstones were written');
    second.stop();
  });

  it('drops a shard whose leadership moved and sends its members elsewhere', async () => {
    const { coordinator, partitions } = await openSpu();
    const groups = coordinator();
    const shard = await loadedShard(groups, 'g');
    const group = groups.groupOf(shard, 'g', 'join') as Group;
    await stableMember(group);
    const waiting = group.join({
      memberId: '',
      groupInstanceId: null,
      clientId: 'c',
      clientHost: 'h',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
      requireKnownMemberId: false,
    });
    const partition = partitions.get(offsetsTopicName, shard.index)!;
    partition.setRole({ leading: false, leaderEpoch: partition.leaderEpoch + 1 });
    groups.reconcile();
    assert.equal((await waiting).errorCode, errorCodes.NOT_COORDINATOR);
    assert.equal(groups.shardOf('g'), errorCodes.NOT_COORDINATOR);
    groups.stop();
  });
});
