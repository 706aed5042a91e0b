import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkBatch } from '../protocol/batch-header.ts';
import { decodeRecordBatch, encodeRecordBatch } from '../protocol/record-batch.ts';
import { addSequence, type PartitionQueue, RecordAccumulator, stampProducer } from './record-accumulator.ts';

function accumulator(options: { batchBytes?: number; bufferBytes?: number; sendTimeoutMs?: number } = {}) {
  const sealed: PartitionQueue[] = [];
  const instance = new RecordAccumulator({
    batchBytes: options.batchBytes ?? 1000,
    lingerMs: 60_000,
    bufferBytes: options.bufferBytes ?? 10_000,
    sendTimeoutMs: options.sendTimeoutMs ?? 60_000,
    codec: 'none',
    monotonicMs: () => 0,
    onReady: (queue) => sealed.push(queue),
  });
  return { instance, sealed };
}

const noDelivery = { resolve: () => undefined, reject: () => undefined };

describe('RecordAccumulator', () => {
  test('seals a batch when the next record would overflow batchBytes; batches encode their records', () => {
    const { instance, sealed } = accumulator({ batchBytes: 400 });
    const queue = instance.queueFor('t', 0);
    for (let i = 0; i < 5; i++) {
      instance.append(queue, { key: null, value: Buffer.alloc(100, i) }, 136, noDelivery);
    }
    // 61 + 2 × 136 = 333 fits; a third record would make 469 > 400.
    assert.equal(sealed.length, 2);
    assert.deepEqual(
      queue.ready.map((batch) => decodeRecordBatch(batch.encoded!).records.length),
      [2, 2],
    );
    instance.sealAll();
    assert.equal(queue.ready.length, 3);
    assert.deepEqual(
      queue.ready.map((batch) => batch.sequence),
      [0, 1, 2],
    );
  });

  test('requeue puts a retried batch back in sequence order', () => {
    const { instance } = accumulator({ batchBytes: 100 });
    const queue = instance.queueFor('t', 1);
    for (let i = 0; i < 3; i++)
      instance.append(queue, { key: null, value: Buffer.alloc(50) }, 86, noDelivery);
    instance.sealAll();
    const [first, second, third] = queue.ready.splice(0);
    instance.requeue(queue, third!);
    instance.requeue(queue, first!);
    instance.requeue(queue, second!);
    assert.deepEqual(
      queue.ready.map((batch) => batch.sequence),
      [0, 1, 2],
    );
  });

  test('the buffer budget is first come, first served, and waiting gives up after sendTimeoutMs', async () => {
    const { instance } = accumulator({ bufferBytes: 100, sendTimeoutMs: 20 });
    assert.equal(instance.tryReserve(80), true);
    const waiting = instance.reserve(50);
    assert.equal(instance.tryReserve(10), false, 'no overtaking a waiter');
    instance.release(80);
    await waiting;
    assert.equal(instance.bufferedBytes, 50);
    await assert.rejects(instance.reserve(60), { code: 'BUFFER_FULL' });
    await assert.rejects(instance.reserve(101), /can never fit/);
  });
});

test('stamping a producer id, epoch and sequence keeps the batch valid; sequences wrap', () => {
  const batch = encodeRecordBatch({ records: [{ key: null, value: Buffer.from('a') }] });
  stampProducer(batch, 77n, 3, 12);
  checkBatch(batch);
  const decoded = decodeRecordBatch(batch);
  assert.deepEqual([decoded.producerId, decoded.producerEpoch, decoded.baseSequence], [77n, 3, 12]);
  assert.equal(addSequence(2 ** 31 - 2, 3), 1);
  assert.equal(addSequence(5, 3), 8);
});
