import { type ConfigDescription, describeTopicConfigs } from '../../metadata/config-describe.ts';
import {
  createDescribeConfigsResponse,
  createDescribeConfigsResponseResourceResult,
  createDescribeConfigsResponseResult,
  createDescribeConfigsResponseSynonym,
  type DescribeConfigsRequest,
  type DescribeConfigsRequestResource,
  type DescribeConfigsResponse,
  type DescribeConfigsResponseResult,
} from '../../protocol/messages/describe-configs.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import {
  brokerConfigs,
  duplicateResourceError,
  duplicateResourceKeys,
  resourceKey,
  resourceProblem,
  resourceTypes,
} from '../config-resources.ts';
import type { ApiHandler, SpuServices } from '../handler.ts';

interface DescribeOptions {
  readonly includeSynonyms: boolean;
  readonly includeDocumentation: boolean;
}

/**
 * DescribeConfigs: every known config of a topic (or the keys asked for) with its value and source;
 * for this SPU's own broker resource, the few settings it was started with. Other resources get
 * INVALID_REQUEST, a topic that does not exist UNKNOWN_TOPIC_OR_PARTITION.
 */
export const describeConfigsHandler: ApiHandler<DescribeConfigsRequest, DescribeConfigsResponse> = async (
  request,
  context,
  spu,
) => {
  const options: DescribeOptions = {
    includeSynonyms: context.apiVersion >= 1 && request.includeSynonyms,
    includeDocumentation: context.apiVersion >= 3 && request.includeDocumentation,
  };
  const duplicates = duplicateResourceKeys(request.resources);
  const results = request.resources.map((resource) =>
    duplicates.has(resourceKey(resource))
      ? failed(resource, duplicateResourceError)
      : describeResource(resource, options, spu),
  );
  return createDescribeConfigsResponse({ results });
};

function describeResource(
  resource: DescribeConfigsRequestResource,
  options: DescribeOptions,
  spu: SpuServices,
): DescribeConfigsResponseResult {
  let configs: ConfigDescription[];
  if (resource.resourceType === resourceTypes.BROKER) {
    const own = resource.resourceName === '' || resource.resourceName === String(spu.config.id);
    if (!own) {
      return failed(resource, {
        errorCode: errorCodes.INVALID_REQUEST,
        errorMessage: `SPU ${spu.config.id} describes only its own configs, not broker "${resource.resourceName}"`,
      });
    }
    const wanted = resource.configurationKeys;
    configs = brokerConfigs(spu.config).filter(
      (config) => wanted === null || wanted.length === 0 || wanted.includes(config.name),
    );
  } else {
    const problem = resourceProblem(resource.resourceType, resource.resourceName);
    if (problem !== undefined) return failed(resource, problem);
    const topic = spu.cluster.topic(resource.resourceName);
    if (topic === undefined) {
      return failed(resource, {
        errorCode: errorCodes.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: `topic ${resource.resourceName} does not exist`,
      });
    }
    configs = describeTopicConfigs(topic.configs, resource.configurationKeys);
  }
  return createDescribeConfigsResponseResult({
    errorCode: errorCodes.NONE,
    errorMessage: null,
    resourceType: resource.resourceType,
    resourceName: resource.resourceName,
    configs: configs.map((config) => toEntry(config, options)),
  });
}

function toEntry(config: ConfigDescription, options: DescribeOptions) {
  return createDescribeConfigsResponseResourceResult({
    name: config.name,
    value: config.value,
    readOnly: config.readOnly,
    isDefault: config.isDefault,
    configSource: config.source,
    isSensitive: config.isSensitive,
    synonyms: options.includeSynonyms
      ? config.synonyms.map((synonym) => createDescribeConfigsResponseSynonym({ ...synonym }))
      : [],
    configType: config.type,
    documentation: options.includeDocumentation ? config.documentation : null,
  });
}

function failed(
  resource: DescribeConfigsRequestResource,
  error: { errorCode: number; errorMessage: string },
): DescribeConfigsResponseResult {
  return createDescribeConfigsResponseResult({
    errorCode: error.errorCode,
    errorMessage: error.errorMessage,
    resourceType: resource.resourceType,
    resourceName: resource.resourceName,
    configs: [],
  });
}
