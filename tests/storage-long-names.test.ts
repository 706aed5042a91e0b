/**
 * The longest legal topic name (249 characters) through a real SPU's whole life: create, produce,
 * delete, recreate and restart. Deletion renames the partition folder aside first, so the aside
 * name must fit the file system's 255-byte limit too; a delete that cannot finish would leave the
 * old records to come back in the recreated topic.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, it } from 'node:test';
import { splitBatches } from '../src/protocol/batch-header.ts';
import { createDeleteTopicsRequest } from '../src/protocol/messages/delete-topics.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { decodeRecordBatch, encodeRecordBatch } from '../src/protocol/record-batch.ts';
import { stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';
import { WireClient } from '../src/testing/wire-client.ts';

const topic = `${'t'.repeat(240)}.long-name`.slice(0, 249);

after(stopAll);

async function withClient<T>(spu: TestSpu, use: (client: WireClient) => Promise<T>): Promise<T> {
  const client = await WireClient.connect({ host: '127.0.0.1', port: spu.port });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

async function create(client: WireClient): Promise<void> {
  const created = await client.createTopics([{ name: topic, partitions: 2 }]);
  assert.equal(created.topics[0]!.errorCode, errorCodes.NONE, created.topics[0]!.errorMessage ?? '');
}

async function produce(client: WireClient, values: readonly string[]): Promise<void> {
  const records = values.map((value) => ({ key: null, value: Buffer.from(value), timestamp: 1n }));
  const response = await client.produce(topic, 1, encodeRecordBatch({ records }));
  assert.equal(response.responses[0]!.partitionResponses[0]!.errorCode, errorCodes.NONE);
}

async function values(client: WireClient): Promise<string[]> {
  const response = await client.fetch(topic, 1, 0n);
  const answer = response.responses[0]!.partitions[0]!;
  assert.equal(answer.errorCode, errorCodes.NONE);
  const { batches } = splitBatches(answer.records ?? Buffer.alloc(0));
  return batches.flatMap((batch) => decodeRecordBatch(batch).records.map((record) => String(record.value)));
}

it('a 249-character topic is created, deleted, recreated and survives a restart', async () => {
  assert.equal(topic.length, 249);
  const first = await startSpu();
  let spu = first;
  try {
    await withClient(first, async (client) => {
      await create(client);
      await produce(client, ['old-1', 'old-2']);
      assert.deepEqual(await values(client), ['old-1', 'old-2']);
      const deleted = await client.request(
        20,
        4,
        createDeleteTopicsRequest({ topicNames: [topic], timeoutMs: 10_000 }),
      );
      assert.equal(deleted.responses[0]!.errorCode, errorCodes.NONE);
    });
    // The delete answers once the logs are gone: nothing of the topic is left on disk.
    const left = (await readdir(first.dataDir)).filter((name) => name.startsWith('ttt'));
    assert.deepEqual(left, []);
    await withClient(first, async (client) => {
      await create(client);
      assert.deepEqual(await values(client), [], 'the recreated topic starts empty');
      await produce(client, ['new-1']);
    });
    assert.equal(await first.stop('SIGTERM'), 0);
    spu = await first.restart();
    await withClient(spu, async (client) => {
      assert.deepEqual(await values(client), ['new-1'], 'the deleted records do not come back');
    });
    assert.ok(!spu.process.logs.some((line) => line.includes('ENAMETOOLONG')));
  } finally {
    await spu.destroy();
    await first.destroy();
  }
});
