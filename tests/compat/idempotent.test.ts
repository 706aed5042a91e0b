import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { Tide } from '../../src/client/tide.ts';
import { splitBatches } from '../../src/protocol/batch-header.ts';
import { decodeRecordBatch } from '../../src/protocol/record-batch.ts';
import { stopAll } from '../../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../../src/testing/spu.ts';
import { WireClient } from '../../src/testing/wire-client.ts';
import { CuttingProxy } from '../helpers/cutting-proxy.ts';

/**
 * Idempotent producers of three clients (confluent-kafka-python / librdkafka 2.0.2, kafkajs 2.2.4
 * and Tide's own) write through a proxy that loses some Produce answers after the SPU appended the
 * batch, so every client must retry batches that are already stored. The SPU advertises the proxy's
 * address, so the clients reach it only through the proxy. Each test then reads the partition
 * directly from the SPU: every value exactly once, in send order, at the offset it was acknowledged
 * with.
 */

const python = '/usr/bin/python3';
const scripts = fileURLToPath(new URL('./python/', import.meta.url));
const run = promisify(execFile);
const cuts = { cutEvery: 4, cutsMax: 3 };

let proxy: CuttingProxy;
let spu: TestSpu;
let wire: WireClient;

before(async () => {
  proxy = await CuttingProxy.start(cuts);
  spu = await startSpu({ args: ['--advertise', proxy.address] });
  proxy.setTarget('127.0.0.1', spu.port);
  wire = await WireClient.connect({ host: '127.0.0.1', port: spu.port });
});

after(async () => {
  wire?.close();
  await proxy?.close();
  await spu?.destroy();
  await stopAll();
});

async function createTopic(name: string): Promise<void> {
  const response = await wire.createTopics([{ name, partitions: 1 }]);
  assert.equal(response.topics[0]?.errorCode, 0);
}

/** Every record of partition 0, read straight from the SPU: [offset, value]. */
async function storedRecords(topic: string): Promise<Array<[bigint, string]>> {
  const records: Array<[bigint, string]> = [];
  let offset = 0n;
  for (;;) {
    const response = await wire.fetch(topic, 0, offset);
    const partition = response.responses[0]!.partitions[0]!;
    assert.equal(partition.errorCode, 0);
    for (const batch of splitBatches(partition.records ?? Buffer.alloc(0)).batches)
      for (const record of decodeRecordBatch(batch).records) {
        if (record.offset < offset) continue;
        records.push([record.offset, record.value!.toString()]);
      }
    const next = (records.at(-1)?.[0] ?? offset - 1n) + 1n;
    if (next >= partition.highWatermark) return records;
    offset = next;
  }
}

/** Exactly the expected values, in order, each at the offset it was acknowledged with. */
async function assertExactlyOnce(topic: string, values: string[], acked: Map<string, bigint>): Promise<void> {
  const stored = await storedRecords(topic);
  assert.deepEqual(
    stored.map(([, value]) => value),
    values,
    'every value once, in send order',
  );
  for (const [offset, value] of stored) assert.equal(acked.get(value), offset, `offset of ${value}`);
  assert.equal(acked.size, values.length, 'every record acknowledged');
}

describe('idempotent producers through a proxy that loses Produce answers', () => {
  it('confluent-kafka-python (enable.idempotence=true)', async () => {
    await createTopic('idem-python');
    proxy.arm(cuts);
    const count = 60;
    const { stdout } = await run(
      python,
      [join(scripts, 'idempotent_producer.py'), proxy.address, 'idem-python', String(count)],
      { timeout: 80_000, killSignal: 'SIGKILL' },
    );
    const result = JSON.parse(stdout) as { acked: Array<[number, number]>; errors: string[] };
    assert.deepEqual(result.errors, []);
    assert.ok(proxy.cuts > 0, 'the proxy lost at least one answer');
    const acked = new Map(result.acked.map(([index, offset]) => [`py-${index}`, BigInt(offset)]));
    const values = Array.from({ length: count }, (_, index) => `py-${index}`);
    await assertExactlyOnce('idem-python', values, acked);
  });

  it('kafkajs (idempotent: true, maxInFlightRequests: 1)', async () => {
    await createTopic('idem-kafkajs');
    proxy.arm(cuts);
    const kafka = new Kafka({
      clientId: 'idempotent-test',
      brokers: [proxy.address],
      logLevel: logLevel.NOTHING,
      retry: { initialRetryTime: 100, retries: 8 },
    });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const acked = new Map<string, bigint>();
    const values: string[] = [];
    try {
      for (let index = 0; index < 24; index++) {
        const value = `js-${index}`;
        values.push(value);
        const [answer] = await producer.send({ topic: 'idem-kafkajs', messages: [{ partition: 0, value }] });
        acked.set(value, BigInt(answer!.baseOffset!));
      }
    } finally {
      await producer.disconnect();
    }
    assert.ok(proxy.cuts > 0, 'the proxy lost at least one answer');
    await assertExactlyOnce('idem-kafkajs', values, acked);
  });

  it("Tide's producer (idempotent by default with acks=all)", async () => {
    await createTopic('idem-tide');
    proxy.arm(cuts);
    const tide = await Tide.connect({ bootstrap: proxy.address });
    try {
      const producer = tide.producer('idem-tide', { lingerMs: 1, batchBytes: 200 });
      const values = Array.from({ length: 60 }, (_, index) => `tide-${index}`);
      const answers = await Promise.all(values.map((value) => producer.send({ partition: 0, value })));
      await producer.close();
      assert.ok(producer.producerIdentity.producerId >= 0n);
      assert.ok(proxy.cuts > 0, 'the proxy lost at least one answer');
      const acked = new Map(values.map((value, index) => [value, answers[index]!.offset]));
      await assertExactlyOnce('idem-tide', values, acked);
    } finally {
      await tide.close();
    }
  });
});
