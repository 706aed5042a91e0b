import type { PartitionStatus } from '../client/admin-types.ts';

/**
 * The one word every command prints for a partition's state, so that `partition list` and `topic
 * describe` never disagree: `offline` without a leader (or when the controller says its leader is
 * down), `under-replicated` when a replica is offline or out of the ISR, else `online`. Any other
 * word (an error name when the leader could not be asked) is passed through.
 */
export type PartitionState = 'online' | 'offline' | 'under-replicated' | (string & {});

export function partitionState(
  partition: Pick<PartitionStatus, 'leaderId' | 'status' | 'underReplicated'>,
): PartitionState {
  if (partition.leaderId < 0 || partition.status === 'offline' || partition.status === 'no leader') {
    return 'offline';
  }
  if (partition.status === 'online' && partition.underReplicated) return 'under-replicated';
  return partition.status;
}
