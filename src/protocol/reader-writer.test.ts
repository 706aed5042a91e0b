import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ProtocolError } from './protocol-error.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

/** LEB128 written the slow, obvious way, as an oracle independent of Writer. */
function leb128(value: bigint): number[] {
  const bytes: number[] = [];
  let rest = value;
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    bytes.push(rest === 0n ? low : low | 0x80);
  } while (rest !== 0n);
  return bytes;
}

function zigzag(value: bigint): bigint {
  return value >= 0n ? value * 2n : -value * 2n - 1n;
}

function bytesOf(write: (writer: Writer) => unknown): number[] {
  const writer = new Writer();
  write(writer);
  return [...writer.toBuffer()];
}

function readerOf(bytes: number[]): Reader {
  return new Reader(Buffer.from(bytes));
}

describe('varints', () => {
  test('known encodings', () => {
    assert.deepEqual(
      bytesOf((w) => w.uvarint(300)),
      [0xac, 0x02],
    );
    assert.deepEqual(
      bytesOf((w) => w.uvarint(0)),
      [0x00],
    );
    assert.deepEqual(
      bytesOf((w) => w.uvarint(127)),
      [0x7f],
    );
    assert.deepEqual(
      bytesOf((w) => w.uvarint(128)),
      [0x80, 0x01],
    );
    assert.deepEqual(
      bytesOf((w) => w.uvarint(2 ** 32 - 1)),
      [0xff, 0xff, 0xff, 0xff, 0x0f],
    );
    assert.deepEqual(
      bytesOf((w) => w.varint(0)),
      [0x00],
    );
    assert.deepEqual(
      bytesOf((w) => w.varint(-1)),
      [0x01],
    );
    assert.deepEqual(
      bytesOf((w) => w.varint(1)),
      [0x02],
    );
    assert.deepEqual(
      bytesOf((w) => w.varint(-2)),
      [0x03],
    );
    assert.deepEqual(
      bytesOf((w) => w.varint(300)),
      [0xd8, 0x04],
    );
    assert.deepEqual(
      bytesOf((w) => w.varint(2 ** 31 - 1)),
      [0xfe, 0xff, 0xff, 0xff, 0x0f],
    );
    assert.deepEqual(
      bytesOf((w) => w.varint(-(2 ** 31))),
      [0xff, 0xff, 0xff, 0xff, 0x0f],
    );
    assert.deepEqual(
      bytesOf((w) => w.varlong(-1n)),
      [0x01],
    );
    assert.deepEqual(
      bytesOf((w) => w.varlong(2n ** 63n - 1n)),
      [...Array(9).fill(0xfe, 0, 1).fill(0xff, 1), 0x01],
    );
    assert.deepEqual(
      bytesOf((w) => w.varlong(-(2n ** 63n))),
      [...Array(9).fill(0xff), 0x01],
    );
    assert.deepEqual(
      bytesOf((w) => w.uvarlong(2n ** 64n - 1n)),
      [...Array(9).fill(0xff), 0x01],
    );
  });

  test('edge values round trip', () => {
    for (const value of [0, 1, 127, 128, 16383, 16384, 2 ** 28 - 1, 2 ** 28, 2 ** 32 - 1]) {
      assert.equal(readerOf(bytesOf((w) => w.uvarint(value))).uvarint(), value);
    }
    for (const value of [0, -1, 1, -64, 64, -(2 ** 31), 2 ** 31 - 1]) {
      assert.equal(readerOf(bytesOf((w) => w.varint(value))).varint(), value);
    }
    for (const value of [0n, -1n, 2n ** 27n, -(2n ** 27n) - 1n, 2n ** 63n - 1n, -(2n ** 63n)]) {
      assert.equal(readerOf(bytesOf((w) => w.varlong(value))).varlong(), value);
    }
    for (const value of [0n, 2n ** 28n - 1n, 2n ** 28n, 2n ** 35n, 2n ** 64n - 1n]) {
      assert.equal(readerOf(bytesOf((w) => w.uvarlong(value))).uvarlong(), value);
    }
  });

  test('varint and varlong match an independent LEB128 + zigzag oracle', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (value) => {
        const expected = leb128(zigzag(BigInt(value)));
        assert.deepEqual(
          bytesOf((w) => w.varint(value)),
          expected,
        );
        assert.equal(readerOf(expected).varint(), value);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (value) => {
        const expected = leb128(zigzag(value));
        assert.deepEqual(
          bytesOf((w) => w.varlong(value)),
          expected,
        );
        const reader = readerOf(expected);
        assert.equal(reader.varlong(), value);
        assert.equal(reader.remaining, 0);
      }),
      { numRuns: 2000 },
    );
  });

  test('over-long or overflowing varints are refused', () => {
    const cases: Array<[number[], (r: Reader) => unknown]> = [
      [[0x80, 0x80, 0x80, 0x80, 0x80, 0x00], (r) => r.uvarint()],
      [[0xff, 0xff, 0xff, 0xff, 0x10], (r) => r.uvarint()],
      [[0xff, 0xff, 0xff, 0xff, 0x1f], (r) => r.varint()],
      [[...Array(10).fill(0x80), 0x00], (r) => r.uvarlong()],
      [[...Array(9).fill(0xff), 0x02], (r) => r.varlong()],
    ];
    for (const [bytes, read] of cases) {
      assert.throws(() => read(readerOf(bytes)), ProtocolError, `bytes ${bytes.join(',')}`);
    }
  });

  test('truncated varints are refused', () => {
    for (const read of [(r: Reader) => r.uvarint(), (r: Reader) => r.varint(), (r: Reader) => r.varlong()]) {
      assert.throws(() => read(readerOf([])), ProtocolError);
      assert.throws(() => read(readerOf([0x80])), ProtocolError);
      assert.throws(() => read(readerOf([0xff, 0xff, 0xff])), ProtocolError);
    }
    assert.throws(() => readerOf([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).uvarlong(), ProtocolError);
  });
});

describe('fixed-size primitives', () => {
  test('edge values round trip with big-endian bytes', () => {
    const writer = new Writer();
    writer.int8(-128).int8(127).uint8(255).int16(-32768).int16(32767).uint16(65535);
    writer
      .int32(-(2 ** 31))
      .int32(2 ** 31 - 1)
      .uint32(2 ** 32 - 1);
    writer
      .int64(-(2n ** 63n))
      .int64(2n ** 63n - 1n)
      .float64(-0.5)
      .bool(true)
      .bool(false);
    const buffer = writer.toBuffer();
    assert.deepEqual([...buffer.subarray(0, 6)], [0x80, 0x7f, 0xff, 0x80, 0x00, 0x7f]);
    const reader = new Reader(buffer);
    assert.equal(reader.int8(), -128);
    assert.equal(reader.int8(), 127);
    assert.equal(reader.uint8(), 255);
    assert.equal(reader.int16(), -32768);
    assert.equal(reader.int16(), 32767);
    assert.equal(reader.uint16(), 65535);
    assert.equal(reader.int32(), -(2 ** 31));
    assert.equal(reader.int32(), 2 ** 31 - 1);
    assert.equal(reader.uint32(), 2 ** 32 - 1);
    assert.equal(reader.int64(), -(2n ** 63n));
    assert.equal(reader.int64(), 2n ** 63n - 1n);
    assert.equal(reader.float64(), -0.5);
    assert.equal(reader.bool(), true);
    assert.equal(reader.bool(), false);
    assert.equal(reader.remaining, 0);
  });

  test('uuid round trips as 16 raw bytes', () => {
    const uuid = Buffer.from('0123456789abcdeffedcba9876543210', 'hex');
    const bytes = bytesOf((w) => w.uuid(uuid));
    assert.deepEqual(bytes, [...uuid]);
    assert.deepEqual(readerOf(bytes).uuid(), uuid);
    assert.throws(() => readerOf(bytes.slice(0, 15)).uuid(), ProtocolError);
  });

  test('every read of short input raises ProtocolError, never RangeError', () => {
    const reads: Array<[number, (r: Reader) => unknown]> = [
      [1, (r) => r.int8()],
      [1, (r) => r.bool()],
      [2, (r) => r.int16()],
      [4, (r) => r.int32()],
      [4, (r) => r.uint32()],
      [8, (r) => r.int64()],
      [8, (r) => r.float64()],
      [16, (r) => r.uuid()],
    ];
    for (const [bytes, read] of reads) {
      for (let length = 0; length < bytes; length++) {
        assert.throws(() => read(readerOf(Array(length).fill(1))), ProtocolError);
      }
      assert.doesNotThrow(() => read(readerOf(Array(bytes).fill(1))));
    }
  });

  test('a reader never reads past its end even when the buffer goes on', () => {
    const reader = new Reader(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]), 2, 5);
    assert.equal(reader.remaining, 3);
    assert.throws(() => reader.int32(), ProtocolError);
    assert.equal(reader.int16(), 0x0304);
    assert.throws(() => reader.raw(2), ProtocolError);
    assert.throws(() => reader.raw(-1), ProtocolError);
  });
});

describe('strings and bytes', () => {
  test('null and empty are distinct in every form', () => {
    assert.deepEqual(
      bytesOf((w) => w.compactNullableString(null)),
      [0x00],
    );
    assert.deepEqual(
      bytesOf((w) => w.compactNullableString('')),
      [0x01],
    );
    assert.deepEqual(
      bytesOf((w) => w.compactNullableBytes(null)),
      [0x00],
    );
    assert.deepEqual(
      bytesOf((w) => w.compactNullableBytes(Buffer.alloc(0))),
      [0x01],
    );
    assert.deepEqual(
      bytesOf((w) => w.nullableString(null)),
      [0xff, 0xff],
    );
    assert.deepEqual(
      bytesOf((w) => w.nullableString('')),
      [0x00, 0x00],
    );
    assert.deepEqual(
      bytesOf((w) => w.nullableBytes(null)),
      [0xff, 0xff, 0xff, 0xff],
    );
    assert.equal(readerOf([0x00]).compactNullableString(), null);
    assert.equal(readerOf([0x01]).compactNullableString(), '');
    assert.equal(readerOf([0x00]).compactNullableBytes(), null);
    assert.equal(readerOf([0x01]).compactNullableBytes()?.length, 0);
    assert.equal(readerOf([0xff, 0xff]).nullableString(), null);
    assert.equal(readerOf([0xff, 0xff, 0xff, 0xff]).nullableBytes(), null);
  });

  test('null where a value is required, and lengths below -1, are refused', () => {
    assert.throws(() => readerOf([0x00]).compactString(), ProtocolError);
    assert.throws(() => readerOf([0x00]).compactBytes(), ProtocolError);
    assert.throws(() => readerOf([0xff, 0xff]).string(), ProtocolError);
    assert.throws(() => readerOf([0xff, 0xff, 0xff, 0xff]).bytes(), ProtocolError);
    assert.throws(() => readerOf([0xff, 0xfe]).nullableString(), ProtocolError);
    assert.throws(() => readerOf([0xff, 0xff, 0xff, 0xfe]).nullableBytes(), ProtocolError);
    assert.throws(() => readerOf([0x00, 0x05, 0x61]).string(), ProtocolError);
    assert.throws(() => readerOf([0x06, 0x61]).compactString(), ProtocolError);
  });

  test('strings and bytes round trip (unicode included)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.uint8Array({ maxLength: 700 }),
        (text, raw) => {
          const bytes = Buffer.from(raw);
          const writer = new Writer();
          writer.string(text).compactString(text).nullableString(text).compactNullableString(text);
          writer.bytes(bytes).compactBytes(bytes).nullableBytes(bytes).compactNullableBytes(bytes);
          const reader = new Reader(writer.toBuffer());
          assert.equal(reader.string(), text);
          assert.equal(reader.compactString(), text);
          assert.equal(reader.nullableString(), text);
          assert.equal(reader.compactNullableString(), text);
          for (const read of [
            () => reader.bytes(),
            () => reader.compactBytes(),
            () => reader.nullableBytes(),
            () => reader.compactNullableBytes(),
          ]) {
            assert.deepEqual(read(), bytes);
          }
          assert.equal(reader.remaining, 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('byte reads are views of the frame, not copies', () => {
    const frame = Buffer.from([0x00, 0x00, 0x00, 0x02, 0xaa, 0xbb]);
    const value = new Reader(frame).bytes();
    frame[4] = 0x11;
    assert.equal(value[0], 0x11);
  });
});

describe('arrays and tagged fields', () => {
  test('array lengths are checked against the bytes left before any allocation', () => {
    assert.equal(readerOf([0xff, 0xff, 0xff, 0xff]).arrayLength(), -1);
    assert.equal(readerOf([0x00]).compactArrayLength(), -1);
    assert.equal(readerOf([0x00, 0x00, 0x00, 0x02, 1, 2]).arrayLength(), 2);
    assert.throws(() => readerOf([0x00, 0x00, 0x00, 0x03, 1, 2]).arrayLength(), ProtocolError);
    assert.throws(() => readerOf([0x00, 0x00, 0x00, 0x02, 1, 2]).arrayLength(4), ProtocolError);
    assert.throws(() => readerOf([0x7f, 0xff, 0xff, 0xff]).arrayLength(), ProtocolError);
    assert.throws(() => readerOf([0xff, 0xff, 0xff, 0xfe]).arrayLength(), ProtocolError);
    assert.throws(() => readerOf([0xff, 0xff, 0xff, 0xff, 0x0f]).compactArrayLength(), ProtocolError);
  });

  test('tagged fields: known tags get a bounded reader, unknown ones are skipped, order is enforced', () => {
    const bytes = [0x03, 0x00, 0x01, 0x07, 0x05, 0x02, 0xaa, 0xbb, 0x09, 0x00, 0x42];
    const seen: Array<[number, number[]]> = [];
    const reader = readerOf(bytes);
    reader.taggedFields((tag, field) => {
      if (tag === 5) return;
      seen.push([tag, [...field.raw(field.remaining)]]);
    });
    assert.deepEqual(seen, [
      [0, [0x07]],
      [9, []],
    ]);
    assert.equal(reader.remaining, 1);
    assert.throws(() => readerOf([0x02, 0x05, 0x00, 0x05, 0x00]).taggedFields(), ProtocolError);
    assert.throws(() => readerOf([0x01, 0x05, 0x04, 0x00]).taggedFields(), ProtocolError);
  });
});

type Operation =
  | { kind: 'int8'; value: number }
  | { kind: 'int32'; value: number }
  | { kind: 'int64'; value: bigint }
  | { kind: 'varint'; value: number }
  | { kind: 'raw'; value: Uint8Array };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ kind: fc.constant('int8' as const), value: fc.integer({ min: -128, max: 127 }) }),
  fc.record({
    kind: fc.constant('int32' as const),
    value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  }),
  fc.record({
    kind: fc.constant('int64' as const),
    value: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  }),
  fc.record({
    kind: fc.constant('varint' as const),
    value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  }),
  fc.record({
    kind: fc.constant('raw' as const),
    value: fc.oneof(fc.uint8Array({ maxLength: 600 }), fc.uint8Array({ minLength: 5000, maxLength: 12000 })),
  }),
);

function referenceBytes(op: Operation): Buffer {
  switch (op.kind) {
    case 'int8':
      return Buffer.from([op.value & 0xff]);
    case 'int32': {
      const b = Buffer.alloc(4);
      b.writeInt32BE(op.value);
      return b;
    }
    case 'int64': {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(op.value);
      return b;
    }
    case 'varint':
      return Buffer.from(leb128(zigzag(BigInt(op.value))));
    case 'raw':
      return Buffer.from(op.value);
  }
}

function apply(writer: Writer, op: Operation): void {
  if (op.kind === 'int8') writer.int8(op.value);
  else if (op.kind === 'int32') writer.int32(op.value);
  else if (op.kind === 'int64') writer.int64(op.value);
  else if (op.kind === 'varint') writer.varint(op.value);
  else writer.raw(Buffer.from(op.value));
}

describe('Writer', () => {
  test('many small writes and large zero-copy chunks give the same bytes as a reference concat', () => {
    fc.assert(
      fc.property(
        fc.array(operation, { maxLength: 300 }),
        fc.integer({ min: 1, max: 9000 }),
        (ops, firstBlock) => {
          const writer = new Writer(firstBlock);
          for (const op of ops) apply(writer, op);
          const expected = Buffer.concat(ops.map(referenceBytes));
          assert.equal(writer.length, expected.length);
          const chunks = writer.chunks();
          assert.deepEqual(Buffer.concat(chunks), expected);
          assert.deepEqual(writer.toBuffer(), expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('large byte arrays are appended by reference, small ones copied', () => {
    const large = Buffer.alloc(4096, 7);
    const small = Buffer.alloc(16, 9);
    const writer = new Writer();
    writer.int32(1).raw(large).raw(small);
    const chunks = writer.chunks();
    assert.ok(chunks.includes(large), 'the large array is one of the chunks, uncopied');
    assert.ok(!chunks.includes(small));
    assert.equal(writer.length, 4 + 4096 + 16);
  });

  test('slots patched later land at the right place, across block boundaries and zero-copy chunks', () => {
    const writer = new Writer(64);
    const patches: Array<{ at: number; value: number; slot: ReturnType<Writer['reserve']> }> = [];
    const expected: Buffer[] = [];
    let length = 0;
    for (let i = 0; i < 40; i++) {
      const filler = Buffer.alloc(i % 7 === 0 ? 700 : 13 + i, i);
      writer.raw(filler);
      expected.push(filler);
      length += filler.length;
      patches.push({ at: length, value: 0x01020304 * (i + 1), slot: writer.reserve(4) });
      expected.push(Buffer.alloc(4));
      length += 4;
    }
    for (const { slot, value } of patches) slot.buffer.writeUInt32BE(value >>> 0, slot.offset);
    const output = writer.toBuffer();
    const reference = Buffer.concat(expected);
    for (const { at, value } of patches) reference.writeUInt32BE(value >>> 0, at);
    assert.equal(output.length, length);
    assert.deepEqual(output, reference);
  });

  test('a slot reserved when the block is nearly full moves to a fresh block', () => {
    const writer = new Writer(10);
    writer.raw(Buffer.alloc(8, 1));
    const slot = writer.reserve(4);
    writer.int8(5);
    slot.buffer.writeInt32BE(-2, slot.offset);
    assert.deepEqual([...writer.toBuffer()], [1, 1, 1, 1, 1, 1, 1, 1, 0xff, 0xff, 0xff, 0xfe, 5]);
  });
});
