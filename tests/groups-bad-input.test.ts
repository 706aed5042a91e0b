import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { apiKeys } from '../src/protocol/messages/api-keys.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { createFindCoordinatorRequest } from '../src/protocol/messages/find-coordinator.ts';
import { createJoinGroupRequest, type JoinGroupResponse } from '../src/protocol/messages/join-group.ts';
import { createOffsetCommitRequest } from '../src/protocol/messages/offset-commit.ts';
import { createSyncGroupRequest } from '../src/protocol/messages/sync-group.ts';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import { encodeRequestFrame, parseBootstrap, WireClient } from '../src/testing/wire-client.ts';
import { createTopicEverywhere } from './helpers/group-wire.ts';

/**
 * Group requests a client gets wrong, against a real 2-SPU cluster: requests at the SPU that does not
 * coordinate the group, unknown members, stale generations, oversized metadata, too many members,
 * and truncated or bit-flipped group frames. Each gets the Kafka error code clients act on (or a
 * closed connection for frames that cannot be parsed), and the coordinator keeps serving.
 */

const maxMembers = 2;
const waitMs = 30_000; // ms for the offsets topic to be created and loaded

let cluster: TestCluster;
/** Connections to SPU 1 and SPU 2, by SPU id - 1. */
const clients: WireClient[] = [];

before(async () => {
  cluster = await startCluster({
    spus: 2,
    spuArgs: [
      '--offsets-topic-partitions',
      '4',
      '--group-initial-rebalance-delay-ms',
      '0',
      '--group-max-size',
      String(maxMembers),
    ],
  });
  for (const spu of cluster.spus) clients.push(await WireClient.connect(parseBootstrap(spu.bootstrap)));
  await createTopicEverywhere(clients, { name: 'orders', partitions: 1 });
});

after(async () => {
  for (const client of clients) await client.close();
  await cluster?.destroy();
  await stopAll();
});

/**
 * FindCoordinator (v3) until it answers, at SPU 1 and then at the coordinator itself, which answers
 * only once it has loaded the group's partition. The first call creates the offsets topic.
 */
async function coordinatorOf(
  groupId: string,
): Promise<{ client: WireClient; other: WireClient; port: number }> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const request = createFindCoordinatorRequest({ key: groupId, keyType: 0 });
    const answer = await clients[0]!.request(apiKeys.FindCoordinator, 3, request);
    const at = cluster.spus.findIndex((spu) => spu.id === answer.nodeId);
    const own = at < 0 ? undefined : await clients[at]!.request(apiKeys.FindCoordinator, 3, request);
    if (answer.errorCode === errorCodes.NONE && own?.errorCode === errorCodes.NONE) {
      return { client: clients[at]!, other: clients[1 - at]!, port: cluster.spus[at]!.port };
    }
    if (Date.now() > deadline) throw new Error('no coordinator');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function joinRequest(groupId: string, memberId: string, metadataBytes = 8, sessionTimeoutMs = 10_000) {
  return createJoinGroupRequest({
    groupId,
    sessionTimeoutMs,
    rebalanceTimeoutMs: 10_000,
    memberId,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.alloc(metadataBytes) }],
  });
}

/** JoinGroup v5 the way a v4+ client does it: MEMBER_ID_REQUIRED first, then with the given id. */
async function joinAsNewMember(client: WireClient, groupId: string): Promise<JoinGroupResponse> {
  const first = await client.request(apiKeys.JoinGroup, 5, joinRequest(groupId, ''));
  assert.equal(first.errorCode, errorCodes.MEMBER_ID_REQUIRED);
  assert.notEqual(first.memberId, '');
  return client.request(apiKeys.JoinGroup, 5, joinRequest(groupId, first.memberId));
}

function commitRequest(groupId: string, generation: number, memberId: string, metadata = '') {
  return createOffsetCommitRequest({
    groupId,
    generationIdOrMemberEpoch: generation,
    memberId,
    topics: [
      {
        name: 'orders',
        partitions: [
          {
            partitionIndex: 0,
            committedOffset: 5n,
            committedLeaderEpoch: -1,
            commitTimestamp: -1n,
            committedMetadata: metadata,
          },
        ],
      },
    ],
  });
}

function commitError(answer: { topics: { partitions: { errorCode: number }[] }[] }): number | undefined {
  return answer.topics[0]?.partitions[0]?.errorCode;
}

describe('group requests a client gets wrong', () => {
  it('sends requests at the wrong SPU elsewhere with NOT_COORDINATOR', async () => {
    const { other } = await coordinatorOf('wrong-spu');
    const join = await other.request(apiKeys.JoinGroup, 5, joinRequest('wrong-spu', ''));
    assert.equal(join.errorCode, errorCodes.NOT_COORDINATOR);
    const heartbeat = await other.request(apiKeys.Heartbeat, 3, {
      groupId: 'wrong-spu',
      generationId: 1,
      memberId: 'm',
      groupInstanceId: null,
    });
    assert.equal(heartbeat.errorCode, errorCodes.NOT_COORDINATOR);
    const commit = await other.request(apiKeys.OffsetCommit, 7, commitRequest('wrong-spu', -1, ''));
    assert.equal(commitError(commit), errorCodes.NOT_COORDINATOR);
    const fetch = await other.request(apiKeys.OffsetFetch, 7, {
      groupId: 'wrong-spu',
      topics: null,
      groups: [],
      requireStable: false,
    });
    assert.equal(fetch.errorCode, errorCodes.NOT_COORDINATOR);
  });

  it('answers FindCoordinator v4 per key, and refuses odd key types', async () => {
    await coordinatorOf('batch-a');
    const answer = await clients[0]!.request(
      apiKeys.FindCoordinator,
      4,
      createFindCoordinatorRequest({ keyType: 0, coordinatorKeys: ['batch-a', ''] }),
    );
    assert.deepEqual(
      answer.coordinators.map(({ key, errorCode }) => [key, errorCode]),
      [
        ['batch-a', errorCodes.NONE],
        ['', errorCodes.INVALID_GROUP_ID],
      ],
    );
    const odd = await clients[0]!.request(
      apiKeys.FindCoordinator,
      3,
      createFindCoordinatorRequest({ key: 'x', keyType: 9 }),
    );
    assert.equal(odd.errorCode, errorCodes.INVALID_REQUEST);
  });

  it('answers unknown members, stale generations and bad joins with their error codes', async () => {
    const groupId = 'mistakes';
    const { client } = await coordinatorOf(groupId);
    const unknown = await client.request(apiKeys.Heartbeat, 3, {
      groupId,
      generationId: 1,
      memberId: 'ghost',
      groupInstanceId: null,
    });
    assert.equal(unknown.errorCode, errorCodes.UNKNOWN_MEMBER_ID);
    const forged = await client.request(apiKeys.JoinGroup, 5, joinRequest(groupId, 'forged-id'));
    assert.equal(forged.errorCode, errorCodes.UNKNOWN_MEMBER_ID);
    const shortSession = await client.request(apiKeys.JoinGroup, 5, joinRequest(groupId, '', 8, 1));
    assert.equal(shortSession.errorCode, errorCodes.INVALID_SESSION_TIMEOUT);
    const oversized = await client.request(apiKeys.JoinGroup, 5, joinRequest(groupId, '', 64 * 1024 + 1));
    assert.equal(oversized.errorCode, errorCodes.GROUP_MAX_SIZE_REACHED);
    const noProtocols = await client.request(
      apiKeys.JoinGroup,
      5,
      createJoinGroupRequest({
        groupId,
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        memberId: '',
        protocolType: 'consumer',
        protocols: [],
      }),
    );
    assert.equal(noProtocols.errorCode, errorCodes.INCONSISTENT_GROUP_PROTOCOL);

    const joined = await joinAsNewMember(client, groupId);
    assert.equal(joined.errorCode, errorCodes.NONE);
    assert.equal(joined.leader, joined.memberId);
    const stale = await client.request(
      apiKeys.SyncGroup,
      5,
      createSyncGroupRequest({
        groupId,
        generationId: joined.generationId + 5,
        memberId: joined.memberId,
        protocolType: 'consumer',
        protocolName: 'range',
      }),
    );
    assert.equal(stale.errorCode, errorCodes.ILLEGAL_GENERATION);
    const wrongProtocol = await client.request(
      apiKeys.SyncGroup,
      5,
      createSyncGroupRequest({
        groupId,
        generationId: joined.generationId,
        memberId: joined.memberId,
        protocolType: 'consumer',
        protocolName: 'other',
      }),
    );
    assert.equal(wrongProtocol.errorCode, errorCodes.INCONSISTENT_GROUP_PROTOCOL);
    const synced = await client.request(
      apiKeys.SyncGroup,
      5,
      createSyncGroupRequest({
        groupId,
        generationId: joined.generationId,
        memberId: joined.memberId,
        assignments: [{ memberId: joined.memberId, assignment: Buffer.from('x') }],
      }),
    );
    assert.equal(synced.errorCode, errorCodes.NONE);
    assert.equal(String(synced.assignment), 'x');

    const staleBeat = await client.request(apiKeys.Heartbeat, 3, {
      groupId,
      generationId: joined.generationId - 1,
      memberId: joined.memberId,
      groupInstanceId: null,
    });
    assert.equal(staleBeat.errorCode, errorCodes.ILLEGAL_GENERATION);
    const staleCommit = await client.request(
      apiKeys.OffsetCommit,
      7,
      commitRequest(groupId, joined.generationId - 1, joined.memberId),
    );
    assert.equal(commitError(staleCommit), errorCodes.ILLEGAL_GENERATION);
    const strangerCommit = await client.request(
      apiKeys.OffsetCommit,
      7,
      commitRequest(groupId, joined.generationId, 'stranger'),
    );
    assert.equal(commitError(strangerCommit), errorCodes.UNKNOWN_MEMBER_ID);
    const simpleCommit = await client.request(apiKeys.OffsetCommit, 7, commitRequest(groupId, -1, ''));
    assert.equal(commitError(simpleCommit), errorCodes.UNKNOWN_MEMBER_ID, 'the group has members');
    const bigMetadata = await client.request(
      apiKeys.OffsetCommit,
      7,
      commitRequest(groupId, joined.generationId, joined.memberId, 'm'.repeat(5_000)),
    );
    assert.equal(commitError(bigMetadata), errorCodes.OFFSET_METADATA_TOO_LARGE);
    const good = await client.request(
      apiKeys.OffsetCommit,
      7,
      commitRequest(groupId, joined.generationId, joined.memberId),
    );
    assert.equal(commitError(good), errorCodes.NONE);

    const busy = await client.request(apiKeys.DeleteGroups, 2, { groupsNames: [groupId] });
    assert.equal(busy.results[0]?.errorCode, errorCodes.NON_EMPTY_GROUP);
    const neverSeen = await coordinatorOf('never-seen');
    const missing = await neverSeen.client.request(apiKeys.DeleteGroups, 2, { groupsNames: ['never-seen'] });
    assert.equal(missing.results[0]?.errorCode, errorCodes.GROUP_ID_NOT_FOUND);
    const offsetDelete = await neverSeen.client.request(apiKeys.OffsetDelete, 0, {
      groupId: 'never-seen',
      topics: [],
    });
    assert.equal(offsetDelete.errorCode, errorCodes.GROUP_ID_NOT_FOUND);
    const left = await client.request(apiKeys.LeaveGroup, 4, {
      groupId,
      memberId: '',
      members: [
        { memberId: joined.memberId, groupInstanceId: null, reason: null },
        { memberId: 'ghost', groupInstanceId: null, reason: null },
      ],
    });
    assert.deepEqual(
      left.members.map(({ errorCode }) => errorCode),
      [errorCodes.NONE, errorCodes.UNKNOWN_MEMBER_ID],
    );
    const deleted = await client.request(apiKeys.DeleteGroups, 2, { groupsNames: [groupId] });
    assert.equal(deleted.results[0]?.errorCode, errorCodes.NONE);
    const fetched = await client.request(apiKeys.OffsetFetch, 7, {
      groupId,
      topics: [{ name: 'orders', partitionIndexes: [0] }],
      groups: [],
      requireStable: false,
    });
    assert.equal(
      fetched.topics[0]?.partitions[0]?.committedOffset,
      -1n,
      'deleting a group deletes its offsets',
    );
  });

  it('answers the admin APIs: OffsetFetch v8, ListGroups v4, DescribeGroups v5, OffsetDelete', async () => {
    const groupId = 'admin-apis';
    const { client } = await coordinatorOf(groupId);
    const committed = await client.request(apiKeys.OffsetCommit, 8, commitRequest(groupId, -1, ''));
    assert.equal(commitError(committed), errorCodes.NONE, 'a group without members takes simple commits');
    const fetched = await client.request(apiKeys.OffsetFetch, 8, {
      groupId: '',
      topics: null,
      groups: [{ groupId, topics: null }],
      requireStable: false,
    });
    const partitions = fetched.groups[0]?.topics[0]?.partitions;
    assert.deepEqual(
      partitions?.map(({ partitionIndex, committedOffset }) => [partitionIndex, committedOffset]),
      [[0, 5n]],
    );
    const listed = await client.request(apiKeys.ListGroups, 4, { statesFilter: ['Empty'] });
    assert.ok(listed.groups.some((group) => group.groupId === groupId && group.groupState === 'Empty'));
    const stable = await client.request(apiKeys.ListGroups, 4, { statesFilter: ['Stable'] });
    assert.ok(!stable.groups.some((group) => group.groupId === groupId));
    const described = await client.request(apiKeys.DescribeGroups, 5, {
      groups: [groupId],
      includeAuthorizedOperations: false,
    });
    assert.equal(described.groups[0]?.groupState, 'Empty');
    assert.equal(described.groups[0]?.members.length, 0);
    const deleted = await client.request(apiKeys.OffsetDelete, 0, {
      groupId,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0 }] }],
    });
    assert.equal(deleted.topics[0]?.partitions[0]?.errorCode, errorCodes.NONE);
    const after = await client.request(apiKeys.OffsetFetch, 7, {
      groupId,
      topics: null,
      groups: [],
      requireStable: false,
    });
    assert.deepEqual(after.topics, [], 'the deleted offset is gone');
  });

  it('keeps offsets of topics a member consumes (GROUP_SUBSCRIBED_TO_TOPIC)', async () => {
    const groupId = 'subscribed';
    const { client } = await coordinatorOf(groupId);
    // Consumer protocol subscription v0: int16 version, [string topics], bytes user data.
    const subscription = Buffer.from(
      `0000${'00000001'}0006${Buffer.from('orders').toString('hex')}ffffffff`,
      'hex',
    );
    const join = (memberId: string) =>
      client.request(
        apiKeys.JoinGroup,
        5,
        createJoinGroupRequest({
          groupId,
          sessionTimeoutMs: 10_000,
          rebalanceTimeoutMs: 10_000,
          memberId,
          protocolType: 'consumer',
          protocols: [{ name: 'range', metadata: subscription }],
        }),
      );
    const joined = await join((await join('')).memberId);
    assert.equal(joined.errorCode, errorCodes.NONE);
    const { memberId, generationId } = joined;
    const sync = createSyncGroupRequest({
      groupId,
      generationId,
      memberId,
      assignments: [{ memberId, assignment: Buffer.alloc(0) }],
    });
    assert.equal((await client.request(apiKeys.SyncGroup, 5, sync)).errorCode, errorCodes.NONE);
    const committed = await client.request(
      apiKeys.OffsetCommit,
      7,
      commitRequest(groupId, generationId, memberId),
    );
    assert.equal(commitError(committed), errorCodes.NONE);
    const refused = await client.request(apiKeys.OffsetDelete, 0, {
      groupId,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0 }] }],
    });
    assert.equal(refused.topics[0]?.partitions[0]?.errorCode, errorCodes.GROUP_SUBSCRIBED_TO_TOPIC);
    const kept = await client.request(apiKeys.OffsetFetch, 7, {
      groupId,
      topics: [{ name: 'orders', partitionIndexes: [0] }],
      groups: [],
      requireStable: false,
    });
    assert.equal(kept.topics[0]?.partitions[0]?.committedOffset, 5n);
  });

  it('refuses members beyond group.max.size', async () => {
    const groupId = 'crowded';
    const { client } = await coordinatorOf(groupId);
    const members: JoinGroupResponse[] = [];
    for (let at = 0; at < maxMembers; at++) {
      const first = await client.request(apiKeys.JoinGroup, 5, joinRequest(groupId, ''));
      assert.equal(first.errorCode, errorCodes.MEMBER_ID_REQUIRED);
      members.push(first);
    }
    const extra = await client.request(apiKeys.JoinGroup, 5, joinRequest(groupId, ''));
    assert.equal(extra.errorCode, errorCodes.GROUP_MAX_SIZE_REACHED);
  });

  it('survives truncated and bit-flipped group frames and keeps serving', async () => {
    const groupId = 'fuzzed';
    const { port } = await coordinatorOf(groupId);
    const frames = [
      encodeRequestFrame(
        { apiKey: apiKeys.JoinGroup, apiVersion: 5, correlationId: 1 },
        joinRequest(groupId, ''),
      ),
      encodeRequestFrame(
        { apiKey: apiKeys.SyncGroup, apiVersion: 5, correlationId: 1 },
        createSyncGroupRequest({ groupId, generationId: 1, memberId: 'm' }),
      ),
      encodeRequestFrame(
        { apiKey: apiKeys.OffsetCommit, apiVersion: 8, correlationId: 1 },
        commitRequest(groupId, -1, ''),
      ),
      encodeRequestFrame(
        { apiKey: apiKeys.FindCoordinator, apiVersion: 4, correlationId: 1 },
        createFindCoordinatorRequest({ coordinatorKeys: [groupId] }),
      ),
    ];
    let seed = 7;
    const random = (bound: number) => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      return seed % bound;
    };
    for (let round = 0; round < 200; round++) {
      const frame = Buffer.from(frames[round % frames.length]!);
      const cut = 4 + random(frame.length - 4);
      const mangled = frame.subarray(0, round % 2 === 0 ? cut : frame.length);
      const flipAt = 4 + random(frame.length - 4);
      if (round % 2 === 1) mangled[flipAt] = mangled[flipAt]! ^ (1 << random(8));
      mangled.writeInt32BE(mangled.length - 4, 0);
      await sendRaw(port, mangled);
    }
    // Fuzzed joins may have left members in 'fuzzed': a fresh group shows the coordinators serve.
    const after = await coordinatorOf('after-fuzz');
    const joined = await joinAsNewMember(after.client, 'after-fuzz');
    assert.equal(joined.errorCode, errorCodes.NONE);
    const probe = await WireClient.connect({ host: '127.0.0.1', port });
    assert.equal((await probe.apiVersions()).errorCode, errorCodes.NONE, 'the fuzzed SPU is alive');
    await probe.close();
  });
});

/** Writes one frame on a fresh connection; resolves on an answer, a close or after a short while. */
function sendRaw(port: number, frame: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(finish, 200);
    socket.on('error', finish);
    socket.on('data', finish);
    socket.on('close', finish);
    socket.once('connect', () => socket.write(frame));
  });
}
