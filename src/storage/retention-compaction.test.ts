import assert from 'node:assert/strict';
import { readdir, readlink } from 'node:fs/promises';
import { test } from 'node:test';
import { ManualClock } from '../base/clock.ts';
import { checkBatch } from '../protocol/batch-header.ts';
import { decodeRecordBatch } from '../protocol/record-batch.ts';
import { makeBatch, withTempDir } from '../testing/storage-kit.ts';
import type { LogConfig } from './config.ts';
import { LogManager, logManagerDefaults } from './log-manager.ts';
import { PartitionLog } from './partition-log.ts';

const minuteMs = 60_000;

async function openLog(dir: string, clock: ManualClock, config: Partial<LogConfig>): Promise<PartitionLog> {
  return PartitionLog.open({ dir, clock, config: { tailWindowBytes: 0, ...config } });
}

/** Every record of the log: offset, key, value (null for tombstones). */
async function recordsOf(log: PartitionLog): Promise<Array<[bigint, string | null, string | null]>> {
  const result: Array<[bigint, string | null, string | null]> = [];
  const read = await log.read(log.logStartOffset, { maxBytes: 1 << 24 });
  for (const batch of read.batches) {
    checkBatch(batch);
    for (const record of decodeRecordBatch(batch).records)
      result.push([record.offset, record.key?.toString() ?? null, record.value?.toString() ?? null]);
  }
  return result;
}

test('retention.ms deletes closed segments whose newest record is too old, below the high watermark', async () => {
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    const log = await openLog(dir, clock, { segmentBytes: 1024, retentionMs: 10 * minuteMs });
    for (let index = 0; index < 60; index++) {
      await log.append([makeBatch([{ value: 'x'.repeat(60), timestamp: BigInt(clock.nowMs()) }])], {
        leaderEpoch: 0,
      });
      clock.advance(minuteMs / 2);
    }
    const segments = log.segmentCount;
    assert.ok(segments > 3);
    assert.equal(await log.runRetention(clock.nowMs()), 0, 'nothing below the high watermark');
    log.setHighWatermark(log.logEndOffset);
    const deleted = await log.runRetention(clock.nowMs());
    assert.ok(deleted > 0 && deleted < segments - 1, `deleted ${deleted} of ${segments}`);
    // Every record still present is at most ~10 minutes old or in a segment with a recent record.
    const oldest = (await log.read(log.logStartOffset, { maxBytes: 1 })).batches[0]!;
    assert.equal(oldest.readBigInt64BE(0), log.logStartOffset);
    assert.equal(log.logStartOffset, log.segmentBaseOffsets[0]);
    clock.advance(60 * minuteMs);
    await log.runRetention(clock.nowMs());
    assert.equal(log.segmentCount, 1, 'the active segment is never deleted');
    assert.equal(log.logStartOffset, log.segmentBaseOffsets[0]);
    const files = (await readdir(dir)).filter((name) => name.endsWith('.log'));
    assert.equal(files.length, 1);
    await log.close();
  });
});

test('retention.bytes deletes the oldest closed segments while the log is too large', async () => {
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    const log = await openLog(dir, clock, { segmentBytes: 1024, retentionMs: -1, retentionBytes: 3000 });
    for (let index = 0; index < 80; index++)
      await log.append([makeBatch([{ value: 'y'.repeat(60), timestamp: BigInt(clock.nowMs()) }])], {
        leaderEpoch: 0,
      });
    log.setHighWatermark(log.logEndOffset);
    await log.runRetention();
    assert.ok(log.sizeBytes <= 3000 + 1024, `size ${log.sizeBytes}`);
    assert.ok(log.sizeBytes > 3000 - 1024);
    log.updateConfig({ cleanupPolicy: 'compact', retentionBytes: 0 });
    assert.equal(await log.runRetention(), 0, 'compact-only logs are not trimmed by size');
    await log.close();
  });
});

test('compaction keeps the latest record per key with its original offset and drops old tombstones', async () => {
  await withTempDir(async (dir) => {
    const clock = new ManualClock(1_000_000_000);
    const config = { segmentBytes: 1024, cleanupPolicy: 'compact' as const, deleteRetentionMs: 5 * minuteMs };
    const log = await openLog(dir, clock, config);
    const expected = new Map<string, [bigint, string | null]>();
    let offset = 0n;
    for (let round = 0; round < 12; round++) {
      const records = Array.from({ length: 4 }, (_, index) => {
        const doomed = index === 0 && (round === 0 || round === 10);
        const key = doomed ? 'doomed' : `key-${(round * 4 + index) % 7}`;
        const value = doomed && round === 10 ? null : `value-${round}-${index}`;
        return { key, value, timestamp: BigInt(clock.nowMs()) };
      });
      await log.append([makeBatch(records)], { leaderEpoch: 0 });
      for (const record of records) expected.set(record.key, [offset++, record.value]);
      clock.advance(1000);
    }
    await log.append([makeBatch([{ key: 'active', value: 'tail' }])], { leaderEpoch: 0 });
    await log.roll();
    await log.append([makeBatch([{ key: 'key-1', value: 'newest' }])], { leaderEpoch: 0 });
    const before = await recordsOf(log);
    const rewritten = await log.runCompaction(clock.nowMs());
    assert.ok(rewritten > 0);
    const after = await recordsOf(log);
    // Closed segments now hold one record per key (the latest among closed segments), offsets kept.
    const closedAfter = after.filter(([recordOffset]) => recordOffset < 49n);
    const keys = closedAfter.map(([, key]) => key);
    assert.equal(new Set(keys).size, keys.length, 'one record per key');
    for (const [recordOffset, key, value] of closedAfter) {
      if (key === 'active') continue;
      assert.deepEqual(expected.get(key!), [recordOffset, value]);
      assert.deepEqual(
        before.find(([o]) => o === recordOffset),
        [recordOffset, key, value],
      );
    }
    assert.deepEqual(after.at(-1), [49n, 'key-1', 'newest'], 'active segment untouched');
    assert.deepEqual(expected.get('doomed'), [40n, null]);
    assert.ok(
      after.some(([o, key, value]) => o === 40n && key === 'doomed' && value === null),
      'fresh tombstone kept',
    );
    assert.ok(!after.some(([o]) => o === 0n), 'the value it deletes is gone');
    clock.advance(10 * minuteMs);
    await log.runCompaction(clock.nowMs());
    const later = await recordsOf(log);
    assert.ok(
      later.every(([, , value]) => value !== null),
      'old tombstones removed',
    );
    assert.equal(log.logEndOffset, 50n);
    await log.close();
    const reopened = await openLog(dir, clock, config);
    assert.deepEqual(await recordsOf(reopened), later);
    await reopened.close();
  });
});

/** Records a live log serves from its start, as a consumer or follower reads them (whole log). */
async function liveRecordCount(log: PartitionLog): Promise<{ count: number; firstOffset: bigint }> {
  let count = 0;
  let firstOffset = -1n;
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const read = await log.read(offset, { maxBytes: 1 << 20 });
    for (const batch of read.batches) {
      for (const record of decodeRecordBatch(batch).records) {
        if (firstOffset < 0n) firstOffset = record.offset;
        count += 1;
      }
      offset = batch.readBigInt64BE(0) + BigInt(batch.readInt32BE(23)) + 1n;
    }
  }
  return { count, firstOffset };
}

/** Open descriptors of this process on files that were deleted under `dir`. */
async function deletedFilesHeld(dir: string): Promise<string[]> {
  const held: string[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target.startsWith(dir) && target.endsWith('(deleted)')) held.push(target);
  }
  return held;
}

test('after the cleaner swaps segments, live readers see the compacted log and old files are freed', async () => {
  await withTempDir(async (dataDir) => {
    const clock = new ManualClock();
    const config = { cleanupPolicy: 'compact', segmentBytes: 65_536, segmentMs: 1000 } as const;
    const manager = await LogManager.open({ dataDir, clock, logConfig: config });
    const log = await manager.openLog('compacted', 0);
    await manager.tick(); // the first cleaner pass of a new log runs at once, on nothing
    for (let round = 0; round < 5; round++) {
      for (let first = 0; first < 2000; first += 100) {
        const records = Array.from({ length: 100 }, (_, index) => ({
          key: `key-${(first + index) % 100}`,
          value: `round-${round}-${first + index}`,
        }));
        await log.append([makeBatch(records)], { leaderEpoch: 0 });
      }
      clock.advance(1000);
    }
    log.setHighWatermark(log.logEndOffset);
    assert.equal((await liveRecordCount(log)).count, 10_000, 'read once before the cleaner, as consumers do');
    clock.advance(logManagerDefaults.cleanupIntervalMs);
    await manager.tick();
    const live = await liveRecordCount(log);
    assert.deepEqual(await deletedFilesHeld(dataDir), [], 'no handle keeps a replaced file');
    await manager.close();
    const reopened = await LogManager.open({ dataDir, clock, logConfig: config });
    const restarted = await liveRecordCount(await reopened.openLog('compacted', 0));
    await reopened.close();
    assert.ok(restarted.count < 10_000, `compaction ran (${restarted.count} records left)`);
    assert.deepEqual(live, restarted, 'live readers see what a restarted SPU serves');
  });
});
