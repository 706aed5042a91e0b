import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { ManualClock } from '../base/clock.ts';
import { FaultyFs, makeBatch, withTempDir } from '../testing/storage-kit.ts';
import type { StorageEvent } from './log-context.ts';
import { LogManager, logManagerDefaults, parseLogFolderName } from './log-manager.ts';

test('log folder names parse back to topic and partition', () => {
  assert.deepEqual(parseLogFolderName('orders-eu-12'), { topic: 'orders-eu', partition: 12 });
  assert.equal(parseLogFolderName('orders'), undefined);
  assert.equal(parseLogFolderName('bad name-1'), undefined);
});

test('a log manager creates, lists, reopens and deletes logs', async () => {
  await withTempDir(async (dataDir) => {
    const manager = await LogManager.open({ dataDir, clock: new ManualClock() });
    const log = await manager.openLog('orders', 0);
    assert.equal(await manager.openLog('orders', 0), log, 'opening an open log returns it');
    await log.append([makeBatch([{ value: 'a' }])], { leaderEpoch: 0 });
    await manager.openLog('orders', 1);
    await mkdir(`${dataDir}/not-a-log`);
    assert.deepEqual((await manager.list()).map((entry) => `${entry.topic}/${entry.partition}`).sort(), [
      'orders/0',
      'orders/1',
    ]);
    await assert.rejects(manager.openLog('bad/name', 0), { code: 'INVALID_LOG_NAME' });
    await manager.deleteLog('orders', 1);
    assert.deepEqual((await readdir(dataDir)).sort(), ['not-a-log', 'orders-0']);
    await manager.close();
    const again = await LogManager.open({ dataDir });
    const reopened = await again.openLog('orders', 0);
    assert.equal(reopened.logEndOffset, 1n);
    await again.close();
  });
});

test('the tick runs flush.ms fsyncs and retention without sleeping', async () => {
  await withTempDir(async (dataDir) => {
    const clock = new ManualClock();
    const manager = await LogManager.open({
      dataDir,
      clock,
      logConfig: { flushMs: 100, segmentBytes: 1024 },
    });
    const log = await manager.openLog('events', 0);
    for (let index = 0; index < 40; index++)
      await log.append([makeBatch([{ value: 'x'.repeat(100), timestamp: BigInt(clock.nowMs()) }])], {
        leaderEpoch: 0,
      });
    log.setHighWatermark(log.logEndOffset);
    await manager.tick();
    assert.ok(log.durableOffset < log.logEndOffset, 'not due yet');
    clock.advance(100);
    await manager.tick();
    assert.equal(log.durableOffset, log.logEndOffset);
    log.updateConfig({ retentionMs: 1000 });
    clock.advance(60_000);
    await manager.tick();
    assert.equal(log.segmentCount, 1, 'expired closed segments deleted');
    await manager.close();
  });
});

test('10,000 partitions stay within the handle bound and a memory budget', async () => {
  await withTempDir(async (dataDir) => {
    const fs = new FaultyFs();
    const openHandlesMax = 64;
    const partitions = 10_000;
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const manager = await LogManager.open({
      dataDir,
      fs,
      openHandlesMax,
      logConfig: { tailWindowBytes: 4096 },
    });
    const batch = makeBatch([{ key: 'k', value: 'v'.repeat(50) }]);
    const concurrency = 32;
    for (let start = 0; start < partitions; start += concurrency) {
      await Promise.all(
        Array.from({ length: Math.min(concurrency, partitions - start) }, async (_, index) => {
          const log = await manager.openLog('wide', start + index);
          await log.append([Buffer.from(batch)], { leaderEpoch: 0 });
        }),
      );
    }
    assert.equal(manager.openLogCount, partitions);
    assert.ok(fs.openHandlesPeak <= openHandlesMax, `peak ${fs.openHandlesPeak} handles`);
    const cold = await manager.get('wide', 17)!.read(0n, { maxBytes: 1000 });
    assert.equal(cold.batches.length, 1);
    global.gc?.();
    const perPartition = (process.memoryUsage().heapUsed - heapBefore) / partitions;
    assert.ok(perPartition < 20_000, `heap per partition ${Math.round(perPartition)} bytes`);
    await manager.close();
    assert.equal(fs.openHandles, 0, 'every handle closed at shutdown');
    await writeFile(`${dataDir}/stray`, '');
  });
});

test('every legal name has a log folder that lists, reopens and deletes', async () => {
  await withTempDir(async (dataDir) => {
    const longest = 'x'.repeat(249);
    const manager = await LogManager.open({ dataDir, clock: new ManualClock() });
    // `<topic>-<partition>` fits for partition 5 (255 bytes), not for the largest partition.
    for (const partition of [5, 0x7fffffff]) {
      const log = await manager.openLog(longest, partition);
      await log.append([makeBatch([{ value: `p${partition}` }])], { leaderEpoch: 0 });
    }
    const names = await readdir(dataDir);
    assert.ok(names.every((name) => name.length <= 255));
    assert.ok(names.includes(`${longest}-5`), 'a name that fits keeps the plain form');
    await manager.close();
    const again = await LogManager.open({ dataDir });
    const listed = (await again.list()).map((entry) => `${entry.topic.length}/${entry.partition}`).sort();
    assert.deepEqual(listed, ['249/2147483647', '249/5']);
    assert.equal((await again.openLog(longest, 0x7fffffff)).logEndOffset, 1n);
    await again.deleteLog(longest, 0x7fffffff);
    await again.deleteLog(longest, 5);
    assert.deepEqual(await readdir(dataDir), []);
    assert.equal((await again.openLog(longest, 5)).logEndOffset, 0n, 'recreated empty');
    await again.close();
  });
});

test('background failures are reported and surface once on the next append or read of that log', async () => {
  await withTempDir(async (dataDir) => {
    const clock = new ManualClock();
    const fs = new FaultyFs();
    const events: Array<{ log: string; event: StorageEvent }> = [];
    const manager = await LogManager.open({
      dataDir,
      clock,
      fs,
      logConfig: { segmentBytes: 1024, retentionMs: 1000 },
      onEvent: (log, event) => events.push({ log: `${log?.topic}/${log?.partition}`, event }),
    });
    const log = await manager.openLog('events', 0);
    const other = await manager.openLog('events', 1);
    await manager.tick(); // first cleaner pass, on empty logs
    const batch = (): Buffer => makeBatch([{ value: 'x'.repeat(100), timestamp: BigInt(clock.nowMs()) }]);
    for (let index = 0; index < 30; index++) await log.append([batch()], { leaderEpoch: 0 });
    await other.append([batch()], { leaderEpoch: 0 });
    log.setHighWatermark(log.logEndOffset);
    other.setHighWatermark(other.logEndOffset);
    // The checkpoint of partition 0 and its retention pass (which writes a checkpoint first) fail.
    fs.fault = (operation, path) =>
      operation === 'open' && path.includes('events-0/') && path.includes('checkpoint') ? 'EIO' : undefined;
    clock.advance(logManagerDefaults.cleanupIntervalMs);
    await manager.tick();
    fs.fault = () => undefined;
    const failures = events.filter(({ event }) => event.kind === 'background-failure');
    assert.deepEqual(
      failures.map(({ log: name, event }) => `${name} ${event.kind === 'background-failure' && event.task}`),
      ['events/0 checkpoint', 'events/0 retention'],
    );
    await assert.rejects(log.append([batch()], { leaderEpoch: 0 }), { code: 'STORAGE_IO_ERROR' });
    await log.append([batch()], { leaderEpoch: 0 }); // surfaced once: the next one is written
    await other.append([batch()], { leaderEpoch: 0 }); // other logs never saw it
    other.setHighWatermark(other.logEndOffset);
    fs.fault = (operation, path) =>
      operation === 'open' && path.includes('events-1/') && path.includes('checkpoint') ? 'EIO' : undefined;
    clock.advance(logManagerDefaults.checkpointIntervalMs);
    await manager.tick();
    fs.fault = () => undefined;
    await assert.rejects(other.read(0n, { maxBytes: 1 << 20 }), { code: 'STORAGE_IO_ERROR' });
    assert.equal((await other.read(0n, { maxBytes: 1 << 20 })).batches.length, 2);
    await manager.close();
  });
});
