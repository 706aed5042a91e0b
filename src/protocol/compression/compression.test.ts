import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { ProtocolError } from '../protocol-error.ts';
import {
  type Codec,
  codecFromAttributes,
  codecIds,
  compress,
  compressAsync,
  decompress,
  decompressAsync,
} from './compression.ts';
import { lz4CheckFrame } from './lz4.ts';
import { isXerialFramed, snappyCompressRaw, snappyCompressXerial, snappyDecompress } from './snappy.ts';

const require = createRequire(import.meta.url);
const snappyJs = require('snappyjs') as { uncompress(data: Buffer): Buffer; compress(data: Buffer): Buffer };
const zstdNapi = require('zstd-napi') as {
  compress(data: Buffer, parameters?: { contentSizeFlag?: boolean }): Buffer;
};

const codecs: readonly Codec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const compressedCodecs: readonly Codec[] = ['gzip', 'snappy', 'lz4', 'zstd'];

/** Text that compresses some, as record batches of JSON do. */
function jsonLike(bytes: number, seed = 1): Buffer {
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const part = `{"id":${i * seed},"user":"user-${(i * 7919 + seed) % 1000}","score":${(i * 31) % 97}},`;
    parts.push(part);
    length += part.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

function rejects(codec: Codec, data: Buffer, options = {}): ProtocolError {
  try {
    decompress(codec, data, options);
  } catch (error) {
    assert.ok(error instanceof ProtocolError, `${codec}: expected ProtocolError, got ${String(error)}`);
    return error;
  }
  assert.fail(`${codec}: decompression of bad input succeeded`);
}

describe('codec table', () => {
  test('attribute bits 0-2 name the codec; 5-7 are refused', () => {
    for (const codec of codecs) assert.equal(codecFromAttributes(codecIds[codec]), codec);
    assert.equal(codecFromAttributes(0x10 | 3), 'lz4');
    for (const id of [5, 6, 7]) assert.throws(() => codecFromAttributes(id), ProtocolError);
  });
});

describe('round trips', () => {
  test('every codec, sync and async, random and compressible data', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...codecs),
        fc.oneof(
          fc.uint8Array({ maxLength: 3000 }).map((bytes) => Buffer.from(bytes)),
          fc.integer({ min: 0, max: 200_000 }).map((bytes) => jsonLike(bytes)),
        ),
        async (codec, data) => {
          const compressed = compress(codec, data);
          assert.deepEqual(decompress(codec, compressed), data);
          assert.deepEqual(await decompressAsync(codec, compressed), data);
          assert.deepEqual(decompress(codec, await compressAsync(codec, data)), data);
        },
      ),
      { numRuns: 150 },
    );
  });

  test('compressible data really is compressed', () => {
    const data = jsonLike(100_000);
    for (const codec of compressedCodecs) {
      assert.ok(compress(codec, data).length < data.length / 2, codec);
    }
  });

  test('a limit equal to the output size is accepted (lz4: its block-granular bound)', () => {
    const data = jsonLike(50_000);
    for (const codec of ['gzip', 'snappy', 'zstd'] as const) {
      assert.deepEqual(decompress(codec, compress(codec, data), { decompressedBytesMax: data.length }), data);
    }
    const frame = compress('lz4', data);
    const bound = lz4CheckFrame(frame, Number.MAX_SAFE_INTEGER);
    assert.ok(bound >= data.length && bound < data.length + 4 * 1024 * 1024);
    assert.deepEqual(decompress('lz4', frame, { decompressedBytesMax: bound }), data);
  });
});

describe('decompression bombs are refused', () => {
  const zeros = Buffer.alloc(8 * 1024 * 1024);
  for (const codec of compressedCodecs) {
    test(`${codec}: output above the limit`, async () => {
      const compressed = compress(codec, zeros);
      assert.ok(compressed.length < 1024 * 1024);
      rejects(codec, compressed, { decompressedBytesMax: 1024 * 1024 });
      rejects(codec, compress(codec, jsonLike(10_000)), { decompressedBytesMax: 9_999 });
      await assert.rejects(
        decompressAsync(codec, compressed, { decompressedBytesMax: 1024 * 1024 }),
        ProtocolError,
      );
    });
  }

  test('zstd without a declared content size is bounded while streaming', () => {
    const compressed = zstdNapi.compress(zeros, { contentSizeFlag: false });
    rejects('zstd', compressed, { decompressedBytesMax: 300_000 });
    assert.equal(decompress('zstd', compressed).length, zeros.length);
  });

  test('zstd async: a large frame decodes in steps that let the event loop turn', async () => {
    const data = Buffer.concat([jsonLike(100_000), Buffer.alloc(20 * 1024 * 1024, 7)]);
    const compressed = compress('zstd', data);
    let turns = 0;
    const spin = (): void => {
      turns++;
      if (!done) setImmediate(spin);
    };
    let done = false;
    setImmediate(spin);
    const output = await decompressAsync('zstd', compressed);
    done = true;
    assert.ok(output.equals(data));
    assert.ok(turns >= 3, `the loop turned ${turns} times while 20 MiB were decoded`);
  });

  test('snappy: a declared length above the limit is refused before decoding', () => {
    // Preamble says 2^32-1 bytes; nothing follows.
    const error = rejects('snappy', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), {
      decompressedBytesMax: 1000,
    });
    assert.match(error.message, /declares/);
  });
});

describe('malformed input gives ProtocolError', () => {
  test('truncations and garbage, every codec', () => {
    const data = jsonLike(40_000);
    for (const codec of compressedCodecs) {
      const compressed = compress(codec, data);
      for (const length of [0, 1, 5, 10, 17, compressed.length >> 1, compressed.length - 1]) {
        rejects(codec, compressed.subarray(0, length));
      }
      rejects(codec, Buffer.from('certainly not compressed data, of any kind at all'));
    }
  });

  test('lz4: anything but exactly one frame, which the library alone would partly decode, is refused', () => {
    const frame = compress('lz4', jsonLike(1000));
    const skippable = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 0x03, 0x00, 0x00, 0x00, 1, 2, 3]);
    rejects('lz4', Buffer.concat([frame, Buffer.from('garbage')]));
    rejects('lz4', Buffer.concat([frame, frame]));
    rejects('lz4', Buffer.concat([skippable, frame]));
    const noEndMark = frame.subarray(0, frame.length - 4);
    rejects('lz4', noEndMark);
  });

  test('lz4: the bound counts one block maximum per compressed block', () => {
    const frame = compress('lz4', jsonLike(1000));
    const blockBytesMax = 1 << (8 + 2 * ((frame[5]! >>> 4) & 7));
    assert.equal(lz4CheckFrame(frame, 1 << 30), blockBytesMax);
    assert.throws(() => lz4CheckFrame(frame, blockBytesMax - 1), ProtocolError);
  });

  test('fuzzed bytes never give anything but ProtocolError', () => {
    fc.assert(
      fc.property(fc.constantFrom(...compressedCodecs), fc.uint8Array({ maxLength: 200 }), (codec, bytes) => {
        try {
          decompress(codec, Buffer.from(bytes), { decompressedBytesMax: 1 << 20 });
        } catch (error) {
          assert.ok(error instanceof ProtocolError, String(error));
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('snappy', () => {
  test('hand-built raw blocks: a literal, and a literal plus an overlapping copy', () => {
    const hello = Buffer.from([0x05, 0x10, ...Buffer.from('hello')]);
    assert.equal(snappyDecompress(hello, 100).toString(), 'hello');
    // 'abc' then copy length 6 from distance 3 (kind 1: tag = (6-4)<<2 | 1).
    const repeated = Buffer.from([0x09, 0x08, 0x61, 0x62, 0x63, 0x09, 0x03]);
    assert.equal(snappyDecompress(repeated, 100).toString(), 'abcabcabc');
    // The same copy with a 2-byte distance (kind 2: tag = (6-1)<<2 | 2).
    const twoByte = Buffer.from([0x09, 0x08, 0x61, 0x62, 0x63, 0x16, 0x03, 0x00]);
    assert.equal(snappyDecompress(twoByte, 100).toString(), 'abcabcabc');
  });

  test('hostile raw blocks are refused, including one that sends a naive decoder into a loop', () => {
    const cases = [
      // A 4-byte literal length of -6: a decoder doing signed arithmetic steps backwards forever.
      [0x10, 0xfc, 0xfa, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0],
      [0x09, 0x08, 0x61, 0x62, 0x63], // output shorter than declared
      [0x03, 0x08, 0x61, 0x62, 0x63, 0x09, 0x03], // output longer than declared
      [0x09, 0x08, 0x61, 0x62, 0x63, 0x09, 0x04], // copy from before the output starts
      [0x09, 0x08, 0x61, 0x62, 0x63, 0x09, 0x00], // copy distance 0
      [0x05, 0x10, 0x61], // literal past the input
      [0x09, 0x08, 0x61, 0x62, 0x63, 0x16, 0x03], // truncated copy
      [0x80, 0x80, 0x80, 0x80, 0x80, 0x01], // preamble longer than 5 bytes
    ];
    for (const bytes of cases) rejects('snappy', Buffer.from(bytes));
  });

  test('xerial framing: documented header, 32 KiB blocks, decodes to the input', () => {
    const data = jsonLike(100_000);
    const framed = snappyCompressXerial(data);
    assert.ok(isXerialFramed(framed));
    assert.deepEqual([...framed.subarray(0, 16)], [0x82, 83, 78, 65, 80, 80, 89, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
    let blocks = 0;
    for (let at = 16; at < framed.length; blocks++) at += 4 + framed.readInt32BE(at);
    assert.equal(blocks, Math.ceil(data.length / 32768));
    assert.deepEqual(snappyDecompress(framed, data.length), data);
    assert.deepEqual(compress('snappy', data), framed);
  });

  test('xerial framing built by hand from raw blocks, as the Java client writes it', () => {
    const blocks = [Buffer.from('first block, '), Buffer.from('second block')];
    const parts: Buffer[] = [
      Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1]),
    ];
    for (const block of blocks) {
      const compressed = snappyJs.compress(block);
      const length = Buffer.alloc(4);
      length.writeInt32BE(compressed.length);
      parts.push(length, compressed);
    }
    assert.equal(decompress('snappy', Buffer.concat(parts)).toString(), 'first block, second block');
    assert.equal(decompress('snappy', parts[0]!).length, 0);
  });

  test('xerial: bad block lengths and truncated headers are refused', () => {
    const framed = snappyCompressXerial(jsonLike(70_000));
    rejects('snappy', framed.subarray(0, 12));
    const negative = Buffer.from(framed);
    negative.writeInt32BE(-1, 16);
    rejects('snappy', negative);
    const long = Buffer.from(framed);
    long.writeInt32BE(framed.length, 16);
    rejects('snappy', long);
    rejects('snappy', framed, { decompressedBytesMax: 40_000 });
  });

  test('raw snappy, as librdkafka sends it, decodes too; agrees with snappyjs on valid blocks', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes)),
          fc.integer({ min: 0, max: 70_000 }).map((bytes) => jsonLike(bytes, 3)),
        ),
        (data) => {
          const raw = snappyCompressRaw(data);
          assert.ok(!isXerialFramed(raw));
          assert.deepEqual(decompress('snappy', raw), data);
          assert.deepEqual(decompress('snappy', raw), Buffer.from(snappyJs.uncompress(raw)));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('gzip', () => {
  test('data gzipped elsewhere (any level) decodes', () => {
    const data = jsonLike(20_000);
    for (const level of [1, 6, 9]) assert.deepEqual(decompress('gzip', zlib.gzipSync(data, { level })), data);
  });
});
