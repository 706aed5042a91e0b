/**
 * A partition's replicas as its leader sees them: the assignment and ISR the SC pushed, and what
 * each follower's fetches revealed (its log end offset and when it was last caught up). From these
 * come the high watermark (the smallest log end over the ISR) and the ISR changes the leader asks
 * the SC for: a follower not caught up within the lag limit leaves, a caught-up one comes back.
 *
 * "Caught up" follows Kafka: a fetch at or past the leader's log end makes the follower caught up
 * now; a fetch at or past the leader's log end as of the follower's previous fetch makes it caught
 * up as of that previous fetch (it read everything that existed then).
 */

export interface ReplicaAssignment {
  readonly leaderId: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly partitionEpoch: number;
}

interface FollowerProgress {
  /** The follower's log end offset (its last fetch offset); -1 until it fetches. */
  logEndOffset: bigint;
  lastCaughtUpMs: number;
  /** The leader's log end offset and the time at the follower's previous fetch. */
  lastFetchLeaderEndOffset: bigint;
  lastFetchMs: number;
}

export class ReplicaSet {
  readonly selfId: number;
  leaderId: number;
  replicas: readonly number[] = [];
  isr: readonly number[] = [];
  partitionEpoch = -1;
  /**
   * An ISR this leader proposed and the SC has not answered yet. Its members count for the high
   * watermark at once: the SC may have committed it (and may elect a new member) before the answer
   * arrives, so the high watermark must not pass a joining replica's log end meanwhile.
   */
  pendingIsr: readonly number[] | undefined;
  readonly #followers = new Map<number, FollowerProgress>();

  constructor(selfId: number, leaderId: number = selfId) {
    this.selfId = selfId;
    this.leaderId = leaderId;
  }

  /** Whether other replicas exist, so that the high watermark waits for them. */
  get replicated(): boolean {
    return this.replicas.some((id) => id !== this.selfId);
  }

  /**
   * Takes a pushed assignment. `newLeadership` (a new leader epoch) forgets the followers' progress
   * and gives each a fresh lag allowance, as a new leader knows nothing of them yet.
   */
  assign(assignment: ReplicaAssignment, newLeadership: boolean, nowMs: number): void {
    this.leaderId = assignment.leaderId;
    this.replicas = [...assignment.replicas];
    this.isr = [...assignment.isr];
    this.partitionEpoch = assignment.partitionEpoch;
    if (newLeadership) this.#followers.clear();
    for (const id of this.#followers.keys()) if (!this.replicas.includes(id)) this.#followers.delete(id);
    for (const id of this.replicas) {
      if (id === this.selfId || this.#followers.has(id)) continue;
      this.#followers.set(id, {
        logEndOffset: -1n,
        lastCaughtUpMs: nowMs,
        lastFetchLeaderEndOffset: -1n,
        lastFetchMs: nowMs,
      });
    }
  }

  /** Records a follower's fetch at `fetchOffset`; false when `replicaId` is no follower here. */
  recordFetch(replicaId: number, fetchOffset: bigint, leaderEndOffset: bigint, nowMs: number): boolean {
    const progress = this.#followers.get(replicaId);
    if (progress === undefined) return false;
    if (fetchOffset >= leaderEndOffset) progress.lastCaughtUpMs = nowMs;
    else if (fetchOffset >= progress.lastFetchLeaderEndOffset)
      progress.lastCaughtUpMs = Math.max(progress.lastCaughtUpMs, progress.lastFetchMs);
    progress.logEndOffset = fetchOffset;
    progress.lastFetchLeaderEndOffset = leaderEndOffset;
    progress.lastFetchMs = nowMs;
    return true;
  }

  /** The follower's known log end offset (-1 when unknown). */
  logEndOffsetOf(replicaId: number): bigint {
    return this.#followers.get(replicaId)?.logEndOffset ?? -1n;
  }

  /** The smallest log end offset over the ISR (and a pending one), the leader's own being `leaderEndOffset`. */
  highWatermarkCandidate(leaderEndOffset: bigint): bigint {
    let candidate = leaderEndOffset;
    for (const id of new Set([...this.isr, ...(this.pendingIsr ?? [])])) {
      if (id === this.selfId) continue;
      const end = this.#followers.get(id)?.logEndOffset ?? -1n;
      if (end < candidate) candidate = end;
    }
    return candidate;
  }

  /**
   * The ISR the leader should have now, or undefined when it is right as it is: members not caught
   * up within `lagMsMax` leave; replicas whose log reaches the high watermark and that were caught
   * up within `lagMsMax` join. The leader always stays.
   */
  proposedIsr(highWatermark: bigint, nowMs: number, lagMsMax: number): number[] | undefined {
    const inSync = (id: number): boolean => {
      if (id === this.selfId) return true;
      const progress = this.#followers.get(id);
      return progress !== undefined && nowMs - progress.lastCaughtUpMs <= lagMsMax;
    };
    const kept = this.isr.filter(inSync);
    const joining = this.replicas.filter(
      (id) => !this.isr.includes(id) && inSync(id) && this.logEndOffsetOf(id) >= highWatermark,
    );
    if (!kept.includes(this.selfId)) kept.unshift(this.selfId);
    const proposed = [...kept, ...joining];
    const same = proposed.length === this.isr.length && proposed.every((id) => this.isr.includes(id));
    return same ? undefined : proposed;
  }
}
