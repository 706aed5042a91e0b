import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiKeys } from '../src/protocol/messages/api-keys.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { createFindCoordinatorRequest } from '../src/protocol/messages/find-coordinator.ts';
import { createJoinGroupRequest } from '../src/protocol/messages/join-group.ts';
import { createOffsetCommitRequest } from '../src/protocol/messages/offset-commit.ts';
import { createSyncGroupRequest } from '../src/protocol/messages/sync-group.ts';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import { parseBootstrap, WireClient } from '../src/testing/wire-client.ts';
import { createTopicEverywhere } from './helpers/group-wire.ts';

/**
 * The coordinator SPU of a group is killed (-9) while a member commits offsets one after another.
 * The offsets topic has 3 replicas and commits are answered only once replicated, so: the member
 * finds the new coordinator, which knows the group (same member, same generation) and every offset
 * that was acknowledged before the kill.
 */

const groupId = 'failover-group';
const waitMs = 60_000; // ms for a new coordinator after the kill (SPU session timeout + election)
const commitsBeforeKill = 20;
const commitsAfterKill = 20;

let cluster: TestCluster;

before(async () => {
  cluster = await startCluster({
    spus: 3,
    spuArgs: ['--offsets-topic-partitions', '3', '--group-initial-rebalance-delay-ms', '0'],
  });
  const clients = await Promise.all(
    cluster.spus.map((spu) => WireClient.connect(parseBootstrap(spu.bootstrap))),
  );
  await createTopicEverywhere(clients, { name: 'ledger', partitions: 1 });
  for (const client of clients) await client.close();
});

after(async () => {
  await cluster?.destroy();
  await stopAll();
});

/** Asks live SPUs for the group's coordinator until one that is not `excluded` is ready. */
async function findCoordinator(excluded: number | undefined): Promise<{ client: WireClient; id: number }> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    for (const spu of cluster.spus.filter((each) => each.id !== excluded)) {
      const client = await WireClient.connect(parseBootstrap(spu.bootstrap)).catch(() => undefined);
      if (client === undefined) continue;
      try {
        const request = createFindCoordinatorRequest({ key: groupId, keyType: 0 });
        const answer = await client.request(apiKeys.FindCoordinator, 3, request);
        if (answer.errorCode === errorCodes.NONE && answer.nodeId === spu.id) return { client, id: spu.id };
      } catch {
        // a connection the cluster closed: ask the next SPU
      }
      await client.close();
    }
    if (Date.now() > deadline) throw new Error('no coordinator after the kill');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function commitRequest(generationId: number, memberId: string, offset: bigint) {
  return createOffsetCommitRequest({
    groupId,
    generationIdOrMemberEpoch: generationId,
    memberId,
    topics: [
      {
        name: 'ledger',
        partitions: [
          {
            partitionIndex: 0,
            committedOffset: offset,
            committedLeaderEpoch: -1,
            commitTimestamp: -1n,
            committedMetadata: null,
          },
        ],
      },
    ],
  });
}

/** One commit; the error code, or undefined when the connection failed. */
async function commit(client: WireClient, generationId: number, memberId: string, offset: bigint) {
  try {
    const answer = await client.request(
      apiKeys.OffsetCommit,
      8,
      commitRequest(generationId, memberId, offset),
    );
    return answer.topics[0]?.partitions[0]?.errorCode;
  } catch {
    return undefined;
  }
}

describe('group coordinator failover', () => {
  it('keeps the group and every acknowledged commit when the coordinator is killed', async () => {
    let coordinator = await findCoordinator(undefined);
    const join = (memberId: string) =>
      coordinator.client.request(
        apiKeys.JoinGroup,
        5,
        createJoinGroupRequest({
          groupId,
          sessionTimeoutMs: 45_000,
          rebalanceTimeoutMs: 30_000,
          memberId,
          protocolType: 'consumer',
          protocols: [{ name: 'range', metadata: Buffer.from('ledger') }],
        }),
      );
    const first = await join('');
    assert.equal(first.errorCode, errorCodes.MEMBER_ID_REQUIRED);
    const joined = await join(first.memberId);
    assert.equal(joined.errorCode, errorCodes.NONE);
    const { memberId, generationId } = joined;
    const synced = await coordinator.client.request(
      apiKeys.SyncGroup,
      5,
      createSyncGroupRequest({
        groupId,
        generationId,
        memberId,
        assignments: [{ memberId, assignment: Buffer.from('p0') }],
      }),
    );
    assert.equal(synced.errorCode, errorCodes.NONE);

    let acknowledged = 0n;
    let killed: number | undefined;
    const seenErrors = new Set<number | undefined>();
    for (let offset = 1n; acknowledged < commitsBeforeKill + commitsAfterKill; ) {
      if (killed === undefined && acknowledged === BigInt(commitsBeforeKill)) {
        killed = coordinator.id;
        // Not awaited: the kill lands while the next commits are in flight.
        void cluster.spus[killed - 1]!.stop('SIGKILL');
      }
      const errorCode = await commit(coordinator.client, generationId, memberId, offset);
      if (errorCode === errorCodes.NONE) {
        acknowledged = offset;
        offset += 1n;
        continue;
      }
      seenErrors.add(errorCode);
      assert.notEqual(errorCode, errorCodes.ILLEGAL_GENERATION, 'the new coordinator knows the generation');
      assert.notEqual(errorCode, errorCodes.UNKNOWN_MEMBER_ID, 'the new coordinator knows the member');
      if (killed !== undefined && coordinator.id === killed) {
        await coordinator.client.close().catch(() => undefined);
        coordinator = await findCoordinator(killed);
      } else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(killed !== undefined && coordinator.id !== killed, 'the group moved to another SPU');
    assert.ok(seenErrors.size > 0, 'the kill interrupted the commits');

    const fetched = await coordinator.client.request(apiKeys.OffsetFetch, 7, {
      groupId,
      topics: [{ name: 'ledger', partitionIndexes: [0] }],
      groups: [],
      requireStable: false,
    });
    assert.equal(fetched.topics[0]?.partitions[0]?.committedOffset, acknowledged);
    const beat = await coordinator.client.request(apiKeys.Heartbeat, 3, {
      groupId,
      generationId,
      memberId,
      groupInstanceId: null,
    });
    assert.equal(beat.errorCode, errorCodes.NONE, 'the member stays in the group across the failover');
    await coordinator.client.close();
  });
});
