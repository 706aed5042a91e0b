import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../base/clock.ts';
import { silentLogger } from '../../base/logger.ts';
import { MetricsRegistry } from '../../base/metrics.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import {
  createListOffsetsRequest,
  createListOffsetsRequestPartition,
  createListOffsetsRequestTopic,
} from '../../protocol/messages/list-offsets.ts';
import { createMetadataRequest, createMetadataRequestTopic } from '../../protocol/messages/metadata.ts';
import { makeTempDir } from '../../testing/processes.ts';
import type { BrokerInfo, ClusterView, TopicAdmin } from '../cluster.ts';
import { spuDefaults } from '../config.ts';
import type { RequestContext, SpuServices } from '../handler.ts';
import { PartitionManager } from '../partitions.ts';
import { listOffsetsHandler } from './list-offsets.ts';
import { metadataHandler } from './metadata.ts';

/**
 * An SPU whose metadata lags the SC's (its pushes have not arrived yet) must send clients back to
 * their metadata with retriable errors, never tell them a topic they already use does not exist.
 */

describe('answers of an SPU that has not heard of a topic yet', () => {
  let temp: { path: string; remove: () => Promise<void> };
  let partitions: PartitionManager;
  let brokers: BrokerInfo[] = [];
  /** What the topic owner (the SC) says to a validate-only creation of the asked topic. */
  let ownerAnswer: number = errorCodes.NONE;

  function services(): SpuServices {
    const cluster: ClusterView = {
      clusterId: 'test',
      controllerId: 1,
      brokers: () => brokers,
      topics: () => [],
      topic: () => undefined,
    };
    return {
      config: { ...spuDefaults, dataDir: temp.path, listenPort: 0, httpPort: -1, autoCreateTopics: false },
      logger: silentLogger,
      metrics: new MetricsRegistry(),
      clock: systemClock,
      partitions,
      cluster,
      admin: {
        createTopic: async () => ({ errorCode: ownerAnswer, errorMessage: null }),
      } as unknown as TopicAdmin,
    };
  }

  function context(apiKey: number, apiVersion: number): RequestContext {
    return {
      apiKey,
      apiVersion,
      correlationId: 1,
      clientId: 'test',
      connection: { id: 1, remote: 'test', closed: new AbortController().signal },
    };
  }

  before(async () => {
    temp = await makeTempDir('tide-metadata-lag-');
    partitions = await PartitionManager.open({
      dataDir: temp.path,
      clock: systemClock,
      logger: silentLogger,
    });
  });
  after(async () => {
    await partitions?.close();
    await temp?.remove();
  });

  it('answers ListOffsets for an unknown partition with NOT_LEADER_OR_FOLLOWER', async () => {
    brokers = [{ id: 1, host: '127.0.0.1', port: 9092, rack: null }];
    const request = createListOffsetsRequest({
      replicaId: -1,
      topics: [
        createListOffsetsRequestTopic({
          name: 'new-topic',
          partitions: [createListOffsetsRequestPartition({ partitionIndex: 0, timestamp: -2n })],
        }),
      ],
    });
    const answer = await listOffsetsHandler(request, context(2, 7), services());
    assert.equal(answer?.topics[0]?.partitions[0]?.errorCode, errorCodes.NOT_LEADER_OR_FOLLOWER);
  });

  it('answers Metadata before its first metadata push with LEADER_NOT_AVAILABLE', async () => {
    const request = createMetadataRequest({
      topics: [createMetadataRequestTopic({ name: 'new-topic' })],
      allowAutoTopicCreation: false,
    });
    brokers = [];
    const early = await metadataHandler(request, context(3, 9), services());
    assert.equal(early?.topics[0]?.errorCode, errorCodes.LEADER_NOT_AVAILABLE);
  });

  it('answers Metadata for a topic the SC has but this SPU not yet with LEADER_NOT_AVAILABLE', async () => {
    const request = createMetadataRequest({
      topics: [createMetadataRequestTopic({ name: 'new-topic' })],
      allowAutoTopicCreation: false,
    });
    brokers = [{ id: 1, host: '127.0.0.1', port: 9092, rack: null }];
    ownerAnswer = errorCodes.TOPIC_ALREADY_EXISTS;
    const lagging = await metadataHandler(request, context(3, 9), services());
    assert.equal(lagging?.topics[0]?.errorCode, errorCodes.LEADER_NOT_AVAILABLE);
    ownerAnswer = errorCodes.NONE;
    const missing = await metadataHandler(request, context(3, 9), services());
    assert.equal(missing?.topics[0]?.errorCode, errorCodes.UNKNOWN_TOPIC_OR_PARTITION);
  });
});
