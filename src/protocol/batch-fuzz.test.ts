import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchHeader, computeBatchCrc } from './batch-header.ts';
import { type Codec, codecIds, compress } from './compression/compression.ts';
import { ProtocolError } from './protocol-error.ts';
import { decodeRecordBatch, encodeRecordBatch, type RecordInput } from './record-batch.ts';

/**
 * Seeded mutation fuzzing of decodeRecordBatch: corrupt batches of every codec in many ways, half of
 * them with the CRC recomputed afterwards so the decompressors and the record parser see the damage,
 * and require that nothing but ProtocolError ever comes out. Deterministic: a failure names its
 * iteration, and the same seed replays it.
 */

const seed = 0x5eed_ba7c;
const codecs: readonly Codec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
/** Iterations per codec: compressed codecs cost more per iteration (they recompress), so fewer. */
const iterations: Readonly<Record<Codec, number>> = {
  none: 60_000,
  gzip: 30_000,
  snappy: 30_000,
  lz4: 30_000,
  zstd: 30_000,
};
const decodeOptions = { decompressedBytesMax: 1 << 20, recordsMax: 10_000 };

/** Deterministic generator (mulberry32). */
function generator(initial: number): { int(n: number): number } {
  let state = initial >>> 0;
  return {
    int(n: number): number {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n);
    },
  };
}

type Random = ReturnType<typeof generator>;

function sampleRecords(random: Random): RecordInput[] {
  return Array.from({ length: 1 + random.int(12) }, (_, i) => ({
    key: random.int(4) === 0 ? null : Buffer.from(`key-${i}-${random.int(1000)}`),
    value:
      random.int(6) === 0 ? null : Buffer.alloc(random.int(random.int(8) === 0 ? 600 : 40), 0x61 + (i % 26)),
    headers: Array.from({ length: random.int(3) }, (_, h) => ({
      key: `header-${h}`,
      value: random.int(3) === 0 ? null : Buffer.from([h, i]),
    })),
    timestamp: 1_700_000_000_000n + BigInt(random.int(5000)) - 2500n,
  }));
}

/** Assembles a batch around an (uncompressed) records section, with a correct length and CRC. */
function assemble(template: Buffer, section: Buffer, codec: Codec, recordCount: number): Buffer {
  const payload = compress(codec, section);
  const batch = Buffer.alloc(batchHeader.bytes + payload.length);
  template.copy(batch, 0, 0, batchHeader.bytes);
  batch.writeInt32BE(batch.length - batchHeader.logOverheadBytes, batchHeader.batchLength);
  batch.writeInt16BE(codecIds[codec], batchHeader.attributes);
  batch.writeInt32BE(recordCount, batchHeader.recordCount);
  payload.copy(batch, batchHeader.bytes);
  return withCrc(batch);
}

function withCrc(batch: Buffer): Buffer {
  if (batch.length >= batchHeader.bytes) batch.writeUInt32BE(computeBatchCrc(batch), batchHeader.crc);
  return batch;
}

/** One byte-level mutation of `bytes` (never in place). */
function mutateBytes(bytes: Buffer, random: Random, from = 0): Buffer {
  const copy = Buffer.from(bytes);
  if (copy.length <= from) return Buffer.concat([copy, Buffer.from([random.int(256)])]);
  const at = from + random.int(copy.length - from);
  switch (random.int(7)) {
    case 0:
      copy[at] = copy[at]! ^ (1 << random.int(8));
      return copy;
    case 1:
      copy[at] = [0x00, 0x01, 0x7f, 0x80, 0xff, random.int(256)][random.int(6)]!;
      return copy;
    case 2:
      return copy.subarray(0, at);
    case 3:
      return Buffer.concat([
        copy,
        Buffer.from(Array.from({ length: 1 + random.int(16) }, () => random.int(256))),
      ]);
    case 4:
      return Buffer.concat([copy.subarray(0, at), copy.subarray(at + 1 + random.int(4))]);
    case 5:
      return Buffer.concat([copy.subarray(0, at), Buffer.from([random.int(256)]), copy.subarray(at)]);
    default: {
      // A plausible-looking varint where a length might be: small negatives, zero, large values.
      const varints = [
        [0x01],
        [0x03],
        [0x00],
        [0xff, 0xff, 0xff, 0xff, 0x0f],
        [0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
      ];
      const varint = varints[random.int(varints.length)]!;
      return Buffer.concat([copy.subarray(0, at), Buffer.from(varint), copy.subarray(at + 1)]);
    }
  }
}

/** Header edits: batchLength, recordCount, lastOffsetDelta, magic, attributes (codec bits). */
function mutateHeader(batch: Buffer, random: Random): Buffer {
  const copy = Buffer.from(batch);
  const edits = [
    () =>
      copy.writeInt32BE(
        copy.readInt32BE(batchHeader.batchLength) + random.int(9) - 4,
        batchHeader.batchLength,
      ),
    () => copy.writeInt32BE([-1, 0, 2 ** 31 - 1, random.int(64)][random.int(4)]!, batchHeader.recordCount),
    () =>
      copy.writeInt32BE(
        copy.readInt32BE(batchHeader.recordCount) + random.int(5) - 2,
        batchHeader.recordCount,
      ),
    () => copy.writeInt32BE(random.int(3) - 1, batchHeader.lastOffsetDelta),
    () => copy.writeInt8(random.int(4), batchHeader.magic),
    () =>
      copy.writeInt16BE(
        (copy.readInt16BE(batchHeader.attributes) & ~7) | random.int(8),
        batchHeader.attributes,
      ),
  ];
  edits[random.int(edits.length)]!();
  return copy;
}

interface Outcomes {
  decoded: number;
  crcErrors: number;
  otherErrors: number;
}

function decodeOnly(batch: Buffer, outcomes: Outcomes, where: string): void {
  try {
    const decoded = decodeRecordBatch(batch, decodeOptions);
    outcomes.decoded++;
    // What decodes must encode again and decode to the same records.
    const again = decodeRecordBatch(
      encodeRecordBatch({ codec: decoded.codec, baseOffset: decoded.baseOffset, records: decoded.records }),
    );
    assert.deepEqual(
      again.records.map((r) => [r.offset, r.key, r.value, r.headers]),
      decoded.records.map((r) => [r.offset, r.key, r.value, r.headers]),
      where,
    );
  } catch (error) {
    if (!(error instanceof ProtocolError)) {
      throw new Error(`${where}: ${error instanceof Error ? error.stack : String(error)}`);
    }
    if (/CRC/.test(error.message)) outcomes.crcErrors++;
    else outcomes.otherErrors++;
  }
}

function fuzzCodec(codec: Codec, random: Random): Outcomes {
  const outcomes: Outcomes = { decoded: 0, crcErrors: 0, otherErrors: 0 };
  const bases = Array.from({ length: 16 }, () => {
    const records = sampleRecords(random);
    const plain = encodeRecordBatch({ records, baseOffset: BigInt(random.int(1 << 30)) });
    return { records, plain, batch: encodeRecordBatch({ records, codec }) };
  });
  for (let iteration = 0; iteration < iterations[codec]; iteration++) {
    const base = bases[random.int(bases.length)]!;
    const where = `${codec} iteration ${iteration} (seed 0x${seed.toString(16)})`;
    let batch: Buffer;
    switch (random.int(5)) {
      case 0: // bytes anywhere, CRC left stale
        batch = mutateBytes(base.batch, random);
        break;
      case 1: // bytes after the CRC field, CRC recomputed: the payload parser sees the damage
        batch = withCrc(mutateBytes(base.batch, random, batchHeader.crcStart));
        break;
      case 2: // header fields, CRC recomputed
        batch = withCrc(mutateHeader(base.batch, random));
        break;
      default: {
        // The records section itself, then compressed and wrapped correctly: the record parser sees it.
        const section = mutateBytes(base.plain.subarray(batchHeader.bytes), random);
        const count = random.int(4) === 0 ? base.records.length + random.int(3) - 1 : base.records.length;
        batch = assemble(base.plain, section, codec, count);
      }
    }
    decodeOnly(batch, outcomes, where);
  }
  return outcomes;
}

test('mutated batches of every codec give only ProtocolError', { timeout: 180_000 }, (context) => {
  const random = generator(seed);
  let total = 0;
  for (const codec of codecs) {
    const outcomes = fuzzCodec(codec, random);
    total += outcomes.decoded + outcomes.crcErrors + outcomes.otherErrors;
    // Each kind of outcome must occur often, or the mutations are not reaching past the CRC.
    assert.ok(outcomes.otherErrors > iterations[codec] / 5, `${codec}: ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.crcErrors > iterations[codec] / 20, `${codec}: ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.decoded > iterations[codec] / 50, `${codec}: ${JSON.stringify(outcomes)}`);
    context.diagnostic(`${codec}: ${JSON.stringify(outcomes)}`);
  }
  assert.ok(total >= 100_000, `only ${total} batches`);
});
