/**
 * Poison batches against a real SPU: batches whose header and CRC are intact but whose records are
 * not (counts that lie, negative lengths, bad varints, codec 5, a claimed 2^31 records) are refused
 * with INVALID_RECORD (CORRUPT_MESSAGE before Produce v8) and append nothing, whether the topic keeps
 * the producer's codec or recompresses; the log end stays where it was, and kcat reads exactly the
 * well-formed records around them. A header bomb (one zstd record with 31 million empty headers) to a
 * recompressing topic is refused while the SPU keeps serving.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { errorCodes } from '../../src/protocol/messages/error-codes.ts';
import { encodeRecordBatch } from '../../src/protocol/record-batch.ts';
import { batchFromSection, poisonBatches, recordWithFields } from '../../src/testing/poison-batches.ts';
import { stopAll } from '../../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../../src/testing/spu.ts';
import { WireClient } from '../../src/testing/wire-client.ts';

const execFileAsync = promisify(execFile);
const topics = [
  { name: 'as-sent', configs: {} },
  { name: 'to-lz4', configs: { 'compression.type': 'lz4' } },
];

let spu: TestSpu;
let client: WireClient;

before(async () => {
  spu = await startSpu();
  client = await WireClient.connect({ host: '127.0.0.1', port: spu.port, requestTimeoutMs: 60_000 });
  const created = await client.createTopics(topics);
  for (const topic of created.topics) assert.equal(topic.errorCode, 0, `create ${topic.name}`);
});

after(async () => {
  await client?.close();
  await spu?.destroy();
  await stopAll();
});

function goodBatch(value: string): Buffer {
  return encodeRecordBatch({ records: [{ key: null, value: Buffer.from(value) }] });
}

async function produceOne(
  topic: string,
  batch: Buffer,
  version = 9,
): Promise<{ errorCode: number; baseOffset: bigint }> {
  const response = await client.produce(topic, 0, batch, { version });
  const answer = response.responses[0]!.partitionResponses[0]!;
  return { errorCode: answer.errorCode, baseOffset: answer.baseOffset };
}

async function kcatValues(topic: string): Promise<string[]> {
  const { stdout } = await execFileAsync(
    '/usr/bin/kcat',
    ['-b', spu.bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%o:%s\\n'],
    { timeout: 30_000 },
  );
  return stdout.split('\n').filter((line) => line !== '');
}

describe('poison batches', () => {
  for (const topic of topics) {
    it(`are refused and append nothing (${topic.name})`, { timeout: 120_000 }, async () => {
      assert.deepEqual(await produceOne(topic.name, goodBatch('before')), {
        errorCode: errorCodes.NONE,
        baseOffset: 0n,
      });
      for (const poison of poisonBatches()) {
        const answer = await produceOne(topic.name, poison.batch);
        assert.equal(answer.errorCode, errorCodes.INVALID_RECORD, `${poison.name}: Produce v9`);
        const old = await produceOne(topic.name, poison.batch, 7);
        assert.equal(old.errorCode, errorCodes.CORRUPT_MESSAGE, `${poison.name}: Produce v7`);
      }
      // A poison batch after a good one in the same request refuses the whole partition.
      const mixed = Buffer.concat([goodBatch('mixed'), poisonBatches()[0]!.batch]);
      assert.equal((await produceOne(topic.name, mixed)).errorCode, errorCodes.INVALID_RECORD);
      assert.deepEqual(await produceOne(topic.name, goodBatch('after')), {
        errorCode: errorCodes.NONE,
        baseOffset: 1n,
      });
      assert.deepEqual(await kcatValues(topic.name), ['0:before', '1:after']);
    });
  }
});

describe('header bomb', () => {
  it('one zstd record with 31 M empty headers to a recompressing topic is refused; the SPU serves on', {
    timeout: 120_000,
  }, async () => {
    const headerCount = 31_000_000;
    const section = recordWithFields({ headerCount, headerBytes: Buffer.alloc(2 * headerCount) });
    const bomb = batchFromSection(section, { codec: 'zstd' });
    assert.ok(bomb.length < 16 * 1024, `the bomb is small on the wire (${bomb.length} bytes)`);
    const other = await WireClient.connect({ host: '127.0.0.1', port: spu.port, requestTimeoutMs: 20_000 });
    try {
      const [answer, versions] = await Promise.all([produceOne('to-lz4', bomb), other.apiVersions()]);
      assert.equal(answer.errorCode, errorCodes.INVALID_RECORD);
      assert.equal(versions.errorCode, errorCodes.NONE);
      const after = await other.produce('to-lz4', 0, goodBatch('served'));
      assert.equal(after.responses[0]!.partitionResponses[0]!.errorCode, errorCodes.NONE);
      assert.equal(spu.process.child.exitCode, null, 'the SPU is still running');
    } finally {
      await other.close();
    }
  });
});
