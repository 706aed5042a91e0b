import { replicasProblem } from '../metadata/topic-validation.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import { type IsOnline, noLeader } from './election.ts';
import type { MetadataStore, MetadataWrite } from './metadata-store.ts';
import { type DeletionRecord, deletionKey, type PartitionRecord } from './topic-records.ts';

/**
 * Moving a partition's replicas to other SPUs (AlterPartitionReassignments), as pure functions of
 * the stored partition record. The reassignment lives in the record itself (`reassignment`: the
 * original and the target replica lists), so it is persisted with the replicas it changes and an SC
 * restart simply carries on from what the record says.
 *
 * The steps, each one write of the record (partition epoch + 1), taken by the leadership pass
 * (leadership.ts), which runs on every reconcile tick:
 *
 *   1. start: replicas = original ++ (target − original). The added SPUs get LeaderAndIsr, open an
 *      empty log and follow the leader; the leader proposes each one into the ISR (AlterPartition)
 *      once it has caught up.
 *   2. when every added replica is in the ISR and the leader is not in the target: leadership moves
 *      to the first target replica that is in the ISR and online (leader epoch + 1).
 *   3. when every added replica is in the ISR and the leader is in the target: replicas = target,
 *      the ISR keeps only target replicas, and each removed replica gets a deletion record, which
 *      the reconciler turns into StopReplica with delete.
 *
 * Cancel (null replicas) sets replicas back to the original list; the added SPUs' replicas are
 * deleted. A new target while one is in progress replaces it (the original list stays). While a
 * partition moves, preferred-leader election leaves it alone (step 2 would be undone otherwise).
 */

export interface ReassignmentProblem {
  readonly errorCode: number;
  readonly message: string;
}

/** A changed record and the SPUs whose replicas it drops (to be deleted there). */
export interface ReassignmentStep {
  readonly record: PartitionRecord;
  readonly dropped: readonly number[];
}

/** SPUs a reassignment in progress adds (target − original); empty when none is in progress. */
export function addingReplicas(partition: PartitionRecord): number[] {
  const move = partition.reassignment;
  if (move === undefined) return [];
  return move.targetReplicas.filter((id) => !move.originalReplicas.includes(id));
}

/** SPUs a reassignment in progress removes (original − target); empty when none is in progress. */
export function removingReplicas(partition: PartitionRecord): number[] {
  const move = partition.reassignment;
  if (move === undefined) return [];
  return move.originalReplicas.filter((id) => !move.targetReplicas.includes(id));
}

/** Why `target` cannot be a partition's replica list: empty, duplicates, unknown SPUs. */
export function targetProblem(
  partition: number,
  target: readonly number[],
  knownSpus: ReadonlySet<number>,
): ReassignmentProblem | undefined {
  const problem = replicasProblem(partition, target, target.length, knownSpus);
  return problem === undefined
    ? undefined
    : { errorCode: problem.errorCode, message: problem.errorMessage ?? 'invalid replicas' };
}

/**
 * Starts a move of `partition` to `target` (validated already), or replaces the one in progress.
 * A target with the same SPUs as the original list only reorders the replicas, at once.
 * Undefined when nothing changes.
 */
export function startReassignment(
  partition: PartitionRecord,
  target: readonly number[],
  online: IsOnline,
): ReassignmentStep | ReassignmentProblem | undefined {
  const original = partition.reassignment?.originalReplicas ?? partition.replicas;
  if (sameSet(original, target)) return changeReplicas(partition, target, undefined, online);
  const replicas = [...original, ...target.filter((id) => !original.includes(id))];
  return changeReplicas(
    partition,
    replicas,
    { originalReplicas: [...original], targetReplicas: [...target] },
    online,
  );
}

/** Cancels the move in progress: the original replicas again. */
export function cancelReassignment(
  partition: PartitionRecord,
  online: IsOnline,
): ReassignmentStep | ReassignmentProblem | undefined {
  const move = partition.reassignment;
  if (move === undefined)
    return { errorCode: errorCodes.NO_REASSIGNMENT_IN_PROGRESS, message: 'no reassignment in progress' };
  return changeReplicas(partition, move.originalReplicas, undefined, online);
}

/**
 * The next step of the move in progress (steps 2 and 3 above), or undefined while it must wait: for
 * an added replica to join the ISR, for a leader (elections come first), or for a target replica in
 * the ISR to be online to take over.
 */
export function advanceReassignment(
  partition: PartitionRecord,
  online: IsOnline,
): ReassignmentStep | undefined {
  const move = partition.reassignment;
  if (move === undefined || partition.leader === noLeader) return undefined;
  if (!addingReplicas(partition).every((id) => partition.isr.includes(id))) return undefined;
  const target = move.targetReplicas;
  if (!target.includes(partition.leader)) {
    const leader = target.find((id) => partition.isr.includes(id) && online(id));
    if (leader === undefined) return undefined;
    const record: PartitionRecord = {
      ...partition,
      leader,
      leaderEpoch: partition.leaderEpoch + 1,
      partitionEpoch: partition.partitionEpoch + 1,
    };
    return { record, dropped: [] };
  }
  const step = changeReplicas(partition, target, undefined, online);
  return step === undefined || !('record' in step) ? undefined : step;
}

/**
 * The record with `replicas` (and `reassignment`, or none) instead of its own. Replicas left out
 * leave the ISR; when the leader is one of them, the first remaining in-sync replica that is online
 * takes over. Refused when no in-sync replica would remain, which would lose acknowledged data.
 */
function changeReplicas(
  partition: PartitionRecord,
  replicas: readonly number[],
  reassignment: PartitionRecord['reassignment'],
  online: IsOnline,
): ReassignmentStep | ReassignmentProblem | undefined {
  const dropped = partition.replicas.filter((id) => !replicas.includes(id));
  const isr = replicas.filter((id) => partition.isr.includes(id));
  if (isr.length === 0)
    return {
      errorCode: errorCodes.INVALID_REPLICA_ASSIGNMENT,
      message: `none of [${replicas.join(', ')}] is in sync (ISR [${partition.isr.join(', ')}])`,
    };
  let { leader, leaderEpoch } = partition;
  if (dropped.includes(leader)) {
    const successor = isr.find(online);
    if (successor === undefined)
      return {
        errorCode: errorCodes.REASSIGNMENT_IN_PROGRESS,
        message: 'no remaining in-sync replica is online to take over leadership; retry later',
      };
    leader = successor;
    leaderEpoch++;
  }
  const { reassignment: _previous, ...rest } = partition;
  const record: PartitionRecord = {
    ...rest,
    replicas: [...replicas],
    isr,
    leader,
    leaderEpoch,
    partitionEpoch: partition.partitionEpoch + 1,
    ...(reassignment === undefined ? {} : { reassignment }),
  };
  if (sameRecord(record, partition)) return undefined;
  return { record, dropped };
}

/** Deletion records for replicas a step dropped: StopReplica with delete when their SPU is online. */
export function dropWrites(
  store: MetadataStore,
  partition: PartitionRecord,
  dropped: readonly number[],
): MetadataWrite[] {
  return dropped.map((spuId) => {
    const deletion: DeletionRecord = { spuId, topic: partition.topic, partition: partition.partition };
    const key = deletionKey(deletion);
    return {
      kind: 'deletions',
      key,
      value: deletion,
      expectedRevision: store.get('deletions', key)?.revision ?? 0,
    };
  });
}

/**
 * Removes deletion records still pending for replicas the record now lists: a replica moved away
 * and back before its SPU deleted it must not be deleted after it is in use again.
 */
export function keepWrites(store: MetadataStore, partition: PartitionRecord): MetadataWrite[] {
  const writes: MetadataWrite[] = [];
  for (const spuId of partition.replicas) {
    const key = deletionKey({ spuId, topic: partition.topic, partition: partition.partition });
    const pending = store.get('deletions', key);
    if (pending !== undefined)
      writes.push({ kind: 'deletions', key, value: null, expectedRevision: pending.revision });
  }
  return writes;
}

function sameSet(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, index) => b[index] === id);
}

function sameRecord(a: PartitionRecord, b: PartitionRecord): boolean {
  return (
    a.leader === b.leader &&
    sameList(a.replicas, b.replicas) &&
    sameList(a.isr, b.isr) &&
    sameList(a.reassignment?.originalReplicas ?? [], b.reassignment?.originalReplicas ?? []) &&
    sameList(a.reassignment?.targetReplicas ?? [], b.reassignment?.targetReplicas ?? [])
  );
}
