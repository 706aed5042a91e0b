/**
 * Topic rules a real standalone SPU enforces on the Kafka admin APIs, with raw frames: configs the
 * storage engine would refuse later are refused at the edge, internal topics cannot be deleted,
 * grown or reconfigured by clients, and names whose metric names would collide cannot coexist.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { configOperations, configResourceTypes } from '../src/protocol/enumerations.ts';
import {
  createAlterConfigsRequest,
  createAlterConfigsRequestResource,
} from '../src/protocol/messages/alter-configs.ts';
import { apiKeys } from '../src/protocol/messages/api-keys.ts';
import {
  createCreatePartitionsRequest,
  createCreatePartitionsRequestTopic,
} from '../src/protocol/messages/create-partitions.ts';
import { createDeleteTopicsRequest } from '../src/protocol/messages/delete-topics.ts';
import {
  createDescribeConfigsRequest,
  createDescribeConfigsRequestResource,
} from '../src/protocol/messages/describe-configs.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { createFindCoordinatorRequest } from '../src/protocol/messages/find-coordinator.ts';
import {
  createIncrementalAlterConfigsRequest,
  createIncrementalAlterConfigsRequestAlterableConfig,
  createIncrementalAlterConfigsRequestAlterConfigsResource,
} from '../src/protocol/messages/incremental-alter-configs.ts';
import { stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';
import { WireClient } from '../src/testing/wire-client.ts';

const offsetsTopic = '__consumer_offsets';

let spu: TestSpu;
let client: WireClient;

before(async () => {
  spu = await startSpu({ args: ['--offsets-topic-partitions', '2'] });
});

// A connection per test: an SPU that closes one on a bad request must not fail the tests after it.
beforeEach(async () => {
  client = await WireClient.connect({ host: '127.0.0.1', port: spu.port, requestTimeoutMs: 20_000 });
});

afterEach(() => client.close());

after(stopAll);

function alterConfigs(name: string, configs: Record<string, string>) {
  const resource = createAlterConfigsRequestResource({
    resourceType: configResourceTypes.TOPIC,
    resourceName: name,
    configs: Object.entries(configs).map(([key, value]) => ({ name: key, value })),
  });
  return client.request(apiKeys.AlterConfigs, 2, createAlterConfigsRequest({ resources: [resource] }));
}

function setConfig(name: string, key: string, value: string) {
  const resource = createIncrementalAlterConfigsRequestAlterConfigsResource({
    resourceType: configResourceTypes.TOPIC,
    resourceName: name,
    configs: [
      createIncrementalAlterConfigsRequestAlterableConfig({
        name: key,
        configOperation: configOperations.SET,
        value,
      }),
    ],
  });
  return client.request(
    apiKeys.IncrementalAlterConfigs,
    1,
    createIncrementalAlterConfigsRequest({ resources: [resource] }),
  );
}

async function describedConfig(name: string, key: string): Promise<string | null | undefined> {
  const request = createDescribeConfigsRequest({
    resources: [
      createDescribeConfigsRequestResource({
        resourceType: configResourceTypes.TOPIC,
        resourceName: name,
        configurationKeys: [key],
      }),
    ],
  });
  const answer = await client.request(apiKeys.DescribeConfigs, 4, request);
  return answer.results[0]?.configs.find((config) => config.name === key)?.value;
}

async function partitionCount(name: string): Promise<number | undefined> {
  const metadata = await client.metadata([name]);
  const topic = metadata.topics.find((candidate) => candidate.name === name);
  return topic?.errorCode === errorCodes.NONE ? topic.partitions.length : undefined;
}

/** The coordinator creates the offsets topic on the first FindCoordinator; it answers once it exists. */
async function ensureOffsetsTopic(): Promise<void> {
  const request = createFindCoordinatorRequest({ key: 'rules-group', keyType: 0 });
  for (let attempt = 0; attempt < 200; attempt++) {
    const answer = await client.request(apiKeys.FindCoordinator, 3, request);
    if (answer.errorCode === errorCodes.NONE && (await partitionCount(offsetsTopic)) !== undefined) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`${offsetsTopic} was never created`);
}

describe('topic configs the log would refuse are refused at the edge', () => {
  it('CreateTopics with a cleanup policy named twice gets INVALID_CONFIG and creates nothing', async () => {
    const answer = await client.createTopics([
      { name: 'twice', configs: { 'cleanup.policy': 'delete,delete' } },
    ]);
    assert.equal(answer.topics[0]?.errorCode, errorCodes.INVALID_CONFIG);
    assert.equal(await partitionCount('twice'), undefined);
  });

  it('AlterConfigs and IncrementalAlterConfigs refuse it too and leave the topic as it was', async () => {
    const created = await client.createTopics([{ name: 'policy', configs: { 'cleanup.policy': 'compact' } }]);
    assert.equal(created.topics[0]?.errorCode, errorCodes.NONE);
    const replaced = await alterConfigs('policy', { 'cleanup.policy': 'compact,compact' });
    assert.equal(replaced.responses[0]?.errorCode, errorCodes.INVALID_CONFIG);
    const set = await setConfig('policy', 'cleanup.policy', 'delete, delete');
    assert.equal(set.responses[0]?.errorCode, errorCodes.INVALID_CONFIG);
    assert.equal(await describedConfig('policy', 'cleanup.policy'), 'compact');
    // Both policies, once each, remain acceptable.
    const both = await setConfig('policy', 'cleanup.policy', 'delete,compact');
    assert.equal(both.responses[0]?.errorCode, errorCodes.NONE);
  });
});

describe('internal topics refuse client changes', () => {
  it('DeleteTopics, CreatePartitions and both AlterConfigs get INVALID_REQUEST and change nothing', async () => {
    await ensureOffsetsTopic();
    const before = await partitionCount(offsetsTopic);
    const deleted = await client.request(
      apiKeys.DeleteTopics,
      4,
      createDeleteTopicsRequest({ topicNames: [offsetsTopic] }),
    );
    assert.equal(deleted.responses[0]?.errorCode, errorCodes.INVALID_REQUEST);
    const grown = await client.request(
      apiKeys.CreatePartitions,
      1,
      createCreatePartitionsRequest({
        topics: [createCreatePartitionsRequestTopic({ name: offsetsTopic, count: 10 })],
        timeoutMs: 10_000,
      }),
    );
    assert.equal(grown.results[0]?.errorCode, errorCodes.INVALID_REQUEST);
    const replaced = await alterConfigs(offsetsTopic, { 'cleanup.policy': 'delete' });
    assert.equal(replaced.responses[0]?.errorCode, errorCodes.INVALID_REQUEST);
    const set = await setConfig(offsetsTopic, 'retention.ms', '1');
    assert.equal(set.responses[0]?.errorCode, errorCodes.INVALID_REQUEST);
    assert.equal(await partitionCount(offsetsTopic), before);
    assert.equal(await describedConfig(offsetsTopic, 'retention.ms'), '604800000');
  });
});

describe('topic names', () => {
  it('a name that differs from an existing one only by . and _ gets INVALID_TOPIC_EXCEPTION', async () => {
    const first = await client.createTopics([{ name: 'clash.name' }]);
    assert.equal(first.topics[0]?.errorCode, errorCodes.NONE);
    const second = await client.createTopics([{ name: 'clash_name' }]);
    assert.equal(second.topics[0]?.errorCode, errorCodes.INVALID_TOPIC_EXCEPTION);
    assert.equal(await partitionCount('clash_name'), undefined);
  });

  it('a user topic starting with __ is not reported internal; the offsets topic is', async () => {
    const created = await client.createTopics([{ name: '__mine' }]);
    assert.equal(created.topics[0]?.errorCode, errorCodes.NONE);
    await ensureOffsetsTopic();
    const metadata = await client.metadata(['__mine', offsetsTopic]);
    const internal = Object.fromEntries(metadata.topics.map((topic) => [topic.name, topic.isInternal]));
    assert.deepEqual(internal, { __mine: false, [offsetsTopic]: true });
  });
});

describe('Kafka 3.x topic configs', () => {
  it('are accepted, stored and described, with a note when Tide does not act on them', async () => {
    const created = await client.createTopics([
      {
        name: 'connect-offsets',
        configs: { 'min.cleanable.dirty.ratio': '0.1', 'cleanup.policy': 'compact' },
      },
    ]);
    assert.equal(created.topics[0]?.errorCode, errorCodes.NONE);
    const set = await setConfig('connect-offsets', 'message.format.version', '0.10.0.0');
    assert.equal(set.responses[0]?.errorCode, errorCodes.NONE);
    assert.equal(await describedConfig('connect-offsets', 'message.format.version'), '0.10.0.0');
    assert.equal(await describedConfig('connect-offsets', 'min.cleanable.dirty.ratio'), '0.1');
    const request = createDescribeConfigsRequest({
      resources: [
        createDescribeConfigsRequestResource({
          resourceType: configResourceTypes.TOPIC,
          resourceName: 'connect-offsets',
          configurationKeys: ['message.format.version'],
        }),
      ],
      includeDocumentation: true,
    });
    const described = await client.request(apiKeys.DescribeConfigs, 4, request);
    assert.match(described.results[0]?.configs[0]?.documentation ?? '', /no effect in Tide/);
    // Their values are still checked.
    const bad = await setConfig('connect-offsets', 'min.cleanable.dirty.ratio', '2');
    assert.equal(bad.responses[0]?.errorCode, errorCodes.INVALID_CONFIG);
  });
});
