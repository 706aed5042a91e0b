import {
  type ApiVersionsRequest,
  type ApiVersionsResponse,
  createApiVersionsResponse,
} from '../../protocol/messages/api-versions.ts';
import type { ApiHandler } from '../handler.ts';
import type { AdvertisedApi } from '../request-router.ts';

/** ApiVersions: the SPU's own version ranges, for the APIs it has handlers for. */
export function apiVersionsHandler(
  advertised: () => readonly AdvertisedApi[],
): ApiHandler<ApiVersionsRequest, ApiVersionsResponse> {
  return async () =>
    createApiVersionsResponse({
      errorCode: 0,
      apiKeys: advertised().map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion })),
      finalizedFeaturesEpoch: -1n,
    });
}
