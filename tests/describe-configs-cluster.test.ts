/**
 * DescribeConfigs in a cluster: every SPU answers a topic's configs from the cluster's metadata,
 * also an SPU that holds none of the topic's replicas. 3 real SPUs and an SC, raw frames.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { configResourceTypes } from '../src/protocol/enumerations.ts';
import { apiKeys } from '../src/protocol/messages/api-keys.ts';
import {
  createCreateTopicsRequest,
  createCreateTopicsRequestCreatableTopic,
} from '../src/protocol/messages/create-topics.ts';
import {
  createDescribeConfigsRequest,
  createDescribeConfigsRequestResource,
} from '../src/protocol/messages/describe-configs.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import { WireClient } from '../src/testing/wire-client.ts';

let cluster: TestCluster;
const clients: WireClient[] = [];

before(async () => {
  cluster = await startCluster({ spus: 3 });
  for (const spu of cluster.spus)
    clients.push(await WireClient.connect({ host: '127.0.0.1', port: spu.port, requestTimeoutMs: 30_000 }));
});

after(async () => {
  for (const client of clients) client.close();
  await stopAll();
});

async function retentionAt(client: WireClient, topic: string): Promise<string | null | undefined> {
  const request = createDescribeConfigsRequest({
    resources: [
      createDescribeConfigsRequestResource({
        resourceType: configResourceTypes.TOPIC,
        resourceName: topic,
        configurationKeys: ['retention.ms'],
      }),
    ],
  });
  const answer = await client.request(apiKeys.DescribeConfigs, 4, request);
  assert.equal(answer.results[0]?.errorCode, errorCodes.NONE);
  return answer.results[0]?.configs.find((config) => config.name === 'retention.ms')?.value;
}

it('every SPU describes a one-replica topic with the configs set on it', async () => {
  const request = createCreateTopicsRequest({
    timeoutMs: 20_000,
    validateOnly: false,
    topics: [
      createCreateTopicsRequestCreatableTopic({
        name: 'one-copy',
        numPartitions: 1,
        replicationFactor: 1,
        configs: [{ name: 'retention.ms', value: '60000' }],
      }),
    ],
  });
  const created = await clients[0]!.request(apiKeys.CreateTopics, 5, request);
  assert.equal(created.topics[0]?.errorCode, errorCodes.NONE);
  // Every SPU's metadata shows the topic before it is asked (the creation answer waited for SPU 1 only).
  for (const client of clients) {
    for (let attempt = 0; ; attempt++) {
      const metadata = await client.metadata(['one-copy']);
      if (
        metadata.topics[0]?.partitions[0]?.leaderId !== undefined &&
        metadata.topics[0].partitions[0].leaderId >= 0
      )
        break;
      assert.ok(attempt < 400, 'the topic never showed on every SPU');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  const answers = [];
  for (const client of clients) answers.push(await retentionAt(client, 'one-copy'));
  assert.deepEqual(answers, ['60000', '60000', '60000']);
});
