import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ClusterClient } from '../src/client/cluster-client.ts';
import { Consumer, type ConsumerOptions, type ConsumerRecord } from '../src/client/consumer.ts';
import { Offset } from '../src/client/offset.ts';
import { Producer } from '../src/client/producer.ts';
import { stablePort } from '../src/testing/ports.ts';
import { stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';
import { createTopic, storedBatches } from './helpers/client-kit.ts';

/**
 * The consumer against a real standalone SPU: every start position, stopping at an end, offsets in
 * the middle of a batch, out-of-range positions per reset policy, abort while long-polling, several
 * partitions in one fetch, and following the SPU through a restart.
 */

describe('consumer against a real SPU', () => {
  let spu: TestSpu;
  let cluster: ClusterClient;
  let baseTimestamp = 0;

  async function read(topic: string, options: ConsumerOptions): Promise<ConsumerRecord[]> {
    const records: ConsumerRecord[] = [];
    for await (const record of new Consumer(cluster, topic, options)) records.push(record);
    return records;
  }

  const values = (records: readonly ConsumerRecord[]): string[] => records.map((r) => r.value!.toString());

  before(async () => {
    spu = await startSpu();
    cluster = await ClusterClient.connect({ bootstrap: [spu.bootstrap] });
    await createTopic(spu, 'positions', 1);
    // Two batches of 10 records each, with timestamps base+0 … base+19.
    baseTimestamp = Date.now() - 60_000;
    const producer = new Producer(cluster, 'positions', { lingerMs: 60_000 });
    for (const half of [0, 10]) {
      const sends = Array.from({ length: 10 }, (_, i) =>
        producer.send({ key: `k${half + i}`, value: `v${half + i}`, timestamp: baseTimestamp + half + i }),
      );
      await producer.flush();
      await Promise.all(sends);
    }
    await producer.close();
  });
  after(async () => {
    await cluster?.close();
    await spu?.destroy();
    await stopAll();
  });

  test('start positions: beginning, absolute (mid-batch), fromEnd, fromBeginning, timestamp', async () => {
    assert.equal((await storedBatches(spu, 'positions', 0)).length, 2);
    const all = await read('positions', { offset: Offset.beginning(), until: Offset.end() });
    assert.deepEqual(
      values(all),
      Array.from({ length: 20 }, (_, i) => `v${i}`),
    );
    assert.deepEqual(
      all.map((r) => r.offset),
      Array.from({ length: 20 }, (_, i) => BigInt(i)),
    );
    assert.equal(all[3]!.key!.toString(), 'k3');
    assert.equal(all[3]!.timestamp, baseTimestamp + 3);
    // Offset 5 is inside the first batch: records before it are skipped.
    const fromFive = await read('positions', { offset: Offset.absolute(5), until: Offset.absolute(8) });
    assert.deepEqual(values(fromFive), ['v5', 'v6', 'v7']);
    assert.deepEqual(values(await read('positions', { offset: Offset.fromEnd(3), until: Offset.end() })), [
      'v17',
      'v18',
      'v19',
    ]);
    assert.equal((await read('positions', { offset: Offset.fromEnd(100), until: Offset.end() })).length, 20);
    assert.deepEqual(
      values(await read('positions', { offset: Offset.beginning(), until: Offset.fromBeginning(2) })),
      ['v0', 'v1'],
    );
    const byTime = await read('positions', {
      offset: Offset.timestamp(baseTimestamp + 12),
      until: Offset.end(),
    });
    assert.equal(byTime[0]!.offset, 12n);
    assert.equal(byTime.length, 8);
    // A position at the end with until=end: nothing to read, the iteration ends at once.
    assert.deepEqual(await read('positions', { offset: Offset.end(), until: Offset.end() }), []);
  });

  test('batches() yields whole fetch answers per partition', async () => {
    const consumer = new Consumer(cluster, 'positions', { offset: Offset.beginning(), until: Offset.end() });
    let total = 0;
    for await (const batch of consumer.batches()) {
      assert.equal(batch.partition, 0);
      assert.equal(batch.highWatermark, 20n);
      total += batch.records.length;
    }
    assert.equal(total, 20);
  });

  test('out-of-range positions follow the reset policy', async () => {
    const earliest: ConsumerRecord[] = [];
    const consumer = new Consumer(cluster, 'positions', {
      offset: Offset.absolute(1000),
      resetPolicy: 'earliest',
    });
    for await (const record of consumer) {
      earliest.push(record);
      if (earliest.length === 2) break;
    }
    assert.deepEqual(values(earliest), ['v0', 'v1']);
    await assert.rejects(read('positions', { offset: Offset.absolute(1000), resetPolicy: 'error' }), {
      errorName: 'OFFSET_OUT_OF_RANGE',
    });
  });

  test('aborting the signal ends a waiting iteration without an error', async () => {
    const controller = new AbortController();
    const consumer = new Consumer(cluster, 'positions', {
      offset: Offset.end(),
      maxWaitMs: 5_000,
      signal: controller.signal,
    });
    const iteration = (async () => {
      const got: ConsumerRecord[] = [];
      for await (const record of consumer) {
        got.push(record);
        controller.abort();
      }
      return got;
    })();
    // One new record arrives; the loop aborts after it while the next fetch is long-polling.
    const producer = new Producer(cluster, 'positions', { lingerMs: 0 });
    // The consumer may resolve the end after this record; keep sending until it sees one.
    let sent = 0;
    const done = iteration.then((got) => got);
    while (!controller.signal.aborted && sent < 200) {
      await producer.send({ value: `late-${sent++}` });
      await Promise.race([done, new Promise((resolve) => setImmediate(resolve))]);
    }
    const got = await done;
    assert.equal(got.length, 1);
    assert.match(got[0]!.value!.toString(), /^late-/);
    await producer.close();
  });

  test('aborting while a fetch is long-polling ends the iteration (without waiting out maxWaitMs)', async () => {
    const controller = new AbortController();
    const consumer = new Consumer(cluster, 'positions', {
      offset: Offset.end(),
      maxWaitMs: 60_000, // were the abort to wait for the fetch, this test would outlast its file budget
      signal: controller.signal,
    });
    const iteration = (async () => {
      const got: ConsumerRecord[] = [];
      for await (const record of consumer) got.push(record);
      return got;
    })();
    // Abort once the long-poll is on the wire (the leader's connection has a request outstanding).
    const leaderId = (await cluster.topicMetadata('positions')).partitions[0]!.leaderId;
    const connection = await cluster.connectionTo(leaderId);
    for (let polls = 0; connection.inflightRequests === 0 && polls < 100_000; polls++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(connection.inflightRequests, 1);
    controller.abort();
    assert.deepEqual(await iteration, []);
  });

  test('several partitions are read together; unknown partitions are refused', async () => {
    await createTopic(spu, 'multi', 3);
    const producer = new Producer(cluster, 'multi');
    await producer.sendBatch(
      Array.from({ length: 30 }, (_, i) => ({ partition: i % 3, value: `p${i % 3}-${Math.floor(i / 3)}` })),
    );
    await producer.close();
    const records = await read('multi', { offset: Offset.beginning(), until: Offset.end() });
    assert.equal(records.length, 30);
    for (let partition = 0; partition < 3; partition++) {
      assert.deepEqual(
        values(records.filter((r) => r.partition === partition)),
        Array.from({ length: 10 }, (_, i) => `p${partition}-${i}`),
      );
    }
    const some = await read('multi', { partitions: [2], offset: Offset.beginning(), until: Offset.end() });
    assert.ok(some.every((r) => r.partition === 2) && some.length === 10);
    await assert.rejects(read('multi', { partitions: [3] }), { errorName: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });
});

describe('consumer across an SPU restart', () => {
  after(stopAll);

  test('a live consumer follows the SPU back and misses nothing', async () => {
    let spu = await startSpu({ args: ['--listen', `127.0.0.1:${await stablePort()}`] });
    await createTopic(spu, 'follow', 1);
    const cluster = await ClusterClient.connect({ bootstrap: [spu.bootstrap], reconnectBackoffMaxMs: 200 });
    try {
      const producer = new Producer(cluster, 'follow', { lingerMs: 0 });
      await producer.sendBatch(Array.from({ length: 5 }, (_, i) => ({ value: `r${i}` })));
      const consumer = new Consumer(cluster, 'follow', {
        offset: Offset.beginning(),
        until: Offset.absolute(10),
        maxWaitMs: 200,
      });
      const got: string[] = [];
      const iterator = consumer[Symbol.asyncIterator]();
      for (let i = 0; i < 5; i++) got.push((await iterator.next()).value!.value!.toString());
      const port = spu.port;
      await spu.stop('SIGKILL');
      spu = await startSpu({ dataDir: spu.dataDir, args: ['--listen', `127.0.0.1:${port}`] });
      await producer.sendBatch(Array.from({ length: 5 }, (_, i) => ({ value: `r${i + 5}` })));
      for (;;) {
        const next = await iterator.next();
        if (next.done === true) break;
        got.push(next.value.value!.toString());
      }
      assert.deepEqual(
        got,
        Array.from({ length: 10 }, (_, i) => `r${i}`),
      );
      await producer.close();
    } finally {
      await cluster.close();
      await spu.destroy();
    }
  });
});
