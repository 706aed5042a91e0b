import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { FrameDecoder } from './frame-decoder.ts';
import { ProtocolError } from './protocol-error.ts';

function framed(frames: readonly Buffer[]): Buffer {
  return Buffer.concat(
    frames.flatMap((frame) => {
      const prefix = Buffer.alloc(4);
      prefix.writeInt32BE(frame.length);
      return [prefix, frame];
    }),
  );
}

/** Splits `stream` at the given cut points (sorted, deduplicated, within bounds). */
function cut(stream: Buffer, points: readonly number[]): Buffer[] {
  const sorted = [...new Set(points.map((p) => p % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let at = 0;
  for (const point of [...sorted, stream.length]) {
    chunks.push(stream.subarray(at, point));
    at = point;
  }
  return chunks;
}

function decodeAll(chunks: readonly Buffer[], frameBytesMax = 1 << 20): Buffer[] {
  const decoder = new FrameDecoder({ frameBytesMax });
  const frames = chunks.flatMap((chunk) => decoder.push(chunk));
  assert.equal(decoder.bufferedBytes, 0, 'a whole stream leaves nothing buffered');
  return frames;
}

const frameList = fc.array(
  fc.oneof(
    { weight: 5, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1000, maxLength: 5000 }) },
  ),
  { maxLength: 20 },
);

describe('FrameDecoder', () => {
  test('the same frames whether fed whole, one byte at a time, or in random chunks', () => {
    fc.assert(
      fc.property(frameList, fc.array(fc.nat(), { maxLength: 40 }), (arrays, points) => {
        const frames = arrays.map((array) => Buffer.from(array));
        const stream = framed(frames);
        assert.deepEqual(decodeAll([stream]), frames);
        assert.deepEqual(decodeAll(cut(stream, points)), frames);
        const bytes = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
        assert.deepEqual(decodeAll(bytes), frames);
      }),
      { numRuns: 300 },
    );
  });

  test('frames within one chunk are views of it; split frames are joined copies', () => {
    const stream = framed([Buffer.from('first'), Buffer.from('second')]);
    const decoder = new FrameDecoder();
    const [first, second] = decoder.push(stream);
    assert.equal(first!.buffer, stream.buffer);
    assert.equal(first!.byteOffset, stream.byteOffset + 4);
    assert.equal(second!.toString(), 'second');
    const split = framed([Buffer.from('split frame')]);
    assert.deepEqual(decoder.push(split.subarray(0, 8)), []);
    const [joined] = decoder.push(split.subarray(8));
    assert.equal(joined!.toString(), 'split frame');
    split.fill(0);
    assert.equal(joined!.toString(), 'split frame', 'the joined frame does not share memory with its chunks');
  });

  test('a frame whose prefix alone was split is still a view of the next chunk', () => {
    const stream = framed([Buffer.from('payload')]);
    const decoder = new FrameDecoder();
    assert.deepEqual(decoder.push(stream.subarray(0, 2)), []);
    const rest = stream.subarray(2);
    const [frame] = decoder.push(rest);
    assert.equal(frame!.toString(), 'payload');
    assert.equal(frame!.buffer, rest.buffer);
  });

  test('empty frames and empty chunks', () => {
    const decoder = new FrameDecoder();
    assert.deepEqual(decoder.push(Buffer.alloc(0)), []);
    assert.deepEqual(
      decoder.push(framed([Buffer.alloc(0), Buffer.alloc(0)])).map((f) => f.length),
      [0, 0],
    );
  });

  test('buffered bytes stay within one frame plus its prefix', () => {
    const frame = Buffer.alloc(10_000, 1);
    const stream = framed([frame, frame, frame]);
    const decoder = new FrameDecoder({ frameBytesMax: 10_000 });
    for (let at = 0; at < stream.length; at += 777) {
      decoder.push(stream.subarray(at, at + 777));
      assert.ok(decoder.bufferedBytes <= 10_000 + 4, String(decoder.bufferedBytes));
    }
    assert.equal(decoder.bufferedBytes, 0);
  });

  test('a length above frameBytesMax throws as soon as the prefix is complete, allocating nothing', () => {
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(1001);
    for (const split of [1, 2, 3]) {
      const decoder = new FrameDecoder({ frameBytesMax: 1000 });
      assert.deepEqual(decoder.push(prefix.subarray(0, split)), []);
      assert.throws(() => decoder.push(prefix.subarray(split)), ProtocolError);
      assert.equal(decoder.pendingFrameBytes, -1, 'no frame buffer was started');
      // A failed stream stays failed: it cannot be resynchronised.
      assert.throws(() => decoder.push(framed([Buffer.from('ok')])), ProtocolError);
    }
    const exact = Buffer.alloc(4);
    exact.writeInt32BE(1000);
    const decoder = new FrameDecoder({ frameBytesMax: 1000 });
    decoder.push(exact);
    assert.equal(decoder.pendingFrameBytes, 1000);
  });

  test('a negative length throws, also after good frames in the same chunk', () => {
    const bad = Buffer.from([0xff, 0xff, 0xff, 0xfe]);
    assert.throws(() => new FrameDecoder().push(bad), ProtocolError);
    assert.throws(
      () => new FrameDecoder().push(Buffer.concat([framed([Buffer.from('fine')]), bad])),
      ProtocolError,
    );
    const decoder = new FrameDecoder();
    decoder.push(Buffer.concat([framed([Buffer.from('fine')]), bad.subarray(0, 3)]));
    assert.throws(() => decoder.push(bad.subarray(3)), /-2/);
  });

  test('a maximal int32 length is refused with the default limit', () => {
    assert.throws(() => new FrameDecoder().push(Buffer.from([0x7f, 0xff, 0xff, 0xff])), ProtocolError);
  });
});

/** Deterministic 32-bit generator (mulberry32), so a failure can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe('FrameDecoder fuzz', () => {
  test('100,000 streams with mutated lengths and random chunking: frames or ProtocolError, bounded', () => {
    const next = random(0x7e1de);
    const int = (n: number): number => Math.floor(next() * n);
    const frameBytesMax = 300;
    let refused = 0;
    let decodedFrames = 0;
    for (let iteration = 0; iteration < 100_000; iteration++) {
      const frames = Array.from({ length: 1 + int(4) }, () => Buffer.alloc(int(200), iteration & 0xff));
      const clean = framed(frames);
      const mutated = int(4) !== 0;
      const stream = mutated ? mutateStream(clean, frames, int) : clean;
      const decoder = new FrameDecoder({ frameBytesMax });
      const got: Buffer[] = [];
      try {
        for (let at = 0; at < stream.length; ) {
          const size = 1 + int(int(2) === 0 ? 8 : 120);
          got.push(...decoder.push(stream.subarray(at, at + size)));
          at += size;
          assert.ok(decoder.bufferedBytes <= frameBytesMax + 4);
        }
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw new Error(`iteration ${iteration}: ${String(error)}`);
        refused++;
        continue;
      }
      decodedFrames += got.length;
      for (const frame of got) assert.ok(frame.length <= frameBytesMax);
      if (!mutated) assert.deepEqual(got, frames, `iteration ${iteration}`);
    }
    // Both outcomes must really occur, or the mutations are not reaching the length checks.
    assert.ok(refused > 20_000, `only ${refused} streams were refused`);
    assert.ok(decodedFrames > 100_000, `only ${decodedFrames} frames decoded`);
  });
});

/** One random mutation: a bit flip, a byte set, a length field rewritten, a truncation or garbage. */
function mutateStream(stream: Buffer, frames: readonly Buffer[], int: (n: number) => number): Buffer {
  const copy = Buffer.from(stream);
  const at = int(copy.length);
  const prefixes: number[] = [];
  for (let offset = 0, i = 0; i < frames.length; i++) {
    prefixes.push(offset);
    offset += 4 + frames[i]!.length;
  }
  const prefix = prefixes[int(prefixes.length)]!;
  switch (int(6)) {
    case 0:
      copy[at] = copy[at]! ^ (1 << int(8));
      return copy;
    case 1:
      copy[at] = int(256);
      return copy;
    case 2: {
      const lengths = [-1, -(2 ** 31), 2 ** 31 - 1, 301, 300, 0, int(600) - 100, int(2 ** 32) | 0];
      copy.writeInt32BE(lengths[int(lengths.length)]!, prefix);
      return copy;
    }
    case 3:
      copy[prefix + int(4)] = copy[prefix + int(4)]! ^ (1 << int(8));
      return copy;
    case 4:
      return copy.subarray(0, at);
    default:
      return Buffer.concat([copy, Buffer.from(Array.from({ length: 1 + int(12) }, () => int(256)))]);
  }
}

describe('frame decoder with a memory budget', () => {
  test('stalls a split frame until a buffer can be had, losing no byte', () => {
    let available = false;
    const decoder = new FrameDecoder({ allocate: (bytes) => (available ? Buffer.alloc(bytes) : undefined) });
    const frame = Buffer.from('a split frame that waits for memory');
    const wire = Buffer.concat([
      Buffer.from([0, 0, 0, frame.length]),
      frame,
      Buffer.from([0, 0, 0, 1, 0x21]),
    ]);
    assert.deepEqual(decoder.push(wire.subarray(0, 10)), []);
    assert.equal(decoder.stalled, true);
    assert.deepEqual(decoder.push(wire.subarray(10)), [], 'nothing is decoded while stalled');
    assert.deepEqual(decoder.retry(), [], 'still no buffer');
    available = true;
    const frames = decoder.retry();
    assert.equal(decoder.stalled, false);
    assert.deepEqual(
      frames.map((item) => item.toString()),
      [frame.toString(), '!'],
    );
    assert.equal(decoder.bufferedBytes, 0);
  });
});
