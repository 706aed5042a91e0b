/**
 * Restarting a real SPU on the same data dir: records produced with kcat to a 3-partition topic are
 * all there, in order and at the same offsets, after a clean stop (SIGTERM) and after kill -9, and
 * topics keep their partitions and configs. With the default flush settings an acknowledged record is
 * in the page cache when the SPU dies, so kill -9 (unlike a machine crash) loses nothing acknowledged.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createDescribeConfigsRequest } from '../src/protocol/messages/describe-configs.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { encodeRecordBatch } from '../src/protocol/record-batch.ts';
import { makeTempDir, stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';
import { WireClient } from '../src/testing/wire-client.ts';

const run = promisify(execFile);
const topic = 'restart';
const compactedTopic = 'restart-compacted';
const partitions = 3;
const topicConfigs = { 'retention.ms': '86400000', 'max.message.bytes': '2000000' } as const;

after(stopAll);

/** One consumed record: partition, offset, key and value. */
interface Consumed {
  readonly partition: number;
  readonly offset: number;
  readonly key: string;
  readonly value: string;
}

async function kcat(spu: TestSpu, args: readonly string[]): Promise<string> {
  const { stdout } = await run('/usr/bin/kcat', ['-b', spu.bootstrap, ...args], {
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

async function consumeAll(spu: TestSpu): Promise<Consumed[]> {
  const stdout = await kcat(spu, ['-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p %o %k %s\n']);
  const records = stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [partition, offset, key, value] = line.split(' ');
      return { partition: Number(partition), offset: Number(offset), key: key!, value: value! };
    });
  return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

async function produceWithKcat(spu: TestSpu, dir: string, from: number, count: number): Promise<void> {
  const lines = Array.from({ length: count }, (_, index) => `key-${from + index}:value-${from + index}`);
  const file = join(dir, `records-${from}.txt`);
  await writeFile(file, `${lines.join('\n')}\n`);
  await kcat(spu, ['-P', '-t', topic, '-K:', '-X', 'acks=1', '-l', file]);
}

/** Every value 0..count-1 once; offsets dense per partition; order within a partition kept. */
function assertComplete(records: readonly Consumed[], count: number): void {
  const values = records.map((record) => Number(record.value.replace('value-', ''))).sort((a, b) => a - b);
  assert.deepEqual(
    values,
    Array.from({ length: count }, (_, index) => index),
  );
  for (let partition = 0; partition < partitions; partition++) {
    const own = records.filter((record) => record.partition === partition);
    assert.deepEqual(
      own.map((record) => record.offset),
      own.map((_, index) => index),
      `dense offsets in partition ${partition}`,
    );
    for (const record of own)
      assert.equal(record.key.replace('key-', ''), record.value.replace('value-', ''));
  }
}

async function withClient<T>(spu: TestSpu, use: (client: WireClient) => Promise<T>): Promise<T> {
  const client = await WireClient.connect({ host: '127.0.0.1', port: spu.port });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

async function createTopics(spu: TestSpu): Promise<void> {
  await withClient(spu, async (client) => {
    const response = await client.createTopics([
      { name: topic, partitions, configs: topicConfigs },
      { name: compactedTopic, partitions: 1, configs: { 'cleanup.policy': 'compact' } },
    ]);
    for (const result of response.topics) assert.equal(result.errorCode, errorCodes.NONE, result.name);
  });
}

/** Partition counts and the configs set at creation, as the SPU reports them now. */
async function assertTopicsSurvived(spu: TestSpu): Promise<void> {
  await withClient(spu, async (client) => {
    const metadata = await client.metadata([topic, compactedTopic]);
    const counts = Object.fromEntries(metadata.topics.map((each) => [each.name, each.partitions.length]));
    assert.deepEqual(counts, { [topic]: partitions, [compactedTopic]: 1 });
    const described = await client.request(
      32,
      4,
      createDescribeConfigsRequest({
        resources: [
          { resourceType: 2, resourceName: topic, configurationKeys: null },
          { resourceType: 2, resourceName: compactedTopic, configurationKeys: null },
        ],
      }),
    );
    const configValue = (index: number, name: string): string | null | undefined =>
      described.results[index]?.configs.find((config) => config.name === name)?.value;
    for (const [name, value] of Object.entries(topicConfigs)) assert.equal(configValue(0, name), value, name);
    assert.equal(configValue(1, 'cleanup.policy'), 'compact');
  });
}

/** Produces with acks=1 from the wire client; returns how many records were acknowledged. */
async function produceAcknowledged(spu: TestSpu, from: number, count: number): Promise<void> {
  await withClient(spu, async (client) => {
    for (let index = 0; index < count; index++) {
      const id = from + index;
      const batch = encodeRecordBatch({
        records: [{ key: Buffer.from(`key-${id}`), value: Buffer.from(`value-${id}`) }],
      });
      const response = await client.produce(topic, id % partitions, batch, { acks: 1 });
      assert.equal(response.responses[0]!.partitionResponses[0]!.errorCode, errorCodes.NONE);
    }
  });
}

describe('SPU restarts', () => {
  it('keeps every record, topic and config across SIGTERM and kill -9', { timeout: 120_000 }, async () => {
    const dir = await makeTempDir('tide-restart-');
    let spu = await startSpu({ dataDir: join(dir.path, 'data') });
    try {
      await createTopics(spu);
      await produceWithKcat(spu, dir.path, 0, 3000);
      assertComplete(await consumeAll(spu), 3000);

      assert.equal(await spu.stop('SIGTERM'), 0, 'clean exit');
      spu = await spu.restart();
      assertComplete(await consumeAll(spu), 3000);
      await assertTopicsSurvived(spu);

      // New records continue the offsets; then the SPU dies without a chance to flush or close.
      await produceWithKcat(spu, dir.path, 3000, 2000);
      await produceAcknowledged(spu, 5000, 30);
      assert.equal(await spu.stop('SIGKILL'), 'SIGKILL');
      spu = await spu.restart();
      assertComplete(await consumeAll(spu), 5030);
      await assertTopicsSurvived(spu);

      // And once more after recovery, cleanly.
      assert.equal(await spu.stop('SIGTERM'), 0, 'clean exit after recovery');
      spu = await spu.restart();
      assertComplete(await consumeAll(spu), 5030);
    } finally {
      await spu.stop('SIGKILL');
      await dir.remove();
    }
  });
});
