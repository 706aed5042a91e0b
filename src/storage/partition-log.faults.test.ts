import assert from 'node:assert/strict';
import { open as openFile, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { ManualClock } from '../base/clock.ts';
import { batchLastOffset, checkBatch } from '../protocol/batch-header.ts';
import { FaultyFs, makeBatch, withTempDir } from '../testing/storage-kit.ts';
import { CorruptLogError, StorageError } from './errors.ts';
import type { StorageEvent } from './log-context.ts';
import { PartitionLog, type PartitionLogOptions } from './partition-log.ts';
import { segmentBaseName } from './segment.ts';

function batchOf(index: number): Buffer {
  return makeBatch([
    { key: `k${index}`, value: `value-${index}-${'x'.repeat(index % 50)}` },
    { key: `j${index}`, value: `second-${index}` },
  ]);
}

async function openLog(dir: string, options: Partial<PartitionLogOptions> = {}): Promise<PartitionLog> {
  return PartitionLog.open({ dir, clock: new ManualClock(), ...options });
}

/** Every batch from log start to end, read cold, one read per batch. */
async function readAll(log: PartitionLog): Promise<Buffer[]> {
  const batches: Buffer[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const read = await log.read(offset, { maxBytes: 1 });
    const batch = read.batches[0]!;
    checkBatch(batch);
    batches.push(Buffer.from(batch));
    offset = batch.readBigInt64BE(0) + BigInt(batch.readInt32BE(23)) + 1n;
  }
  return batches;
}

function logFile(dir: string, base: bigint, suffix = '.log'): string {
  return `${dir}/${segmentBaseName(base)}${suffix}`;
}

async function flipByte(path: string, position: number): Promise<void> {
  const file = await openFile(path, 'r+');
  const byte = Buffer.alloc(1);
  await file.read(byte, 0, 1, position);
  byte[0] = byte[0]! ^ 0x5a;
  await file.write(byte, 0, 1, position);
  await file.close();
}

test('a full disk refuses appends with a retriable error, leaves the log intact and recovers', async () => {
  await withTempDir(async (dir) => {
    const fs = new FaultyFs();
    let full = false;
    fs.fault = (operation) => (full && operation === 'write' ? 'ENOSPC' : undefined);
    const log = await openLog(dir, { fs, config: { tailWindowBytes: 0 } });
    for (let index = 0; index < 5; index++) await log.append([batchOf(index)], { leaderEpoch: 0 });
    const before = await readAll(log);
    const sizeBefore = (await stat(logFile(dir, 0n))).size;
    full = true;
    await assert.rejects(log.append([batchOf(5), batchOf(6)], { leaderEpoch: 0 }), (error: unknown) => {
      assert.ok(error instanceof StorageError);
      assert.equal(error.code, 'DISK_FULL');
      assert.equal(error.retriable, true);
      return true;
    });
    assert.equal(log.logEndOffset, 10n);
    assert.equal((await stat(logFile(dir, 0n))).size, sizeBefore);
    assert.deepEqual(await readAll(log), before);
    full = false;
    const result = await log.append([batchOf(5)], { leaderEpoch: 0 });
    assert.equal(result.baseOffset, 10n);
    await log.close();
    const reopened = await openLog(dir);
    assert.equal((await readAll(reopened)).length, 6);
    await reopened.close();
  });
});

test('a torn write is cut back: no partial batch, offsets not advanced, next append reuses the space', async () => {
  await withTempDir(async (dir) => {
    const fs = new FaultyFs();
    const log = await openLog(dir, { fs });
    await log.append([batchOf(0)], { leaderEpoch: 0 });
    const sizeBefore = (await stat(logFile(dir, 0n))).size;
    fs.tornWriteBytes = 30;
    await assert.rejects(log.append([batchOf(1)], { leaderEpoch: 0 }), { code: 'STORAGE_IO_ERROR' });
    fs.tornWriteBytes = undefined;
    assert.equal((await stat(logFile(dir, 0n))).size, sizeBefore);
    assert.equal(log.logEndOffset, 2n);
    await log.append([batchOf(2)], { leaderEpoch: 0 });
    await log.abandon();
    const reopened = await openLog(dir);
    assert.equal(reopened.logEndOffset, 4n);
    assert.equal((await readAll(reopened)).length, 2);
    await reopened.close();
  });
});

test('a failed write that cannot be cut back takes the log offline instead of risking reuse', async () => {
  await withTempDir(async (dir) => {
    const fs = new FaultyFs();
    const log = await openLog(dir, { fs });
    await log.append([batchOf(0)], { leaderEpoch: 0 });
    fs.fault = (operation) => (operation === 'write' || operation === 'truncate' ? 'EIO' : undefined);
    await assert.rejects(log.append([batchOf(1)], { leaderEpoch: 0 }), { code: 'STORAGE_IO_ERROR' });
    fs.fault = () => undefined;
    await assert.rejects(log.append([batchOf(1)], { leaderEpoch: 0 }), /offline/);
    assert.equal((await log.read(0n, { maxBytes: 1000 })).batches.length, 1, 'still readable');
    await log.close();
  });
});

test('a failed fsync fails the waiting appends and takes the log offline', async () => {
  await withTempDir(async (dir) => {
    const fs = new FaultyFs();
    const log = await openLog(dir, { fs, config: { flushMessages: 1 } });
    await log.append([batchOf(0)], { leaderEpoch: 0 });
    fs.fault = (operation) => (operation === 'sync' ? 'EIO' : undefined);
    await assert.rejects(log.append([batchOf(1)], { leaderEpoch: 0 }), { code: 'STORAGE_IO_ERROR' });
    fs.fault = () => undefined;
    await assert.rejects(log.append([batchOf(2)], { leaderEpoch: 0 }), /offline/);
    await log.close();
  });
});

for (const damage of ['flip a byte', 'cut mid-batch', 'append zeros'] as const) {
  test(`recovery repairs a damaged tail (${damage}) at the last valid batch`, async () => {
    await withTempDir(async (dir) => {
      const log = await openLog(dir);
      for (let index = 0; index < 20; index++) await log.append([batchOf(index)], { leaderEpoch: 0 });
      const good = await readAll(log);
      await log.abandon();
      const path = logFile(dir, 0n);
      const size = (await stat(path)).size;
      const lastBatchStart = size - good.at(-1)!.length;
      if (damage === 'flip a byte') await flipByte(path, lastBatchStart + 70);
      if (damage === 'cut mid-batch') await truncate(path, lastBatchStart + 20);
      if (damage === 'append zeros') await writeFile(path, Buffer.alloc(100), { flag: 'a' });
      const events: StorageEvent[] = [];
      const reopened = await openLog(dir, { onEvent: (event) => events.push(event) });
      assert.ok(events.some((event) => event.kind === 'truncated-tail'));
      const expected = damage === 'append zeros' ? good : good.slice(0, -1);
      assert.deepEqual(await readAll(reopened), expected);
      assert.equal(reopened.logEndOffset, BigInt(expected.length * 2));
      assert.equal(
        (await reopened.append([batchOf(99)], { leaderEpoch: 0 })).baseOffset,
        reopened.logEndOffset - 2n,
      );
      await reopened.close();
    });
  });
}

test('damaged, short or missing index files are rebuilt and reads stay correct', async () => {
  await withTempDir(async (dir) => {
    const config = { segmentBytes: 4096, indexIntervalBytes: 200, tailWindowBytes: 0 };
    const log = await openLog(dir, { config });
    for (let index = 0; index < 120; index++) await log.append([batchOf(index)], { leaderEpoch: 0 });
    const good = await readAll(log);
    const bases = log.segmentBaseOffsets;
    await log.close();
    assert.ok(bases.length >= 4);
    // An index entry pointing into the middle of a batch, a short index, a missing time index.
    const index0 = await readFile(logFile(dir, bases[0]!, '.index'));
    index0.writeUInt32BE(index0.readUInt32BE(4) + 3, 4);
    await writeFile(logFile(dir, bases[0]!, '.index'), index0);
    await truncate(logFile(dir, bases[1]!, '.index'), 5);
    await writeFile(logFile(dir, bases[2]!, '.timeindex'), Buffer.alloc(0));
    const events: StorageEvent[] = [];
    const reopened = await openLog(dir, { config, onEvent: (event) => events.push(event) });
    assert.deepEqual(await readAll(reopened), good);
    assert.ok(events.filter((event) => event.kind === 'index-rebuilt').length >= 2);
    await reopened.close();
  });
});

test('corruption inside a closed segment: what precedes it is served, it is reported with its range, never served', async () => {
  await withTempDir(async (dir) => {
    const config = { segmentBytes: 4096, tailWindowBytes: 0 };
    const log = await openLog(dir, { config });
    for (let index = 0; index < 80; index++) await log.append([batchOf(index)], { leaderEpoch: 0 });
    const bases = log.segmentBaseOffsets;
    await log.close();
    const victim = bases[1]!;
    await flipByte(logFile(dir, victim), 200);
    const events: StorageEvent[] = [];
    const reopened = await openLog(dir, { config, onEvent: (event) => events.push(event) });
    assert.equal(reopened.logEndOffset, 160n, 'closed segments are not rescanned after a clean shutdown');
    const intact = await reopened.read(victim, { maxBytes: 1 << 20 });
    assert.ok(intact.batches.length > 0, 'the batches before the damage are served');
    const damagedFrom = batchLastOffset(intact.batches.at(-1)!) + 1n;
    const error = await reopened.read(damagedFrom, { maxBytes: 1 << 20 }).catch((caught: unknown) => caught);
    assert.ok(error instanceof CorruptLogError, `got ${String(error)}`);
    assert.equal(error.range.fromOffset, damagedFrom);
    assert.deepEqual(reopened.damage, [error.range], 'the damage is remembered once');
    const skipped = await reopened.read(damagedFrom, { maxBytes: 1 << 20, skipDamaged: true });
    const resumedAt = skipped.batches[0]!.readBigInt64BE(0);
    assert.ok(resumedAt > damagedFrom && resumedAt <= bases[2]!, `consumers resume past it (${resumedAt})`);
    assert.equal(error.range.segmentBaseOffset, victim);
    assert.ok(error.range.fromOffset >= victim && error.range.fromOffset < bases[2]!);
    assert.ok(error.range.toOffset >= error.range.fromOffset && error.range.toOffset < bases[2]!);
    assert.ok(events.some((event) => event.kind === 'corrupt-read'));
    assert.equal((await reopened.read(bases[2]!, { maxBytes: 1 })).batches.length, 1, 'other segments serve');
    assert.equal((await reopened.read(0n, { maxBytes: 1 })).batches.length, 1);
    await reopened.close();
  });
});
