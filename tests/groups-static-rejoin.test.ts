import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiKeys } from '../src/protocol/messages/api-keys.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { createSyncGroupRequest } from '../src/protocol/messages/sync-group.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';
import { parseBootstrap, WireClient } from '../src/testing/wire-client.ts';
import { joinGroupRequest, waitForCoordinator } from './helpers/group-wire.ts';

/**
 * A static group member (group.instance.id) that restarts rejoins with an empty member id on a new
 * connection. Kafka keeps the group Stable and answers at once with the same generation, whether
 * the member was the leader or not; the other members keep heartbeating without a rebalance.
 */

const groupId = 'static-restart';
let spu: TestSpu;
const clients: WireClient[] = [];

async function connect(): Promise<WireClient> {
  const client = await WireClient.connect(parseBootstrap(spu.bootstrap));
  clients.push(client);
  return client;
}

before(async () => {
  // The initial delay lets both members into the first generation.
  spu = await startSpu({
    args: ['--offsets-topic-partitions', '1', '--group-initial-rebalance-delay-ms', '1000'],
  });
});

after(async () => {
  for (const client of clients) await client.close();
  await spu?.destroy();
});

function sync(client: WireClient, memberId: string, instance: string, assignments: [string, string][]) {
  return client.request(
    apiKeys.SyncGroup,
    3,
    createSyncGroupRequest({
      groupId,
      generationId: 1,
      memberId,
      groupInstanceId: instance,
      assignments: assignments.map(([id, bytes]) => ({ memberId: id, assignment: Buffer.from(bytes) })),
    }),
  );
}

describe('a restarted static member', () => {
  it('rejoins as leader without a rebalance: same generation, the group stays Stable', async () => {
    const leaderClient = await connect();
    const followerClient = await connect();
    await waitForCoordinator(leaderClient, groupId);
    const [leader, follower] = await Promise.all([
      leaderClient.request(apiKeys.JoinGroup, 5, joinGroupRequest({ groupId, groupInstanceId: 'a' })),
      followerClient.request(apiKeys.JoinGroup, 5, joinGroupRequest({ groupId, groupInstanceId: 'b' })),
    ]);
    assert.equal(leader.errorCode, errorCodes.NONE);
    assert.equal(leader.generationId, 1);
    assert.equal(leader.leader, leader.memberId, 'the first to join leads');
    const followerSync = sync(followerClient, follower.memberId, 'b', []);
    const leaderSync = await sync(leaderClient, leader.memberId, 'a', [
      [leader.memberId, 'for-a'],
      [follower.memberId, 'for-b'],
    ]);
    assert.equal(String(leaderSync.assignment), 'for-a');
    assert.equal(String((await followerSync).assignment), 'for-b');

    const restartedClient = await connect();
    const restarted = await restartedClient.request(
      apiKeys.JoinGroup,
      5,
      joinGroupRequest({ groupId, groupInstanceId: 'a' }),
    );
    assert.equal(restarted.errorCode, errorCodes.NONE);
    assert.equal(restarted.generationId, 1, 'same generation: no rebalance');
    assert.notEqual(restarted.memberId, leader.memberId);
    assert.deepEqual(restarted.members, [], 'no assignment to compute');

    const heartbeat = await followerClient.request(apiKeys.Heartbeat, 3, {
      groupId,
      generationId: 1,
      memberId: follower.memberId,
      groupInstanceId: 'b',
    });
    assert.equal(heartbeat.errorCode, errorCodes.NONE, 'the follower is not asked to rejoin');
    const described = await restartedClient.request(apiKeys.DescribeGroups, 5, {
      groups: [groupId],
      includeAuthorizedOperations: false,
    });
    assert.equal(described.groups[0]?.groupState, 'Stable');
    const resynced = await sync(restartedClient, restarted.memberId, 'a', []);
    assert.equal(resynced.errorCode, errorCodes.NONE);
    assert.equal(String(resynced.assignment), 'for-a', 'the restarted leader keeps its assignment');
    const fenced = await leaderClient.request(apiKeys.Heartbeat, 3, {
      groupId,
      generationId: 1,
      memberId: leader.memberId,
      groupInstanceId: 'a',
    });
    assert.equal(fenced.errorCode, errorCodes.FENCED_INSTANCE_ID, 'the old instance is fenced');
  });
});
