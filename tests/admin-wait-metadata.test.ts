/**
 * In a cluster the SC decides topic changes and pushes them to the SPUs; with timeout_ms > 0 a
 * client's CreateTopics, CreatePartitions and DeleteTopics are answered only once the answering
 * SPU's own metadata shows the change (as Kafka answers), so a client that asks for metadata right
 * after the answer finds every partition led. Raw frames on one connection, 3 real SPUs and an SC.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiKeys } from '../src/protocol/messages/api-keys.ts';
import {
  createCreatePartitionsRequest,
  createCreatePartitionsRequestTopic,
} from '../src/protocol/messages/create-partitions.ts';
import {
  createCreateTopicsRequest,
  createCreateTopicsRequestCreatableTopic,
} from '../src/protocol/messages/create-topics.ts';
import { createDeleteTopicsRequest } from '../src/protocol/messages/delete-topics.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import { WireClient } from '../src/testing/wire-client.ts';

const timeoutMs = 20_000; // ms the client lets the SPU wait, as librdkafka's tests do

let cluster: TestCluster;
let client: WireClient;

before(async () => {
  cluster = await startCluster({ spus: 3 });
  const spu = cluster.spus[0]!;
  client = await WireClient.connect({ host: '127.0.0.1', port: spu.port, requestTimeoutMs: 30_000 });
});

after(async () => {
  client?.close();
  await stopAll();
});

/** The partitions of `name` in the answering SPU's metadata: [errorCode, leader ids]. */
async function shown(name: string): Promise<{ errorCode: number; leaders: number[] }> {
  const metadata = await client.metadata([name]);
  const topic = metadata.topics.find((candidate) => candidate.name === name);
  assert.ok(topic !== undefined);
  return { errorCode: topic.errorCode, leaders: topic.partitions.map((partition) => partition.leaderId) };
}

describe('admin answers wait for the answering SPU to know the change', () => {
  it('after CreateTopics, every partition has a leader in the next Metadata', async () => {
    const request = createCreateTopicsRequest({
      timeoutMs,
      validateOnly: false,
      topics: [
        createCreateTopicsRequestCreatableTopic({ name: 'waited', numPartitions: 10, replicationFactor: 3 }),
      ],
    });
    const created = await client.request(apiKeys.CreateTopics, 2, request);
    assert.equal(created.topics[0]?.errorCode, errorCodes.NONE);
    const { errorCode, leaders } = await shown('waited');
    assert.equal(errorCode, errorCodes.NONE);
    assert.equal(leaders.length, 10);
    assert.ok(
      leaders.every((leader) => leader >= 1),
      `leaders ${leaders.join(', ')}`,
    );
  });

  it('after CreatePartitions, the new partitions are there and led', async () => {
    const request = createCreatePartitionsRequest({
      timeoutMs,
      validateOnly: false,
      topics: [createCreatePartitionsRequestTopic({ name: 'waited', count: 16, assignments: null })],
    });
    const grown = await client.request(apiKeys.CreatePartitions, 1, request);
    assert.equal(grown.results[0]?.errorCode, errorCodes.NONE, grown.results[0]?.errorMessage ?? '');
    const { leaders } = await shown('waited');
    assert.equal(leaders.length, 16);
    assert.ok(
      leaders.every((leader) => leader >= 1),
      `leaders ${leaders.join(', ')}`,
    );
  });

  it('after DeleteTopics, the topic is gone from the next Metadata', async () => {
    const request = createDeleteTopicsRequest({ topicNames: ['waited'], timeoutMs });
    const deleted = await client.request(apiKeys.DeleteTopics, 4, request);
    assert.equal(deleted.responses[0]?.errorCode, errorCodes.NONE);
    assert.equal((await shown('waited')).errorCode, errorCodes.UNKNOWN_TOPIC_OR_PARTITION);
  });
});
