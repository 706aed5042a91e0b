import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { ManualClock } from '../base/clock.ts';
import { batchHeader, checkBatch } from '../protocol/batch-header.ts';
import { decodeRecordBatch } from '../protocol/record-batch.ts';
import { FaultyFs, makeBatch, makeSizedBatch, withTempDir } from '../testing/storage-kit.ts';
import { StorageError } from './errors.ts';
import { PartitionLog, type PartitionLogOptions } from './partition-log.ts';

function baseOffsets(batches: Buffer[]): bigint[] {
  return batches.map((batch) => batch.readBigInt64BE(0));
}

function records(count: number, prefix = 'r', timestamp?: bigint): Buffer {
  return makeBatch(
    Array.from({ length: count }, (_, index) => ({
      key: `${prefix}${index}`,
      value: `${prefix}-value-${index}`,
      ...(timestamp === undefined ? {} : { timestamp: timestamp + BigInt(index) }),
    })),
  );
}

async function open(dir: string, options: Partial<PartitionLogOptions> = {}): Promise<PartitionLog> {
  return PartitionLog.open({ dir, clock: new ManualClock(), ...options });
}

test('leader appends assign dense offsets and stamp the leader epoch', async () => {
  await withTempDir(async (dir) => {
    const log = await open(dir);
    const first = await log.append([records(3), records(2)], { leaderEpoch: 4 });
    assert.deepEqual([first.baseOffset, first.lastOffset, first.logEndOffset], [0n, 4n, 5n]);
    const second = await log.append([records(1)], { leaderEpoch: 4 });
    assert.deepEqual([second.baseOffset, second.lastOffset, second.logEndOffset], [5n, 5n, 6n]);
    const read = await log.read(0n, { maxBytes: 1 << 20 });
    assert.deepEqual(baseOffsets(read.batches), [0n, 3n, 5n]);
    for (const batch of read.batches) {
      checkBatch(batch);
      assert.equal(batch.readInt32BE(batchHeader.partitionLeaderEpoch), 4);
    }
    assert.deepEqual(
      decodeRecordBatch(read.batches[1]!).records.map((record) => record.offset),
      [3n, 4n],
    );
    await log.close();
  });
});

test('reads return whole batches from the one holding the offset, at least one, below the bound', async () => {
  await withTempDir(async (dir) => {
    const log = await open(dir);
    for (let index = 0; index < 10; index++) await log.append([records(4)], { leaderEpoch: 0 });
    const batchBytes = (await log.read(0n, { maxBytes: 1 })).bytes;
    for (const cold of [false, true]) {
      if (cold) log.updateConfig({ tailWindowBytes: 0 });
      assert.deepEqual(
        baseOffsets((await log.read(6n, { maxBytes: 1 })).batches),
        [4n],
        'one batch even if too big',
      );
      assert.deepEqual((await log.read(6n, { maxBytes: 1, minOneBatch: false })).batches, []);
      assert.deepEqual(baseOffsets((await log.read(6n, { maxBytes: batchBytes * 2 })).batches), [4n, 8n]);
      assert.deepEqual(baseOffsets((await log.read(6n, { maxBytes: 1 << 20, upperBound: 16n })).batches), [
        4n,
        8n,
        12n,
      ]);
      assert.deepEqual((await log.read(6n, { maxBytes: 1 << 20, upperBound: 7n })).batches, []);
      assert.deepEqual((await log.read(40n, { maxBytes: 1 << 20 })).batches, []);
    }
    await assert.rejects(log.read(41n, { maxBytes: 100 }), { code: 'OFFSET_OUT_OF_RANGE' });
    await log.close();
  });
});

test('segments roll by size and cold reads find batches through the sparse index after reopening', async () => {
  await withTempDir(async (dir) => {
    const config = { segmentBytes: 4096, indexIntervalBytes: 256 };
    const log = await open(dir, { config });
    for (let index = 0; index < 100; index++) await log.append([records(3)], { leaderEpoch: 1 });
    assert.ok(log.segmentCount >= 3);
    await log.close();
    const names = await readdir(dir);
    assert.ok(names.includes('00000000000000000000.log'));
    assert.ok(names.includes('00000000000000000000.index'));
    assert.ok(names.includes('00000000000000000000.timeindex'));
    const reopened = await open(dir, { config });
    assert.equal(reopened.logEndOffset, 300n);
    for (let offset = 0n; offset < 300n; offset += 7n) {
      const read = await reopened.read(offset, { maxBytes: 1 });
      assert.equal(read.batches.length, 1);
      const base = read.batches[0]!.readBigInt64BE(0);
      assert.ok(base <= offset && offset < base + 3n, `offset ${offset} in batch ${base}`);
    }
    await reopened.close();
  });
});

test('the high watermark and log start survive a clean restart', async () => {
  await withTempDir(async (dir) => {
    const log = await open(dir, { config: { segmentBytes: 2048 } });
    for (let index = 0; index < 40; index++) await log.append([records(2)], { leaderEpoch: 0 });
    log.setHighWatermark(60n);
    assert.throws(() => log.setHighWatermark(81n), /beyond log end/);
    await log.deleteRecordsBefore(50n);
    await log.close();
    const reopened = await open(dir, { config: { segmentBytes: 2048 } });
    assert.equal(reopened.highWatermark, 60n);
    assert.equal(reopened.logStartOffset, 50n);
    await assert.rejects(reopened.read(49n, { maxBytes: 10 }), { code: 'OFFSET_OUT_OF_RANGE' });
    const read = await reopened.read(50n, { maxBytes: 1 });
    assert.equal(read.batches[0]!.readBigInt64BE(0), 50n);
    const firstBase = reopened.segmentBaseOffsets[0]!;
    assert.ok(firstBase <= 50n && firstBase > 0n, `old segments deleted (first base ${firstBase})`);
    await reopened.close();
  });
});

test('follower appends must continue at the log end and record leader epochs', async () => {
  await withTempDir(async (dir) => {
    const log = await open(dir);
    await log.appendAsFollower([makeBatch([{ value: 'a' }, { value: 'b' }], 0n, 1)]);
    await assert.rejects(log.appendAsFollower([makeBatch([{ value: 'c' }], 3n, 1)]), {
      code: 'NOT_AT_LOG_END',
    });
    await assert.rejects(log.appendAsFollower([makeBatch([{ value: 'c' }], 1n, 1)]), {
      code: 'NOT_AT_LOG_END',
    });
    await log.appendAsFollower([makeBatch([{ value: 'c' }], 2n, 3), makeBatch([{ value: 'd' }], 3n, 5)]);
    assert.equal(log.logEndOffset, 4n);
    assert.deepEqual(log.endOffsetForEpoch(1), { leaderEpoch: 1, endOffset: 2n });
    assert.deepEqual(log.endOffsetForEpoch(2), { leaderEpoch: 1, endOffset: 2n });
    assert.deepEqual(log.endOffsetForEpoch(3), { leaderEpoch: 3, endOffset: 3n });
    assert.deepEqual(log.endOffsetForEpoch(5), { leaderEpoch: 5, endOffset: 4n });
    assert.deepEqual(log.endOffsetForEpoch(6), { leaderEpoch: -1, endOffset: -1n });
    assert.deepEqual(log.endOffsetForEpoch(0), { leaderEpoch: 0, endOffset: 0n });
    await log.close();
  });
});

test('truncation cuts at a batch boundary, drops later segments and epochs, and appends continue', async () => {
  await withTempDir(async (dir) => {
    const config = { segmentBytes: 2048, indexIntervalBytes: 128 };
    const log = await open(dir, { config });
    for (let index = 0; index < 30; index++) await log.append([records(2)], { leaderEpoch: 1 });
    for (let index = 0; index < 30; index++) await log.append([records(2)], { leaderEpoch: 2 });
    log.setHighWatermark(120n);
    const segmentsBefore = log.segmentCount;
    await log.truncateTo(41n);
    assert.equal(log.logEndOffset, 40n, 'cut at the start of the batch holding 41');
    assert.equal(log.highWatermark, 40n);
    assert.ok(log.segmentCount < segmentsBefore);
    assert.deepEqual(log.endOffsetForEpoch(1), { leaderEpoch: 1, endOffset: 40n });
    assert.deepEqual(log.endOffsetForEpoch(2), { leaderEpoch: -1, endOffset: -1n });
    const appended = await log.append([records(1)], { leaderEpoch: 3 });
    assert.equal(appended.baseOffset, 40n);
    await log.close();
    const reopened = await open(dir, { config });
    assert.equal(reopened.logEndOffset, 41n);
    const all = await reopened.read(0n, { maxBytes: 1 << 20 });
    const bases: bigint[] = [];
    for (let offset = 0n; offset < 41n; ) {
      const read = await reopened.read(offset, { maxBytes: 1 << 20 });
      for (const batch of read.batches) bases.push(batch.readBigInt64BE(0));
      offset =
        read.batches.length === 0 ? 41n : bases.at(-1)! + BigInt(read.batches.at(-1)!.readInt32BE(23)) + 1n;
    }
    assert.ok(all.batches.length > 0);
    assert.deepEqual(bases.at(-1), 40n);
    await reopened.close();
  });
});

test('truncating below log start empties the log and restarts it there', async () => {
  await withTempDir(async (dir) => {
    const log = await open(dir);
    await log.append([records(5)], { leaderEpoch: 0 });
    await log.deleteRecordsBefore(3n);
    await log.truncateTo(2n);
    assert.deepEqual([log.logStartOffset, log.logEndOffset], [2n, 2n]);
    assert.equal((await log.append([records(1)], { leaderEpoch: 0 })).baseOffset, 2n);
    await log.close();
  });
});

test('offsetForTimestamp finds the first record at or after a time, across segments', async () => {
  await withTempDir(async (dir) => {
    const config = { segmentBytes: 2048, indexIntervalBytes: 200 };
    const log = await open(dir, { config });
    for (let index = 0; index < 50; index++)
      await log.append([records(4, 'k', 1_000_000n + BigInt(index) * 10n)], { leaderEpoch: 0 });
    await log.close();
    const reopened = await open(dir, { config });
    assert.deepEqual(await reopened.offsetForTimestamp(1_000_000n), { offset: 0n, timestamp: 1_000_000n });
    assert.deepEqual(await reopened.offsetForTimestamp(1_000_072n), { offset: 30n, timestamp: 1_000_072n });
    assert.deepEqual(await reopened.offsetForTimestamp(1_000_075n), { offset: 32n, timestamp: 1_000_080n });
    assert.deepEqual(await reopened.offsetForTimestamp(1_000_493n), { offset: 199n, timestamp: 1_000_493n });
    assert.equal(await reopened.offsetForTimestamp(1_000_494n), undefined);
    assert.deepEqual(await reopened.offsetForTimestamp(-1n), { offset: 200n, timestamp: -1n });
    assert.deepEqual(await reopened.offsetForTimestamp(-2n), { offset: 0n, timestamp: -1n });
    await reopened.close();
  });
});

test('invalid and oversized batches are refused with typed errors and change nothing', async () => {
  await withTempDir(async (dir) => {
    const log = await open(dir, { config: { batchBytesMax: 2000 } });
    const corrupt = records(2);
    corrupt[corrupt.length - 1]! ^= 0xff;
    await assert.rejects(log.append([records(1), corrupt], { leaderEpoch: 0 }), (error: unknown) => {
      assert.ok(error instanceof StorageError);
      assert.equal(error.code, 'INVALID_BATCH');
      return true;
    });
    await assert.rejects(log.append([makeSizedBatch(3, 1000)], { leaderEpoch: 0 }), {
      code: 'BATCH_TOO_LARGE',
    });
    await assert.rejects(log.append([Buffer.alloc(30)], { leaderEpoch: 0 }), { code: 'INVALID_BATCH' });
    assert.equal(log.logEndOffset, 0n);
    await log.close();
  });
});

test('LogAppendTime stamps the broker clock and keeps the CRC valid', async () => {
  await withTempDir(async (dir) => {
    const clock = new ManualClock(1_800_000_000_000);
    const log = await PartitionLog.open({ dir, clock, config: { timestampType: 'LogAppendTime' } });
    const result = await log.append([records(2, 'x', 5n)], { leaderEpoch: 0 });
    assert.equal(result.logAppendTimeMs, 1_800_000_000_000);
    const [batch] = (await log.read(0n, { maxBytes: 1000 })).batches;
    checkBatch(batch!);
    assert.deepEqual(
      decodeRecordBatch(batch!).records.map((record) => record.timestamp),
      [1_800_000_000_000n, 1_800_000_000_000n],
    );
    await log.close();
  });
});

test('concurrent appends are applied in call order without interleaving', async () => {
  await withTempDir(async (dir) => {
    const log = await open(dir);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) => log.append([records((index % 3) + 1)], { leaderEpoch: 0 })),
    );
    let expected = 0n;
    for (const [index, result] of results.entries()) {
      assert.equal(result.baseOffset, expected);
      expected += BigInt((index % 3) + 1);
    }
    log.updateConfig({ tailWindowBytes: 0 });
    const read = await log.read(0n, { maxBytes: 1 << 20 });
    assert.equal(read.batches.length, 50);
    for (const batch of read.batches) checkBatch(batch);
    await log.close();
  });
});

test('files that do not belong are reported and left alone', async () => {
  await withTempDir(async (dir) => {
    const log = await open(dir);
    await log.append([records(1)], { leaderEpoch: 0 });
    await log.close();
    await writeFile(`${dir}/notes.txt`, 'hello');
    const events: string[] = [];
    const reopened = await open(dir, {
      onEvent: (event) => events.push(`${event.kind}:${'path' in event ? event.path : ''}`),
    });
    assert.deepEqual(events, [`unknown-file:${dir}/notes.txt`]);
    assert.ok((await readdir(dir)).includes('notes.txt'));
    await reopened.close();
  });
});

test('flush.messages=1 makes each append durable; group commit covers concurrent appends', async () => {
  await withTempDir(async (dir) => {
    const log = await open(dir, { config: { flushMessages: 1 } });
    await Promise.all(Array.from({ length: 20 }, () => log.append([records(1)], { leaderEpoch: 0 })));
    assert.equal(log.durableOffset, 20n);
    await log.close();
  });
});

test('appends submitted during a write are coalesced into one write; a refused one fails alone', async () => {
  await withTempDir(async (dir) => {
    const fs = new FaultyFs();
    const log = await open(dir, { fs });
    const first = log.append([records(1)], { leaderEpoch: 0 });
    const group = Array.from({ length: 10 }, () => log.append([records(2)], { leaderEpoch: 0 }));
    const misplaced = assert.rejects(log.appendAsFollower([makeBatch([{ value: 'f' }], 99n, 0)]), {
      code: 'NOT_AT_LOG_END',
    });
    const tail = log.append([records(1)], { leaderEpoch: 0 });
    await first;
    const results = await Promise.all(group);
    await misplaced;
    assert.equal((await tail).baseOffset, 21n);
    assert.deepEqual(
      results.map((result) => result.baseOffset),
      Array.from({ length: 10 }, (_, index) => 1n + BigInt(index) * 2n),
    );
    assert.equal(
      fs.writes.get(`${dir}/00000000000000000000.log`),
      1,
      'appends submitted together share one write',
    );
    log.updateConfig({ tailWindowBytes: 0 });
    const read = await log.read(0n, { maxBytes: 1 << 20 });
    assert.equal(read.batches.length, 12);
    await log.close();
  });
});
