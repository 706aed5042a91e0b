import { apiKeys } from '../../protocol/messages/api-keys.ts';
import { advertisedApis, type HandlerTable } from '../request-router.ts';
import { adminHandlers } from './admin.ts';
import { apiVersionsHandler } from './api-versions.ts';
import { dataPlaneHandlers } from './data-plane.ts';

/**
 * Every API an SPU answers on its Kafka listener. ApiVersions advertises exactly this table.
 * `overrides` replaces or adds handlers: an SPU in a cluster forwards admin requests to the SC.
 */
export function spuHandlers(overrides: HandlerTable = {}): HandlerTable {
  const table: { -readonly [K in keyof HandlerTable]: HandlerTable[K] } = {
    ...dataPlaneHandlers,
    ...adminHandlers,
    ...overrides,
  };
  table[apiKeys.ApiVersions] = apiVersionsHandler(() => advertisedApis(table));
  return table;
}
