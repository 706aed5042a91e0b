/**
 * A host without a native codec module, made so with TIDE_NATIVE_MODULES_DISABLED (see
 * src/protocol/compression/native-module.ts): the SPU starts and warns once naming what is missing,
 * the other codecs work end to end (kcat reads them back), a topic config naming the missing codec is
 * refused with INVALID_CONFIG, and a batch compressed with it is answered UNSUPPORTED_COMPRESSION_TYPE
 * with a message naming the module, not CORRUPT_MESSAGE. Without @node-rs/crc32 the portable CRC32C
 * takes over.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Codec } from '../../src/protocol/compression/compression.ts';
import { errorCodes } from '../../src/protocol/messages/error-codes.ts';
import { encodeRecordBatch } from '../../src/protocol/record-batch.ts';
import { stopAll } from '../../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../../src/testing/spu.ts';
import { WireClient } from '../../src/testing/wire-client.ts';

const execFileAsync = promisify(execFile);
const started: TestSpu[] = [];

after(async () => {
  await Promise.all(started.map((spu) => spu.destroy()));
  await stopAll();
});

async function spuWithout(modules: string): Promise<{ spu: TestSpu; client: WireClient }> {
  const spu = await startSpu({ env: { TIDE_NATIVE_MODULES_DISABLED: modules } });
  started.push(spu);
  const client = await WireClient.connect({ host: '127.0.0.1', port: spu.port, requestTimeoutMs: 20_000 });
  return { spu, client };
}

function batch(codec: Codec, value: string): Buffer {
  return encodeRecordBatch({ codec, records: [{ key: null, value: Buffer.from(value) }] });
}

async function produce(client: WireClient, topic: string, records: Buffer) {
  const response = await client.produce(topic, 0, records);
  return response.responses[0]!.partitionResponses[0]!;
}

async function createTopic(client: WireClient, name: string, configs: Record<string, string> = {}) {
  const response = await client.createTopics([{ name, configs }]);
  return response.topics[0]!;
}

function warnings(spu: TestSpu): string[] {
  return spu.process.logs.filter((line) => line.includes('"warn"'));
}

describe('a missing native codec', () => {
  it('zstd-napi: the SPU starts, the others work, zstd is refused clearly', {
    timeout: 120_000,
  }, async () => {
    const { spu, client } = await spuWithout('zstd-napi');
    try {
      const warned = warnings(spu).filter((line) => line.includes('codecs unavailable'));
      assert.equal(warned.length, 1, `one warning at start:\n${spu.process.logs.join('\n')}`);
      assert.match(warned[0]!, /"codecs":"zstd"/);
      assert.match(warned[0]!, /zstd-napi/);

      const refusedConfig = await createTopic(client, 'stored-zstd', { 'compression.type': 'zstd' });
      assert.equal(refusedConfig.errorCode, errorCodes.INVALID_CONFIG);
      assert.match(refusedConfig.errorMessage ?? '', /zstd-napi/);

      assert.equal((await createTopic(client, 'events')).errorCode, errorCodes.NONE);
      for (const codec of ['none', 'gzip', 'snappy', 'lz4'] as const) {
        assert.equal(
          (await produce(client, 'events', batch(codec, codec))).errorCode,
          errorCodes.NONE,
          codec,
        );
      }
      const zstd = await produce(client, 'events', batch('zstd', 'zstd'));
      assert.equal(zstd.errorCode, errorCodes.UNSUPPORTED_COMPRESSION_TYPE);
      assert.match(zstd.errorMessage ?? '', /zstd is not available on this host.*zstd-napi/);

      const { stdout } = await execFileAsync(
        '/usr/bin/kcat',
        ['-b', spu.bootstrap, '-C', '-t', 'events', '-o', 'beginning', '-e', '-q'],
        { timeout: 30_000 },
      );
      assert.deepEqual(stdout.trim().split('\n'), ['none', 'gzip', 'snappy', 'lz4']);
    } finally {
      await client.close();
    }
  });

  it('lz4-napi and @node-rs/crc32: lz4 is refused, CRCs fall back to the portable code', {
    timeout: 120_000,
  }, async () => {
    const { spu, client } = await spuWithout('lz4-napi,@node-rs/crc32');
    try {
      assert.ok(warnings(spu).some((line) => line.includes('"codecs":"lz4"')));
      assert.ok(warnings(spu).some((line) => line.includes('portable implementation')));
      assert.equal(
        (await createTopic(client, 'to-lz4', { 'compression.type': 'lz4' })).errorCode,
        errorCodes.INVALID_CONFIG,
      );
      assert.equal((await createTopic(client, 'events')).errorCode, errorCodes.NONE);
      assert.equal((await produce(client, 'events', batch('gzip', 'g'))).errorCode, errorCodes.NONE);
      assert.equal((await produce(client, 'events', batch('zstd', 'z'))).errorCode, errorCodes.NONE);
      const lz4 = await produce(client, 'events', batch('lz4', 'l'));
      assert.equal(lz4.errorCode, errorCodes.UNSUPPORTED_COMPRESSION_TYPE);
    } finally {
      await client.close();
    }
  });
});
