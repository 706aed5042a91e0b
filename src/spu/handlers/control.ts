import { apiKeys } from '../../protocol/messages/api-keys.ts';
import { createUpdateMetadataResponse } from '../../protocol/messages/update-metadata.ts';
import type { ClusterMember } from '../cluster-member.ts';
import { advertisedApis, type HandlerTable } from '../request-router.ts';
import { apiVersionsHandler } from './api-versions.ts';

/**
 * The APIs of the internal listener, where the SC pushes its decisions (docs/CONTROL-PLANE.md):
 * topic configs (AlterConfigs), metadata, partition roles and replica removal. Clients never reach
 * these: the Kafka listener has its own table.
 */
export function controlHandlers(member: ClusterMember): HandlerTable {
  const table: { -readonly [K in keyof HandlerTable]: HandlerTable[K] } = {
    [apiKeys.AlterConfigs]: async (request) => member.applyTopicConfigs(request),
    [apiKeys.UpdateMetadata]: async (request) =>
      createUpdateMetadataResponse({ errorCode: member.applyMetadata(request) }),
    [apiKeys.LeaderAndIsr]: (request) => member.leaderAndIsr(request),
    [apiKeys.StopReplica]: (request) => member.stopReplicas(request),
  };
  table[apiKeys.ApiVersions] = apiVersionsHandler(() => advertisedApis(table));
  return table;
}
