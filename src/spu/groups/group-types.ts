/** The shapes a consumer group's state machine (group.ts) takes in and answers with. */

export const groupStates = Object.freeze({
  empty: 'Empty',
  preparingRebalance: 'PreparingRebalance',
  completingRebalance: 'CompletingRebalance',
  stable: 'Stable',
  dead: 'Dead',
} as const);

export type GroupState = (typeof groupStates)[keyof typeof groupStates];

/** Bounds and timing of every group on one SPU (Kafka's group.* broker settings). */
export interface GroupSettings {
  readonly membersMax: number; // members per group (group.max.size)
  readonly memberMetadataBytesMax: number; // bytes of protocol metadata one member may send
  readonly assignmentBytesMax: number; // bytes of assignments a leader may send in one SyncGroup
  readonly sessionTimeoutMsMin: number; // ms (group.min.session.timeout.ms)
  readonly sessionTimeoutMsMax: number; // ms (group.max.session.timeout.ms)
  readonly initialRebalanceDelayMs: number; // ms (group.initial.rebalance.delay.ms)
}

export const groupSettingsDefaults: GroupSettings = Object.freeze({
  membersMax: 1_000, // members
  memberMetadataBytesMax: 64 * 1024, // bytes
  assignmentBytesMax: 1024 * 1024, // bytes
  sessionTimeoutMsMin: 6_000, // ms
  sessionTimeoutMsMax: 1_800_000, // ms
  initialRebalanceDelayMs: 3_000, // ms
});

export interface GroupProtocol {
  readonly name: string;
  readonly metadata: Buffer;
}

export interface JoinRequest {
  /** '' for a member joining for the first time. */
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly protocolType: string;
  readonly protocols: readonly GroupProtocol[];
  /** JoinGroup v4+: a new member first gets MEMBER_ID_REQUIRED and its id, then joins with it. */
  readonly requireKnownMemberId: boolean;
}

export interface JoinMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly metadata: Buffer;
}

export interface JoinResult {
  readonly errorCode: number;
  readonly generationId: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly leader: string;
  readonly memberId: string;
  /** Filled for the leader only. */
  readonly members: readonly JoinMember[];
}

export interface SyncRequest {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly generationId: number;
  /** Checked when given (SyncGroup v5+). */
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignments: ReadonlyArray<{ readonly memberId: string; readonly assignment: Buffer }>;
}

export interface SyncResult {
  readonly errorCode: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignment: Buffer;
}

export interface MemberIdentity {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly leaderEpoch: number;
  readonly metadata: string;
  /** Wall-clock ms of the commit. */
  readonly commitTimestampMs: number;
}

export interface DescribedMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly metadata: Buffer;
  readonly assignment: Buffer;
}

export interface GroupDescription {
  readonly groupId: string;
  readonly state: GroupState;
  readonly protocolType: string;
  readonly protocolName: string;
  readonly members: readonly DescribedMember[];
}

export function joinFailure(errorCode: number, memberId = ''): JoinResult {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    memberId,
    members: [],
  };
}

export function syncFailure(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
}

/** The key of a committed offset in a group's map. */
export function offsetKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
