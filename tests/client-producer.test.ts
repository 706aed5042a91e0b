import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ClusterClient } from '../src/client/cluster-client.ts';
import { Consumer } from '../src/client/consumer.ts';
import { Offset } from '../src/client/offset.ts';
import { keyPartition } from '../src/client/partitioner.ts';
import { Producer } from '../src/client/producer.ts';
import { codecFromAttributes } from '../src/protocol/compression/compression.ts';
import { stablePort } from '../src/testing/ports.ts';
import { stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';
import { createTopic, kcat, storedBatches } from './helpers/client-kit.ts';

/**
 * The producer against a real standalone SPU: ordering, murmur2 placement, linger and size triggers,
 * every codec (read back by kcat), the bounded buffer with the SPU stopped, and reconnecting after
 * the SPU restarts on the same port.
 */

async function readAll(cluster: ClusterClient, topic: string, partitions?: number[]) {
  const records = [];
  const consumer = new Consumer(cluster, topic, {
    offset: Offset.beginning(),
    until: Offset.end(),
    ...(partitions === undefined ? {} : { partitions }),
  });
  for await (const record of consumer) records.push(record);
  return records;
}

describe('producer against a real SPU', () => {
  let spu: TestSpu;
  let cluster: ClusterClient;

  before(async () => {
    spu = await startSpu();
    cluster = await ClusterClient.connect({ bootstrap: [spu.bootstrap] });
  });
  after(async () => {
    await cluster?.close();
    await spu?.destroy();
    await stopAll();
  });

  test('keyed records land where murmur2 says, in send order per partition', async () => {
    await createTopic(spu, 'keyed', 4);
    const producer = new Producer(cluster, 'keyed', { lingerMs: 2, batchBytes: 2048 });
    const sends = Array.from({ length: 400 }, (_, i) =>
      producer.send({ key: `key-${i % 37}`, value: `value-${i}`, headers: { index: String(i) } }),
    );
    const results = await Promise.all(sends);
    for (const [i, result] of results.entries()) {
      assert.equal(result.partition, keyPartition(Buffer.from(`key-${i % 37}`), 4));
    }
    const records = await readAll(cluster, 'keyed');
    assert.equal(records.length, 400);
    for (let partition = 0; partition < 4; partition++) {
      const indexes = records
        .filter((r) => r.partition === partition)
        .map((r) => Number(r.headers[0]!.value!.toString()));
      const expected = results.flatMap((r, i) => (r.partition === partition ? [i] : []));
      assert.deepEqual(indexes, expected, `partition ${partition} in send order`);
    }
    await producer.close();
  });

  test('records sent within the linger time form one batch; batchBytes seals batches early', async () => {
    await createTopic(spu, 'linger', 1);
    const lingering = new Producer(cluster, 'linger', { lingerMs: 60_000 });
    const lingered = Array.from({ length: 100 }, (_, i) => lingering.send({ value: `v${i}` }));
    await lingering.flush();
    const offsets = (await Promise.all(lingered)).map((r) => r.offset);
    assert.deepEqual(
      offsets,
      Array.from({ length: 100 }, (_, i) => BigInt(i)),
    );
    let batches = await storedBatches(spu, 'linger', 0);
    assert.deepEqual(
      batches.map((b) => b.recordCount),
      [100],
    );
    // 1 KiB values, batches of at most 4 KiB: sealed by size, acknowledged without any flush.
    const sized = new Producer(cluster, 'linger', { lingerMs: 60_000, batchBytes: 4096 });
    const value = Buffer.alloc(1000, 0x61);
    const sends = Array.from({ length: 12 }, () => sized.send({ value }));
    // 12 kB cannot fit one batch: the first is sealed by size and acknowledged while lingering.
    await sends[0];
    await sized.flush();
    batches = (await storedBatches(spu, 'linger', 0)).slice(1);
    assert.ok(batches.length >= 3, `${batches.length} batches`);
    assert.equal(
      batches.reduce((sum, b) => sum + b.recordCount, 0),
      12,
    );
    for (const batch of batches) assert.ok(batch.batchLength + 12 <= 4096);
    await Promise.all([lingering.close(), sized.close()]);
  });

  test('every codec is stored as chosen and readable by kcat', async () => {
    const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
    for (const codec of codecs) {
      const topic = `codec-${codec}`;
      await createTopic(spu, topic, 1);
      const producer = new Producer(cluster, topic, { compression: codec, lingerMs: 50 });
      await producer.sendBatch(
        Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `${codec} value ${i} `.repeat(5) })),
      );
      await producer.close();
      const batches = await storedBatches(spu, topic, 0);
      assert.ok(batches.every((b) => codecFromAttributes(b.attributes) === codec));
      const lines = (await kcat(spu, ['-C', '-t', topic, '-e', '-q', '-f', '%k=%s\n'])).trimEnd().split('\n');
      assert.equal(lines.length, 50, codec);
      assert.equal(lines[7], `k7=${`${codec} value 7 `.repeat(5)}`);
    }
  });

  test('idempotence needs acks=all and at most 5 in flight; bad options are refused', () => {
    assert.throws(() => new Producer(cluster, 't', { idempotent: true, acks: 1 }), /acks=all/);
    assert.throws(() => new Producer(cluster, 't', { idempotent: true, maxInFlight: 6 }), /at most 5/);
    assert.throws(() => new Producer(cluster, 't', { batchBytes: 0 }), /batchBytes/);
  });

  test('a send to a missing partition or without a topic rejects', async () => {
    await createTopic(spu, 'small', 2);
    const producer = new Producer(cluster, undefined);
    await assert.rejects(producer.send({ value: 'x' }), /no topic/);
    await assert.rejects(producer.send({ topic: 'small', partition: 2, value: 'x' }), {
      errorName: 'UNKNOWN_TOPIC_OR_PARTITION',
    });
    await assert.rejects(producer.send({ topic: 'missing-topic', value: 'x' }), {
      errorName: 'UNKNOWN_TOPIC_OR_PARTITION',
    });
    const ok = await producer.send({ topic: 'small', partition: 1, value: 'x' });
    assert.deepEqual(ok, { topic: 'small', partition: 1, offset: 0n });
    await producer.close();
    await assert.rejects(producer.send({ topic: 'small', value: 'x' }), /closed/);
  });
});

describe('producer across SPU stops and restarts', () => {
  after(stopAll);

  test('send blocks while the buffer is full and rejects after sendTimeoutMs; records flow after a restart', async () => {
    let spu = await startSpu({ args: ['--listen', `127.0.0.1:${await stablePort()}`] });
    await createTopic(spu, 'restart', 1);
    const cluster = await ClusterClient.connect({
      bootstrap: [spu.bootstrap],
      reconnectBackoffMaxMs: 200,
    });
    try {
      const producer = new Producer(cluster, 'restart', {
        bufferBytes: 20_000,
        sendTimeoutMs: 300,
        lingerMs: 1,
        acks: 1,
      });
      const first = await producer.send({ key: 'a', value: 'before' });
      assert.equal(first.offset, 0n);
      const port = spu.port;
      await spu.stop('SIGKILL');
      // Sends beyond the 20 kB buffer wait for space and give up after sendTimeoutMs; the rest stay
      // buffered until the SPU is back.
      const value = Buffer.alloc(1000, 0x62);
      const sends = Array.from({ length: 40 }, (_, i) => producer.send({ value, headers: { i: String(i) } }));
      const outcomes = sends.map((send) =>
        send.then(
          () => 'sent',
          (error: unknown) => error,
        ),
      );
      const firstSettled = await Promise.race(outcomes);
      assert.equal((firstSettled as { code?: string }).code, 'BUFFER_FULL');
      spu = await startSpu({ dataDir: spu.dataDir, args: ['--listen', `127.0.0.1:${port}`] });
      const settled = await Promise.allSettled(sends);
      const accepted = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      assert.ok(accepted.length > 0 && accepted.length <= 20, `${accepted.length} accepted`);
      // The accepted ones are the first sends, stored in order after the first record.
      assert.deepEqual(
        accepted.map((r) => r.offset),
        Array.from({ length: accepted.length }, (_, i) => BigInt(i + 1)),
      );
      for (const rejected of settled.slice(accepted.length)) {
        assert.equal(rejected.status, 'rejected');
        assert.equal((rejected.reason as { code?: string }).code, 'BUFFER_FULL');
      }
      const records = await readAll(cluster, 'restart');
      assert.deepEqual(
        records.slice(1).map((r) => r.headers[0]!.value!.toString()),
        Array.from({ length: accepted.length }, (_, i) => String(i)),
      );
      await producer.close();
    } finally {
      await cluster.close();
      await spu.destroy();
    }
  });
});
