import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Tide } from '../src/client/tide.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { encodeRecordBatch } from '../src/protocol/record-batch.ts';
import { stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';
import { WireClient } from '../src/testing/wire-client.ts';

/**
 * Tide's idempotent producer when the SPU refuses its epoch: another writer takes the producer's id
 * with a newer epoch, so the producer's next batch is refused (INVALID_PRODUCER_EPOCH) and fails,
 * after which the producer bumps its epoch and starts its sequences again, and later sends succeed.
 */

let spu: TestSpu;
let wire: WireClient;

before(async () => {
  spu = await startSpu();
  wire = await WireClient.connect({ host: '127.0.0.1', port: spu.port });
  assert.equal((await wire.createTopics([{ name: 'fenced' }])).topics[0]?.errorCode, 0);
});

after(async () => {
  wire?.close();
  await spu?.destroy();
  await stopAll();
});

describe('idempotent Tide producer', () => {
  it('recovers from a refused epoch by bumping it; nothing it acknowledged is lost', async () => {
    const tide = await Tide.connect({ bootstrap: spu.bootstrap });
    try {
      const producer = tide.producer('fenced', { lingerMs: 0 });
      const first = await producer.send({ partition: 0, value: 'a' });
      assert.equal(first.offset, 0n);
      const { producerId, epoch } = producer.producerIdentity;
      assert.ok(producerId >= 0n);
      const intruder = encodeRecordBatch({
        producerId,
        producerEpoch: epoch + 1,
        baseSequence: 0,
        records: ['x', 'y', 'z'].map((value) => ({ key: null, value: Buffer.from(value) })),
      });
      const taken = await wire.produce('fenced', 0, intruder, { acks: -1 });
      assert.equal(taken.responses[0]!.partitionResponses[0]!.errorCode, 0);

      await assert.rejects(producer.send({ partition: 0, value: 'b' }), {
        errorCode: errorCodes.INVALID_PRODUCER_EPOCH,
      });
      // The bumped epoch (epoch + 1) meets the intruder's batch at sequence 0..2: out of order, and
      // the producer bumps again; from then on its sends are stored.
      await assert.rejects(producer.send({ partition: 0, value: 'c' }), {
        errorCode: errorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER,
      });
      const stored = (await producer.send({ partition: 0, value: 'c' })).offset;
      assert.equal(stored, 4n);
      assert.equal(producer.producerIdentity.epoch, epoch + 2);
      assert.equal((await producer.send({ partition: 0, value: 'd' })).offset, 5n);
      await producer.close();
    } finally {
      await tide.close();
    }
  });
});
