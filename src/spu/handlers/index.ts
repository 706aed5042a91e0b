import { apiKeys } from '../../protocol/messages/api-keys.ts';
import { advertisedApis, type HandlerTable } from '../request-router.ts';
import { adminHandlers } from './admin.ts';
import { apiVersionsHandler } from './api-versions.ts';
import { dataPlaneHandlers } from './data-plane.ts';

/** Every API a standalone SPU answers. ApiVersions advertises exactly this table. */
export function spuHandlers(): HandlerTable {
  const table: { -readonly [K in keyof HandlerTable]: HandlerTable[K] } = {
    ...dataPlaneHandlers,
    ...adminHandlers,
  };
  table[apiKeys.ApiVersions] = apiVersionsHandler(() => advertisedApis(table));
  return table;
}
