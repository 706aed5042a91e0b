import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { stopAll } from '../../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../../src/testing/spu.ts';

/**
 * Committing offsets for a topic that does not exist (a typo, or AlterConsumerGroupOffsets after the
 * topic was deleted): librdkafka 2.0.2 (confluent-kafka-python) must be told
 * UNKNOWN_TOPIC_OR_PARTITION for that partition, and nothing is stored, while its commit for a real
 * topic in the same request goes through.
 */

const python = '/usr/bin/python3';
const run = promisify(execFile);
const topic = 'real-topic';

const script = `
import json, sys
from confluent_kafka import Consumer, KafkaException, TopicPartition
consumer = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': 'typo-group', 'enable.auto.commit': False})
def commit(partitions):
    try:
        answered = consumer.commit(offsets=partitions, asynchronous=False)
        return [tp.error.name() if tp.error else None for tp in answered]
    except KafkaException as error:
        return [error.args[0].name()]
missing = commit([TopicPartition('no-such-topic', 0, 5)])
real = commit([TopicPartition('${topic}', 0, 3)])
stored = {tp.topic: tp.offset for tp in consumer.committed([TopicPartition('no-such-topic', 0), TopicPartition('${topic}', 0)], timeout=10)}
print(json.dumps({'missing': missing, 'real': real, 'stored': stored}))
consumer.close()
`;

let spu: TestSpu;

before(async () => {
  spu = await startSpu({ args: ['--offsets-topic-partitions', '1'] });
  const admin = new Kafka({ brokers: [spu.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
});

after(async () => {
  await spu?.destroy();
  await stopAll();
});

describe('librdkafka commits for a topic that does not exist', () => {
  it('gets UNKNOWN_TOPIC_OR_PART for it and nothing is stored; the real topic is committed', async () => {
    const { stdout } = await run(python, ['-c', script, spu.bootstrap], { timeout: 60_000 });
    const { missing, real, stored } = JSON.parse(stdout) as {
      missing: Array<string | null>;
      real: Array<string | null>;
      stored: Record<string, number>;
    };
    assert.deepEqual(missing, ['UNKNOWN_TOPIC_OR_PART']);
    assert.deepEqual(real, [null]);
    assert.equal(stored[topic], 3);
    assert.ok((stored['no-such-topic'] ?? 0) < 0, 'no offset stored for the missing topic');
  });
});
