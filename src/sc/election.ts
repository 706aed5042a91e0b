import { errorCodes } from '../protocol/messages/error-codes.ts';
import type { PartitionRecord } from './topic-records.ts';

/**
 * Leadership decisions for one partition, as pure functions of its stored record and the set of
 * online SPUs. Every change of leader or ISR raises the partition epoch; every change of leader
 * (including to "no leader") raises the leader epoch too, so stale leaders and stale ISR proposals
 * are fenced.
 *
 * - A lost replica (offline SPU) leaves the ISR. The ISR is never emptied: when the last in-sync
 *   replica goes, it stays listed (the partition's most recent copy) so that it is elected again,
 *   cleanly, when it returns.
 * - A new leader is the first replica, in replica order, that is in the ISR and online; with
 *   `unclean` (unclean.leader.election.enable=true) and no such replica, the first online replica,
 *   which then is the whole ISR. Otherwise the partition stays leaderless (leader -1).
 * - The preferred leader (first replica) takes leadership back once it is online and in the ISR.
 */

export const noLeader = -1;

export type IsOnline = (spuId: number) => boolean;

/**
 * The record after the SPUs that are not online have been dealt with: removed from the ISR and, if
 * the leader is among them (or there is no leader), a new leader elected. Undefined when nothing
 * changes.
 */
export function electAfterLoss(
  partition: PartitionRecord,
  online: IsOnline,
  unclean: boolean,
): PartitionRecord | undefined {
  const liveIsr = partition.isr.filter(online);
  const leaderLost = partition.leader === noLeader || !online(partition.leader);
  if (!leaderLost) {
    if (liveIsr.length === partition.isr.length) return undefined;
    return { ...partition, isr: liveIsr, partitionEpoch: partition.partitionEpoch + 1 };
  }
  let leader = partition.replicas.find((id) => liveIsr.includes(id));
  let isr: readonly number[] = liveIsr;
  if (leader === undefined && unclean) {
    leader = partition.replicas.find(online);
    if (leader !== undefined) isr = [leader];
  }
  if (leader === undefined) {
    // Keep the last in-sync replicas listed: one of them returning is a clean election.
    isr = liveIsr.length > 0 ? liveIsr : partition.isr;
    if (partition.leader === noLeader && sameIds(isr, partition.isr)) return undefined;
    return {
      ...partition,
      leader: noLeader,
      leaderEpoch: partition.leader === noLeader ? partition.leaderEpoch : partition.leaderEpoch + 1,
      isr,
      partitionEpoch: partition.partitionEpoch + 1,
    };
  }
  return {
    ...partition,
    leader,
    leaderEpoch: partition.leaderEpoch + 1,
    isr,
    partitionEpoch: partition.partitionEpoch + 1,
  };
}

/** The record with leadership moved back to the preferred (first) replica, or undefined. */
export function electPreferred(partition: PartitionRecord, online: IsOnline): PartitionRecord | undefined {
  const preferred = partition.replicas[0];
  if (preferred === undefined || preferred === partition.leader) return undefined;
  if (!online(preferred) || !partition.isr.includes(preferred)) return undefined;
  if (partition.leader !== noLeader && !online(partition.leader)) return undefined;
  return {
    ...partition,
    leader: preferred,
    leaderEpoch: partition.leaderEpoch + 1,
    partitionEpoch: partition.partitionEpoch + 1,
  };
}

/** What a leader proposes for one partition (AlterPartition). */
export interface IsrProposal {
  readonly brokerId: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly newIsr: readonly number[];
}

export type IsrDecision =
  | { readonly errorCode: number; readonly message: string }
  | { readonly errorCode: 0; readonly record: PartitionRecord; readonly changed: boolean };

/**
 * Checks a proposed ISR against the stored partition: the sender must be the leader, with the
 * current leader epoch and partition epoch, and the ISR a duplicate-free subset of the replicas that
 * holds the leader and only online SPUs. The same ISR again is accepted without a change.
 */
export function decideIsr(partition: PartitionRecord, proposal: IsrProposal, online: IsOnline): IsrDecision {
  const { brokerId, newIsr } = proposal;
  if (partition.leader !== brokerId)
    return fail(errorCodes.NOT_LEADER_OR_FOLLOWER, `SPU ${brokerId} is not the leader (${partition.leader})`);
  if (proposal.leaderEpoch !== partition.leaderEpoch)
    return fail(
      errorCodes.FENCED_LEADER_EPOCH,
      `leader epoch ${proposal.leaderEpoch}, current is ${partition.leaderEpoch}`,
    );
  if (proposal.partitionEpoch !== partition.partitionEpoch)
    return fail(
      errorCodes.INVALID_UPDATE_VERSION,
      `partition epoch ${proposal.partitionEpoch}, current is ${partition.partitionEpoch}`,
    );
  if (new Set(newIsr).size !== newIsr.length)
    return fail(errorCodes.INVALID_REQUEST, 'the ISR names a replica twice');
  if (!newIsr.includes(brokerId)) return fail(errorCodes.INVALID_REQUEST, 'the ISR must contain the leader');
  const stranger = newIsr.find((id) => !partition.replicas.includes(id));
  if (stranger !== undefined)
    return fail(errorCodes.INVALID_REQUEST, `SPU ${stranger} is not a replica of this partition`);
  const offline = newIsr.find((id) => !online(id));
  if (offline !== undefined) return fail(errorCodes.INELIGIBLE_REPLICA, `SPU ${offline} is not online`);
  // Stored in replica order, so equal sets compare equal.
  const isr = partition.replicas.filter((id) => newIsr.includes(id));
  if (sameIds(isr, partition.isr)) return { errorCode: 0, record: partition, changed: false };
  return {
    errorCode: 0,
    record: { ...partition, isr, partitionEpoch: partition.partitionEpoch + 1 },
    changed: true,
  };
}

function fail(errorCode: number, message: string): IsrDecision {
  return { errorCode, message };
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, index) => b[index] === id);
}
