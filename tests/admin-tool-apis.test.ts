import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { apiKeys } from '../src/protocol/messages/api-keys.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';
import { parseBootstrap, WireClient } from '../src/testing/wire-client.ts';

/**
 * Broker-local admin APIs that Kafka tools call: DescribeLogDirs (topic sizes in kafka-ui, AKHQ,
 * Kafdrop), DescribeProducers (kafka-transactions describe-producers) and ElectLeaders, against a
 * real SPU that a kafkajs idempotent producer wrote to. kafkajs has none of these calls, so they go
 * as raw frames.
 */

const topic = 'sized';
const records = 20;
let spu: TestSpu;
let client: WireClient;

before(async () => {
  spu = await startSpu();
  const kafka = new Kafka({ brokers: [spu.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let at = 0; at < records; at++)
    await producer.send({ topic, messages: [{ value: `record-${at}`.padEnd(200, '.') }], acks: -1 });
  await producer.disconnect();
  client = await WireClient.connect(parseBootstrap(spu.bootstrap));
});

after(async () => {
  await client?.close();
  await spu?.destroy();
  await stopAll();
});

describe('admin APIs tools call', () => {
  it('advertises DescribeLogDirs, DescribeProducers and ElectLeaders', async () => {
    const versions = await client.request(apiKeys.ApiVersions, 3, {
      clientSoftwareName: 'test',
      clientSoftwareVersion: '1',
    });
    const advertised = new Map(versions.apiKeys.map((each) => [each.apiKey, each.maxVersion]));
    assert.equal(advertised.get(apiKeys.DescribeLogDirs), 4);
    assert.equal(advertised.get(apiKeys.DescribeProducers), 0);
    assert.equal(advertised.get(apiKeys.ElectLeaders), 2);
  });

  it('ElectLeaders on a standalone SPU: it leads every partition, so no election is needed', async () => {
    const answer = await client.request(apiKeys.ElectLeaders, 2, {
      electionType: 0,
      topicPartitions: [
        { topic, partitions: [0, 1] },
        { topic: 'missing', partitions: [0] },
      ],
      timeoutMs: 1_000,
    });
    assert.deepEqual(
      answer.replicaElectionResults.map(({ partitionResult }) =>
        partitionResult.map(({ errorCode }) => errorCode),
      ),
      [
        [errorCodes.ELECTION_NOT_NEEDED, errorCodes.ELECTION_NOT_NEEDED],
        [errorCodes.UNKNOWN_TOPIC_OR_PARTITION],
      ],
    );
  });

  it('DescribeLogDirs answers the size of every partition, all topics or the ones asked', async () => {
    const all = await client.request(apiKeys.DescribeLogDirs, 4, { topics: null });
    assert.equal(all.errorCode, errorCodes.NONE);
    const [dir] = all.results;
    assert.ok(dir !== undefined);
    assert.equal(dir.errorCode, errorCodes.NONE);
    assert.equal(dir.logDir, spu.dataDir);
    assert.ok(dir.totalBytes > 0n && dir.usableBytes > 0n && dir.usableBytes <= dir.totalBytes);
    const sized = dir.topics.find(({ name }) => name === topic);
    assert.ok(sized !== undefined);
    assert.deepEqual(sized.partitions.map(({ partitionIndex }) => partitionIndex).sort(), [0, 1]);
    const total = sized.partitions.reduce((sum, { partitionSize }) => sum + partitionSize, 0n);
    assert.ok(total >= BigInt(records * 200), `${total} bytes hold ${records} records of 200 bytes`);
    assert.ok(sized.partitions.every(({ offsetLag, isFutureKey }) => offsetLag === 0n && !isFutureKey));

    const some = await client.request(apiKeys.DescribeLogDirs, 1, {
      topics: [
        { topic, partitions: [1, 9] },
        { topic: 'missing', partitions: [0] },
      ],
    });
    assert.deepEqual(
      some.results[0]?.topics.map(({ name, partitions }) => [name, partitions.map((p) => p.partitionIndex)]),
      [[topic, [1]]],
      'partitions this SPU does not hold are left out',
    );
  });

  it('DescribeProducers lists the idempotent producer with its epoch and last sequence', async () => {
    const answer = await client.request(apiKeys.DescribeProducers, 0, {
      topics: [
        { name: topic, partitionIndexes: [0, 1] },
        { name: 'missing', partitionIndexes: [0] },
      ],
    });
    const partitions = answer.topics[0]?.partitions ?? [];
    assert.deepEqual(
      partitions.map(({ errorCode }) => errorCode),
      [errorCodes.NONE, errorCodes.NONE],
    );
    const producers = partitions.flatMap(({ activeProducers }) => activeProducers);
    assert.equal(new Set(producers.map(({ producerId }) => producerId)).size, 1, 'one producer');
    const sent = producers.reduce((sum, { lastSequence }) => sum + lastSequence + 1, 0);
    assert.equal(sent, records, 'the last sequences account for every record');
    assert.ok(
      producers.every(
        ({ producerEpoch, coordinatorEpoch }) => producerEpoch === 0 && coordinatorEpoch === -1,
      ),
    );
    assert.equal(answer.topics[1]?.partitions[0]?.errorCode, errorCodes.UNKNOWN_TOPIC_OR_PARTITION);
  });
});
