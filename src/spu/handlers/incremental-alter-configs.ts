import { errorCodes } from '../../protocol/messages/error-codes.ts';
import {
  createIncrementalAlterConfigsResponse,
  createIncrementalAlterConfigsResponseAlterConfigsResourceResponse,
  type IncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsRequestAlterConfigsResource,
  type IncrementalAlterConfigsResponse,
} from '../../protocol/messages/incremental-alter-configs.ts';
import type { AdminResult, ConfigOperation } from '../cluster.ts';
import {
  duplicateResourceError,
  duplicateResourceKeys,
  resourceKey,
  resourceProblem,
} from '../config-resources.ts';
import type { ApiHandler, SpuServices } from '../handler.ts';

/** Kafka's AlterConfigOp codes. */
const operationsByCode: Readonly<Record<number, ConfigOperation | undefined>> = Object.freeze({
  0: 'set',
  1: 'delete',
  2: 'append',
  3: 'subtract',
});

/**
 * IncrementalAlterConfigs: SET, DELETE, APPEND and SUBTRACT on single topic configs; every operation
 * of a resource applies, or none does. Only topics can be altered.
 */
export const incrementalAlterConfigsHandler: ApiHandler<
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse
> = async (request, _context, spu) => {
  const duplicates = duplicateResourceKeys(request.resources);
  const responses = [];
  for (const resource of request.resources) {
    const outcome = duplicates.has(resourceKey(resource))
      ? duplicateResourceError
      : await alterResource(resource, request.validateOnly, spu);
    responses.push(
      createIncrementalAlterConfigsResponseAlterConfigsResourceResponse({
        errorCode: outcome.errorCode,
        errorMessage: outcome.errorMessage,
        resourceType: resource.resourceType,
        resourceName: resource.resourceName,
      }),
    );
  }
  return createIncrementalAlterConfigsResponse({ responses });
};

async function alterResource(
  resource: IncrementalAlterConfigsRequestAlterConfigsResource,
  validateOnly: boolean,
  spu: SpuServices,
): Promise<AdminResult> {
  const problem = resourceProblem(resource.resourceType, resource.resourceName);
  if (problem !== undefined) return problem;
  const seen = new Set<string>();
  const operations = [];
  for (const { name, configOperation, value } of resource.configs) {
    const operation = operationsByCode[configOperation];
    if (operation === undefined) {
      return {
        errorCode: errorCodes.INVALID_REQUEST,
        errorMessage: `unknown config operation ${configOperation}`,
      };
    }
    if (seen.has(name)) {
      return { errorCode: errorCodes.INVALID_REQUEST, errorMessage: `config "${name}" appears twice` };
    }
    seen.add(name);
    operations.push({ name, operation, value });
  }
  return spu.admin.alterConfigs(resource.resourceName, operations, { validateOnly });
}
