import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import {
  createFetchRequest,
  createFetchRequestPartition,
  createFetchRequestTopic,
} from '../../src/protocol/messages/fetch.ts';
import { encodeRecordBatch } from '../../src/protocol/record-batch.ts';
import { stopAll } from '../../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../../src/testing/spu.ts';
import { encodeRequestFrame, WireClient } from '../../src/testing/wire-client.ts';

/**
 * A client that pipelines many large fetches and never reads: each used to be read and built in
 * full while the earlier ones waited in the socket (64 fetches of a large partition took an SPU to
 * 4.5 GB). Responses are now built only when the connection has room for them, so the SPU holds
 * about one response for this client, and gives it back when the client goes away.
 *
 * 16 MiB in the partition and 32 pipelined fetches of all of it: built in full that is ~512 MiB;
 * bounded, one to three responses. The RSS bound leaves room for the page cache and heap noise.
 */

const topic = 'large';
const batchBytes = 1000 * 1000;
const batchCount = 16;
const fetchCount = 32;
const rssGrowthBytesMax = 200 * 1024 * 1024;

after(stopAll);

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  assert.ok(match, 'VmRSS in /proc status');
  return Number(match[1]) * 1024;
}

async function gauge(spu: TestSpu, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${spu.httpPort}/metrics`)).text();
  const match = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
  assert.ok(match, `${name} is exported`);
  return Number(match[1]);
}

function fetchFrame(correlationId: number): Buffer {
  const maxBytes = 64 * 1024 * 1024;
  const body = createFetchRequest({
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes,
    topics: [
      createFetchRequestTopic({
        topic,
        partitions: [
          createFetchRequestPartition({ partition: 0, fetchOffset: 0n, partitionMaxBytes: maxBytes }),
        ],
      }),
    ],
  });
  return encodeRequestFrame({ apiKey: 1, apiVersion: 12, correlationId, clientId: 'slow-reader' }, body);
}

describe('a client that pipelines large fetches and never reads', () => {
  it('holds about one response in the SPU, and nothing once it leaves', { timeout: 120_000 }, async () => {
    const spu = await startSpu();
    let socket: Socket | undefined;
    try {
      const producer = await WireClient.connect({ host: '127.0.0.1', port: spu.port });
      try {
        const created = await producer.createTopics([
          { name: topic, configs: { 'max.message.bytes': String(2 * batchBytes) } },
        ]);
        assert.equal(created.topics[0]?.errorCode, 0);
        for (let index = 0; index < batchCount; index++) {
          const batch = encodeRecordBatch({
            records: [{ key: null, value: Buffer.alloc(batchBytes, index) }],
          });
          const produced = await producer.produce(topic, 0, batch);
          assert.equal(produced.responses[0]?.partitionResponses[0]?.errorCode, 0);
        }
      } finally {
        await producer.close();
      }
      const before = await rssBytes(spu.process.pid);

      const slow = connect({ host: '127.0.0.1', port: spu.port });
      socket = slow;
      slow.on('error', () => undefined);
      await new Promise<void>((resolve) => slow.once('connect', () => resolve()));
      slow.pause();
      for (let index = 0; index < fetchCount; index++) slow.write(fetchFrame(index + 1));

      // Watch the SPU while it serves what it will (it cannot finish: the client never reads).
      let peak = before;
      for (let sample = 0; sample < 60; sample++) {
        peak = Math.max(peak, await rssBytes(spu.process.pid));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const held = await gauge(spu, 'tide_response_buffered_bytes');
      assert.ok(peak - before < rssGrowthBytesMax, `RSS grew ${((peak - before) / 2 ** 20).toFixed(0)} MiB`);
      assert.ok(held <= 3 * batchCount * batchBytes, `${held} response bytes held`);

      slow.destroy();
      socket = undefined;
      for (
        let attempt = 0;
        attempt < 200 && (await gauge(spu, 'tide_response_buffered_bytes')) > 0;
        attempt++
      )
        await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await gauge(spu, 'tide_response_buffered_bytes'), 0, 'everything given back on close');
    } finally {
      socket?.destroy();
      await spu.destroy();
    }
  });
});

describe('a parked fetch with fetches pipelined behind it', () => {
  it('is answered, and so are they', { timeout: 60_000 }, async () => {
    const spu = await startSpu();
    const client = await WireClient.connect({ host: '127.0.0.1', port: spu.port, requestTimeoutMs: 30_000 });
    try {
      assert.equal((await client.createTopics([{ name: topic }])).topics[0]?.errorCode, 0);
      const batch = encodeRecordBatch({ records: [{ key: null, value: Buffer.from('one') }] });
      assert.equal((await client.produce(topic, 0, batch)).responses[0]?.partitionResponses[0]?.errorCode, 0);
      const at = (fetchOffset: bigint, maxWaitMs: number) =>
        client.request(
          1,
          12,
          createFetchRequest({
            replicaId: -1,
            maxWaitMs,
            minBytes: 1,
            maxBytes: 64 * 1024 * 1024,
            topics: [
              createFetchRequestTopic({
                topic,
                partitions: [
                  createFetchRequestPartition({ partition: 0, fetchOffset, partitionMaxBytes: 1 << 20 }),
                ],
              }),
            ],
          }),
        );
      // The first parks at the log end; the second, behind it, has data and is built first.
      const parked = at(1n, 1000);
      const behind = at(0n, 0);
      const [first, second] = await Promise.all([parked, behind]);
      assert.equal(first.responses[0]?.partitions[0]?.errorCode, 0);
      assert.equal(
        second.responses[0]?.partitions[0]?.records?.length !== 0,
        true,
        'the second has the record',
      );
    } finally {
      await client.close();
      await spu.destroy();
    }
  });
});
