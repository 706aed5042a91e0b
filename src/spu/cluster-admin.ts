import type { Logger } from '../base/logger.ts';
import { configOperationCodes } from '../metadata/config-requests.ts';
import {
  createAlterConfigsRequest,
  createAlterConfigsRequestResource,
} from '../protocol/messages/alter-configs.ts';
import { apiKeys } from '../protocol/messages/api-keys.ts';
import {
  createCreatePartitionsRequest,
  createCreatePartitionsRequestAssignment,
  createCreatePartitionsRequestTopic,
} from '../protocol/messages/create-partitions.ts';
import {
  createCreateTopicsRequest,
  createCreateTopicsRequestCreatableReplicaAssignment,
  createCreateTopicsRequestCreatableTopic,
} from '../protocol/messages/create-topics.ts';
import { createDeleteTopicsRequest } from '../protocol/messages/delete-topics.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import {
  createIncrementalAlterConfigsRequest,
  createIncrementalAlterConfigsRequestAlterableConfig,
  createIncrementalAlterConfigsRequestAlterConfigsResource,
} from '../protocol/messages/incremental-alter-configs.ts';
import type { AdminResult, ConfigOperation, CreateTopicSpec, TopicAdmin, TopicInfo } from './cluster.ts';
import type { ClusterState } from './cluster-state.ts';
import { resourceTypes } from './config-resources.ts';
import type { ForwardingLink } from './handlers/forward.ts';

/** Highest versions the SPU asks the SC for when it builds an admin request itself. */
const createTopicsVersion = 7;
const deleteTopicsVersion = 5;
const createPartitionsVersion = 3;
const alterConfigsVersion = 2;
const incrementalAlterConfigsVersion = 1;
const adminTimeoutMs = 30_000; // ms the SC may take for one change

/**
 * Topic changes of an SPU in a cluster: each becomes an admin request to the SC, which decides.
 * Clients' own admin requests are forwarded as they are (handlers/forward.ts); this serves the SPU's
 * internal callers, such as topic auto-creation from Metadata. A created topic exists for this SPU
 * only once the SC has pushed its metadata, so `createTopic` may succeed without a topic to show.
 */
export class ClusterAdmin implements TopicAdmin {
  readonly #link: ForwardingLink;
  readonly #state: ClusterState;
  readonly #logger: Logger;

  constructor(options: { link: ForwardingLink; state: ClusterState; logger: Logger }) {
    this.#link = options.link;
    this.#state = options.state;
    this.#logger = options.logger;
  }

  async createTopic(
    spec: CreateTopicSpec,
    options: { validateOnly: boolean },
  ): Promise<AdminResult & { topic?: TopicInfo }> {
    const request = createCreateTopicsRequest({
      timeoutMs: adminTimeoutMs,
      validateOnly: options.validateOnly,
      topics: [
        createCreateTopicsRequestCreatableTopic({
          name: spec.name,
          numPartitions: spec.partitions,
          replicationFactor: spec.replicationFactor,
          assignments: [...spec.assignments].map(([partitionIndex, brokerIds]) =>
            createCreateTopicsRequestCreatableReplicaAssignment({
              partitionIndex,
              brokerIds: [...brokerIds],
            }),
          ),
          configs: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
        }),
      ],
    });
    const result = await this.#ask(async () => {
      const version = this.#link.forwardVersion(apiKeys.CreateTopics, createTopicsVersion);
      return (await this.#link.request(apiKeys.CreateTopics, version, request)).topics[0];
    });
    const topic = this.#state.topic(spec.name);
    return result.errorCode === errorCodes.NONE && topic !== undefined ? { ...result, topic } : result;
  }

  deleteTopic(name: string): Promise<AdminResult> {
    return this.#ask(async () => {
      const version = this.#link.forwardVersion(apiKeys.DeleteTopics, deleteTopicsVersion);
      const request = createDeleteTopicsRequest({ topicNames: [name], timeoutMs: adminTimeoutMs });
      return (await this.#link.request(apiKeys.DeleteTopics, version, request)).responses[0];
    });
  }

  createPartitions(
    name: string,
    count: number,
    options: { validateOnly: boolean; assignments?: ReadonlyArray<readonly number[]> },
  ): Promise<AdminResult> {
    const assignments =
      options.assignments?.map((brokerIds) =>
        createCreatePartitionsRequestAssignment({ brokerIds: [...brokerIds] }),
      ) ?? null;
    const request = createCreatePartitionsRequest({
      timeoutMs: adminTimeoutMs,
      validateOnly: options.validateOnly,
      topics: [createCreatePartitionsRequestTopic({ name, count, assignments })],
    });
    return this.#ask(async () => {
      const version = this.#link.forwardVersion(apiKeys.CreatePartitions, createPartitionsVersion);
      return (await this.#link.request(apiKeys.CreatePartitions, version, request)).results[0];
    });
  }

  replaceConfigs(
    name: string,
    configs: Readonly<Record<string, string>>,
    options: { validateOnly: boolean },
  ): Promise<AdminResult> {
    const request = createAlterConfigsRequest({
      validateOnly: options.validateOnly,
      resources: [
        createAlterConfigsRequestResource({
          resourceType: resourceTypes.TOPIC,
          resourceName: name,
          configs: Object.entries(configs).map(([key, value]) => ({ name: key, value })),
        }),
      ],
    });
    return this.#ask(async () => {
      const version = this.#link.forwardVersion(apiKeys.AlterConfigs, alterConfigsVersion);
      return (await this.#link.request(apiKeys.AlterConfigs, version, request)).responses[0];
    });
  }

  alterConfigs(
    name: string,
    operations: ReadonlyArray<{ name: string; operation: ConfigOperation; value: string | null }>,
    options: { validateOnly: boolean },
  ): Promise<AdminResult> {
    const request = createIncrementalAlterConfigsRequest({
      validateOnly: options.validateOnly,
      resources: [
        createIncrementalAlterConfigsRequestAlterConfigsResource({
          resourceType: resourceTypes.TOPIC,
          resourceName: name,
          configs: operations.map(({ name: key, operation, value }) =>
            createIncrementalAlterConfigsRequestAlterableConfig({
              name: key,
              configOperation: configOperationCodes[operation],
              value,
            }),
          ),
        }),
      ],
    });
    return this.#ask(async () => {
      const version = this.#link.forwardVersion(
        apiKeys.IncrementalAlterConfigs,
        incrementalAlterConfigsVersion,
      );
      return (await this.#link.request(apiKeys.IncrementalAlterConfigs, version, request)).responses[0];
    });
  }

  /** Runs one request to the SC; no answer (or an empty one) is NOT_CONTROLLER, which callers retry. */
  async #ask(
    send: () => Promise<{ errorCode: number; errorMessage?: string | null } | undefined>,
  ): Promise<AdminResult> {
    try {
      const result = await send();
      if (result !== undefined)
        return { errorCode: result.errorCode, errorMessage: result.errorMessage ?? null };
    } catch (error) {
      this.#logger.warn('admin request to the SC failed', { error });
    }
    return { errorCode: errorCodes.NOT_CONTROLLER, errorMessage: 'the SC is not reachable; retry later' };
  }
}
