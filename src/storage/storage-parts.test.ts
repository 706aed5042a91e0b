import assert from 'node:assert/strict';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { ManualClock } from '../base/clock.ts';
import { FaultyFs, makeBatch, withTempDir } from '../testing/storage-kit.ts';
import { logConfigDefaults, resolveLogConfig } from './config.ts';
import { SegmentHandleCache } from './handle-cache.ts';
import { LeaderEpochCache } from './leader-epoch-cache.ts';
import { OffsetIndex, offsetIndexProblem } from './offset-index.ts';
import { decodePartitionCheckpoint, encodePartitionCheckpoint } from './partition-checkpoint.ts';
import { PartitionLog } from './partition-log.ts';
import { TailBudget, TailWindow } from './tail-window.ts';
import { TimeIndex, timeIndexProblem } from './time-index.ts';

test('the offset index finds the last entry at or below an offset and validates its file form', () => {
  const index = new OffsetIndex(100n);
  for (let entry = 1; entry <= 40; entry++) index.append(100n + BigInt(entry * 10), entry * 4096);
  assert.deepEqual(index.lookup(99n), { offset: 100n, position: 0 });
  assert.deepEqual(index.lookup(105n), { offset: 100n, position: 0 });
  assert.deepEqual(index.lookup(110n), { offset: 110n, position: 4096 });
  assert.deepEqual(index.lookup(239n), { offset: 230n, position: 13 * 4096 });
  assert.deepEqual(index.lookup(10_000n), { offset: 500n, position: 40 * 4096 });
  assert.equal(offsetIndexProblem(Buffer.from(index.bytes()), 41 * 4096, 100), undefined);
  assert.match(offsetIndexProblem(Buffer.from(index.bytes()), 40 * 4096, 100) ?? '', /beyond the log/);
  assert.match(offsetIndexProblem(Buffer.from(index.bytes()), 41 * 4096, 10) ?? '', /exceed/);
  assert.match(offsetIndexProblem(index.bytes().subarray(0, 13), 41 * 4096, 100) ?? '', /whole number/);
  const shuffled = Buffer.from(index.bytes());
  shuffled.copy(shuffled, 0, 8, 16);
  assert.match(offsetIndexProblem(shuffled, 41 * 4096, 100) ?? '', /out of order/);
  index.truncateToPosition(20 * 4096);
  assert.equal(index.entries, 19);
  assert.throws(() => index.append(100n, 1), /increase/);
});

test('the time index points at where a timestamp search may start', () => {
  const index = new TimeIndex(0n);
  index.maybeAppend(1000n, 10n);
  index.maybeAppend(900n, 20n); // not news: ignored
  index.maybeAppend(2000n, 30n);
  assert.equal(index.entries, 2);
  assert.equal(index.lookup(500n), 0n);
  assert.equal(index.lookup(1000n), 0n);
  assert.equal(index.lookup(1001n), 10n);
  assert.equal(index.lookup(5000n), 30n);
  assert.equal(index.lastTimestamp, 2000n);
  assert.equal(timeIndexProblem(Buffer.from(index.bytes()), 10), undefined);
  const bad = Buffer.from(index.bytes());
  bad.writeBigInt64BE(3000n, 0);
  assert.match(timeIndexProblem(bad, 10) ?? '', /timestamp does not increase/);
});

test('leader epochs answer OffsetForLeaderEpoch and survive their file format', () => {
  const epochs = new LeaderEpochCache();
  assert.deepEqual(epochs.endOffsetFor(0, 10n), { leaderEpoch: -1, endOffset: -1n });
  epochs.assign(2, 0n);
  epochs.assign(4, 50n);
  assert.equal(epochs.assign(3, 60n), false, 'older epochs are ignored');
  epochs.assign(7, 80n);
  assert.deepEqual(epochs.endOffsetFor(7, 100n), { leaderEpoch: 7, endOffset: 100n });
  assert.deepEqual(epochs.endOffsetFor(5, 100n), { leaderEpoch: 4, endOffset: 80n });
  assert.deepEqual(epochs.endOffsetFor(1, 100n), { leaderEpoch: 1, endOffset: 0n });
  assert.deepEqual(epochs.endOffsetFor(8, 100n), { leaderEpoch: -1, endOffset: -1n });
  const copy = new LeaderEpochCache();
  assert.ok(copy.decode(epochs.encode()));
  assert.deepEqual(copy.entries, epochs.entries);
  assert.equal(copy.decode(Buffer.from('0\n2\n5 10\n4 20\n')), false, 'epochs must rise');
  assert.equal(copy.decode(Buffer.from('1\n0\n')), false, 'unknown version');
  epochs.truncateFromEnd(50n);
  assert.deepEqual(epochs.entries, [{ epoch: 2, startOffset: 0n }]);
  epochs.truncateFromStart(30n);
  assert.deepEqual(epochs.entries, [{ epoch: 2, startOffset: 30n }]);
});

test('the partition checkpoint round-trips and rejects damage', () => {
  const checkpoint = { highWatermark: 42n, logStartOffset: 7n, recoveryPoint: 40n };
  const bytes = encodePartitionCheckpoint(checkpoint);
  assert.deepEqual(decodePartitionCheckpoint(bytes), checkpoint);
  bytes[10]! ^= 1;
  assert.equal(decodePartitionCheckpoint(bytes), undefined);
  assert.equal(decodePartitionCheckpoint(bytes.subarray(0, 20)), undefined);
});

test('the shared tail budget empties the least recently appended windows first', () => {
  const budget = new TailBudget(3000);
  const windows = [new TailWindow(2000, budget), new TailWindow(2000, budget), new TailWindow(2000, budget)];
  windows.forEach((window, index) => {
    window.push(Buffer.alloc(1000), BigInt(index), BigInt(index));
    window.settle();
  });
  assert.equal(budget.bytes, 3000);
  windows[0]!.push(Buffer.alloc(1000), 10n, 10n);
  windows[0]!.settle();
  assert.ok(budget.bytes <= 3000);
  assert.equal(windows[1]!.bytes, 0, 'least recently appended window emptied');
  assert.equal(windows[0]!.bytes, 2000);
});

test('configuration is bounded and changes apply at runtime', async () => {
  assert.throws(() => resolveLogConfig(logConfigDefaults, { segmentBytes: 10 }), { code: 'INVALID_CONFIG' });
  assert.throws(() => resolveLogConfig(logConfigDefaults, { flushMessages: 0 }), { code: 'INVALID_CONFIG' });
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    const log = await PartitionLog.open({ dir, clock, config: { segmentMs: 60_000 } });
    await log.append([makeBatch([{ value: 'a' }])], { leaderEpoch: 0 });
    clock.advance(59_999);
    await log.append([makeBatch([{ value: 'b' }])], { leaderEpoch: 0 });
    assert.equal(log.segmentCount, 1);
    clock.advance(1);
    await log.append([makeBatch([{ value: 'c' }])], { leaderEpoch: 0 });
    assert.equal(log.segmentCount, 2, 'rolled by segment.ms');
    assert.throws(() => log.updateConfig({ retentionMs: -5 }), { code: 'INVALID_CONFIG' });
    log.updateConfig({ segmentBytes: 1024 });
    assert.equal(log.config.segmentBytes, 1024);
    await log.close();
    await assert.rejects(log.append([makeBatch([{ value: 'd' }])], { leaderEpoch: 0 }), {
      code: 'LOG_CLOSED',
    });
  });
});

/** Waits (event-loop turns, bounded) until `condition` holds: I/O completions, not time. */
async function until(condition: () => boolean): Promise<void> {
  for (let turn = 0; turn < 10_000 && !condition(); turn++)
    await new Promise((resolve) => setImmediate(resolve));
  assert.ok(condition(), 'condition never held');
}

test('the handle cache never exceeds its bound: when every handle is in use, callers wait', async () => {
  await withTempDir(async (dir) => {
    const fs = new FaultyFs();
    const cache = new SegmentHandleCache(fs, 2);
    for (const name of ['a', 'b', 'c']) await writeFile(`${dir}/${name}`, name);
    const releases: Array<() => void> = [];
    const holding = (name: string): Promise<number> =>
      cache.with(`${dir}/${name}`, async (file) => {
        await new Promise<void>((resolve) => releases.push(resolve));
        return file.size();
      });
    const first = holding('a');
    const second = holding('b');
    let thirdDone = false;
    const third = holding('c').then((size) => {
      thirdDone = true;
      return size;
    });
    await until(() => releases.length === 2);
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(releases.length, 2, 'the third caller waits for a handle');
    assert.equal(thirdDone, false);
    assert.equal(fs.openHandles, 2);
    releases.shift()!();
    assert.equal(await first, 1);
    await until(() => releases.length === 2);
    assert.ok(fs.openHandlesPeak <= 2);
    for (const release of releases.splice(0)) release();
    assert.deepEqual([await second, await third, thirdDone], [1, 1, true]);
    await cache.discardUnder(dir);
    assert.equal(fs.openHandles, 0);
  });
});

test('leftovers of an interrupted compaction swap are cleared and missing indexes rebuilt', async () => {
  await withTempDir(async (dir) => {
    const config = { segmentBytes: 1024, tailWindowBytes: 0 };
    const log = await PartitionLog.open({ dir, config });
    for (let index = 0; index < 30; index++)
      await log.append([makeBatch([{ key: `k${index % 3}`, value: 'x'.repeat(50) }])], { leaderEpoch: 0 });
    const base = log.segmentBaseOffsets[1]!;
    await log.close();
    const name = `${dir}/${String(base).padStart(20, '0')}`;
    await writeFile(`${name}.log.cleaned`, 'half-written');
    await rm(`${name}.index`);
    await rm(`${name}.timeindex`);
    const reopened = await PartitionLog.open({ dir, config });
    assert.ok(!(await readdir(dir)).some((entry) => entry.endsWith('.cleaned')));
    const read = await reopened.read(base, { maxBytes: 1 });
    assert.equal(read.batches[0]!.readBigInt64BE(0), base);
    await reopened.close();
  });
});
