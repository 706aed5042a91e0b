import {
  type AlterConfigsRequest,
  type AlterConfigsRequestResource,
  type AlterConfigsResponse,
  createAlterConfigsResponse,
  createAlterConfigsResponseResourceResponse,
} from '../../protocol/messages/alter-configs.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import type { AdminResult } from '../cluster.ts';
import {
  duplicateResourceError,
  duplicateResourceKeys,
  resourceKey,
  resourceProblem,
} from '../config-resources.ts';
import type { ApiHandler, SpuServices } from '../handler.ts';

/**
 * AlterConfigs: replaces every config set on a topic with the request's (keys left out return to
 * their defaults). Entries with a null value are ignored, as in Kafka. Only topics can be altered.
 */
export const alterConfigsHandler: ApiHandler<AlterConfigsRequest, AlterConfigsResponse> = async (
  request,
  _context,
  spu,
) => {
  const duplicates = duplicateResourceKeys(request.resources);
  const responses = [];
  for (const resource of request.resources) {
    const outcome = duplicates.has(resourceKey(resource))
      ? duplicateResourceError
      : await alterResource(resource, request.validateOnly, spu);
    responses.push(
      createAlterConfigsResponseResourceResponse({
        errorCode: outcome.errorCode,
        errorMessage: outcome.errorMessage,
        resourceType: resource.resourceType,
        resourceName: resource.resourceName,
      }),
    );
  }
  return createAlterConfigsResponse({ responses });
};

async function alterResource(
  resource: AlterConfigsRequestResource,
  validateOnly: boolean,
  spu: SpuServices,
): Promise<AdminResult> {
  const problem = resourceProblem(resource.resourceType, resource.resourceName);
  if (problem !== undefined) return problem;
  const configs: Record<string, string> = {};
  for (const { name, value } of resource.configs) {
    if (Object.hasOwn(configs, name)) {
      return { errorCode: errorCodes.INVALID_REQUEST, errorMessage: `config "${name}" appears twice` };
    }
    if (value !== null) configs[name] = value;
  }
  return spu.admin.replaceConfigs(resource.resourceName, configs, { validateOnly });
}
