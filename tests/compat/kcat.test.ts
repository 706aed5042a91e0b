import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { batchHeader, splitBatches } from '../../src/protocol/batch-header.ts';
import { type Codec, codecFromAttributes } from '../../src/protocol/compression/compression.ts';
import { apiKeys } from '../../src/protocol/messages/api-keys.ts';
import { errorCodes } from '../../src/protocol/messages/error-codes.ts';
import { createListOffsetsRequest } from '../../src/protocol/messages/list-offsets.ts';
import { encodeRecordBatch } from '../../src/protocol/record-batch.ts';
import { makeTempDir, stopAll } from '../../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../../src/testing/spu.ts';
import { parseBootstrap, WireClient } from '../../src/testing/wire-client.ts';

/**
 * kcat (librdkafka 2.0.2) against a real standalone SPU: metadata, produce with every codec, consume
 * from the beginning, from the end, by timestamp and live (tail), and a corrupt batch sent on a raw
 * socket. 100,000 keyed messages per codec: many batches per run, about a second each on two cores.
 */
const kcatPath = '/usr/bin/kcat';
const run = promisify(execFile);
const codecs: readonly Codec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const messagesPerCodec = 100_000;

describe('kcat against a standalone SPU', () => {
  let spu: TestSpu;
  let client: WireClient;
  let temp: { path: string; remove: () => Promise<void> };

  async function kcat(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
    return run(kcatPath, ['-b', spu.bootstrap, ...args], { timeout: 60_000, maxBuffer: 256 * 1024 * 1024 });
  }

  async function createTopic(name: string, partitions = 1): Promise<void> {
    const response = await client.createTopics([{ name, partitions }]);
    assert.equal(response.topics[0]!.errorCode, errorCodes.NONE, response.topics[0]!.errorMessage ?? '');
  }

  /** Writes `lines` to a file and produces them with kcat to partition 0, keys split at ':'. */
  async function produceLines(topic: string, lines: readonly string[], codec = 'none'): Promise<void> {
    const file = join(temp.path, `${topic}-${Date.now()}.txt`);
    await writeFile(file, `${lines.join('\n')}\n`);
    await kcat(['-P', '-t', topic, '-p', '0', '-K:', '-z', codec, '-l', file]);
  }

  async function consumeAll(topic: string, from = 'beginning'): Promise<string[]> {
    const { stdout } = await kcat(['-C', '-t', topic, '-p', '0', '-o', from, '-e', '-q', '-f', '%k:%s\n']);
    return stdout === '' ? [] : stdout.replace(/\n$/, '').split('\n');
  }

  async function latestOffset(topic: string): Promise<bigint> {
    const response = await client.request(
      2,
      7,
      createListOffsetsRequest({
        replicaId: -1,
        topics: [
          { name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] },
        ],
      }),
    );
    return response.topics[0]!.partitions[0]!.offset;
  }

  before(async () => {
    temp = await makeTempDir('tide-kcat-');
    spu = await startSpu();
    client = await WireClient.connect(parseBootstrap(spu.bootstrap));
  });
  after(async () => {
    await client?.close();
    await spu?.destroy();
    await temp?.remove();
    await stopAll();
  });

  it('lists topics and partitions with -L', async () => {
    await createTopic('listed', 3);
    const { stdout } = await kcat(['-L', '-J', '-t', 'listed']);
    const metadata = JSON.parse(stdout) as {
      brokers: { id: number }[];
      topics: { topic: string; partitions: { partition: number; leader: number }[] }[];
    };
    assert.equal(metadata.brokers.length, 1);
    const topic = metadata.topics.find((t) => t.topic === 'listed');
    assert.deepEqual(
      topic?.partitions.map((p) => [p.partition, p.leader]).sort(),
      [0, 1, 2].map((p) => [p, metadata.brokers[0]!.id]),
    );
  });

  for (const codec of codecs) {
    const count = messagesPerCodec;
    it(`round-trips ${count} keyed messages produced with -z ${codec}`, async () => {
      const topic = `codec-${codec}`;
      await createTopic(topic);
      const lines = Array.from(
        { length: count },
        (_, i) => `key-${i % 977}:${codec}-value-${i}-${'x'.repeat(i % 50)}`,
      );
      await produceLines(topic, lines, codec);
      const consumed = await consumeAll(topic);
      assert.equal(consumed.length, lines.length);
      assert.deepEqual(consumed, lines);
      const stored = (await client.fetch(topic, 0, 0n)).responses[0]!.partitions[0]!.records!;
      // librdkafka sends a batch uncompressed when compressing does not make it smaller: look at all.
      const storedCodecs = splitBatches(stored).batches.map((b) =>
        codecFromAttributes(b.readInt16BE(batchHeader.attributes)),
      );
      // librdkafka enables lz4 only when the broker advertises FindCoordinator (its "LZ4" feature test).
      const lz4Enabled = (await client.apiVersions()).apiKeys.some(
        (api) => api.apiKey === apiKeys.FindCoordinator,
      );
      if (codec !== 'lz4' || lz4Enabled)
        assert.ok(storedCodecs.includes(codec), `stored codecs ${[...new Set(storedCodecs)].join(', ')}`);
      if (codec === 'none') assert.deepEqual(await consumeAll(topic, '-10'), lines.slice(-10));
    });
  }

  it('starts at the first record at or after a timestamp with -o s@', async () => {
    await createTopic('timed');
    const early = Array.from({ length: 50 }, (_, i) => `early-${i}:e${i}`);
    const late = Array.from({ length: 50 }, (_, i) => `late-${i}:l${i}`);
    await produceLines('timed', early);
    // Every early record was stamped before kcat exited; wait until the clock has moved past that.
    const boundaryMs = Date.now() + 1;
    while (Date.now() < boundaryMs) await new Promise((resolve) => setTimeout(resolve, 1));
    await produceLines('timed', late);
    assert.deepEqual(await consumeAll('timed', `s@${boundaryMs}`), late);
    assert.deepEqual(await consumeAll('timed', 's@0'), [...early, ...late]);
  });

  it('tails new messages with -o end', async () => {
    await createTopic('tailed');
    await produceLines('tailed', ['old-0:before', 'old-1:before']);
    const fresh = Array.from({ length: 200 }, (_, i) => `new-${i}:after-${i}`);
    // -u: unbuffered output, so lines arrive as consumed rather than when kcat exits.
    const tail = spawn(kcatPath, [
      '-b',
      spu.bootstrap,
      '-C',
      '-t',
      'tailed',
      '-p',
      '0',
      '-o',
      'end',
      '-u',
      '-f',
      '%k:%s\n',
    ]);
    try {
      const seen: string[] = [];
      createInterface({ input: tail.stdout }).on('line', (line) => seen.push(line));
      await waitForLine(tail, /Reached end of topic tailed \[0\] at offset 2/);
      await produceLines('tailed', fresh);
      await waitUntil(
        () => seen.length >= fresh.length,
        30_000,
        () => `saw ${seen.length} lines`,
      );
      assert.deepEqual(seen, fresh);
    } finally {
      tail.kill('SIGKILL');
    }
  });

  it('refuses a batch with a bad CRC sent on a raw socket, and carries on', async () => {
    await createTopic('crc');
    await produceLines('crc', ['a:1', 'b:2']);
    const batch = encodeRecordBatch({ records: [{ key: Buffer.from('c'), value: Buffer.from('bad') }] });
    batch[batch.length - 1]! ^= 0x55;
    const response = await client.produce('crc', 0, batch, { acks: 1 });
    assert.equal(response.responses[0]!.partitionResponses[0]!.errorCode, errorCodes.CORRUPT_MESSAGE);
    assert.equal(await latestOffset('crc'), 2n);
    await produceLines('crc', ['d:4']);
    assert.deepEqual(await consumeAll('crc'), ['a:1', 'b:2', 'd:4']);
  });
});

/** Resolves when the process writes a stderr line matching `pattern`; fails if it exits first. */
function waitForLine(child: ChildProcess, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    const timer = setTimeout(
      () => reject(new Error(`no line matching ${pattern}: ${lines.join('\n')}`)),
      30_000,
    );
    child.once('exit', (code) =>
      reject(new Error(`exited (${code}) before ${pattern}: ${lines.join('\n')}`)),
    );
    createInterface({ input: child.stderr! }).on('line', (line) => {
      lines.push(line);
      if (pattern.test(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

async function waitUntil(condition: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
