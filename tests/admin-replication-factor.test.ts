/**
 * A replication factor above the SPUs online: Kafka clients expect INVALID_REPLICATION_FACTOR at
 * create, so the SC refuses such a topic unless it was started to accept topics that wait for
 * SPUs (`tide sc --accept-unplaced-topics`). 1 real SPU and an SC, raw frames.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { apiKeys } from '../src/protocol/messages/api-keys.ts';
import {
  createCreateTopicsRequest,
  createCreateTopicsRequestCreatableTopic,
} from '../src/protocol/messages/create-topics.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import { WireClient } from '../src/testing/wire-client.ts';

let cluster: TestCluster;
let client: WireClient;

before(async () => {
  cluster = await startCluster({ spus: 1 });
  client = await WireClient.connect({
    host: '127.0.0.1',
    port: cluster.spus[0]!.port,
    requestTimeoutMs: 30_000,
  });
});

after(async () => {
  client?.close();
  await stopAll();
});

it('CreateTopics with more replicas than SPUs online gets INVALID_REPLICATION_FACTOR and creates nothing', async () => {
  const request = createCreateTopicsRequest({
    timeoutMs: 10_000,
    validateOnly: false,
    topics: [
      createCreateTopicsRequestCreatableTopic({
        name: 'three-copies',
        numPartitions: 1,
        replicationFactor: 3,
      }),
    ],
  });
  const answer = await client.request(apiKeys.CreateTopics, 5, request);
  assert.equal(answer.topics[0]?.errorCode, errorCodes.INVALID_REPLICATION_FACTOR);
  const metadata = await client.metadata(['three-copies']);
  assert.equal(metadata.topics[0]?.errorCode, errorCodes.UNKNOWN_TOPIC_OR_PARTITION);
});
