/**
 * The topic rules of admin-topic-rules.test.ts, through an SPU in a cluster: the SPU forwards to
 * the SC, whose topic frontend is the same code, so the answers are the same. 1 real SPU and an SC.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { apiKeys } from '../src/protocol/messages/api-keys.ts';
import { createDeleteTopicsRequest } from '../src/protocol/messages/delete-topics.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { createFindCoordinatorRequest } from '../src/protocol/messages/find-coordinator.ts';
import { startCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import { WireClient } from '../src/testing/wire-client.ts';

let client: WireClient;

before(async () => {
  const cluster = await startCluster({ spus: 1 });
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

it('the SC refuses a repeated cleanup policy and a colliding name like a standalone SPU', async () => {
  const twice = await client.createTopics([
    { name: 'twice', configs: { 'cleanup.policy': 'delete,delete' } },
  ]);
  assert.equal(twice.topics[0]?.errorCode, errorCodes.INVALID_CONFIG);
  assert.equal((await client.createTopics([{ name: 'clash.name' }])).topics[0]?.errorCode, errorCodes.NONE);
  const clash = await client.createTopics([{ name: 'clash_name' }]);
  assert.equal(clash.topics[0]?.errorCode, errorCodes.INVALID_TOPIC_EXCEPTION);
});

it('the SC refuses to delete the offsets topic, which alone is reported internal', async () => {
  assert.equal((await client.createTopics([{ name: '__mine' }])).topics[0]?.errorCode, errorCodes.NONE);
  const find = createFindCoordinatorRequest({ key: 'rules-group', keyType: 0 });
  for (let attempt = 0; ; attempt++) {
    const answer = await client.request(apiKeys.FindCoordinator, 3, find);
    if (answer.errorCode === errorCodes.NONE) break;
    assert.ok(attempt < 400, 'the offsets topic was never created');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const deleted = await client.request(
    apiKeys.DeleteTopics,
    4,
    createDeleteTopicsRequest({ topicNames: ['__consumer_offsets'], timeoutMs: 10_000 }),
  );
  assert.equal(deleted.responses[0]?.errorCode, errorCodes.INVALID_REQUEST);
  const metadata = await client.metadata(['__mine', '__consumer_offsets']);
  const internal = Object.fromEntries(metadata.topics.map((topic) => [topic.name, topic.isInternal]));
  assert.deepEqual(internal, { __mine: false, __consumer_offsets: true });
});
