import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { ApiKeyOf, RequestOf, ResponseOf } from '../net/kafka-connection.ts';
import { apiKeys } from '../protocol/messages/api-keys.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { createHeartbeatResponse } from '../protocol/messages/heartbeat.ts';
import { createJoinGroupResponse, createJoinGroupResponseMember } from '../protocol/messages/join-group.ts';
import { createLeaveGroupResponse } from '../protocol/messages/leave-group.ts';
import { createSyncGroupResponse, type SyncGroupRequest } from '../protocol/messages/sync-group.ts';
import {
  cooperativeStickyAssignor,
  decodeAssignment,
  decodeSubscription,
  rangeAssignor,
} from './assignors.ts';
import type { CoordinatorTransport } from './group-coordinator.ts';
import { GroupMembership, groupErrorAction } from './group-membership.ts';

/**
 * The membership state machine against a scripted coordinator (no broker): each test lists the error
 * codes the coordinator answers, in order, and checks what the member does with them.
 */

interface Script {
  join: number[];
  sync: number[];
  heartbeat: number[];
}

class FakeCoordinator implements CoordinatorTransport {
  readonly calls: { apiKey: number; body: unknown }[] = [];
  resets = 0;
  readonly script: Script;
  #generation = 0;

  constructor(script: Partial<Script>) {
    this.script = { join: [], sync: [], heartbeat: [], ...script };
  }

  async call<K extends ApiKeyOf>(apiKey: K, body: RequestOf<K>): Promise<ResponseOf<K>> {
    this.calls.push({ apiKey, body });
    return this.#answer(apiKey, body) as ResponseOf<K>;
  }

  #answer(apiKey: number, body: unknown): unknown {
    switch (apiKey) {
      case apiKeys.JoinGroup: {
        const request = body as RequestOf<typeof apiKeys.JoinGroup>;
        const code = this.script.join.shift() ?? errorCodes.NONE;
        if (code === errorCodes.MEMBER_ID_REQUIRED)
          return createJoinGroupResponse({ errorCode: code, memberId: 'member-1' });
        if (code !== errorCodes.NONE) return createJoinGroupResponse({ errorCode: code });
        this.#generation++;
        return createJoinGroupResponse({
          generationId: this.#generation,
          protocolName: request.protocols[0]!.name,
          leader: request.memberId,
          memberId: request.memberId,
          members: [
            createJoinGroupResponseMember({
              memberId: request.memberId,
              metadata: request.protocols[0]!.metadata,
            }),
          ],
        });
      }
      case apiKeys.SyncGroup: {
        const request = body as SyncGroupRequest;
        const code = this.script.sync.shift() ?? errorCodes.NONE;
        const mine = request.assignments.find((a) => a.memberId === request.memberId);
        return createSyncGroupResponse({ errorCode: code, assignment: mine?.assignment ?? Buffer.alloc(0) });
      }
      case apiKeys.Heartbeat:
        return createHeartbeatResponse({ errorCode: this.script.heartbeat.shift() ?? errorCodes.NONE });
      case apiKeys.LeaveGroup:
        return createLeaveGroupResponse({});
      default:
        throw new Error(`unexpected API ${apiKey}`);
    }
  }

  reset(): void {
    this.resets++;
  }

  async close(): Promise<void> {}

  count(apiKey: number): number {
    return this.calls.filter((call) => call.apiKey === apiKey).length;
  }
}

function membership(
  fake: FakeCoordinator,
  extra: { onRejoinNeeded?: () => void; cooperative?: boolean } = {},
) {
  return new GroupMembership(fake, {
    groupId: 'g',
    topics: ['t'],
    assignors: [extra.cooperative === true ? cooperativeStickyAssignor : rangeAssignor],
    heartbeatIntervalMs: 5,
    retryBackoffMs: 1,
    retryBackoffMaxMs: 2,
    partitionCounts: async () => new Map([['t', 4]]),
    ...(extra.onRejoinNeeded === undefined ? {} : { onRejoinNeeded: extra.onRejoinNeeded }),
  });
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await delay(5);
  }
}

describe('group membership', () => {
  test('MEMBER_ID_REQUIRED: joins again with the given id; the leader assigns and syncs', async () => {
    const fake = new FakeCoordinator({ join: [errorCodes.MEMBER_ID_REQUIRED] });
    const member = membership(fake);
    const result = await member.join();
    const joins = fake.calls
      .filter((c) => c.apiKey === apiKeys.JoinGroup)
      .map((c) => c.body as RequestOf<typeof apiKeys.JoinGroup>);
    assert.deepEqual(
      joins.map((j) => j.memberId),
      ['', 'member-1'],
    );
    assert.equal(joins[0]!.protocolType, 'consumer');
    assert.deepEqual(decodeSubscription(joins[0]!.protocols[0]!.metadata).topics, ['t']);
    assert.equal(result.memberId, 'member-1');
    assert.equal(result.generationId, 1);
    assert.deepEqual(result.assigned, [{ topic: 't', partitions: [0, 1, 2, 3] }]);
    assert.equal(member.rejoinReason, undefined);
    const sync = fake.calls.find((c) => c.apiKey === apiKeys.SyncGroup)!.body as SyncGroupRequest;
    assert.deepEqual(decodeAssignment(sync.assignments[0]!.assignment).assigned, result.assigned);
    await member.leave();
    assert.equal(fake.count(apiKeys.LeaveGroup), 1);
  });

  test('coordinator moves during join: finds it again and retries; fatal codes throw', async () => {
    const fake = new FakeCoordinator({
      join: [errorCodes.NOT_COORDINATOR, errorCodes.COORDINATOR_NOT_AVAILABLE],
    });
    const member = membership(fake);
    const result = await member.join();
    assert.equal(fake.resets, 2);
    assert.equal(result.generationId, 1);
    await member.leave();
    const fenced = new FakeCoordinator({ join: [errorCodes.FENCED_INSTANCE_ID] });
    await assert.rejects(membership(fenced).join(), { code: 'FENCED_INSTANCE_ID' });
  });

  test('sync errors: REBALANCE_IN_PROGRESS rejoins, UNKNOWN_MEMBER_ID rejoins without an id', async () => {
    const fake = new FakeCoordinator({
      sync: [errorCodes.REBALANCE_IN_PROGRESS, errorCodes.UNKNOWN_MEMBER_ID],
    });
    const member = membership(fake);
    const result = await member.join();
    await member.leave();
    const joins = fake.calls
      .filter((c) => c.apiKey === apiKeys.JoinGroup)
      .map((c) => (c.body as RequestOf<typeof apiKeys.JoinGroup>).memberId);
    assert.deepEqual(joins, ['', '', '']);
    assert.equal(result.generationId, 3);
  });

  test('heartbeat REBALANCE_IN_PROGRESS asks for a rebalance; ILLEGAL_GENERATION reports lost partitions', async () => {
    let signalled = 0;
    const fake = new FakeCoordinator({
      heartbeat: [errorCodes.NONE, errorCodes.REBALANCE_IN_PROGRESS, errorCodes.REBALANCE_IN_PROGRESS],
    });
    const member = membership(fake, { onRejoinNeeded: () => signalled++ });
    await member.join();
    await until(() => member.rejoinReason !== undefined, 'the rebalance signal');
    assert.equal(member.rejoinReason, 'rebalance');
    // Heartbeats go on (the member stays alive) until it rejoins; the consumer is told once.
    const counted = fake.count(apiKeys.Heartbeat);
    await until(() => fake.count(apiKeys.Heartbeat) >= counted + 2, 'more heartbeats');
    assert.equal(signalled, 1);
    assert.equal(member.rejoinReason, 'rebalance');
    fake.script.heartbeat.push(errorCodes.ILLEGAL_GENERATION);
    await member.join();
    const heartbeats = fake.count(apiKeys.Heartbeat);
    await until(() => member.rejoinReason !== undefined, 'the lost signal');
    assert.equal(member.rejoinReason, 'lost');
    assert.equal(member.identity().generationId, -1);
    assert.ok(fake.count(apiKeys.Heartbeat) > heartbeats);
    await member.leave();
  });

  test('heartbeat UNKNOWN_MEMBER_ID forgets the member id; a fatal code becomes the failure', async () => {
    const fake = new FakeCoordinator({
      heartbeat: [errorCodes.UNKNOWN_MEMBER_ID, errorCodes.GROUP_AUTHORIZATION_FAILED],
    });
    const member = membership(fake);
    await member.join();
    await until(() => member.rejoinReason !== undefined, 'the lost signal');
    assert.equal(member.memberId, '');
    await member.join();
    await until(() => member.failure !== undefined, 'the failure');
    assert.equal((member.failure as { code?: string }).code, 'GROUP_AUTHORIZATION_FAILED');
    await member.leave();
  });

  test('a cooperative member announces what it owns; an eager one does not', async () => {
    const fake = new FakeCoordinator({});
    const member = membership(fake, { cooperative: true });
    member.setOwned([{ topic: 't', partitions: [1, 2] }]);
    await member.join();
    const join = fake.calls.find((c) => c.apiKey === apiKeys.JoinGroup)!.body as RequestOf<
      typeof apiKeys.JoinGroup
    >;
    assert.equal(join.protocols[0]!.name, 'cooperative-sticky');
    assert.deepEqual(decodeSubscription(join.protocols[0]!.metadata).ownedPartitions, [
      { topic: 't', partitions: [1, 2] },
    ]);
    assert.equal(member.protocol, 'cooperative');
    await member.leave();
    const eagerFake = new FakeCoordinator({});
    const eager = membership(eagerFake);
    eager.setOwned([{ topic: 't', partitions: [1] }]);
    await eager.join();
    const eagerJoin = eagerFake.calls[0]!.body as RequestOf<typeof apiKeys.JoinGroup>;
    assert.deepEqual(decodeSubscription(eagerJoin.protocols[0]!.metadata).ownedPartitions, []);
    await eager.leave();
  });

  test('error codes map to actions', () => {
    assert.equal(groupErrorAction(errorCodes.NONE), 'none');
    assert.equal(groupErrorAction(errorCodes.COORDINATOR_LOAD_IN_PROGRESS), 'retry');
    assert.equal(groupErrorAction(errorCodes.NOT_COORDINATOR), 'rediscover');
    assert.equal(groupErrorAction(errorCodes.ILLEGAL_GENERATION), 'rejoin');
    assert.equal(groupErrorAction(errorCodes.UNKNOWN_MEMBER_ID), 'reset-member');
    assert.equal(groupErrorAction(errorCodes.INVALID_GROUP_ID), 'fatal');
  });
});
