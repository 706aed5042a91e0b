import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  batchHeader,
  checkBatch,
  computeBatchCrc,
  setBaseOffset,
  setPartitionLeaderEpoch,
} from './batch-header.ts';
import { type Codec, codecIds, compress } from './compression/compression.ts';
import { ProtocolError } from './protocol-error.ts';
import {
  decodeRecordBatch,
  encodeRecordBatch,
  type RecordBatchInput,
  type RecordHeader,
  type RecordInput,
  varintBytes,
  varlongBytes,
} from './record-batch.ts';
import { Writer } from './writer.ts';

const codecs: readonly Codec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

// Arbitraries -------------------------------------------------------------------------------------------

const bytes = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 500, maxLength: 3000 }) },
);
const nullableBytes = fc.option(
  bytes.map((array) => Buffer.from(array)),
  { nil: null, freq: 4 },
);
const header: fc.Arbitrary<RecordHeader> = fc
  .tuple(fc.string({ unit: 'grapheme', maxLength: 12 }), nullableBytes)
  .map(([key, value]) => ({ key, value }));
const timestamp = fc.bigInt({ min: -(2n ** 40n), max: 2n ** 45n });
const record: fc.Arbitrary<RecordInput> = fc.record(
  {
    key: nullableBytes,
    value: nullableBytes,
    headers: fc.array(header, { maxLength: 4 }),
    timestamp,
  },
  { requiredKeys: ['key', 'value'] },
);

const batchInput: fc.Arbitrary<RecordBatchInput> = fc
  .record(
    {
      baseOffset: fc.bigInt({ min: 0n, max: 2n ** 62n }),
      partitionLeaderEpoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
      codec: fc.constantFrom(...codecs),
      timestampType: fc.constantFrom('create-time' as const, 'log-append-time' as const),
      baseTimestamp: timestamp,
      producerId: fc.bigInt({ min: -1n, max: 2n ** 63n - 1n }),
      producerEpoch: fc.integer({ min: -1, max: 32767 }),
      baseSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
      transactional: fc.boolean(),
      control: fc.boolean(),
      records: fc.array(record, { maxLength: 30 }),
      gaps: fc.nat(3),
    },
    { requiredKeys: ['codec', 'records', 'gaps'] },
  )
  .map(({ gaps, ...input }) => ({
    ...input,
    // With gaps, offsets skip as they do in compacted batches.
    records:
      gaps === 0 ? input.records : input.records.map((r, i) => ({ ...r, offsetDelta: i * (gaps + 1) })),
  }));

// Expectations ------------------------------------------------------------------------------------------

function expectedBaseTimestamp(input: RecordBatchInput): bigint {
  return input.baseTimestamp ?? input.records[0]?.timestamp ?? -1n;
}

function assertDecodesTo(batch: Buffer, input: RecordBatchInput): void {
  const decoded = decodeRecordBatch(batch);
  const baseTimestamp = expectedBaseTimestamp(input);
  const timestamps = input.records.map((r) => r.timestamp ?? baseTimestamp);
  let maxTimestamp = timestamps[0] ?? baseTimestamp;
  for (const t of timestamps) if (t > maxTimestamp) maxTimestamp = t;
  const deltas = input.records.map((r, i) => r.offsetDelta ?? i);
  assert.equal(decoded.baseOffset, input.baseOffset ?? 0n);
  assert.equal(decoded.partitionLeaderEpoch, input.partitionLeaderEpoch ?? -1);
  assert.equal(decoded.magic, 2);
  assert.equal(decoded.codec, input.codec ?? 'none');
  assert.equal(decoded.timestampType, input.timestampType ?? 'create-time');
  assert.equal(decoded.isTransactional, input.transactional ?? false);
  assert.equal(decoded.isControl, input.control ?? false);
  assert.equal(decoded.baseTimestamp, baseTimestamp);
  assert.equal(decoded.maxTimestamp, maxTimestamp);
  assert.equal(decoded.producerId, input.producerId ?? -1n);
  assert.equal(decoded.producerEpoch, input.producerEpoch ?? -1);
  assert.equal(decoded.baseSequence, input.baseSequence ?? -1);
  assert.equal(decoded.recordCount, input.records.length);
  assert.equal(decoded.lastOffsetDelta, deltas.length === 0 ? 0 : Math.max(...deltas));
  assert.equal(decoded.batchLength, batch.length - 12);
  assert.equal(decoded.records.length, input.records.length);
  decoded.records.forEach((got, i) => {
    const want = input.records[i]!;
    assert.equal(got.offsetDelta, deltas[i]);
    assert.equal(got.offset, decoded.baseOffset + BigInt(deltas[i]!));
    assert.equal(got.timestampDelta, timestamps[i]! - baseTimestamp);
    assert.equal(got.timestamp, input.timestampType === 'log-append-time' ? maxTimestamp : timestamps[i]);
    assert.equal(got.attributes, 0);
    assert.deepEqual(got.key, want.key);
    assert.deepEqual(got.value, want.value);
    assert.deepEqual(got.headers, want.headers ?? []);
  });
}

// Hand-made batches -------------------------------------------------------------------------------------

/** Wraps a records section, as given, in a batch with a correct length and CRC. */
function wrapSection(section: Buffer, recordCount: number, codec: Codec = 'none'): Buffer {
  const payload = compress(codec, section);
  const batch = Buffer.alloc(batchHeader.bytes + payload.length);
  batch.writeInt32BE(batch.length - 12, batchHeader.batchLength);
  batch.writeInt8(2, batchHeader.magic);
  batch.writeInt16BE(codecIds[codec], batchHeader.attributes);
  batch.writeInt32BE(Math.max(recordCount - 1, 0), batchHeader.lastOffsetDelta);
  batch.writeInt32BE(recordCount, batchHeader.recordCount);
  payload.copy(batch, batchHeader.bytes);
  batch.writeUInt32BE(computeBatchCrc(batch), batchHeader.crc);
  return batch;
}

function sectionOf(records: readonly RecordInput[]): Buffer {
  return encodeRecordBatch({ records }).subarray(batchHeader.bytes);
}

function refuses(batch: Buffer, pattern?: RegExp): void {
  assert.throws(
    () => decodeRecordBatch(batch),
    (error: unknown) =>
      error instanceof ProtocolError && (pattern === undefined || pattern.test(error.message)),
  );
}

// Tests -------------------------------------------------------------------------------------------------

describe('round trips', () => {
  test('every codec: null/empty/binary keys and values, headers, timestamps, offset gaps', () => {
    fc.assert(
      fc.property(batchInput, (input) => {
        const batch = encodeRecordBatch(input);
        checkBatch(batch);
        assertDecodesTo(batch, input);
      }),
      { numRuns: 400 },
    );
  });

  for (const codec of codecs) {
    test(`${codec}: thousands of records`, () => {
      const records = Array.from({ length: 3000 }, (_, i) => ({
        key: i % 5 === 0 ? null : Buffer.from(`key-${i}`),
        value: Buffer.from(`{"n":${i},"text":"${'x'.repeat(i % 50)}"}`),
        headers: i % 3 === 0 ? [{ key: 'trace', value: Buffer.from([i & 0xff]) }] : [],
        timestamp: 1_700_000_000_000n + BigInt(i % 17),
      }));
      const input = { codec, baseOffset: 1000n, records };
      assertDecodesTo(encodeRecordBatch(input), input);
    });
  }

  test('defaults: no records, no timestamps', () => {
    const empty = decodeRecordBatch(encodeRecordBatch({ records: [] }));
    assert.equal(empty.recordCount, 0);
    assert.equal(empty.lastOffsetDelta, 0);
    assert.equal(empty.baseTimestamp, -1n);
    assert.deepEqual(empty.records, []);
    const input = { baseTimestamp: 50n, records: [{ key: null, value: null }] };
    assert.equal(decodeRecordBatch(encodeRecordBatch(input)).records[0]!.timestamp, 50n);
  });

  test('raw attributes are kept, with the codec option overriding bits 0-2', () => {
    const decoded = decodeRecordBatch(encodeRecordBatch({ attributes: 0x10 | 0x01, records: [] }));
    assert.equal(decoded.codec, 'gzip');
    assert.equal(decoded.isTransactional, true);
    const overridden = decodeRecordBatch(encodeRecordBatch({ attributes: 0x01, codec: 'lz4', records: [] }));
    assert.equal(overridden.codec, 'lz4');
    assert.equal(overridden.attributes, 0x03);
  });

  test('uncompressed keys and values are views into the batch', () => {
    const batch = encodeRecordBatch({ records: [{ key: Buffer.from('key'), value: Buffer.from('value') }] });
    const record = decodeRecordBatch(batch).records[0]!;
    assert.equal(record.key!.buffer, batch.buffer);
    batch[batch.indexOf('value')] = 0x56;
    assert.equal(record.value!.toString(), 'Value');
  });

  test('size helpers agree with the writer', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        (int, long) => {
          assert.equal(varintBytes(int), new Writer().varint(int).length);
          assert.equal(varlongBytes(long), new Writer().varlong(long).length);
        },
      ),
    );
  });
});

describe('golden bytes built by hand from the specification', () => {
  // Three records at baseOffset 16, leader epoch 5, producer 7/1, base sequence 9, CreateTime.
  const golden = Buffer.from(
    [
      '0000000000000010', // baseOffset 16
      '00000053', // batchLength 83 = 95 - 12
      '00000005', // partitionLeaderEpoch 5
      '02', // magic
      '14c0210a', // CRC32C of bytes 21..95
      '0000', // attributes: no codec, CreateTime
      '00000002', // lastOffsetDelta 2
      '0000018bcfe56800', // baseTimestamp 1_700_000_000_000
      '0000018bcfe56802', // maxTimestamp base + 2
      '0000000000000007', // producerId 7
      '0001', // producerEpoch 1
      '00000009', // baseSequence 9
      '00000003', // recordCount 3
      // record 0: length 12, attributes 0, timestampDelta 0, offsetDelta 0, key "k", value "hello", 0 headers
      '18 00 00 00 02 6b 0a 68656c6c6f 00',
      // record 1: length 10, timestampDelta +2, offsetDelta 1, null key, empty value, header h=v
      '14 00 04 02 01 00 02 02 68 02 76',
      // record 2: length 9, timestampDelta -1, offsetDelta 2, empty key, null value, header n=null
      '12 00 01 04 00 01 02 02 6e 01',
    ]
      .join('')
      .replaceAll(' ', ''),
    'hex',
  );
  const input: RecordBatchInput = {
    baseOffset: 16n,
    partitionLeaderEpoch: 5,
    producerId: 7n,
    producerEpoch: 1,
    baseSequence: 9,
    records: [
      { key: Buffer.from('k'), value: Buffer.from('hello'), timestamp: 1_700_000_000_000n },
      {
        key: null,
        value: Buffer.alloc(0),
        headers: [{ key: 'h', value: Buffer.from('v') }],
        timestamp: 1_700_000_000_002n,
      },
      {
        key: Buffer.alloc(0),
        value: null,
        headers: [{ key: 'n', value: null }],
        timestamp: 1_699_999_999_999n,
      },
    ],
  };

  test('decodes to the records it was written from', () => {
    const batch = decodeRecordBatch(golden);
    assert.equal(batch.crc, 0x14c0210a);
    assert.deepEqual(
      batch.records.map((r) => [
        r.offset,
        r.timestamp,
        r.key?.toString() ?? null,
        r.value?.toString() ?? null,
      ]),
      [
        [16n, 1_700_000_000_000n, 'k', 'hello'],
        [17n, 1_700_000_000_002n, null, ''],
        [18n, 1_699_999_999_999n, '', null],
      ],
    );
    assert.deepEqual(batch.records[1]!.headers, [{ key: 'h', value: Buffer.from('v') }]);
    assert.deepEqual(batch.records[2]!.headers, [{ key: 'n', value: null }]);
    assertDecodesTo(golden, input);
  });

  test('the encoder writes exactly these bytes', () => {
    assert.deepEqual(encodeRecordBatch(input), golden);
  });
});

describe('CRC and header rewrites', () => {
  test('flipping any bit in [21, end) is detected, for every codec', () => {
    for (const codec of codecs) {
      const batch = encodeRecordBatch({
        codec,
        baseTimestamp: 1000n,
        records: [
          { key: Buffer.from('a'), value: Buffer.from('first value'), headers: [{ key: 'h', value: null }] },
          { key: null, value: Buffer.from('second value') },
        ],
      });
      for (let bit = batchHeader.crcStart * 8; bit < batch.length * 8; bit++) {
        const corrupt = Buffer.from(batch);
        corrupt[bit >> 3]! ^= 1 << (bit & 7);
        assert.throws(() => checkBatch(corrupt), ProtocolError, `${codec} bit ${bit}`);
        assert.throws(() => decodeRecordBatch(corrupt), ProtocolError, `${codec} bit ${bit}`);
      }
    }
  });

  test('flipping a bit of batchLength, magic or the CRC field is detected', () => {
    const batch = encodeRecordBatch({ records: [{ key: null, value: Buffer.from('v') }] });
    for (let bit = batchHeader.batchLength * 8; bit < batchHeader.crcStart * 8; bit++) {
      if (bit >= batchHeader.partitionLeaderEpoch * 8 && bit < batchHeader.magic * 8) continue;
      const corrupt = Buffer.from(batch);
      corrupt[bit >> 3]! ^= 1 << (bit & 7);
      assert.throws(() => decodeRecordBatch(corrupt), ProtocolError, `bit ${bit}`);
    }
  });

  test('setBaseOffset and setPartitionLeaderEpoch keep the CRC valid and move the offsets', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...codecs),
        fc.bigInt({ min: 0n, max: 2n ** 62n }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (codec, baseOffset, epoch) => {
          const batch = encodeRecordBatch({
            codec,
            records: [
              { key: null, value: Buffer.from('a') },
              { key: null, value: Buffer.from('b') },
            ],
          });
          const crc = batch.readUInt32BE(batchHeader.crc);
          setBaseOffset(batch, baseOffset);
          setPartitionLeaderEpoch(batch, epoch);
          checkBatch(batch);
          assert.equal(batch.readUInt32BE(batchHeader.crc), crc);
          const decoded = decodeRecordBatch(batch);
          assert.equal(decoded.partitionLeaderEpoch, epoch);
          assert.deepEqual(
            decoded.records.map((r) => r.offset),
            [baseOffset, baseOffset + 1n],
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  test('verifyCrc: false skips only the CRC', () => {
    const batch = encodeRecordBatch({ records: [{ key: null, value: Buffer.from('v') }] });
    batch.writeUInt32BE(0, batchHeader.crc);
    refuses(batch, /CRC/);
    assert.equal(decodeRecordBatch(batch, { verifyCrc: false }).records.length, 1);
    const short = batch.subarray(0, 60);
    assert.throws(() => decodeRecordBatch(short, { verifyCrc: false }), ProtocolError);
    const badMagic = Buffer.from(batch);
    badMagic[batchHeader.magic] = 1;
    assert.throws(() => decodeRecordBatch(badMagic, { verifyCrc: false }), /magic/);
  });
});

describe('malformed batches give ProtocolError', () => {
  const records: RecordInput[] = [
    { key: Buffer.from('k1'), value: Buffer.from('v1') },
    { key: Buffer.from('k2'), value: Buffer.from('v2'), headers: [{ key: 'h', value: Buffer.from('x') }] },
  ];
  const section = sectionOf(records);

  for (const codec of codecs) {
    test(`${codec}: record count above or below the records present`, () => {
      assert.equal(decodeRecordBatch(wrapSection(section, 2, codec)).records.length, 2);
      refuses(wrapSection(section, 3, codec));
      refuses(wrapSection(section, 1, codec), /follow/);
      refuses(wrapSection(section, 0, codec), /follow/);
    });

    test(`${codec}: a record length that disagrees with its content`, () => {
      for (const delta of [-2, -1, 1, 2]) {
        const bad = Buffer.from(section);
        bad[0] = bad[0]! + delta * 2; // zigzag: +1 in value is +2 in the byte
        refuses(wrapSection(bad, 2, codec));
      }
    });

    test(`${codec}: unknown codec bits and hostile counts`, () => {
      const unknown = wrapSection(section, 2, codec);
      unknown.writeInt16BE(6, batchHeader.attributes);
      unknown.writeUInt32BE(computeBatchCrc(unknown), batchHeader.crc);
      refuses(unknown, /codec/);
      refuses(wrapSection(section, 2 ** 31 - 1, codec));
    });
  }

  test('records above the limits', () => {
    const batch = encodeRecordBatch({
      codec: 'zstd',
      records: [{ key: null, value: Buffer.alloc(100_000) }],
    });
    assert.throws(() => decodeRecordBatch(batch, { decompressedBytesMax: 50_000 }), ProtocolError);
    const many = encodeRecordBatch({
      records: Array.from({ length: 11 }, () => ({ key: null, value: null })),
    });
    assert.throws(() => decodeRecordBatch(many, { recordsMax: 10 }), /above 10/);
    assert.equal(decodeRecordBatch(many, { recordsMax: 11 }).records.length, 11);
  });

  test('bad varints, negative lengths and null header keys inside records', () => {
    const cases: number[][] = [
      [0x0e, 0x00, 0x00, 0x00, 0x03, 0x01, 0x00], // key length -2
      [0x0e, 0x00, 0x00, 0x00, 0x01, 0x03, 0x00], // value length -2
      [0x0e, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01], // header count -1
      [0x12, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0x01, 0x01], // null header key
      [0x0e, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00], // varlong of 12 bytes
      [0x0e, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01, 0x00], // varint of 6 bytes
      [0x01, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00], // record length -1
    ];
    for (const bytes of cases) refuses(wrapSection(Buffer.from(bytes), 1), undefined);
    // The well-formed sibling of the cases above decodes: length 6, null key and value, no headers.
    assert.equal(decodeRecordBatch(wrapSection(Buffer.from([0x0c, 0, 0, 0, 1, 1, 0]), 1)).records.length, 1);
  });

  test('a header count larger than its record can hold', () => {
    // length 8: attributes, ts, offset, null key, null value, header count 2, one 2-byte header.
    refuses(wrapSection(Buffer.from([0x10, 0, 0, 0, 1, 1, 4, 0, 1]), 1));
  });
});

describe('interoperability with kafkajs', () => {
  const require = createRequire(import.meta.url);
  type KafkajsRecord = {
    key: Buffer | null;
    value: Buffer | null;
    headers: Record<string, Buffer>;
    offset: string;
  };
  const kafkajs = {
    RecordBatch: (
      require('kafkajs/src/protocol/recordBatch/v0') as {
        RecordBatch: (input: object) => Promise<{ buffer: Buffer }>;
      }
    ).RecordBatch,
    Record: require('kafkajs/src/protocol/recordBatch/record/v0') as (input: object) => unknown,
    decode: require('kafkajs/src/protocol/recordBatch/v0/decoder') as (decoder: unknown) => Promise<{
      records: KafkajsRecord[];
    }>,
    Decoder: require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown,
    Long: require('kafkajs/src/utils/long') as { fromValue(value: string): unknown },
  };

  for (const [name, compression] of [
    ['none', 0],
    ['gzip', 1],
  ] as const) {
    test(`${name}: a batch kafkajs encodes decodes here, and the other way round`, async () => {
      const values = ['alpha', 'beta', 'gamma'];
      const theirs = await kafkajs.RecordBatch({
        compression,
        firstOffset: kafkajs.Long.fromValue('42'),
        firstTimestamp: 1_700_000_000_000,
        maxTimestamp: 1_700_000_000_002,
        lastOffsetDelta: 2,
        records: values.map((value, i) =>
          kafkajs.Record({
            offsetDelta: i,
            timestampDelta: i,
            key: Buffer.from(`k${i}`),
            value: Buffer.from(value),
            headers: { h: Buffer.from(String(i)) },
          }),
        ),
      });
      const decoded = decodeRecordBatch(theirs.buffer);
      assert.equal(decoded.codec, name);
      assert.deepEqual(
        decoded.records.map((r) => [
          r.offset,
          r.timestamp,
          r.key?.toString(),
          r.value?.toString(),
          r.headers[0]?.value?.toString(),
        ]),
        values.map((value, i) => [
          42n + BigInt(i),
          1_700_000_000_000n + BigInt(i),
          `k${i}`,
          value,
          String(i),
        ]),
      );

      const ours = encodeRecordBatch({
        codec: name,
        baseOffset: 7n,
        records: values.map((value, i) => ({
          key: Buffer.from(`k${i}`),
          value: Buffer.from(value),
          headers: [{ key: 'h', value: Buffer.from(String(i)) }],
          timestamp: 1_700_000_000_000n + BigInt(i),
        })),
      });
      const back = await kafkajs.decode(new kafkajs.Decoder(ours));
      assert.deepEqual(
        back.records.map((r) => [r.offset, r.key?.toString(), r.value?.toString(), r.headers.h?.toString()]),
        values.map((value, i) => [String(7 + i), `k${i}`, value, String(i)]),
      );
    });
  }
});
