import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../base/clock.ts';
import { batchHeader } from '../protocol/batch-header.ts';
import { makeBatch, withTempDir } from '../testing/storage-kit.ts';
import { StorageError } from './errors.ts';
import { PartitionLog } from './partition-log.ts';

/** PartitionLog.resetTo: a follower restarting its log at its leader's log start. */

function records(count: number, baseOffset = 0n, leaderEpoch = -1): Buffer {
  return makeBatch(
    Array.from({ length: count }, (_, index) => ({ key: `k${index}`, value: `v${index}` })),
    baseOffset,
    leaderEpoch,
  );
}

function open(dir: string): Promise<PartitionLog> {
  return PartitionLog.open({ dir, clock: new ManualClock() });
}

test('resetTo beyond the log end empties the log and restarts it there, across a reopen', async () => {
  await withTempDir(async (dir) => {
    const log = await open(dir);
    await log.append([records(5)], { leaderEpoch: 2 });
    log.setHighWatermark(5n);
    await log.resetTo(40n);
    assert.deepEqual(
      [log.logStartOffset, log.logEndOffset, log.highWatermark, log.latestEpoch],
      [40n, 40n, 40n, -1],
    );
    await assert.rejects(log.read(0n, { maxBytes: 1 << 20 }), StorageError, 'old offsets are gone');
    assert.deepEqual((await log.read(40n, { maxBytes: 1 << 20 })).batches, []);
    // A follower then appends the leader's batches with their offsets.
    await log.appendAsFollower([records(3, 40n, 7)]);
    assert.deepEqual([log.logEndOffset, log.latestEpoch], [43n, 7]);
    await log.close();

    const reopened = await open(dir);
    assert.deepEqual([reopened.logStartOffset, reopened.logEndOffset, reopened.latestEpoch], [40n, 43n, 7]);
    const read = await reopened.read(40n, { maxBytes: 1 << 20 });
    assert.deepEqual(
      read.batches.map((batch) => batch.readBigInt64BE(batchHeader.baseOffset)),
      [40n],
    );
    assert.deepEqual(reopened.epochEntries, [{ epoch: 7, startOffset: 40n }]);
    await reopened.close();
  });
});

test('resetTo below the log start also empties the log', async () => {
  await withTempDir(async (dir) => {
    const log = await open(dir);
    await log.append([records(10)], { leaderEpoch: 0 });
    log.setHighWatermark(10n);
    await log.roll();
    await log.deleteRecordsBefore(10n);
    await log.resetTo(3n);
    assert.deepEqual([log.logStartOffset, log.logEndOffset, log.highWatermark], [3n, 3n, 3n]);
    await log.close();
  });
});
