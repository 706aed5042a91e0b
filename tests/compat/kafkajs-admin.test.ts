import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import kafkajs, { type Admin } from 'kafkajs';
import { stopAll } from '../../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../../src/testing/spu.ts';

/**
 * kafkajs 2.2.4's admin client against a real standalone SPU: topics, partitions, configs and the
 * cluster description, and bad input that must fail with the right Kafka error and change nothing.
 */

// kafkajs is CommonJS: its enums are only reachable through the default export.
const { ConfigResourceTypes, ConfigSource, Kafka, logLevel } = kafkajs;

let spu: TestSpu;
let admin: Admin;

before(async () => {
  spu = await startSpu();
  const kafka = new Kafka({
    clientId: 'tide-compat',
    brokers: [spu.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 50 },
  });
  admin = kafka.admin();
  await admin.connect();
});

after(async () => {
  await admin?.disconnect();
  await spu?.destroy();
  await stopAll();
});

/** Topic names in the SPU's persisted topic list. */
async function storedTopics(): Promise<string[]> {
  try {
    const file = JSON.parse(await readFile(join(spu.dataDir, 'topics.json'), 'utf8')) as {
      topics: Array<{ name: string }>;
    };
    return file.topics.map((topic) => topic.name).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

async function describeTopicConfigs(topic: string, configNames?: string[]) {
  const answer = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [
      { type: ConfigResourceTypes.TOPIC, name: topic, ...(configNames === undefined ? {} : { configNames }) },
    ],
  });
  const resource = answer.resources[0]!;
  assert.equal(resource.errorCode, 0);
  return new Map(resource.configEntries.map((entry) => [entry.configName, entry]));
}

/** Runs `action`, which must fail, and returns the Kafka error type(s) it reported. */
async function errorTypes(action: () => Promise<unknown>): Promise<string[]> {
  try {
    await action();
  } catch (error) {
    // Errors kafkajs retried arrive wrapped in KafkaJSNumberOfRetriesExceeded, the original as cause.
    const unwrapped = error instanceof kafkajs.KafkaJSNumberOfRetriesExceeded ? error.cause : error;
    const nested = (unwrapped as { errors?: Array<{ type?: string }> }).errors;
    if (Array.isArray(nested)) return nested.map((item) => String(item.type));
    return [String((unwrapped as { type?: string }).type)];
  }
  assert.fail('expected the admin call to fail');
}

describe('kafkajs admin', () => {
  test('createTopics with configs, then listTopics and fetchTopicMetadata', async () => {
    const created = await admin.createTopics({
      topics: [
        {
          topic: 'orders',
          numPartitions: 3,
          configEntries: [
            { name: 'retention.ms', value: '3600000' },
            { name: 'cleanup.policy', value: 'compact' },
          ],
        },
      ],
    });
    assert.equal(created, true);
    assert.ok((await admin.listTopics()).includes('orders'));
    const { topics } = await admin.fetchTopicMetadata({ topics: ['orders'] });
    assert.equal(topics.length, 1);
    const partitions = [...topics[0]!.partitions].sort((a, b) => a.partitionId - b.partitionId);
    assert.deepEqual(
      partitions.map((p) => [p.partitionId, p.leader, p.replicas, p.isr]),
      [0, 1, 2].map((id) => [id, 1, [1], [1]]),
    );
    // Creating it again is not an error for kafkajs: it answers false.
    assert.equal(await admin.createTopics({ topics: [{ topic: 'orders' }] }), false);
    assert.ok((await storedTopics()).includes('orders'));
  });

  test('validateOnly creates nothing', async () => {
    const before = await storedTopics();
    // kafkajs would wait for the (never created) topic's leaders, as it would with Kafka.
    await admin.createTopics({
      validateOnly: true,
      waitForLeaders: false,
      topics: [{ topic: 'dry-run', numPartitions: 2 }],
    });
    assert.ok(!(await admin.listTopics()).includes('dry-run'));
    assert.deepEqual(await storedTopics(), before);
  });

  test('describeConfigs reports values, sources and defaults', async () => {
    const configs = await describeTopicConfigs('orders');
    assert.equal(configs.get('retention.ms')?.configValue, '3600000');
    assert.equal(configs.get('retention.ms')?.configSource, ConfigSource.TOPIC_CONFIG);
    assert.equal(configs.get('retention.ms')?.isDefault, false);
    assert.equal(configs.get('cleanup.policy')?.configValue, 'compact');
    assert.equal(configs.get('segment.bytes')?.configValue, '1073741824');
    assert.equal(configs.get('segment.bytes')?.configSource, ConfigSource.DEFAULT_CONFIG);
    assert.equal(configs.get('segment.bytes')?.readOnly, false);
    const only = await describeTopicConfigs('orders', ['retention.ms', 'max.message.bytes']);
    assert.deepEqual([...only.keys()].sort(), ['max.message.bytes', 'retention.ms']);
  });

  test('describeConfigs of a topic that does not exist fails', async () => {
    const types = await errorTypes(() =>
      admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: 'no-such-topic' }],
      }),
    );
    assert.deepEqual(types, ['UNKNOWN_TOPIC_OR_PARTITION']);
  });

  test('alterConfigs replaces the topic configs', async () => {
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: 'orders',
          configEntries: [{ name: 'max.message.bytes', value: '200000' }],
        },
      ],
    });
    const configs = await describeTopicConfigs('orders');
    assert.equal(configs.get('max.message.bytes')?.configValue, '200000');
    // AlterConfigs replaces: the configs not named return to their defaults.
    assert.equal(configs.get('retention.ms')?.configValue, '604800000');
    assert.equal(configs.get('retention.ms')?.configSource, ConfigSource.DEFAULT_CONFIG);
    assert.equal(configs.get('cleanup.policy')?.configValue, 'delete');
  });

  test('alterConfigs with a bad value fails with INVALID_CONFIG and changes nothing', async () => {
    const types = await errorTypes(() =>
      admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: 'orders',
            configEntries: [{ name: 'retention.ms', value: 'soon' }],
          },
        ],
      }),
    );
    assert.deepEqual(types, ['INVALID_CONFIG']);
    const configs = await describeTopicConfigs('orders');
    assert.equal(configs.get('max.message.bytes')?.configValue, '200000');
    assert.equal(configs.get('retention.ms')?.configValue, '604800000');
  });

  test('createPartitions grows the topic; bad counts and assignments are refused', async () => {
    await admin.createPartitions({ validateOnly: true, topicPartitions: [{ topic: 'orders', count: 9 }] });
    await admin.createPartitions({ topicPartitions: [{ topic: 'orders', count: 5 }] });
    const { topics } = await admin.fetchTopicMetadata({ topics: ['orders'] });
    assert.equal(topics[0]!.partitions.length, 5);
    assert.deepEqual(
      await errorTypes(() => admin.createPartitions({ topicPartitions: [{ topic: 'orders', count: 4 }] })),
      ['INVALID_PARTITIONS'],
    );
    assert.deepEqual(
      await errorTypes(() =>
        admin.createPartitions({ topicPartitions: [{ topic: 'orders', count: 6, assignments: [[7]] }] }),
      ),
      ['INVALID_REPLICA_ASSIGNMENT'],
    );
    const again = await admin.fetchTopicMetadata({ topics: ['orders'] });
    assert.equal(again.topics[0]!.partitions.length, 5);
  });

  test('describeCluster lists this SPU as broker and controller', async () => {
    const cluster = await admin.describeCluster();
    assert.equal(cluster.clusterId, 'tide-local');
    assert.equal(cluster.controller, 1);
    assert.deepEqual(cluster.brokers, [{ nodeId: 1, host: '127.0.0.1', port: spu.port }]);
  });

  test('deleteTopics removes the topic', async () => {
    await admin.createTopics({ topics: [{ topic: 'short-lived' }] });
    assert.ok((await storedTopics()).includes('short-lived'));
    await admin.deleteTopics({ topics: ['short-lived'] });
    assert.ok(!(await admin.listTopics()).includes('short-lived'));
    assert.ok(!(await storedTopics()).includes('short-lived'));
  });
});

describe('kafkajs admin with bad input', () => {
  const cases: Array<{
    title: string;
    topic: Parameters<Admin['createTopics']>[0]['topics'][number];
    error: string;
  }> = [
    { title: 'a name with a space', topic: { topic: 'bad name' }, error: 'INVALID_TOPIC_EXCEPTION' },
    { title: 'the name ".."', topic: { topic: '..' }, error: 'INVALID_TOPIC_EXCEPTION' },
    { title: 'a 250-character name', topic: { topic: 'x'.repeat(250) }, error: 'INVALID_TOPIC_EXCEPTION' },
    {
      title: 'replication factor 0',
      topic: { topic: 'rf-zero', replicationFactor: 0 },
      error: 'INVALID_REPLICATION_FACTOR',
    },
    {
      title: 'replication factor above the SPU count',
      topic: { topic: 'rf-three', replicationFactor: 3 },
      error: 'INVALID_REPLICATION_FACTOR',
    },
    {
      title: 'negative partitions',
      topic: { topic: 'negative', numPartitions: -5 },
      error: 'INVALID_PARTITIONS',
    },
    { title: 'zero partitions', topic: { topic: 'zero', numPartitions: 0 }, error: 'INVALID_PARTITIONS' },
    {
      title: 'an unknown config',
      topic: { topic: 'unknown-config', configEntries: [{ name: 'retention.forever', value: 'yes' }] },
      error: 'INVALID_CONFIG',
    },
    {
      title: 'a config value out of range',
      topic: { topic: 'bad-value', configEntries: [{ name: 'segment.bytes', value: '10' }] },
      error: 'INVALID_CONFIG',
    },
    {
      title: 'an assignment to an unknown SPU',
      topic: { topic: 'unknown-spu', replicaAssignment: [{ partition: 0, replicas: [2] }] },
      error: 'INVALID_REPLICA_ASSIGNMENT',
    },
    {
      title: 'an assignment with a gap',
      topic: { topic: 'gap', replicaAssignment: [{ partition: 1, replicas: [1] }] },
      error: 'INVALID_REPLICA_ASSIGNMENT',
    },
  ];

  for (const { title, topic, error } of cases) {
    test(`createTopics refuses ${title}`, async () => {
      const listed = await admin.listTopics();
      const stored = await storedTopics();
      assert.deepEqual(await errorTypes(() => admin.createTopics({ topics: [topic] })), [error]);
      assert.deepEqual((await admin.listTopics()).sort(), listed.sort());
      assert.deepEqual(await storedTopics(), stored);
    });
  }

  test('one bad topic does not stop the good one in the same request', async () => {
    const types = await errorTypes(() =>
      admin.createTopics({ topics: [{ topic: 'good-one' }, { topic: 'bad one' }] }),
    );
    assert.deepEqual(types, ['INVALID_TOPIC_EXCEPTION']);
    assert.ok((await storedTopics()).includes('good-one'));
    assert.ok(!(await storedTopics()).includes('bad one'));
  });

  test('deleting a topic that does not exist fails with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const types = await errorTypes(() => admin.deleteTopics({ topics: ['never-created'] }));
    assert.deepEqual(types, ['UNKNOWN_TOPIC_OR_PARTITION']);
  });
});

describe('kafkajs metadata with --auto-create-topics', () => {
  test('an SPU started with --auto-create-topics creates topics when the request allows it', async () => {
    const autoSpu = await startSpu({ args: ['--auto-create-topics'] });
    const kafka = new Kafka({
      brokers: [autoSpu.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 2 },
    });
    const autoAdmin = kafka.admin();
    const producer = kafka.producer();
    try {
      await autoAdmin.connect();
      // kafkajs's admin asks for metadata with allowAutoTopicCreation = false: nothing is created.
      assert.deepEqual(await errorTypes(() => autoAdmin.fetchTopicMetadata({ topics: ['admin-asked'] })), [
        'UNKNOWN_TOPIC_OR_PARTITION',
      ]);
      // Its producer allows it (the default): the topic appears and takes the record.
      await producer.connect();
      const [sent] = await producer.send({ topic: 'on-demand', messages: [{ value: 'first' }] });
      assert.deepEqual([sent?.topicName, sent?.partition, sent?.errorCode], ['on-demand', 0, 0]);
      const topics = await autoAdmin.listTopics();
      assert.ok(topics.includes('on-demand'));
      assert.ok(!topics.includes('admin-asked'));
    } finally {
      await producer.disconnect();
      await autoAdmin.disconnect();
      await autoSpu.destroy();
    }
  });
});
