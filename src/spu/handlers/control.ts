import { apiKeys } from '../../protocol/messages/api-keys.ts';
import { createUpdateMetadataResponse } from '../../protocol/messages/update-metadata.ts';
import type { ClusterMember } from '../cluster-member.ts';
import { advertisedApis, type HandlerTable } from '../request-router.ts';
import { apiVersionsHandler } from './api-versions.ts';
import { replicaFetchHandler } from './fetch.ts';
import { listOffsetsHandler } from './list-offsets.ts';
import { offsetForLeaderEpochHandler } from './offset-for-leader-epoch.ts';

/**
 * The APIs of the internal listener, the cluster's own channel (docs/CONTROL-PLANE.md): the SC pushes
 * its decisions there (topic configs as AlterConfigs, metadata, partition roles, replica removal), and
 * followers replicate there (Fetch with their replica id, ListOffsets and OffsetForLeaderEpoch for
 * their log ends). Clients never reach these: the Kafka listener has its own table, whose Fetch
 * serves consumers only, so no client can pose as a follower and move a high watermark.
 */
export function controlHandlers(member: ClusterMember): HandlerTable {
  const table: { -readonly [K in keyof HandlerTable]: HandlerTable[K] } = {
    [apiKeys.AlterConfigs]: async (request, context) => member.applyTopicConfigs(request, context.connection),
    [apiKeys.UpdateMetadata]: async (request, context) =>
      createUpdateMetadataResponse({ errorCode: await member.applyMetadata(request, context.connection) }),
    [apiKeys.LeaderAndIsr]: (request) => member.leaderAndIsr(request),
    [apiKeys.StopReplica]: (request) => member.stopReplicas(request),
    [apiKeys.Fetch]: replicaFetchHandler,
    [apiKeys.ListOffsets]: listOffsetsHandler,
    [apiKeys.OffsetForLeaderEpoch]: offsetForLeaderEpochHandler,
  };
  table[apiKeys.ApiVersions] = apiVersionsHandler(() => advertisedApis(table));
  return table;
}
