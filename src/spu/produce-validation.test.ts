import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchHeader } from '../protocol/batch-header.ts';
import { codecFromAttributes } from '../protocol/compression/compression.ts';
import { decodeRecordBatch, encodeRecordBatch } from '../protocol/record-batch.ts';
import { InvalidRecordError } from '../protocol/record-framing.ts';
import { poisonBatches } from '../testing/poison-batches.ts';
import { CodecSlots } from './codec-slots.ts';
import { validateProducedBatch } from './produce-validation.ts';

const records = Array.from({ length: 20 }, (_, index) => ({
  key: Buffer.from(`key-${index}`),
  value: Buffer.alloc(100, index),
  headers: [{ key: 'trace', value: Buffer.from(`t-${index}`) }],
}));

describe('validateProducedBatch', () => {
  it('recompresses to the topic codec keeping every record byte', async () => {
    const sent = encodeRecordBatch({ codec: 'gzip', producerId: 7n, baseSequence: 3, records });
    const stored = await validateProducedBatch(sent, { topicCodec: 'lz4', codecSlots: new CodecSlots(1) });
    assert.equal(codecFromAttributes(stored.readInt16BE(batchHeader.attributes)), 'lz4');
    const before = decodeRecordBatch(sent);
    const after = decodeRecordBatch(stored);
    assert.deepEqual(
      { ...after, codec: 'gzip', attributes: 0, crc: 0, batchLength: 0 },
      {
        ...before,
        attributes: 0,
        crc: 0,
        batchLength: 0,
      },
    );
  });

  it('copies a small batch out of the large buffer it arrived in', async () => {
    const batch = encodeRecordBatch({ records: records.slice(0, 1) });
    const frame = Buffer.alloc(64 * 1024);
    batch.copy(frame, 1000);
    const view = frame.subarray(1000, 1000 + batch.length);
    const stored = await validateProducedBatch(view, {
      topicCodec: undefined,
      codecSlots: new CodecSlots(1),
    });
    assert.ok(stored.equals(batch));
    assert.equal(stored.buffer.byteLength, batch.length, 'the stored batch does not pin the frame');
    const large = encodeRecordBatch({ records });
    const own = await validateProducedBatch(large, { topicCodec: undefined, codecSlots: new CodecSlots(1) });
    assert.equal(own, large, 'a batch that is most of its buffer stays a view');
  });

  it('refuses poison batches with InvalidRecordError, whatever the topic codec', async () => {
    for (const topicCodec of [undefined, 'zstd'] as const) {
      for (const poison of poisonBatches()) {
        await assert.rejects(
          validateProducedBatch(poison.batch, { topicCodec, codecSlots: new CodecSlots(1) }),
          InvalidRecordError,
          poison.name,
        );
      }
    }
  });
});

describe('CodecSlots', () => {
  it('runs at most its slots at once, in arrival order', async () => {
    const slots = new CodecSlots(2);
    let running = 0;
    let runningMax = 0;
    const started: number[] = [];
    const releases: (() => void)[] = [];
    const jobs = Array.from({ length: 6 }, (_, index) =>
      slots.run(async () => {
        started.push(index);
        running++;
        runningMax = Math.max(runningMax, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running--;
        return index;
      }),
    );
    while (started.length < 6) {
      await new Promise((resolve) => setImmediate(resolve));
      releases.shift()?.();
    }
    for (const release of releases) release();
    assert.deepEqual(await Promise.all(jobs), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5]);
    assert.equal(runningMax, 2);
    assert.equal(slots.busy, 0);
  });
});
