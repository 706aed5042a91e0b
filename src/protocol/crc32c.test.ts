import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { crc32c, crc32cIsNative, crc32cPortable } from './crc32c.ts';

/** Check values of CRC32C (Castagnoli) from RFC 3720, appendix B.4, and the common '123456789' check. */
const vectors: Array<[string, Buffer, number]> = [
  ['empty', Buffer.alloc(0), 0x00000000],
  ['"123456789"', Buffer.from('123456789'), 0xe3069283],
  ['32 zero bytes', Buffer.alloc(32, 0x00), 0x8a9136aa],
  ['32 0xff bytes', Buffer.alloc(32, 0xff), 0x62a8ab43],
  ['32 ascending bytes', Buffer.from(Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e],
  ['32 descending bytes', Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c],
  ['"a"', Buffer.from('a'), 0xc1d04330],
];

test('known vectors, portable and native', () => {
  for (const [name, data, expected] of vectors) {
    assert.equal(crc32cPortable(data), expected, `portable: ${name}`);
    assert.equal(crc32c(data), expected, `crc32c: ${name}`);
  }
});

test('the native implementation is the one in use on this machine', () => {
  assert.equal(crc32cIsNative, true);
});

test('native and portable agree on random buffers of every alignment', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(15), (bytes, skip) => {
      // A view at an odd offset exercises the unaligned head and tail paths.
      const data = Buffer.from(bytes).subarray(Math.min(skip, bytes.length));
      assert.equal(crc32c(data), crc32cPortable(data));
    }),
    { numRuns: 1000 },
  );
});

test('`initial` continues a CRC: crc(a ++ b) = crc(b, crc(a)), for both implementations', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 500 }), fc.uint8Array({ maxLength: 500 }), (a, b) => {
      const whole = Buffer.concat([a, b]);
      const expected = crc32cPortable(whole);
      assert.equal(crc32cPortable(Buffer.from(b), crc32cPortable(Buffer.from(a))), expected);
      assert.equal(crc32c(Buffer.from(b), crc32c(Buffer.from(a))), expected);
      assert.equal(crc32c(whole), expected);
    }),
    { numRuns: 500 },
  );
});

test('results are unsigned 32-bit integers', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
      for (const value of [crc32c(Buffer.from(bytes)), crc32cPortable(bytes)]) {
        assert.ok(Number.isInteger(value) && value >= 0 && value <= 0xffffffff);
      }
    }),
    { numRuns: 300 },
  );
});

test('a single flipped bit always changes the CRC', () => {
  const data = Buffer.from('The quick brown fox jumps over the lazy dog, many times over.');
  const original = crc32c(data);
  for (let bit = 0; bit < data.length * 8; bit++) {
    data[bit >> 3]! ^= 1 << (bit & 7);
    assert.notEqual(crc32c(data), original);
    data[bit >> 3]! ^= 1 << (bit & 7);
  }
  assert.equal(crc32c(data), original);
});
