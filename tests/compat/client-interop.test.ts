import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ClusterClient } from '../../src/client/cluster-client.ts';
import { Consumer, type ConsumerRecord } from '../../src/client/consumer.ts';
import { Offset } from '../../src/client/offset.ts';
import { keyPartition } from '../../src/client/partitioner.ts';
import { Producer } from '../../src/client/producer.ts';
import { stopAll } from '../../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../../src/testing/spu.ts';
import { createTopic, kcat, pythonPath, runFile } from '../helpers/client-kit.ts';

/**
 * The Tide client library and librdkafka (kcat, confluent-kafka-python) reading each other's
 * records, keys, headers and timestamps intact, and agreeing on which partition each key belongs to.
 */
const script = join(import.meta.dirname, 'python', 'client_interop.py');
const baseTimestamp = 1_650_000_000_000;

describe('Tide client interop with librdkafka', () => {
  let spu: TestSpu;
  let cluster: ClusterClient;

  async function readAll(topic: string): Promise<ConsumerRecord[]> {
    const records: ConsumerRecord[] = [];
    const consumer = new Consumer(cluster, topic, { offset: Offset.beginning(), until: Offset.end() });
    for await (const record of consumer) records.push(record);
    return records;
  }

  async function python(args: readonly string[]): Promise<unknown> {
    const { stdout } = await runFile(pythonPath, [script, ...args], { timeout: 40_000 });
    return JSON.parse(stdout);
  }

  before(async () => {
    spu = await startSpu();
    cluster = await ClusterClient.connect({ bootstrap: [spu.bootstrap] });
    await createTopic(spu, 'from-tide', 3);
    const producer = new Producer(cluster, 'from-tide', { compression: 'lz4' });
    await producer.sendBatch(
      Array.from({ length: 60 }, (_, i) => ({
        key: `key-${i}`,
        value: `value-${i}`,
        headers: { n: String(i), kind: 'tide' },
        timestamp: baseTimestamp + i,
      })),
    );
    await producer.close();
  });
  after(async () => {
    await cluster?.close();
    await spu?.destroy();
    await stopAll();
  });

  test('kcat reads what Tide produced: partition by murmur2, keys, headers, timestamps', async () => {
    const output = await kcat(spu, ['-C', '-t', 'from-tide', '-e', '-q', '-f', '%p|%k|%s|%T|%h\n']);
    const lines = output.trimEnd().split('\n').sort();
    assert.equal(lines.length, 60);
    const expected = Array.from({ length: 60 }, (_, i) => {
      const partition = keyPartition(Buffer.from(`key-${i}`), 3);
      return `${partition}|key-${i}|value-${i}|${baseTimestamp + i}|n=${i},kind=tide`;
    }).sort();
    assert.deepEqual(lines, expected);
  });

  test('confluent-kafka-python reads what Tide produced', async () => {
    const partition = keyPartition(Buffer.from('key-0'), 3);
    const mine = Array.from({ length: 60 }, (_, i) => i).filter(
      (i) => keyPartition(Buffer.from(`key-${i}`), 3) === partition,
    );
    const result = (await python([
      'consume',
      spu.bootstrap,
      'from-tide',
      String(partition),
      String(mine.length),
    ])) as {
      records: {
        offset: number;
        key: string;
        value: string;
        headers: [string, string][];
        timestamp: number;
      }[];
      errors: string[];
    };
    assert.deepEqual(result.errors, []);
    assert.deepEqual(
      result.records.map((r) => [r.key, r.value, r.headers, r.timestamp]),
      mine.map((i) => [
        `key-${i}`,
        `value-${i}`,
        [
          ['n', String(i)],
          ['kind', 'tide'],
        ],
        baseTimestamp + i,
      ]),
    );
  });

  test('Tide reads what confluent-kafka-python produced', async () => {
    await createTopic(spu, 'from-python', 1);
    const result = (await python(['produce', spu.bootstrap, 'from-python', '25'])) as {
      delivered: number;
      errors: string[];
    };
    assert.deepEqual(result, { delivered: 25, errors: [] });
    const records = await readAll('from-python');
    assert.deepEqual(
      records.map((r) => [
        r.offset,
        r.key?.toString(),
        r.value?.toString(),
        r.headers[0]?.key,
        r.headers[0]?.value?.toString(),
        r.timestamp,
      ]),
      Array.from({ length: 25 }, (_, i) => [
        BigInt(i),
        `py-k${i}`,
        `py-v${i}`,
        'n',
        String(i),
        1_600_000_000_000 + i,
      ]),
    );
  });

  test('kcat with the murmur2_random partitioner puts keys where Tide does; Tide reads its headers', async () => {
    await createTopic(spu, 'from-kcat', 6);
    const keys = Array.from({ length: 200 }, (_, i) => `user-${i * 7919}`);
    const input = keys.map((key, i) => `${key}:payload-${i}`).join('\n');
    await kcat(
      spu,
      ['-P', '-t', 'from-kcat', '-K:', '-H', 'origin=kcat', '-X', 'partitioner=murmur2_random'],
      `${input}\n`,
    );
    const records = await readAll('from-kcat');
    assert.equal(records.length, 200);
    for (const record of records) {
      const key = record.key!.toString();
      assert.equal(record.partition, keyPartition(Buffer.from(key), 6), key);
      assert.deepEqual(
        record.headers.map((h) => [h.key, h.value?.toString()]),
        [['origin', 'kcat']],
      );
      assert.ok(record.timestamp > baseTimestamp);
    }
    assert.deepEqual(records.map((r) => r.key!.toString()).sort(), [...keys].sort());
  });
});
