import { randomUUID } from 'node:crypto';
import type { Clock, Timer } from '../../base/clock.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import {
  type CommittedOffset,
  type GroupDescription,
  type GroupProtocol,
  type GroupSettings,
  type GroupState,
  groupStates,
  type JoinRequest,
  type JoinResult,
  joinFailure,
  type MemberIdentity,
  type SyncRequest,
  type SyncResult,
  syncFailure,
} from './group-types.ts';
import type { GroupValue } from './records.ts';

/**
 * One consumer group's state machine, the classic Kafka group protocol (no I/O, no timers):
 *
 *   Empty ──join──▶ PreparingRebalance ──all joined / timeout──▶ CompletingRebalance
 *     ▲                    ▲       │ no member left                  │ leader's SyncGroup stored
 *     └────────────────────┼───────┘                                 ▼
 *                          └──── join, leave, expiry, new protocols ── Stable
 *   any ──delete / unload──▶ Dead
 *
 * JoinGroup and SyncGroup answers may wait for other members: they resolve when the rebalance
 * moves on. Time passes through `tick`, which one timer of the injected Clock calls at the group's
 * next deadline (a member's session end, the initial rebalance delay, a rebalance timeout), so a
 * member expires when its session ends rather than on the next sweep; tests advance a ManualClock.
 * Heartbeats only move deadlines later, so they leave the timer alone: when it fires early, `tick`
 * finds nothing due and sets it for the next deadline. Persisting the group (after the leader's
 * SyncGroup, and when it becomes Empty) goes through the `store` callback, which answers a Kafka
 * error code.
 */

interface Member {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: readonly GroupProtocol[];
  assignment: Buffer;
  /** Monotonic ms after which a member that neither heartbeats nor waits is removed. */
  heartbeatDeadlineMs: number;
  joinWaiter: ((result: JoinResult) => void) | undefined;
  syncWaiter: ((result: SyncResult) => void) | undefined;
}

export interface GroupOptions {
  readonly clock: Clock;
  readonly settings: GroupSettings;
  /** Persists the group as it is now; answers NONE or the error code its waiters get. */
  readonly store: (group: Group) => Promise<number>;
  readonly newMemberId?: (clientId: string) => string;
}

export class Group {
  readonly groupId: string;
  state: GroupState = groupStates.empty;
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** Wall-clock ms of the last state change (offsets of an Empty group expire from it). */
  stateChangedMs: number;
  readonly offsets = new Map<string, CommittedOffset>();
  readonly #members = new Map<string, Member>();
  readonly #staticMembers = new Map<string, string>();
  /** Members told MEMBER_ID_REQUIRED: id → monotonic ms by which they must join with it. */
  readonly #pendingMembers = new Map<string, number>();
  readonly #clock: Clock;
  readonly #settings: GroupSettings;
  readonly #store: (group: Group) => Promise<number>;
  readonly #newMemberId: (clientId: string) => string;
  #rebalanceDeadlineMs = 0;
  #initialDelay: { deadlineMs: number; remainingMs: number; membersAtStart: number } | undefined;
  #syncDeadlineMs = 0;
  #storingGeneration = -1;
  #timer: { readonly dueMs: number; readonly timer: Timer } | undefined;

  constructor(groupId: string, options: GroupOptions) {
    this.groupId = groupId;
    this.#clock = options.clock;
    this.#settings = options.settings;
    this.#store = options.store;
    this.#newMemberId = options.newMemberId ?? ((clientId) => `${clientId}-${randomUUID()}`);
    this.stateChangedMs = options.clock.nowMs();
  }

  get memberCount(): number {
    return this.#members.size;
  }

  /** No member, none about to join and no rebalance: the group holds nothing but its offsets. */
  get idle(): boolean {
    return this.state === groupStates.empty && this.#members.size === 0 && this.#pendingMembers.size === 0;
  }

  hasMember(memberId: string): boolean {
    return this.#members.has(memberId);
  }

  /** A JoinGroup; resolves when the member may go on (possibly after the whole rebalance). */
  join(request: JoinRequest): Promise<JoinResult> {
    const answer = this.#join(request);
    this.#armTimer();
    return answer;
  }

  #join(request: JoinRequest): Promise<JoinResult> {
    if (this.state === groupStates.dead) return done(joinFailure(errorCodes.COORDINATOR_NOT_AVAILABLE));
    const { sessionTimeoutMsMin, sessionTimeoutMsMax } = this.#settings;
    if (request.sessionTimeoutMs < sessionTimeoutMsMin || request.sessionTimeoutMs > sessionTimeoutMsMax)
      return done(joinFailure(errorCodes.INVALID_SESSION_TIMEOUT, request.memberId));
    if (!this.#protocolsAcceptable(request))
      return done(joinFailure(errorCodes.INCONSISTENT_GROUP_PROTOCOL, request.memberId));
    const metadataBytes = request.protocols.reduce((sum, { metadata }) => sum + metadata.length, 0);
    if (metadataBytes > this.#settings.memberMetadataBytesMax)
      return done(joinFailure(errorCodes.GROUP_MAX_SIZE_REACHED, request.memberId));
    return request.memberId === '' ? this.#joinNewMember(request) : this.#joinKnownMember(request);
  }

  #protocolsAcceptable(request: JoinRequest): boolean {
    if (request.protocolType === '' || request.protocols.length === 0) return false;
    if (this.#members.size === 0) return true;
    if (request.protocolType !== this.protocolType) return false;
    const candidates = this.#candidateProtocols();
    return request.protocols.some(({ name }) => candidates.has(name));
  }

  #joinNewMember(request: JoinRequest): Promise<JoinResult> {
    const instanceId = request.groupInstanceId;
    const knownStatic = instanceId === null ? undefined : this.#staticMembers.get(instanceId);
    const memberId = this.#newMemberId(request.clientId);
    if (knownStatic !== undefined) return this.#replaceStaticMember(knownStatic, memberId, request);
    if (this.#members.size + this.#pendingMembers.size >= this.#settings.membersMax)
      return done(joinFailure(errorCodes.GROUP_MAX_SIZE_REACHED));
    if (instanceId === null && request.requireKnownMemberId) {
      this.#pendingMembers.set(memberId, this.#clock.monotonicMs() + request.sessionTimeoutMs);
      return done(joinFailure(errorCodes.MEMBER_ID_REQUIRED, memberId));
    }
    return this.#addMemberAndRebalance(memberId, request);
  }

  #joinKnownMember(request: JoinRequest): Promise<JoinResult> {
    const { memberId } = request;
    if (this.#pendingMembers.delete(memberId)) return this.#addMemberAndRebalance(memberId, request);
    const fenced = this.#fencedStatic(memberId, request.groupInstanceId);
    if (fenced !== undefined) return done(joinFailure(fenced, memberId));
    const member = this.#members.get(memberId);
    if (member === undefined) return done(joinFailure(errorCodes.UNKNOWN_MEMBER_ID, memberId));
    const sameProtocols = sameProtocolsAs(member, request);
    updateMember(member, request, this.#clock.monotonicMs());
    switch (this.state) {
      case groupStates.preparingRebalance:
        return this.#parkJoin(member);
      case groupStates.completingRebalance:
        if (sameProtocols) return done(this.#joinResult(member));
        return this.#rebalanceAndPark(member);
      case groupStates.stable:
        if (sameProtocols && memberId !== this.leaderId) return done(this.#joinResult(member));
        return this.#rebalanceAndPark(member);
      default:
        return done(joinFailure(errorCodes.UNKNOWN_MEMBER_ID, memberId));
    }
  }

  /**
   * A static member (group.instance.id) rejoining under a new member id: the old id is fenced. In a
   * Stable group with unchanged protocols the member keeps its assignment without a rebalance, the
   * leader too (Kafka's behaviour): the group is stored with the new id before the answer.
   */
  #replaceStaticMember(oldId: string, newId: string, request: JoinRequest): Promise<JoinResult> {
    const old = this.#members.get(oldId)!;
    const member: Member = { ...old, memberId: newId, joinWaiter: undefined, syncWaiter: undefined };
    old.joinWaiter?.(joinFailure(errorCodes.FENCED_INSTANCE_ID, oldId));
    old.syncWaiter?.(syncFailure(errorCodes.FENCED_INSTANCE_ID));
    this.#members.delete(oldId);
    this.#members.set(newId, member);
    this.#staticMembers.set(request.groupInstanceId!, newId);
    const previousLeaderId = this.leaderId;
    if (this.leaderId === oldId) this.leaderId = newId;
    const sameProtocols = sameProtocolsAs(member, request);
    updateMember(member, request, this.#clock.monotonicMs());
    if (this.state === groupStates.stable && sameProtocols)
      return this.#keepStableJoin(member, previousLeaderId);
    if (this.state === groupStates.preparingRebalance) return this.#parkJoin(member);
    return this.#rebalanceAndPark(member);
  }

  /**
   * Answers a replaced static member of a Stable group once the group (with its new member id) is
   * stored. The answer names the leader as it was, so a restarted leader does not see itself as
   * leader and compute assignments that a Stable group would never hand out; its SyncGroup gets
   * the assignment it had. A rebalance that starts meanwhile answers the parked join instead.
   */
  #keepStableJoin(member: Member, answeredLeaderId: string | null): Promise<JoinResult> {
    const parked = this.#parkJoin(member, false);
    const answer = member.joinWaiter;
    void this.#store(this)
      .then((errorCode) => {
        if (member.joinWaiter !== answer) return;
        if (errorCode === errorCodes.NONE && this.state !== groupStates.stable) return;
        member.joinWaiter = undefined;
        member.heartbeatDeadlineMs = this.#clock.monotonicMs() + member.sessionTimeoutMs;
        if (errorCode !== errorCodes.NONE) answer?.(joinFailure(errorCode, member.memberId));
        else answer?.({ ...this.#joinResult(member), leader: answeredLeaderId ?? '', members: [] });
      })
      .finally(() => this.#armTimer());
    return parked;
  }

  #addMemberAndRebalance(memberId: string, request: JoinRequest): Promise<JoinResult> {
    const member: Member = {
      memberId,
      groupInstanceId: request.groupInstanceId,
      clientId: request.clientId,
      clientHost: request.clientHost,
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      protocolType: request.protocolType,
      protocols: request.protocols,
      assignment: Buffer.alloc(0),
      heartbeatDeadlineMs: this.#clock.monotonicMs() + request.sessionTimeoutMs,
      joinWaiter: undefined,
      syncWaiter: undefined,
    };
    this.#members.set(memberId, member);
    if (request.groupInstanceId !== null) this.#staticMembers.set(request.groupInstanceId, memberId);
    this.leaderId ??= memberId;
    if (this.#members.size === 1) this.protocolType = request.protocolType;
    if (this.state === groupStates.preparingRebalance) return this.#parkJoin(member);
    return this.#rebalanceAndPark(member);
  }

  #rebalanceAndPark(member: Member): Promise<JoinResult> {
    const parked = this.#parkJoin(member, false);
    this.#prepareRebalance();
    this.#maybeCompleteJoin();
    return parked;
  }

  #parkJoin(member: Member, check = true): Promise<JoinResult> {
    // A repeated JoinGroup replaces the one still waiting, which is told to retry.
    member.joinWaiter?.(joinFailure(errorCodes.REBALANCE_IN_PROGRESS, member.memberId));
    const parked = new Promise<JoinResult>((resolve) => {
      member.joinWaiter = resolve;
    });
    if (check) this.#maybeCompleteJoin();
    return parked;
  }

  #prepareRebalance(): void {
    if (this.state === groupStates.completingRebalance) this.#answerSyncs(errorCodes.REBALANCE_IN_PROGRESS);
    const now = this.#clock.monotonicMs();
    const rebalanceTimeoutMs = this.#rebalanceTimeoutMs();
    if (this.state === groupStates.empty && this.#settings.initialRebalanceDelayMs > 0) {
      const delayMs = Math.min(this.#settings.initialRebalanceDelayMs, rebalanceTimeoutMs);
      this.#initialDelay = {
        deadlineMs: now + delayMs,
        remainingMs: Math.max(rebalanceTimeoutMs - delayMs, 0),
        membersAtStart: this.#members.size,
      };
    }
    this.#rebalanceDeadlineMs = now + rebalanceTimeoutMs;
    this.#setState(groupStates.preparingRebalance);
  }

  #rebalanceTimeoutMs(): number {
    let timeoutMs = 0;
    for (const member of this.#members.values()) timeoutMs = Math.max(timeoutMs, member.rebalanceTimeoutMs);
    return timeoutMs;
  }

  #maybeCompleteJoin(): void {
    if (this.state !== groupStates.preparingRebalance || this.#initialDelay !== undefined) return;
    if (this.#pendingMembers.size > 0) return;
    for (const member of this.#members.values()) if (member.joinWaiter === undefined) return;
    this.#completeJoin();
  }

  /** Ends the join phase: members that did not rejoin leave, the rest learn the new generation. */
  #completeJoin(): void {
    this.#initialDelay = undefined;
    for (const member of [...this.#members.values()])
      if (member.joinWaiter === undefined) this.#removeMember(member);
    this.generationId += 1;
    if (this.#members.size === 0) {
      this.protocolName = null;
      this.leaderId = null;
      this.#setState(groupStates.empty);
      void this.#store(this);
      return;
    }
    if (this.leaderId === null || !this.#members.has(this.leaderId))
      this.leaderId = this.#members.keys().next().value ?? null;
    this.protocolName = this.#selectProtocol();
    this.#setState(groupStates.completingRebalance);
    const now = this.#clock.monotonicMs();
    this.#syncDeadlineMs = now + this.#rebalanceTimeoutMs();
    for (const member of this.#members.values()) {
      const answer = member.joinWaiter;
      member.joinWaiter = undefined;
      member.heartbeatDeadlineMs = now + member.sessionTimeoutMs;
      answer?.(this.#joinResult(member));
    }
  }

  #candidateProtocols(): Set<string> {
    let candidates: Set<string> | undefined;
    for (const member of this.#members.values()) {
      const names = new Set(member.protocols.map(({ name }) => name));
      candidates = candidates === undefined ? names : new Set([...candidates].filter((n) => names.has(n)));
    }
    return candidates ?? new Set();
  }

  /** The protocol every member supports that most members prefer (first in their list). */
  #selectProtocol(): string | null {
    const candidates = this.#candidateProtocols();
    const votes = new Map<string, number>();
    for (const member of this.#members.values()) {
      const choice = member.protocols.find(({ name }) => candidates.has(name));
      if (choice !== undefined) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    let best: string | null = null;
    let bestVotes = 0;
    for (const [name, count] of votes) {
      if (count > bestVotes) {
        best = name;
        bestVotes = count;
      }
    }
    return best;
  }

  #joinResult(member: Member): JoinResult {
    const isLeader = member.memberId === this.leaderId;
    return {
      errorCode: errorCodes.NONE,
      generationId: this.generationId,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      leader: this.leaderId ?? '',
      memberId: member.memberId,
      members: isLeader
        ? [...this.#members.values()].map((each) => ({
            memberId: each.memberId,
            groupInstanceId: each.groupInstanceId,
            metadata: this.#selectedMetadata(each),
          }))
        : [],
    };
  }

  #selectedMetadata(member: Member): Buffer {
    return member.protocols.find(({ name }) => name === this.protocolName)?.metadata ?? Buffer.alloc(0);
  }

  /** Why a member naming this instance id is fenced (FENCED_INSTANCE_ID), or undefined. */
  #fencedStatic(memberId: string, groupInstanceId: string | null): number | undefined {
    if (groupInstanceId === null) return undefined;
    const known = this.#staticMembers.get(groupInstanceId);
    if (known === undefined || known === memberId) return undefined;
    return errorCodes.FENCED_INSTANCE_ID;
  }

  /** A SyncGroup; the leader's carries the assignments, which are stored before anyone is answered. */
  sync(request: SyncRequest): Promise<SyncResult> {
    const answer = this.#sync(request);
    this.#armTimer();
    return answer;
  }

  #sync(request: SyncRequest): Promise<SyncResult> {
    const problem = this.#memberProblem(request.memberId, request.groupInstanceId, request.generationId);
    if (problem !== undefined) return done(syncFailure(problem));
    if (
      (request.protocolType !== null && request.protocolType !== this.protocolType) ||
      (request.protocolName !== null && request.protocolName !== this.protocolName)
    )
      return done(syncFailure(errorCodes.INCONSISTENT_GROUP_PROTOCOL));
    const member = this.#members.get(request.memberId)!;
    if (this.state === groupStates.preparingRebalance)
      return done(syncFailure(errorCodes.REBALANCE_IN_PROGRESS));
    if (this.state === groupStates.stable) {
      member.heartbeatDeadlineMs = this.#clock.monotonicMs() + member.sessionTimeoutMs;
      return done(this.#syncResult(member));
    }
    const parked = new Promise<SyncResult>((resolve) => {
      member.syncWaiter?.(syncFailure(errorCodes.REBALANCE_IN_PROGRESS));
      member.syncWaiter = resolve;
    });
    if (request.memberId === this.leaderId && this.#storingGeneration !== this.generationId)
      this.#acceptAssignments(request);
    return parked;
  }

  #acceptAssignments(request: SyncRequest): void {
    const bytes = request.assignments.reduce((sum, { assignment }) => sum + assignment.length, 0);
    if (bytes > this.#settings.assignmentBytesMax) {
      this.#answerSyncs(errorCodes.GROUP_MAX_SIZE_REACHED);
      this.#prepareRebalance();
      return;
    }
    for (const member of this.#members.values()) member.assignment = Buffer.alloc(0);
    for (const { memberId, assignment } of request.assignments) {
      const member = this.#members.get(memberId);
      if (member !== undefined) member.assignment = assignment;
    }
    const generation = this.generationId;
    this.#storingGeneration = generation;
    void this.#store(this)
      .then((errorCode) => {
        this.#storingGeneration = -1;
        if (this.state !== groupStates.completingRebalance || this.generationId !== generation) return;
        if (errorCode !== errorCodes.NONE) {
          this.#answerSyncs(errorCode);
          this.#prepareRebalance();
          return;
        }
        this.#setState(groupStates.stable);
        const now = this.#clock.monotonicMs();
        for (const member of this.#members.values()) {
          const answer = member.syncWaiter;
          member.syncWaiter = undefined;
          member.heartbeatDeadlineMs = now + member.sessionTimeoutMs;
          answer?.(this.#syncResult(member));
        }
      })
      .finally(() => this.#armTimer());
  }

  #syncResult(member: Member): SyncResult {
    return {
      errorCode: errorCodes.NONE,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      assignment: member.assignment,
    };
  }

  #answerSyncs(errorCode: number): void {
    for (const member of this.#members.values()) {
      const answer = member.syncWaiter;
      member.syncWaiter = undefined;
      answer?.(syncFailure(errorCode));
    }
  }

  /** The error that a request of this member at this generation gets, or undefined when it may go on. */
  #memberProblem(memberId: string, groupInstanceId: string | null, generationId: number): number | undefined {
    if (this.state === groupStates.dead) return errorCodes.COORDINATOR_NOT_AVAILABLE;
    const fenced = this.#fencedStatic(memberId, groupInstanceId);
    if (fenced !== undefined) return fenced;
    if (!this.#members.has(memberId)) return errorCodes.UNKNOWN_MEMBER_ID;
    if (generationId !== this.generationId) return errorCodes.ILLEGAL_GENERATION;
    return undefined;
  }

  /** A Heartbeat: NONE, REBALANCE_IN_PROGRESS (rejoin) or the member's problem. */
  heartbeat(request: MemberIdentity & { generationId: number }): number {
    const problem = this.#memberProblem(request.memberId, request.groupInstanceId, request.generationId);
    if (problem !== undefined) return problem;
    const member = this.#members.get(request.memberId)!;
    member.heartbeatDeadlineMs = this.#clock.monotonicMs() + member.sessionTimeoutMs;
    return this.state === groupStates.preparingRebalance ? errorCodes.REBALANCE_IN_PROGRESS : errorCodes.NONE;
  }

  /** A LeaveGroup: each identity's error code, in order. */
  leave(identities: readonly MemberIdentity[]): number[] {
    if (this.state === groupStates.dead) return identities.map(() => errorCodes.COORDINATOR_NOT_AVAILABLE);
    const answers = identities.map((identity) => this.#leaveOne(identity));
    if (answers.some((code) => code === errorCodes.NONE)) this.#afterMembershipChange();
    this.#armTimer();
    return answers;
  }

  #leaveOne({ memberId, groupInstanceId }: MemberIdentity): number {
    if (groupInstanceId !== null) {
      const known = this.#staticMembers.get(groupInstanceId);
      if (known === undefined) return errorCodes.UNKNOWN_MEMBER_ID;
      if (memberId !== '' && memberId !== known) return errorCodes.FENCED_INSTANCE_ID;
      this.#removeMember(this.#members.get(known)!);
      return errorCodes.NONE;
    }
    if (this.#pendingMembers.delete(memberId)) return errorCodes.NONE;
    const member = this.#members.get(memberId);
    if (member === undefined) return errorCodes.UNKNOWN_MEMBER_ID;
    this.#removeMember(member);
    return errorCodes.NONE;
  }

  #removeMember(member: Member): void {
    this.#members.delete(member.memberId);
    if (member.groupInstanceId !== null) this.#staticMembers.delete(member.groupInstanceId);
    member.joinWaiter?.(joinFailure(errorCodes.UNKNOWN_MEMBER_ID, member.memberId));
    member.syncWaiter?.(syncFailure(errorCodes.UNKNOWN_MEMBER_ID));
    member.joinWaiter = undefined;
    member.syncWaiter = undefined;
    if (this.leaderId === member.memberId) this.leaderId = this.#members.keys().next().value ?? null;
  }

  /** After members left or expired: a settled group rebalances, a rebalancing one may finish. */
  #afterMembershipChange(): void {
    if (this.state === groupStates.stable || this.state === groupStates.completingRebalance) {
      this.#prepareRebalance();
    }
    this.#maybeCompleteJoin();
  }

  /** Moves time forward: expiries, the initial delay and rebalance timeouts. */
  tick(): void {
    if (this.state === groupStates.dead) return;
    this.#expireDue();
    this.#armTimer();
  }

  #expireDue(): void {
    const now = this.#clock.monotonicMs();
    for (const [memberId, deadlineMs] of this.#pendingMembers)
      if (deadlineMs <= now) this.#pendingMembers.delete(memberId);
    let expired = false;
    for (const member of [...this.#members.values()]) {
      const waiting = member.joinWaiter !== undefined || member.syncWaiter !== undefined;
      if (!waiting && member.heartbeatDeadlineMs <= now) {
        this.#removeMember(member);
        expired = true;
      }
    }
    if (expired) this.#afterMembershipChange();
    if (this.state === groupStates.preparingRebalance) this.#tickJoin(now);
    else if (this.state === groupStates.completingRebalance && now >= this.#syncDeadlineMs) {
      // The leader never sent assignments in time: members that did not sync leave, the rest rejoin.
      for (const member of [...this.#members.values()])
        if (member.syncWaiter === undefined) this.#removeMember(member);
      this.#prepareRebalance();
      this.#maybeCompleteJoin();
    }
  }

  #tickJoin(now: number): void {
    const delay = this.#initialDelay;
    if (delay !== undefined && now >= delay.deadlineMs) {
      // Members that arrived during the delay extend it (up to the rebalance timeout), so that a
      // fleet of consumers starting together forms one generation instead of several.
      const grew = this.#members.size > delay.membersAtStart;
      const extensionMs = Math.min(this.#settings.initialRebalanceDelayMs, delay.remainingMs);
      if (grew && extensionMs > 0) {
        this.#initialDelay = {
          deadlineMs: now + extensionMs,
          remainingMs: delay.remainingMs - extensionMs,
          membersAtStart: this.#members.size,
        };
      } else this.#initialDelay = undefined;
    }
    if (this.#initialDelay === undefined && now >= this.#rebalanceDeadlineMs) this.#completeJoin();
    else this.#maybeCompleteJoin();
  }

  /** Whether an OffsetCommit of this member and generation is accepted (NONE) or why not. */
  commitProblem(identity: MemberIdentity, generationId: number): number {
    if (this.state === groupStates.dead) return errorCodes.COORDINATOR_NOT_AVAILABLE;
    // A consumer that assigns partitions itself commits with generation -1 to a group without members.
    if (generationId < 0 && identity.memberId === '' && this.state === groupStates.empty)
      return errorCodes.NONE;
    if (this.state === groupStates.completingRebalance) return errorCodes.REBALANCE_IN_PROGRESS;
    const problem = this.#memberProblem(identity.memberId, identity.groupInstanceId, generationId);
    if (problem !== undefined) return problem;
    const member = this.#members.get(identity.memberId)!;
    member.heartbeatDeadlineMs = this.#clock.monotonicMs() + member.sessionTimeoutMs;
    return errorCodes.NONE;
  }

  /** Answers every waiting member with `errorCode` and makes the group Dead (deleted or unloaded). */
  kill(errorCode: number): void {
    for (const member of this.#members.values()) {
      member.joinWaiter?.(joinFailure(errorCode, member.memberId));
      member.syncWaiter?.(syncFailure(errorCode));
      member.joinWaiter = undefined;
      member.syncWaiter = undefined;
    }
    this.#setState(groupStates.dead);
    this.#timer?.timer.cancel();
    this.#timer = undefined;
  }

  /** The earliest moment `tick` has work: a session end, a pending id, the delay or a rebalance timeout. */
  #nextDeadlineMs(): number | undefined {
    let nextMs = Number.POSITIVE_INFINITY;
    for (const deadlineMs of this.#pendingMembers.values()) nextMs = Math.min(nextMs, deadlineMs);
    for (const member of this.#members.values()) {
      const waiting = member.joinWaiter !== undefined || member.syncWaiter !== undefined;
      if (!waiting) nextMs = Math.min(nextMs, member.heartbeatDeadlineMs);
    }
    if (this.state === groupStates.preparingRebalance)
      nextMs = Math.min(nextMs, this.#initialDelay?.deadlineMs ?? this.#rebalanceDeadlineMs);
    else if (this.state === groupStates.completingRebalance) nextMs = Math.min(nextMs, this.#syncDeadlineMs);
    return Number.isFinite(nextMs) ? nextMs : undefined;
  }

  /** Sets the group's one timer for its next deadline (after every change that may bring it closer). */
  #armTimer(): void {
    if (this.state === groupStates.dead) return;
    const dueMs = this.#nextDeadlineMs();
    if (dueMs === this.#timer?.dueMs) return;
    this.#timer?.timer.cancel();
    this.#timer = undefined;
    if (dueMs === undefined) return;
    const timer = this.#clock.timeout(
      dueMs - this.#clock.monotonicMs(),
      () => {
        if (this.#timer?.timer === timer) this.#timer = undefined;
        this.tick();
      },
      { keepAlive: false }, // the SPU stays up through its sockets, not a group's deadlines
    );
    this.#timer = { dueMs, timer };
  }

  /** Each member's metadata for the selected protocol (its subscription, for consumers). */
  memberMetadata(): Buffer[] {
    return [...this.#members.values()].map((member) => this.#selectedMetadata(member));
  }

  /** What DescribeGroups shows: metadata and assignments only of a Stable group, as Kafka does. */
  describe(): GroupDescription {
    const stable = this.state === groupStates.stable;
    return {
      groupId: this.groupId,
      state: this.state,
      protocolType: this.protocolType ?? '',
      protocolName: stable ? (this.protocolName ?? '') : '',
      members: [...this.#members.values()].map((member) => ({
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId,
        clientId: member.clientId,
        clientHost: member.clientHost,
        metadata: stable ? this.#selectedMetadata(member) : Buffer.alloc(0),
        assignment: stable ? member.assignment : Buffer.alloc(0),
      })),
    };
  }

  /** The group's record value for the offsets topic. */
  toValue(): GroupValue {
    return {
      protocolType: this.protocolType ?? '',
      generation: this.generationId,
      protocol: this.protocolName,
      leader: this.leaderId,
      currentStateTimestampMs: BigInt(this.stateChangedMs),
      members: [...this.#members.values()].map((member) => ({
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId,
        clientId: member.clientId,
        clientHost: member.clientHost,
        rebalanceTimeoutMs: member.rebalanceTimeoutMs,
        sessionTimeoutMs: member.sessionTimeoutMs,
        subscription: this.#selectedMetadata(member),
        assignment: member.assignment,
      })),
    };
  }

  /**
   * Takes the state a group record holds (a coordinator loading its partition). Members come back
   * Stable and must heartbeat within their session timeout, as if they had just synced.
   */
  restore(value: GroupValue): void {
    this.generationId = value.generation;
    this.protocolType = value.protocolType === '' ? null : value.protocolType;
    this.protocolName = value.protocol;
    this.leaderId = value.leader;
    this.stateChangedMs = Number(value.currentStateTimestampMs);
    this.#members.clear();
    this.#staticMembers.clear();
    const now = this.#clock.monotonicMs();
    for (const stored of value.members) {
      this.#members.set(stored.memberId, {
        memberId: stored.memberId,
        groupInstanceId: stored.groupInstanceId,
        clientId: stored.clientId,
        clientHost: stored.clientHost,
        sessionTimeoutMs: stored.sessionTimeoutMs,
        rebalanceTimeoutMs: stored.rebalanceTimeoutMs,
        protocolType: value.protocolType,
        protocols: [{ name: value.protocol ?? '', metadata: stored.subscription }],
        assignment: stored.assignment,
        heartbeatDeadlineMs: now + stored.sessionTimeoutMs,
        joinWaiter: undefined,
        syncWaiter: undefined,
      });
      if (stored.groupInstanceId !== null) this.#staticMembers.set(stored.groupInstanceId, stored.memberId);
    }
    this.state = this.#members.size > 0 && value.protocol !== null ? groupStates.stable : groupStates.empty;
    if (this.state === groupStates.empty) {
      this.#members.clear();
      this.#staticMembers.clear();
    }
    this.#armTimer();
  }

  #setState(state: GroupState): void {
    this.state = state;
    this.stateChangedMs = this.#clock.nowMs();
  }
}

function done<T>(value: T): Promise<T> {
  return Promise.resolve(value);
}

function sameProtocolsAs(member: Member, request: JoinRequest): boolean {
  if (member.protocols.length !== request.protocols.length) return false;
  return member.protocols.every(
    (protocol, at) =>
      protocol.name === request.protocols[at]!.name &&
      protocol.metadata.equals(request.protocols[at]!.metadata),
  );
}

function updateMember(member: Member, request: JoinRequest, nowMs: number): void {
  member.clientId = request.clientId;
  member.clientHost = request.clientHost;
  member.sessionTimeoutMs = request.sessionTimeoutMs;
  member.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
  member.protocolType = request.protocolType;
  member.protocols = request.protocols;
  member.heartbeatDeadlineMs = nowMs + request.sessionTimeoutMs;
}
