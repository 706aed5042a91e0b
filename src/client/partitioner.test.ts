import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  DefaultPartitioner,
  keyPartition,
  murmur2,
  RoundRobinPartitioner,
  toPositive,
} from './partitioner.ts';

const require = createRequire(import.meta.url);
// kafkajs's own Java-compatible murmur2 (built on 64-bit Long arithmetic): an independent oracle.
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (
  key: Buffer,
) => number;

/**
 * Murmur2 written a second way, from the published description (32-bit multiply-and-mix over
 * little-endian words, then the tail, then a final avalanche), with BigInt arithmetic modulo 2^32
 * instead of Math.imul.
 */
function referenceMurmur2(data: Uint8Array): number {
  const m = 0x5bd1e995n;
  const mask = 0xffffffffn;
  const mul = (a: bigint, b: bigint): bigint => (a * b) & mask;
  let h = (0x9747b28cn ^ BigInt(data.length)) & mask;
  const words = Math.floor(data.length / 4);
  for (let i = 0; i < words; i++) {
    let k = 0n;
    for (let b = 3; b >= 0; b--) k = (k << 8n) | BigInt(data[i * 4 + b]!);
    k = mul(k, m);
    k ^= k >> 24n;
    k = mul(k, m);
    h = mul(h, m) ^ k;
  }
  const rest = data.length % 4;
  const at = words * 4;
  if (rest >= 3) h ^= BigInt(data[at + 2]!) << 16n;
  if (rest >= 2) h ^= BigInt(data[at + 1]!) << 8n;
  if (rest >= 1) {
    h ^= BigInt(data[at]!);
    h = mul(h, m);
  }
  h ^= h >> 13n;
  h = mul(h, m);
  h ^= h >> 15n;
  return Number(BigInt.asIntN(32, h));
}

describe('murmur2', () => {
  test('known values of the Java client (its own unit test cases)', () => {
    const cases: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, expected] of cases) assert.equal(murmur2(Buffer.from(key)), expected, key);
  });

  test('agrees with an independent BigInt implementation and with kafkajs, for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const expected = referenceMurmur2(bytes);
        assert.equal(murmur2(bytes), expected);
        assert.equal(murmur2(bytes), kafkajsMurmur2(Buffer.from(bytes)));
      }),
      { numRuns: 2000 },
    );
  });

  test('empty input and every tail length', () => {
    assert.equal(murmur2(new Uint8Array(0)), referenceMurmur2(new Uint8Array(0)));
    for (let length = 1; length <= 8; length++) {
      const bytes = Buffer.alloc(length, 0xff);
      assert.equal(murmur2(bytes), referenceMurmur2(bytes), `length ${length}`);
    }
  });

  test('toPositive clears the sign bit, unlike Math.abs', () => {
    assert.equal(toPositive(-2147483648), 0);
    assert.equal(toPositive(-1), 0x7fffffff);
    assert.equal(toPositive(5), 5);
    assert.equal(keyPartition(Buffer.from('foobar'), 7), toPositive(-790332482) % 7);
  });
});

describe('DefaultPartitioner', () => {
  test('keys hash with murmur2; keyless records stick until their batch is sealed', () => {
    const values = [0.1, 0.6, 0.9];
    const partitioner = new DefaultPartitioner({ random: () => values.shift() ?? 0 });
    const keyed = partitioner.partition({ topic: 't', key: Buffer.from('foobar'), partitionCount: 10 });
    assert.equal(keyed, toPositive(-790332482) % 10);
    const first = partitioner.partition({ topic: 't', key: null, partitionCount: 10 });
    assert.equal(first, 1);
    assert.equal(partitioner.partition({ topic: 't', key: null, partitionCount: 10 }), 1);
    partitioner.onBatchSealed(' t', 1); // another topic: no effect
    partitioner.onBatchSealed('t', 3); // another partition: no effect
    assert.equal(partitioner.partition({ topic: 't', key: null, partitionCount: 10 }), 1);
    partitioner.onBatchSealed('t', 1);
    assert.equal(partitioner.partition({ topic: 't', key: null, partitionCount: 10 }), 6);
  });

  test('round robin cycles', () => {
    const partitioner = new RoundRobinPartitioner();
    const got = Array.from({ length: 5 }, () =>
      partitioner.partition({ topic: 't', key: null, partitionCount: 3 }),
    );
    assert.deepEqual(got, [0, 1, 2, 0, 1]);
  });
});
