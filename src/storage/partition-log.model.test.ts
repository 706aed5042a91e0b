import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../base/clock.ts';
import { batchHeader } from '../protocol/batch-header.ts';
import { encodeRecordBatch } from '../protocol/record-batch.ts';
import { withTempDir } from '../testing/storage-kit.ts';
import { PartitionLog } from './partition-log.ts';

/**
 * Model-based test: random sequences of appends (leader and follower), reads, truncations, rolls,
 * retention, deleteRecords, high watermark moves, clean restarts and crashes (dropping the log
 * without closing) run against a real log in a temporary folder and against a list of batches in
 * memory; every read must return exactly the model's bytes. Tiny segments and tail windows make
 * every path (tail, cold, cross-segment, index lookups) run. Seeds are printed on failure.
 */

interface ModelBatch {
  readonly base: bigint;
  readonly last: bigint;
  readonly bytes: Buffer;
}

class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0 || 1;
  }
  next(): number {
    // xorshift32: deterministic per seed, good enough to pick operations.
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state / 0x100000000;
  }
  int(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }
  bigint(low: bigint, high: bigint): bigint {
    return high <= low ? low : low + BigInt(Math.floor(this.next() * Number(high - low + 1n)));
  }
}

class Model {
  batches: ModelBatch[] = [];
  logStart = 0n;
  logEnd = 0n;
  highWatermark = 0n;

  add(batch: Buffer): void {
    const base = batch.readBigInt64BE(0);
    const last = base + BigInt(batch.readInt32BE(batchHeader.lastOffsetDelta));
    this.batches.push({ base, last, bytes: Buffer.from(batch) });
    this.logEnd = last + 1n;
  }

  expectedRead(from: bigint, maxBytes: number, upperBound: bigint): Buffer[] {
    const result: Buffer[] = [];
    let bytes = 0;
    for (const batch of this.batches) {
      if (batch.last < from) continue;
      if (batch.last >= upperBound) break;
      if (result.length > 0 && bytes + batch.bytes.length > maxBytes) break;
      result.push(batch.bytes);
      bytes += batch.bytes.length;
    }
    return result;
  }

  truncate(offset: bigint): void {
    if (offset < this.logStart) {
      this.batches = [];
      this.logStart = offset;
      this.logEnd = offset;
    } else {
      const cut = this.batches.findIndex((batch) => batch.last >= offset);
      if (cut >= 0) {
        this.logEnd = this.batches[cut]!.base;
        this.batches.splice(cut);
      }
    }
    if (this.highWatermark > this.logEnd) this.highWatermark = this.logEnd;
  }
}

function randomBatch(random: Random, baseOffset = 0n, leaderEpoch = -1): Buffer {
  const count = random.int(1, 5);
  return encodeRecordBatch({
    baseOffset,
    partitionLeaderEpoch: leaderEpoch,
    records: Array.from({ length: count }, (_, index) => ({
      key: random.next() < 0.3 ? null : Buffer.from(`k${random.int(0, 20)}`),
      value: Buffer.alloc(random.int(0, 300), 97 + index),
      timestamp: 1_700_000_000_000n + BigInt(random.int(0, 100_000)),
    })),
  });
}

async function runSequence(seed: number, dir: string, steps: number): Promise<void> {
  const random = new Random(seed);
  const clock = new ManualClock();
  const config = {
    segmentBytes: random.int(1024, 4096),
    indexIntervalBytes: random.int(0, 600),
    tailWindowBytes: random.int(0, 3000),
    retentionMs: -1,
    retentionBytes: -1,
  };
  const model = new Model();
  let epoch = 0;
  let log = await PartitionLog.open({ dir, clock, config });
  const trace: string[] = [];
  try {
    for (let step = 0; step < steps; step++) {
      const choice = random.int(0, 99);
      if (choice < 30) {
        const batches = Array.from({ length: random.int(1, 3) }, () => randomBatch(random));
        trace.push(`append ${batches.length}`);
        const result = await log.append(batches, { leaderEpoch: epoch });
        assert.equal(result.baseOffset, model.logEnd);
        for (const batch of batches) model.add(batch);
        assert.equal(result.logEndOffset, model.logEnd);
      } else if (choice < 36) {
        epoch += random.int(0, 1);
        const batch = randomBatch(random, model.logEnd, epoch);
        trace.push(`follower ${model.logEnd}`);
        await log.appendAsFollower([batch]);
        model.add(batch);
      } else if (choice < 60) {
        const from = random.bigint(model.logStart, model.logEnd);
        const maxBytes = random.int(1, 2000);
        const near = model.batches[random.int(0, model.batches.length - 1)]?.last ?? model.logEnd;
        const pick = random.int(0, 2);
        const upperBound =
          pick === 0 ? model.logEnd : pick === 1 ? random.bigint(model.logStart, model.logEnd) : near;
        trace.push(`read ${from} ${maxBytes} ${upperBound}`);
        const read = await log.read(from, { maxBytes, upperBound });
        const expected = model.expectedRead(from, maxBytes, upperBound);
        assert.equal(read.batches.length, expected.length, 'batch count');
        for (const [index, batch] of read.batches.entries())
          assert.ok(batch.equals(expected[index]!), `batch ${index}`);
      } else if (choice < 64) {
        const offset =
          random.next() < 0.1
            ? random.bigint(0n, model.logEnd)
            : random.bigint(model.highWatermark, model.logEnd);
        trace.push(`truncate ${offset}`);
        await log.truncateTo(offset);
        model.truncate(offset);
      } else if (choice < 68) {
        trace.push('roll');
        await log.roll();
      } else if (choice < 74) {
        const offset = random.bigint(model.highWatermark, model.logEnd); // never moves back
        trace.push(`hw ${offset}`);
        log.setHighWatermark(offset);
        model.highWatermark = offset;
      } else if (choice < 78) {
        const offset = random.bigint(model.logStart, model.highWatermark);
        trace.push(`deleteRecords ${offset}`);
        await log.deleteRecordsBefore(offset);
        if (offset > model.logStart) model.logStart = offset;
      } else if (choice < 82) {
        const retentionBytes = random.int(0, 6000);
        trace.push(`retention ${retentionBytes}`);
        log.updateConfig({ retentionBytes });
        await log.runRetention(clock.nowMs());
        log.updateConfig({ retentionBytes: -1 });
        assert.ok(log.logStartOffset >= model.logStart && log.logStartOffset <= model.highWatermark);
        model.logStart = log.logStartOffset;
      } else if (choice < 90) {
        trace.push('restart');
        await log.close();
        log = await PartitionLog.open({ dir, clock, config });
        assert.equal(log.highWatermark, model.highWatermark);
      } else {
        trace.push('crash');
        await log.abandon();
        log = await PartitionLog.open({ dir, clock, config });
        assert.ok(log.highWatermark <= model.highWatermark);
        model.highWatermark = log.highWatermark;
      }
      model.batches = model.batches.filter((batch) => batch.last >= model.logStart);
      assert.equal(log.logEndOffset, model.logEnd, 'log end');
      assert.equal(log.logStartOffset, model.logStart, 'log start');
      assert.ok(log.highWatermark <= log.logEndOffset && log.highWatermark >= log.logStartOffset);
    }
    await log.close();
  } catch (error) {
    await log.abandon();
    const reason = error instanceof Error ? (error.stack ?? error.message) : String(error);
    throw new Error(`seed ${seed} failed after: ${trace.slice(-12).join('; ')}\n${reason}`, { cause: error });
  }
}

test('random operation sequences match the in-memory model', async () => {
  const seeds = Number(process.env.TIDE_STORAGE_MODEL_SEEDS ?? 40);
  const first = Number(process.env.TIDE_STORAGE_MODEL_SEED ?? 1);
  for (let seed = first; seed < first + seeds; seed++) {
    await withTempDir((dir) => runSequence(seed, dir, 150));
  }
});
