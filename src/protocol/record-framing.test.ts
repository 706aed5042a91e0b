import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  batchFromSection,
  poisonBatches,
  recordWithFields,
  validSection,
} from '../testing/poison-batches.ts';
import { SeededRandom } from '../testing/random.ts';
import { batchHeader } from './batch-header.ts';
import { codecFromAttributes, decompress } from './compression/compression.ts';
import { ProtocolError } from './protocol-error.ts';
import { decodeRecordBatch, encodeRecordBatch } from './record-batch.ts';
import { checkRecordFraming, InvalidRecordError } from './record-framing.ts';

/** Runs the framing check on a whole batch, as the produce path does after its CRC check. */
function checkBatchRecords(batch: Buffer): void {
  const codec = codecFromAttributes(batch.readInt16BE(batchHeader.attributes));
  const section = decompress(codec, batch.subarray(batchHeader.bytes));
  checkRecordFraming(section, { recordCount: batch.readInt32BE(batchHeader.recordCount) });
}

describe('record framing', () => {
  it('accepts what the encoder writes: keys, values, nulls, headers, large deltas', () => {
    const batch = encodeRecordBatch({
      baseTimestamp: 1_700_000_000_000n,
      records: [
        { key: Buffer.from('key'), value: Buffer.alloc(3000, 1), timestamp: 1_700_000_000_000n },
        { key: null, value: null, timestamp: 1_600_000_000_000n },
        {
          key: Buffer.alloc(0),
          value: Buffer.from('v'),
          headers: [
            { key: 'trace', value: Buffer.from('abc') },
            { key: '', value: null },
          ],
          timestamp: 2n ** 62n,
        },
      ],
    });
    checkBatchRecords(batch);
  });

  it('refuses every poison batch with InvalidRecordError', () => {
    // The header alone refuses these two, before any walk (produce-validation.ts).
    const headerOnly = new Set(['compression codec 5', 'an offset range wider than the records']);
    for (const poison of poisonBatches()) {
      if (headerOnly.has(poison.name)) continue;
      assert.throws(() => checkBatchRecords(poison.batch), InvalidRecordError, poison.name);
    }
  });

  it('bounds headers per record and per batch', () => {
    const headers = Buffer.alloc(2 * 11, 0x00); // eleven empty-key, empty-value headers
    const section = recordWithFields({ headerCount: 11, headerBytes: headers });
    checkRecordFraming(section, { recordCount: 1 });
    assert.throws(
      () => checkRecordFraming(section, { recordCount: 1, recordHeadersMax: 10 }),
      /declares 11 headers/,
    );
    const twoRecords = Buffer.concat([
      section,
      recordWithFields({ offsetDelta: 1, headerCount: 11, headerBytes: headers }),
    ]);
    assert.throws(
      () => checkRecordFraming(twoRecords, { recordCount: 2, batchHeadersMax: 20 }),
      /declares 11 headers/,
    );
  });

  it('refuses a header bomb at its count, before walking the headers', () => {
    const bomb = recordWithFields({ headerCount: 31_000_000, headerBytes: Buffer.alloc(62_000_000) });
    assert.throws(() => checkRecordFraming(bomb, { recordCount: 1 }), /declares 31000000 headers/);
  });

  it('agrees with the full decoder on mutated sections', () => {
    const random = new SeededRandom(0x5eed_f4a3);
    const base = validSection(['alpha', 'beta', 'gamma', 'delta']);
    for (let iteration = 0; iteration < 20_000; iteration++) {
      const section = Buffer.from(base);
      for (let flips = random.int(1, 3); flips > 0; flips--)
        section[random.int(0, section.length - 1)] = random.int(0, 255);
      const batch = batchFromSection(section, { recordCount: 4 });
      let framingError: unknown;
      try {
        checkRecordFraming(section, { recordCount: 4 });
      } catch (error) {
        framingError = error;
      }
      if (framingError !== undefined) {
        assert.ok(framingError instanceof InvalidRecordError, `iteration ${iteration}: ${framingError}`);
        continue;
      }
      // What the walker accepts, the decoder reads, with offsets as the header claims.
      const decoded = decodeRecordBatch(batch);
      assert.deepEqual(
        decoded.records.map((record) => record.offsetDelta),
        [0, 1, 2, 3],
        `iteration ${iteration}`,
      );
    }
  });

  it('is a ProtocolError, so callers that map ProtocolError keep working', () => {
    assert.ok(new InvalidRecordError('x') instanceof ProtocolError);
  });
});
