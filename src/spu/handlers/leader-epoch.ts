import { errorCodes } from '../../protocol/messages/error-codes.ts';

/**
 * The client's view of the leader epoch (currentLeaderEpoch in Fetch v9+, ListOffsets v4+) against
 * the partition's: -1 means the client does not say. An older epoch means the client's metadata is
 * stale (FENCED_LEADER_EPOCH); a newer one means this SPU has not caught up (UNKNOWN_LEADER_EPOCH).
 * Both make the client refresh its metadata and retry.
 */
export function leaderEpochProblem(clientEpoch: number, leaderEpoch: number): number | undefined {
  if (clientEpoch < 0 || clientEpoch === leaderEpoch) return undefined;
  return clientEpoch < leaderEpoch ? errorCodes.FENCED_LEADER_EPOCH : errorCodes.UNKNOWN_LEADER_EPOCH;
}
