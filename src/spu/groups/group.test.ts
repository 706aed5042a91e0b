import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../base/clock.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import { Group } from './group.ts';
import { type GroupSettings, groupSettingsDefaults, groupStates, type JoinRequest } from './group-types.ts';

const sessionTimeoutMs = 10_000;
const rebalanceTimeoutMs = 30_000;
const delayMs = 3_000;

function setup(settings: Partial<GroupSettings> = {}, storeCode: number = errorCodes.NONE) {
  const clock = new ManualClock();
  let next = 0;
  const stored: number[] = [];
  const group = new Group('g', {
    clock,
    settings: { ...groupSettingsDefaults, initialRebalanceDelayMs: delayMs, ...settings },
    store: async (g) => {
      stored.push(g.generationId);
      return storeCode;
    },
    newMemberId: (clientId) => `${clientId}-${++next}`,
  });
  const advance = (ms: number) => {
    clock.advance(ms);
    group.tick();
  };
  return { clock, group, stored, advance };
}

function join(overrides: Partial<JoinRequest> = {}): JoinRequest {
  return {
    memberId: '',
    groupInstanceId: null,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    sessionTimeoutMs,
    rebalanceTimeoutMs,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from('m') }],
    requireKnownMemberId: false,
    ...overrides,
  };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

/** One member that joins (past the initial delay) and syncs: the group is Stable at generation 1. */
async function stableWithOne(group: Group, advance: (ms: number) => void) {
  const joining = group.join(join());
  advance(delayMs);
  const joined = await joining;
  const synced = await group.sync({
    memberId: joined.memberId,
    groupInstanceId: null,
    generationId: joined.generationId,
    protocolType: null,
    protocolName: null,
    assignments: [{ memberId: joined.memberId, assignment: Buffer.from('all') }],
  });
  assert.equal(synced.errorCode, errorCodes.NONE);
  return joined.memberId;
}

describe('Group: joining and syncing', () => {
  it('hands out a member id first (v4+), waits the initial delay, then completes a generation', async () => {
    const { group, stored, advance } = setup();
    const first = await group.join(join({ requireKnownMemberId: true }));
    assert.equal(first.errorCode, errorCodes.MEMBER_ID_REQUIRED);
    assert.equal(first.memberId, 'client-1');
    let answered = false;
    const joining = group.join(join({ memberId: first.memberId, requireKnownMemberId: true }));
    void joining.then(() => {
      answered = true;
    });
    await flush();
    assert.equal(answered, false, 'the join waits for the initial rebalance delay');
    assert.equal(group.state, groupStates.preparingRebalance);
    advance(delayMs);
    const joined = await joining;
    assert.equal(joined.errorCode, errorCodes.NONE);
    assert.equal(joined.generationId, 1);
    assert.equal(joined.leader, 'client-1');
    assert.equal(joined.protocolName, 'range');
    assert.deepEqual(
      joined.members.map((m) => [m.memberId, String(m.metadata)]),
      [['client-1', 'm']],
    );
    assert.equal(group.state, groupStates.completingRebalance);
    const synced = await group.sync({
      memberId: 'client-1',
      groupInstanceId: null,
      generationId: 1,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId: 'client-1', assignment: Buffer.from('p0') }],
    });
    assert.equal(String(synced.assignment), 'p0');
    assert.equal(group.state, groupStates.stable);
    assert.deepEqual(stored, [1], 'the group is stored before the sync is answered');
  });

  it('rebalances when a second member joins; the follower waits for the leader', async () => {
    const { group, advance } = setup();
    const leader = await stableWithOne(group, advance);
    const secondJoin = group.join(join({ clientId: 'other' }));
    await flush();
    assert.equal(group.state, groupStates.preparingRebalance);
    assert.equal(
      group.heartbeat({ memberId: leader, groupInstanceId: null, generationId: 1 }),
      errorCodes.REBALANCE_IN_PROGRESS,
    );
    const leaderJoin = await group.join(join({ memberId: leader }));
    const second = await secondJoin;
    assert.equal(leaderJoin.generationId, 2);
    assert.equal(second.generationId, 2);
    assert.equal(leaderJoin.members.length, 2, 'the leader learns every member');
    assert.equal(second.members.length, 0, 'a follower learns none');
    const followerSync = group.sync({
      memberId: second.memberId,
      groupInstanceId: null,
      generationId: 2,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    const leaderSync = await group.sync({
      memberId: leader,
      groupInstanceId: null,
      generationId: 2,
      protocolType: null,
      protocolName: null,
      assignments: [
        { memberId: leader, assignment: Buffer.from('p0') },
        { memberId: second.memberId, assignment: Buffer.from('p1') },
      ],
    });
    assert.equal(String(leaderSync.assignment), 'p0');
    assert.equal(String((await followerSync).assignment), 'p1');
    assert.equal(
      group.heartbeat({ memberId: leader, groupInstanceId: null, generationId: 2 }),
      errorCodes.NONE,
    );
  });

  it('selects the protocol every member supports that most prefer', async () => {
    const { group, advance } = setup();
    const a = group.join(
      join({
        protocols: [
          { name: 'range', metadata: Buffer.alloc(0) },
          { name: 'rr', metadata: Buffer.alloc(0) },
        ],
      }),
    );
    const b = group.join(
      join({
        protocols: [
          { name: 'rr', metadata: Buffer.alloc(0) },
          { name: 'range', metadata: Buffer.alloc(0) },
        ],
      }),
    );
    const c = group.join(join({ protocols: [{ name: 'rr', metadata: Buffer.alloc(0) }] }));
    advance(delayMs);
    advance(delayMs);
    for (const joined of await Promise.all([a, b, c])) assert.equal(joined.protocolName, 'rr');
    const other = await group.join(join({ protocols: [{ name: 'sticky', metadata: Buffer.alloc(0) }] }));
    assert.equal(other.errorCode, errorCodes.INCONSISTENT_GROUP_PROTOCOL);
  });

  it('removes members that did not rejoin within the rebalance timeout', async () => {
    const { group, advance } = setup();
    const first = await stableWithOne(group, advance);
    const secondJoin = group.join(join({ clientId: 'late' }));
    // The first member keeps heartbeating (REBALANCE_IN_PROGRESS) but never rejoins.
    for (let elapsed = 0; elapsed < rebalanceTimeoutMs; elapsed += 5_000) {
      group.heartbeat({ memberId: first, groupInstanceId: null, generationId: 1 });
      advance(5_000);
    }
    const second = await secondJoin;
    assert.equal(second.errorCode, errorCodes.NONE);
    assert.equal(second.leader, second.memberId, 'the leader left, the new member leads');
    assert.equal(group.hasMember(first), false);
    assert.equal(
      group.heartbeat({ memberId: first, groupInstanceId: null, generationId: 2 }),
      errorCodes.UNKNOWN_MEMBER_ID,
    );
  });
});

describe('Group: sessions, leaving and errors', () => {
  it('expires a member that stops heartbeating and becomes Empty when the last one goes', async () => {
    const { group, stored, advance } = setup();
    const member = await stableWithOne(group, advance);
    advance(sessionTimeoutMs - 1);
    assert.equal(group.hasMember(member), true);
    advance(1);
    assert.equal(group.hasMember(member), false);
    assert.equal(group.state, groupStates.empty);
    assert.equal(group.generationId, 2, 'the empty generation is a new one');
    assert.deepEqual(stored, [1, 2]);
  });

  it('answers the error codes clients expect', async () => {
    const { group, advance } = setup({ membersMax: 2, memberMetadataBytesMax: 10 });
    const member = await stableWithOne(group, advance);
    const beat = (memberId: string, generationId: number) =>
      group.heartbeat({ memberId, groupInstanceId: null, generationId });
    assert.equal(beat('nobody', 1), errorCodes.UNKNOWN_MEMBER_ID);
    assert.equal(beat(member, 0), errorCodes.ILLEGAL_GENERATION);
    assert.equal(
      (await group.join(join({ sessionTimeoutMs: 10 }))).errorCode,
      errorCodes.INVALID_SESSION_TIMEOUT,
    );
    const big = [{ name: 'range', metadata: Buffer.alloc(11) }];
    assert.equal((await group.join(join({ protocols: big }))).errorCode, errorCodes.GROUP_MAX_SIZE_REACHED);
    assert.equal((await group.join(join({ memberId: 'forged' }))).errorCode, errorCodes.UNKNOWN_MEMBER_ID);
    const second = group.join(join());
    assert.equal((await group.join(join())).errorCode, errorCodes.GROUP_MAX_SIZE_REACHED);
    const sync = await group.sync({
      memberId: member,
      groupInstanceId: null,
      generationId: 1,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    assert.equal(sync.errorCode, errorCodes.REBALANCE_IN_PROGRESS);
    assert.equal(group.commitProblem({ memberId: member, groupInstanceId: null }, 1), errorCodes.NONE);
    await group.join(join({ memberId: member }));
    await second;
    assert.equal(
      group.commitProblem({ memberId: member, groupInstanceId: null }, 2),
      errorCodes.REBALANCE_IN_PROGRESS,
    );
    assert.deepEqual(group.leave([{ memberId: 'nobody', groupInstanceId: null }]), [
      errorCodes.UNKNOWN_MEMBER_ID,
    ]);
  });

  it('takes simple commits (generation -1) only without members', async () => {
    const { group, advance } = setup();
    assert.equal(group.commitProblem({ memberId: '', groupInstanceId: null }, -1), errorCodes.NONE);
    await stableWithOne(group, advance);
    assert.equal(
      group.commitProblem({ memberId: '', groupInstanceId: null }, -1),
      errorCodes.UNKNOWN_MEMBER_ID,
    );
  });

  it('rebalances at once when a member leaves', async () => {
    const { group, advance } = setup();
    const leader = await stableWithOne(group, advance);
    const secondJoin = group.join(join());
    const rejoin = group.join(join({ memberId: leader }));
    const [, second] = await Promise.all([rejoin, secondJoin]);
    assert.deepEqual(group.leave([{ memberId: second.memberId, groupInstanceId: null }]), [errorCodes.NONE]);
    const again = await group.join(join({ memberId: leader }));
    assert.equal(again.generationId, 3, 'the leaving member does not hold the rebalance up');
    assert.equal(again.members.length, 1);
  });

  it('answers waiting syncs with the store error and rebalances', async () => {
    const { group, advance } = setup({}, errorCodes.NOT_COORDINATOR);
    const joining = group.join(join());
    advance(delayMs);
    const joined = await joining;
    const synced = await group.sync({
      memberId: joined.memberId,
      groupInstanceId: null,
      generationId: 1,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    assert.equal(synced.errorCode, errorCodes.NOT_COORDINATOR);
    assert.equal(group.state, groupStates.preparingRebalance);
  });
});

describe('Group: static membership', () => {
  it('lets a restarted static member keep its assignment and fences its old id', async () => {
    const { group, advance } = setup();
    const leaderJoin = group.join(join({ groupInstanceId: 'leader' }));
    const followerJoin = group.join(join({ groupInstanceId: 'follower' }));
    advance(delayMs);
    advance(delayMs); // a member arrived during the initial delay: it was extended once
    const [leader, follower] = await Promise.all([leaderJoin, followerJoin]);
    assert.equal(leader.errorCode, errorCodes.NONE, 'static members skip MEMBER_ID_REQUIRED');
    const followerSync = group.sync({
      memberId: follower.memberId,
      groupInstanceId: 'follower',
      generationId: 1,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    await group.sync({
      memberId: leader.memberId,
      groupInstanceId: 'leader',
      generationId: 1,
      protocolType: null,
      protocolName: null,
      assignments: [{ memberId: follower.memberId, assignment: Buffer.from('f') }],
    });
    await followerSync;
    const restarted = await group.join(join({ groupInstanceId: 'follower', requireKnownMemberId: true }));
    assert.equal(restarted.errorCode, errorCodes.NONE);
    assert.notEqual(restarted.memberId, follower.memberId);
    assert.equal(restarted.generationId, 1, 'no rebalance');
    assert.equal(group.state, groupStates.stable);
    const resynced = await group.sync({
      memberId: restarted.memberId,
      groupInstanceId: 'follower',
      generationId: 1,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    assert.equal(String(resynced.assignment), 'f');
    assert.equal(
      group.heartbeat({ memberId: follower.memberId, groupInstanceId: 'follower', generationId: 1 }),
      errorCodes.FENCED_INSTANCE_ID,
    );
    assert.deepEqual(group.leave([{ memberId: follower.memberId, groupInstanceId: 'follower' }]), [
      errorCodes.FENCED_INSTANCE_ID,
    ]);
  });
});

describe('Group: static leader restart', () => {
  it('answers a restarted static leader at once, same generation, and the group stays Stable', async () => {
    const { group, stored, advance } = setup();
    const leaderJoin = group.join(join({ groupInstanceId: 'leader' }));
    const followerJoin = group.join(join({ groupInstanceId: 'follower' }));
    advance(delayMs);
    advance(delayMs);
    const [leader, follower] = await Promise.all([leaderJoin, followerJoin]);
    assert.equal(leader.leader, leader.memberId);
    const followerSync = group.sync({
      memberId: follower.memberId,
      groupInstanceId: 'follower',
      generationId: 1,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    await group.sync({
      memberId: leader.memberId,
      groupInstanceId: 'leader',
      generationId: 1,
      protocolType: null,
      protocolName: null,
      assignments: [
        { memberId: leader.memberId, assignment: Buffer.from('l') },
        { memberId: follower.memberId, assignment: Buffer.from('f') },
      ],
    });
    await followerSync;
    const storedBefore = stored.length;
    const restarted = await group.join(join({ groupInstanceId: 'leader', requireKnownMemberId: true }));
    assert.equal(restarted.errorCode, errorCodes.NONE);
    assert.notEqual(restarted.memberId, leader.memberId);
    assert.equal(restarted.generationId, 1, 'no rebalance');
    // The old leader id is answered, so the restarted member does not compute an assignment that
    // a Stable group would never hand out.
    assert.equal(restarted.leader, leader.memberId);
    assert.deepEqual(restarted.members, []);
    assert.equal(group.state, groupStates.stable);
    assert.equal(stored.length, storedBefore + 1, 'the new member id is stored');
    assert.equal(
      group.heartbeat({ memberId: follower.memberId, groupInstanceId: 'follower', generationId: 1 }),
      errorCodes.NONE,
    );
    const resynced = await group.sync({
      memberId: restarted.memberId,
      groupInstanceId: 'leader',
      generationId: 1,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    assert.equal(String(resynced.assignment), 'l');
    assert.equal(
      group.describe().members.find((m) => m.groupInstanceId === 'leader')?.memberId,
      restarted.memberId,
    );
    assert.equal(
      group.heartbeat({ memberId: leader.memberId, groupInstanceId: 'leader', generationId: 1 }),
      errorCodes.FENCED_INSTANCE_ID,
    );
  });

  it('rebalances when a restarted static leader changes its protocols', async () => {
    const { group, advance } = setup();
    const leaderJoin = group.join(join({ groupInstanceId: 'leader' }));
    advance(delayMs);
    const leader = await leaderJoin;
    await group.sync({
      memberId: leader.memberId,
      groupInstanceId: 'leader',
      generationId: 1,
      protocolType: null,
      protocolName: null,
      assignments: [{ memberId: leader.memberId, assignment: Buffer.from('l') }],
    });
    const restarted = await group.join(
      join({ groupInstanceId: 'leader', protocols: [{ name: 'range', metadata: Buffer.from('other') }] }),
    );
    assert.equal(restarted.generationId, 2);
    assert.equal(restarted.leader, restarted.memberId);
  });
});

describe('Group: session expiry on the member deadline', () => {
  it('removes a silent static member exactly when its session ends, without a sweep', async () => {
    const { clock, group, advance } = setup();
    const leaderJoin = group.join(join({ groupInstanceId: 'a' }));
    const otherJoin = group.join(join({ groupInstanceId: 'b' }));
    advance(delayMs);
    advance(delayMs);
    const [leader, other] = await Promise.all([leaderJoin, otherJoin]);
    const otherSync = group.sync({
      memberId: other.memberId,
      groupInstanceId: 'b',
      generationId: 1,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    await group.sync({
      memberId: leader.memberId,
      groupInstanceId: 'a',
      generationId: 1,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    await otherSync;
    // Only the clock moves from here: no tick() calls.
    clock.advance(sessionTimeoutMs / 2);
    assert.equal(group.heartbeat({ memberId: leader.memberId, groupInstanceId: 'a', generationId: 1 }), 0);
    clock.advance(sessionTimeoutMs / 2 - 1);
    assert.equal(group.memberCount, 2, 'b has 1 ms left');
    clock.advance(1);
    assert.equal(group.memberCount, 1, 'b expired at its deadline');
    assert.equal(group.hasMember(other.memberId), false);
    assert.equal(group.state, groupStates.preparingRebalance);
    clock.advance(sessionTimeoutMs / 2 - 1);
    assert.equal(group.hasMember(leader.memberId), true, 'the heartbeat moved a deadline');
  });

  it('leaves no timer behind once the group is dead', async () => {
    const { clock, group, advance } = setup();
    await stableWithOne(group, advance);
    assert.ok(clock.pendingTimers > 0);
    group.kill(errorCodes.NOT_COORDINATOR);
    assert.equal(clock.pendingTimers, 0);
  });
});

describe('Group: records', () => {
  it('restores a stored group as Stable with its members', async () => {
    const { group, advance } = setup();
    const member = await stableWithOne(group, advance);
    const { group: copy } = setup();
    copy.restore(group.toValue());
    assert.equal(copy.state, groupStates.stable);
    assert.equal(copy.generationId, 1);
    assert.equal(
      copy.heartbeat({ memberId: member, groupInstanceId: null, generationId: 1 }),
      errorCodes.NONE,
    );
    const described = copy.describe();
    assert.equal(String(described.members[0]?.assignment), 'all');
    assert.equal(described.protocolName, 'range');
  });
});
