import { configOperations, configResourceTypes } from '../protocol/enumerations.ts';
import {
  type AlterConfigsRequest,
  type AlterConfigsResponse,
  createAlterConfigsResponse,
  createAlterConfigsResponseResourceResponse,
} from '../protocol/messages/alter-configs.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import {
  createIncrementalAlterConfigsResponse,
  createIncrementalAlterConfigsResponseAlterConfigsResourceResponse,
  type IncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsResponse,
} from '../protocol/messages/incremental-alter-configs.ts';
import { topicNameProblem } from '../protocol/topic-names.ts';
import type { AdminResult, ConfigChange, ConfigOperation, TopicChanges } from './topic-admin.ts';

/**
 * The config APIs as Kafka clients send them, answered the same way by the SC and a standalone SPU.
 * Rules the config APIs share: only topic resources can be altered, a resource named twice in one
 * request is refused (INVALID_REQUEST) in every entry, and so is a config named twice.
 */

export interface ConfigResource {
  readonly resourceType: number;
  readonly resourceName: string;
}

export function resourceKey(resource: ConfigResource): string {
  return `${resource.resourceType}\u0000${resource.resourceName}`;
}

/** Keys (type and name) of resources that appear more than once; Kafka refuses all of them. */
export function duplicateResourceKeys(resources: readonly ConfigResource[]): Set<string> {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const resource of resources) {
    const key = resourceKey(resource);
    if (seen.has(key)) duplicates.add(key);
    seen.add(key);
  }
  return duplicates;
}

export const duplicateResourceError: AdminResult & { readonly errorMessage: string } = Object.freeze({
  errorCode: errorCodes.INVALID_REQUEST,
  errorMessage: 'the resource appears more than once in the request',
});

/** Why a config change for this resource cannot be made, before looking at the topic itself. */
export function resourceProblem(
  resourceType: number,
  resourceName: string,
): (AdminResult & { readonly errorMessage: string }) | undefined {
  if (resourceType === configResourceTypes.TOPIC) {
    const problem = topicNameProblem(resourceName);
    return problem === undefined
      ? undefined
      : { errorCode: errorCodes.INVALID_TOPIC_EXCEPTION, errorMessage: problem };
  }
  return {
    errorCode: errorCodes.INVALID_REQUEST,
    errorMessage: `resource type ${resourceType} is not supported here; only topics (${configResourceTypes.TOPIC}) are`,
  };
}

/** Kafka's IncrementalAlterConfigs operation codes, by Tide's operation names. */
export const configOperationCodes: Readonly<Record<ConfigOperation, number>> = Object.freeze({
  set: configOperations.SET,
  delete: configOperations.DELETE,
  append: configOperations.APPEND,
  subtract: configOperations.SUBTRACT,
});

const operationsByCode = new Map<number, ConfigOperation>(
  Object.entries(configOperationCodes).map(([name, code]) => [code, name as ConfigOperation]),
);

/** AlterConfigs: replaces every config set on a topic; entries with a null value are ignored, as in Kafka. */
export async function answerAlterConfigs<Topic>(
  request: AlterConfigsRequest,
  topics: TopicChanges<Topic>,
): Promise<AlterConfigsResponse> {
  const outcomes = await alterResources(request.resources, (resource) =>
    replaceConfigs(topics, resource.resourceName, resource.configs, request.validateOnly),
  );
  return createAlterConfigsResponse({
    responses: outcomes.map((outcome) => createAlterConfigsResponseResourceResponse(outcome)),
  });
}

/** IncrementalAlterConfigs: SET, DELETE, APPEND and SUBTRACT; every operation of a resource applies, or none. */
export async function answerIncrementalAlterConfigs<Topic>(
  request: IncrementalAlterConfigsRequest,
  topics: TopicChanges<Topic>,
): Promise<IncrementalAlterConfigsResponse> {
  const outcomes = await alterResources(request.resources, (resource) =>
    alterConfigs(topics, resource.resourceName, resource.configs, request.validateOnly),
  );
  return createIncrementalAlterConfigsResponse({
    responses: outcomes.map((outcome) =>
      createIncrementalAlterConfigsResponseAlterConfigsResourceResponse(outcome),
    ),
  });
}

/** Runs `alter` on each acceptable resource in order; the others get why they are not. */
async function alterResources<Resource extends ConfigResource>(
  resources: readonly Resource[],
  alter: (resource: Resource) => Promise<AdminResult>,
): Promise<Array<AdminResult & ConfigResource>> {
  const duplicates = duplicateResourceKeys(resources);
  const outcomes = [];
  for (const resource of resources) {
    const { resourceType, resourceName } = resource;
    const outcome = duplicates.has(resourceKey(resource))
      ? duplicateResourceError
      : (resourceProblem(resourceType, resourceName) ?? (await alter(resource)));
    outcomes.push({
      errorCode: outcome.errorCode,
      errorMessage: outcome.errorMessage,
      resourceType,
      resourceName,
    });
  }
  return outcomes;
}

function replaceConfigs<Topic>(
  topics: TopicChanges<Topic>,
  name: string,
  entries: ReadonlyArray<{ name: string; value: string | null }>,
  validateOnly: boolean,
): Promise<AdminResult> {
  const configs: Record<string, string> = {};
  const seen = new Set<string>();
  for (const { name: key, value } of entries) {
    if (seen.has(key)) return Promise.resolve(configTwice(key));
    seen.add(key);
    if (value !== null) configs[key] = value;
  }
  return topics.replaceConfigs(name, configs, { validateOnly });
}

function alterConfigs<Topic>(
  topics: TopicChanges<Topic>,
  name: string,
  entries: ReadonlyArray<{ name: string; configOperation: number; value: string | null }>,
  validateOnly: boolean,
): Promise<AdminResult> {
  const seen = new Set<string>();
  const operations: ConfigChange[] = [];
  for (const { name: key, configOperation, value } of entries) {
    const operation = operationsByCode.get(configOperation);
    if (operation === undefined)
      return Promise.resolve({
        errorCode: errorCodes.INVALID_REQUEST,
        errorMessage: `unknown config operation ${configOperation}`,
      });
    if (seen.has(key)) return Promise.resolve(configTwice(key));
    seen.add(key);
    operations.push({ name: key, operation, value });
  }
  return topics.alterConfigs(name, operations, { validateOnly });
}

function configTwice(name: string): AdminResult {
  return { errorCode: errorCodes.INVALID_REQUEST, errorMessage: `config "${name}" appears twice` };
}
