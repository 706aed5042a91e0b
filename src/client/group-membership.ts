import { type Clock, systemClock } from '../base/clock.ts';
import { TideError } from '../base/errors.ts';
import { apiKeys } from '../protocol/messages/api-keys.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { createHeartbeatRequest } from '../protocol/messages/heartbeat.ts';
import {
  createJoinGroupRequest,
  createJoinGroupRequestProtocol,
  type JoinGroupResponse,
} from '../protocol/messages/join-group.ts';
import {
  createLeaveGroupRequest,
  createLeaveGroupRequestMemberIdentity,
} from '../protocol/messages/leave-group.ts';
import { createSyncGroupRequest, createSyncGroupRequestAssignment } from '../protocol/messages/sync-group.ts';
import {
  type Assignor,
  consumerProtocolType,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  type GroupMember,
  type RebalanceProtocol,
  type Subscription,
  type TopicPartitions,
} from './assignors.ts';
import { clientErrorCodes, isRetriable, kafkaError } from './errors.ts';
import type { CoordinatorTransport } from './group-coordinator.ts';
import type { CommitIdentity } from './offset-commits.ts';

/**
 * Membership of one consumer in a group, by Kafka's classic group protocol:
 *
 *   join:   JoinGroup (a first join without a member id is answered MEMBER_ID_REQUIRED with an id to
 *           join again with) → the leader runs the assignor over every member's subscription →
 *           SyncGroup (the leader sends the assignments, everyone receives their own)
 *   stable: Heartbeat every heartbeatIntervalMs; REBALANCE_IN_PROGRESS means "join again" (heartbeats
 *           go on until the consumer does),
 *           ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID mean the group moved on without us (our partitions
 *           are lost, not revoked), NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE / a lost connection
 *           mean "find the coordinator again"; no successful heartbeat for sessionTimeoutMs also means
 *           the partitions are lost
 *   leave:  LeaveGroup on close (not for static members, whose restart should not rebalance)
 *
 * The membership only talks to the coordinator and reports; the group consumer decides when to
 * rejoin (between records, like Kafka's poll) and what to do with revoked and assigned partitions.
 */

export const groupMembershipDefaults = Object.freeze({
  sessionTimeoutMs: 45_000, // ms without a heartbeat before the coordinator drops a member
  rebalanceTimeoutMs: 60_000, // ms the coordinator waits for every member to rejoin
  heartbeatIntervalMs: 3_000, // ms between heartbeats
  retryBackoffMs: 100, // ms before retrying after a coordinator error; doubles up to retryBackoffMaxMs
  retryBackoffMaxMs: 1_000, // ms
  joinAttemptsMax: 100, // JoinGroup/SyncGroup rounds before joining gives up
});

/** What a coordinator error code asks the member to do. */
export type GroupErrorAction = 'none' | 'retry' | 'rediscover' | 'rejoin' | 'reset-member' | 'fatal';

export function groupErrorAction(code: number): GroupErrorAction {
  switch (code) {
    case errorCodes.NONE:
      return 'none';
    case errorCodes.COORDINATOR_LOAD_IN_PROGRESS:
      return 'retry';
    case errorCodes.NOT_COORDINATOR:
    case errorCodes.COORDINATOR_NOT_AVAILABLE:
      return 'rediscover';
    case errorCodes.REBALANCE_IN_PROGRESS:
    case errorCodes.ILLEGAL_GENERATION:
      return 'rejoin';
    case errorCodes.UNKNOWN_MEMBER_ID:
      return 'reset-member';
    default:
      return 'fatal';
  }
}

export interface GroupMembershipOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** In order of preference; the coordinator picks one every member supports. */
  readonly assignors: readonly Assignor[];
  readonly groupInstanceId?: string | null;
  readonly sessionTimeoutMs?: number;
  readonly rebalanceTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly retryBackoffMs?: number;
  readonly retryBackoffMaxMs?: number;
  /** Partition counts of the topics (missing topics left out): the leader assigns with them. */
  readonly partitionCounts: (topics: readonly string[]) => Promise<Map<string, number>>;
  /** Called when the group needs this member to join again (from the heartbeat loop). */
  readonly onRejoinNeeded?: () => void;
  readonly clock?: Clock;
}

/** The outcome of one completed join. */
export interface JoinResult {
  readonly generationId: number;
  readonly memberId: string;
  readonly leaderId: string;
  readonly protocol: RebalanceProtocol;
  readonly assignorName: string;
  readonly assigned: readonly TopicPartitions[];
}

/** Why the member must join again: a rebalance (revoke, then join) or lost membership (no commit). */
export type RejoinReason = 'rebalance' | 'lost';

type Settings = Required<Omit<GroupMembershipOptions, 'onRejoinNeeded' | 'groupInstanceId' | 'clock'>> & {
  groupInstanceId: string | null;
  clock: Clock;
  joinAttemptsMax: number;
};

export class GroupMembership {
  readonly #transport: CoordinatorTransport;
  readonly #settings: Settings;
  readonly #onRejoinNeeded: () => void;
  readonly #lifetime = new AbortController();
  #memberId = '';
  #generationId = -1;
  #protocol: RebalanceProtocol = 'eager';
  #owned: readonly TopicPartitions[] = [];
  #rejoin: RejoinReason | undefined = 'rebalance';
  #failure: Error | undefined;
  #heartbeats: AbortController | undefined;

  constructor(transport: CoordinatorTransport, options: GroupMembershipOptions) {
    this.#transport = transport;
    const { onRejoinNeeded, ...rest } = options;
    this.#settings = {
      ...groupMembershipDefaults,
      ...rest,
      groupInstanceId: options.groupInstanceId ?? null,
      clock: options.clock ?? systemClock,
    };
    this.#onRejoinNeeded = onRejoinNeeded ?? (() => undefined);
    if (this.#settings.assignors.length === 0) {
      throw new TideError(clientErrorCodes.invalidArgument, 'a group consumer needs at least one assignor');
    }
  }

  /** Set when the member must join (again) before it may consume; undefined while stable. */
  get rejoinReason(): RejoinReason | undefined {
    return this.#rejoin;
  }

  /** A fatal error the heartbeat loop met (e.g. FENCED_INSTANCE_ID); the consumer rethrows it. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  get memberId(): string {
    return this.#memberId;
  }

  /** The rebalance protocol of the assignor chosen at the last join. */
  get protocol(): RebalanceProtocol {
    return this.#protocol;
  }

  /** The identity commits carry: generation, member id and instance id. */
  identity(): CommitIdentity {
    return {
      generationId: this.#generationId,
      memberId: this.#memberId,
      groupInstanceId: this.#settings.groupInstanceId,
    };
  }

  /** What this member owns, announced in its next subscription (cooperative rebalancing reads it). */
  setOwned(partitions: readonly TopicPartitions[]): void {
    this.#owned = partitions;
  }

  /** Marks the member as needing to join again (e.g. after its own revoke in a cooperative round). */
  requestRejoin(reason: RejoinReason = 'rebalance'): void {
    this.#stopHeartbeats();
    if (this.#rejoin !== 'lost') this.#rejoin = reason;
    if (reason === 'lost') this.#generationId = -1;
    this.#onRejoinNeeded();
  }

  /** Joins (or rejoins) the group and waits for this member's assignment, then starts heartbeats. */
  async join(signal?: AbortSignal): Promise<JoinResult> {
    this.#stopHeartbeats();
    const backoff = new Backoff(
      this.#settings.retryBackoffMs,
      this.#settings.retryBackoffMaxMs,
      this.#settings.clock,
    );
    for (let attempt = 0; attempt < this.#settings.joinAttemptsMax; attempt++) {
      this.#throwIfStopped(signal);
      let result: JoinResult | GroupErrorAction;
      try {
        result = await this.#joinOnce();
      } catch (error) {
        if (!isRetriable(error)) throw error;
        this.#transport.reset();
        result = 'retry';
      }
      if (typeof result !== 'string') {
        this.#rejoin = undefined;
        this.#startHeartbeats();
        return result;
      }
      if (result === 'rediscover') this.#transport.reset();
      if (result !== 'reset-member' && result !== 'rejoin') await backoff.wait(this.#stopSignal(signal));
    }
    throw kafkaError(errorCodes.REBALANCE_IN_PROGRESS, `could not join group "${this.#settings.groupId}"`, {
      retriable: true,
    });
  }

  /** Leaves the group (dynamic members only) and stops heartbeats; errors are ignored. */
  async leave(): Promise<void> {
    this.#stopHeartbeats();
    this.#lifetime.abort();
    const memberId = this.#memberId;
    if (memberId === '' || this.#settings.groupInstanceId !== null) return;
    this.#memberId = '';
    this.#generationId = -1;
    try {
      await this.#transport.call(
        apiKeys.LeaveGroup,
        createLeaveGroupRequest({
          groupId: this.#settings.groupId,
          memberId,
          members: [createLeaveGroupRequestMemberIdentity({ memberId, groupInstanceId: null, reason: null })],
        }),
      );
    } catch {
      // The coordinator drops the member when its session times out anyway.
    }
  }

  /** One JoinGroup + SyncGroup round: the result, or what to do before the next round. */
  async #joinOnce(): Promise<JoinResult | GroupErrorAction> {
    const joined = await this.#transport.call(apiKeys.JoinGroup, this.#joinRequest());
    if (joined.errorCode === errorCodes.MEMBER_ID_REQUIRED) {
      this.#memberId = joined.memberId;
      return 'reset-member';
    }
    const joinAction = this.#handleCode(joined.errorCode, 'joining');
    if (joinAction !== 'none') return joinAction;
    this.#memberId = joined.memberId;
    this.#generationId = joined.generationId;
    const assignorName = joined.protocolName ?? this.#settings.assignors[0]!.name;
    const assignor = this.#settings.assignors.find((a) => a.name === assignorName);
    if (assignor === undefined) {
      throw kafkaError(
        errorCodes.INCONSISTENT_GROUP_PROTOCOL,
        `the group chose unknown assignor "${assignorName}"`,
      );
    }
    // A static leader that returns to a stable group is told to keep the current assignment.
    const leading = joined.leader === joined.memberId && !joined.skipAssignment;
    const assignments = leading ? await this.#assign(assignor, joined) : [];
    const synced = await this.#transport.call(
      apiKeys.SyncGroup,
      createSyncGroupRequest({
        groupId: this.#settings.groupId,
        generationId: joined.generationId,
        memberId: joined.memberId,
        groupInstanceId: this.#settings.groupInstanceId,
        protocolType: consumerProtocolType,
        protocolName: assignorName,
        assignments,
      }),
    );
    const syncAction = this.#handleCode(synced.errorCode, 'synchronising');
    if (syncAction !== 'none') return syncAction;
    this.#protocol = assignor.protocol;
    return {
      generationId: joined.generationId,
      memberId: joined.memberId,
      leaderId: joined.leader,
      protocol: assignor.protocol,
      assignorName,
      assigned: decodeAssignment(synced.assignment).assigned,
    };
  }

  #joinRequest() {
    const { groupId, sessionTimeoutMs, rebalanceTimeoutMs, groupInstanceId, topics, assignors } =
      this.#settings;
    const cooperative = assignors.some((assignor) => assignor.protocol === 'cooperative');
    const metadata = encodeSubscription({ topics, ownedPartitions: cooperative ? this.#owned : [] });
    return createJoinGroupRequest({
      groupId,
      sessionTimeoutMs,
      rebalanceTimeoutMs,
      memberId: this.#memberId,
      groupInstanceId,
      protocolType: consumerProtocolType,
      protocols: assignors.map((assignor) =>
        createJoinGroupRequestProtocol({ name: assignor.name, metadata }),
      ),
      reason: null,
    });
  }

  /** Applies a join/sync/heartbeat error code to the member's state; throws when it is fatal. */
  #handleCode(code: number, doing: string): GroupErrorAction {
    const action = groupErrorAction(code);
    if (action === 'reset-member') {
      this.#memberId = '';
      this.#generationId = -1;
    } else if (action === 'fatal') {
      throw kafkaError(code, `${doing} group "${this.#settings.groupId}": ${kafkaError(code).message}`);
    }
    return action;
  }

  /** The leader's part: run the assignor over every member's subscription. */
  async #assign(assignor: Assignor, joined: JoinGroupResponse) {
    const members: GroupMember[] = joined.members.map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      subscription: readSubscription(member.metadata),
    }));
    const topics = [...new Set(members.flatMap((member) => member.subscription.topics))];
    const partitionCounts = await this.#settings.partitionCounts(topics);
    const assignment = assignor.assign({ members, partitionCounts });
    return members.map((member) =>
      createSyncGroupRequestAssignment({
        memberId: member.memberId,
        assignment: encodeAssignment(assignment.get(member.memberId) ?? []),
      }),
    );
  }

  #startHeartbeats(): void {
    const stopper = new AbortController();
    this.#heartbeats = stopper;
    void this.#heartbeatLoop(stopper.signal);
  }

  #stopHeartbeats(): void {
    this.#heartbeats?.abort();
    this.#heartbeats = undefined;
  }

  async #heartbeatLoop(signal: AbortSignal): Promise<void> {
    const { clock, heartbeatIntervalMs, sessionTimeoutMs } = this.#settings;
    let lastSuccessMs = clock.monotonicMs();
    while (!signal.aborted) {
      try {
        await clock.sleep(heartbeatIntervalMs, signal);
      } catch {
        return;
      }
      const code = await this.#heartbeat();
      if (signal.aborted) return;
      const action = code === undefined ? 'rediscover' : groupErrorAction(code);
      if (action === 'none') {
        lastSuccessMs = clock.monotonicMs();
      } else if (action === 'rediscover' || action === 'retry') {
        if (action === 'rediscover') this.#transport.reset();
        if (clock.monotonicMs() - lastSuccessMs < sessionTimeoutMs) continue;
        this.requestRejoin('lost');
        return;
      } else if (action === 'fatal') {
        this.#failure = kafkaError(
          code ?? errorCodes.UNKNOWN_SERVER_ERROR,
          `heartbeat of group "${this.#settings.groupId}"`,
        );
        this.requestRejoin('lost');
        return;
      } else if (code === errorCodes.REBALANCE_IN_PROGRESS) {
        // Keep heartbeating until the consumer rejoins (between records): the member stays alive
        // while the application finishes what it holds, as long as the rebalance timeout allows.
        lastSuccessMs = clock.monotonicMs();
        if (this.#rejoin === undefined) {
          this.#rejoin = 'rebalance';
          this.#onRejoinNeeded();
        }
      } else {
        if (action === 'reset-member') this.#memberId = '';
        this.requestRejoin('lost');
        return;
      }
    }
  }

  /** One heartbeat's error code, or undefined when the coordinator could not be reached. */
  async #heartbeat(): Promise<number | undefined> {
    try {
      const response = await this.#transport.call(
        apiKeys.Heartbeat,
        createHeartbeatRequest({
          groupId: this.#settings.groupId,
          generationId: this.#generationId,
          memberId: this.#memberId,
          groupInstanceId: this.#settings.groupInstanceId,
        }),
      );
      return response.errorCode;
    } catch {
      return undefined;
    }
  }

  #stopSignal(signal: AbortSignal | undefined): AbortSignal {
    return signal === undefined ? this.#lifetime.signal : AbortSignal.any([signal, this.#lifetime.signal]);
  }

  #throwIfStopped(signal: AbortSignal | undefined): void {
    if (signal?.aborted === true || this.#lifetime.signal.aborted) {
      throw new TideError(clientErrorCodes.aborted, `joining group "${this.#settings.groupId}" was stopped`);
    }
  }
}

/** A member's subscription; one that cannot be read subscribes to nothing rather than failing the group. */
function readSubscription(metadata: Buffer): Subscription {
  try {
    return decodeSubscription(metadata);
  } catch {
    return { version: 0, topics: [], userData: null, ownedPartitions: [], generationId: -1, rackId: null };
  }
}

/** Exponential backoff whose wait ends early (without an error) when `signal` aborts. */
class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #clock: Clock;
  #nextMs: number;

  constructor(initialMs: number, maxMs: number, clock: Clock) {
    this.#clock = clock;
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
    this.#nextMs = initialMs;
  }

  async wait(signal: AbortSignal): Promise<void> {
    const ms = this.#nextMs;
    this.#nextMs = Math.min(Math.max(this.#nextMs * 2, this.#initialMs), this.#maxMs);
    try {
      await this.#clock.sleep(ms, signal);
    } catch {
      // Stopped: the caller's loop checks.
    }
  }
}
