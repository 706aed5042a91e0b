import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { CompressionTypes, Kafka, logLevel, type Message, type Producer } from 'kafkajs';
import { stopAll } from '../../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../../src/testing/spu.ts';

/**
 * kafkajs 2.2.4 against a real standalone SPU: producer send and sendBatch (acks 1 and -1, gzip and
 * none), read back with kafkajs's own Fetch (its internal cluster and broker modules: kafkajs offers
 * no consumer without a group), and the admin offset look-ups (ListOffsets).
 */

interface FetchedMessage {
  readonly offset: string;
  readonly timestamp: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, Buffer>>;
}

interface InternalBroker {
  fetch(request: {
    replicaId: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{
    responses: { partitions: { errorCode: number; highWatermark: string; messages: FetchedMessage[] }[] }[];
  }>;
}

interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(options: { nodeId: string }): Promise<InternalBroker>;
}

type ClusterConstructor = new (options: Record<string, unknown>) => InternalCluster;

const require = createRequire(import.meta.url);
const Cluster = require('kafkajs/src/cluster/index.js') as ClusterConstructor;
const { createLogger } = require('kafkajs/src/loggers/index.js') as {
  createLogger: (options: { level: number; logCreator: () => () => void }) => unknown;
};
const socketFactory = require('kafkajs/src/network/socketFactory.js') as () => unknown;

const baseTimestampMs = 1_700_000_000_000;

function messages(prefix: string, count: number, firstIndex: number): Message[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `${prefix}-key-${i}`,
    value: `${prefix}-value-${i}`,
    headers: { source: `${prefix}-${i}` },
    // Ten milliseconds apart, rising across every send of the test.
    timestamp: String(baseTimestampMs + (firstIndex + i) * 10),
  }));
}

describe('kafkajs producer, fetch and offsets against a standalone SPU', () => {
  let spu: TestSpu;
  let kafka: Kafka;
  let producer: Producer;
  let cluster: InternalCluster;

  before(async () => {
    spu = await startSpu();
    kafka = new Kafka({
      brokers: [spu.bootstrap],
      clientId: 'tide-kafkajs-data',
      logLevel: logLevel.NOTHING,
    });
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    cluster = new Cluster({
      logger: createLogger({ level: logLevel.NOTHING, logCreator: () => () => {} }),
      socketFactory: socketFactory(),
      brokers: [spu.bootstrap],
      clientId: 'tide-kafkajs-fetch',
      connectionTimeout: 5_000,
      requestTimeout: 30_000,
      enforceRequestTimeout: true,
      metadataMaxAge: 300_000,
      allowAutoTopicCreation: false,
      retry: { retries: 2 },
      offsets: new Map(),
    });
    await cluster.connect();
  });
  after(async () => {
    await producer?.disconnect();
    await cluster?.disconnect();
    await spu?.destroy();
    await stopAll();
  });

  /** Every message of partition 0 from offset 0, fetched in as many rounds as needed. */
  async function fetchAll(topic: string, expected: number): Promise<FetchedMessage[]> {
    await cluster.addTargetTopic(topic);
    const leaders = cluster.findLeaderForPartitions(topic, [0]);
    const broker = await cluster.findBroker({ nodeId: Object.keys(leaders)[0]! });
    const fetched: FetchedMessage[] = [];
    for (let round = 0; fetched.length < expected && round < 100; round++) {
      const next = fetched.length === 0 ? '0' : String(BigInt(fetched.at(-1)!.offset) + 1n);
      const response = await broker.fetch({
        replicaId: -1,
        isolationLevel: 1,
        maxWaitTime: 100,
        minBytes: 1,
        maxBytes: 1024 * 1024,
        topics: [{ topic, partitions: [{ partition: 0, fetchOffset: next, maxBytes: 64 * 1024 }] }],
      });
      const partition = response.responses[0]!.partitions[0]!;
      assert.equal(partition.errorCode, 0);
      // A batch may start before the offset asked for; kafkajs hands over whole batches.
      fetched.push(...partition.messages.filter((message) => BigInt(message.offset) >= BigInt(next)));
    }
    return fetched;
  }

  it('sends with acks 1 and -1, gzip and none, and reads every message back in order', async () => {
    const topic = 'kafkajs-data';
    const admin = kafka.admin();
    await admin.connect();
    try {
      assert.equal(
        await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true }),
        true,
      );
      const first = messages('send', 100, 0);
      const sent = await producer.send({
        topic,
        acks: 1,
        compression: CompressionTypes.GZIP,
        messages: first,
      });
      assert.deepEqual(
        sent.map(({ partition, errorCode, baseOffset }) => [partition, errorCode, baseOffset]),
        [[0, 0, '0']],
      );
      const second = messages('batch', 50, 100);
      const third = messages('plain', 30, 150);
      const batch = await producer.sendBatch({
        acks: -1,
        compression: CompressionTypes.GZIP,
        topicMessages: [{ topic, messages: second }],
      });
      assert.equal(batch[0]!.baseOffset, '100');
      const plain = await producer.send({ topic, acks: -1, messages: third });
      assert.equal(plain[0]!.baseOffset, '150');

      const all = [...first, ...second, ...third];
      const fetched = await fetchAll(topic, all.length);
      assert.deepEqual(
        fetched.map((m) => [
          m.offset,
          m.key?.toString(),
          m.value?.toString(),
          m.timestamp,
          m.headers.source?.toString(),
        ]),
        all.map((m, i) => [
          String(i),
          m.key,
          m.value,
          m.timestamp,
          (m.headers as Record<string, string>).source,
        ]),
      );

      assert.deepEqual(await admin.fetchTopicOffsets(topic), [
        { partition: 0, offset: '180', high: '180', low: '0' },
      ]);
      // Message i has timestamp base + 10 i: base + 1005 falls between messages 100 and 101.
      assert.deepEqual(await admin.fetchTopicOffsetsByTimestamp(topic, baseTimestampMs + 1005), [
        { partition: 0, offset: '101' },
      ]);
      assert.deepEqual(await admin.fetchTopicOffsetsByTimestamp(topic, baseTimestampMs), [
        { partition: 0, offset: '0' },
      ]);
      // Later than every record: Kafka answers -1, which kafkajs replaces with the latest offset.
      assert.deepEqual(await admin.fetchTopicOffsetsByTimestamp(topic, baseTimestampMs + 10_000), [
        { partition: 0, offset: '180' },
      ]);
    } finally {
      await admin.disconnect();
    }
  });
});
