import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { ManualClock } from '../base/clock.ts';
import { encodeRecordBatch } from '../protocol/record-batch.ts';
import { withTempDir } from '../testing/storage-kit.ts';
import { PartitionLog } from './partition-log.ts';
import {
  ProducerStateError,
  ProducerStateManager,
  producerBatchesRetained,
  producerStateErrorCodes,
} from './producer-state.ts';
import {
  decodeProducerSnapshot,
  encodeProducerSnapshot,
  parseProducerSnapshotName,
  producerSnapshotName,
} from './producer-state-snapshot.ts';

/** A batch of `count` records from producer `producerId` at `epoch`, first sequence `sequence`. */
function idempotent(producerId: bigint, epoch: number, sequence: number, count = 1, baseOffset = 0n): Buffer {
  return encodeRecordBatch({
    baseOffset,
    producerId,
    producerEpoch: epoch,
    baseSequence: sequence,
    records: Array.from({ length: count }, (_, index) => ({
      key: null,
      value: Buffer.from(`p${producerId}-e${epoch}-s${sequence + index}`),
      timestamp: 1_700_000_000_000n,
    })),
  });
}

function plain(count = 1): Buffer {
  return encodeRecordBatch({
    records: Array.from({ length: count }, () => ({ key: null, value: Buffer.from('x') })),
  });
}

function refusedWith(code: string): (error: unknown) => boolean {
  return (error) => error instanceof ProducerStateError && error.code === code;
}

/** Checks then records, as a leader does; answers the duplicate or the offsets used. */
function appendTo(state: ProducerStateManager, batch: Buffer, next: { offset: bigint }, nowMs = 0): bigint {
  const duplicate = state.checkAppend([batch], nowMs);
  if (duplicate !== undefined) return duplicate.baseOffset;
  batch.writeBigInt64BE(next.offset, 0);
  state.update(batch, nowMs);
  const base = next.offset;
  next.offset += BigInt(batch.readInt32BE(23)) + 1n;
  state.commit();
  return base;
}

test('retries of any of the last five batches are duplicates answered with their first offset', () => {
  const state = new ProducerStateManager();
  const next = { offset: 0n };
  const bases: bigint[] = [];
  for (let sequence = 0; sequence < 7 * 2; sequence += 2)
    bases.push(appendTo(state, idempotent(7n, 0, sequence, 2), next));
  assert.deepEqual(bases, [0n, 2n, 4n, 6n, 8n, 10n, 12n]);
  // The last five (sequences 4..13) are remembered.
  for (let index = 2; index < 7; index++)
    assert.equal(appendTo(state, idempotent(7n, 0, index * 2, 2), next), bases[index]);
  assert.equal(next.offset, 14n, 'nothing appended for duplicates');
  // Older than the window: neither a duplicate nor in order.
  assert.throws(() => state.checkAppend([idempotent(7n, 0, 0, 2)], 0), refusedWith('OUT_OF_ORDER_SEQUENCE'));
  assert.equal(state.entry(7n, 0)?.batches.length, producerBatchesRetained);
});

test('a gap is out of order, a new epoch must start at 0, an old epoch is fenced', () => {
  const state = new ProducerStateManager();
  const next = { offset: 0n };
  appendTo(state, idempotent(1n, 3, 0, 3), next);
  assert.throws(
    () => state.checkAppend([idempotent(1n, 3, 4)], 0),
    refusedWith(producerStateErrorCodes.outOfOrderSequence),
  );
  assert.throws(() => state.checkAppend([idempotent(1n, 4, 5)], 0), refusedWith('OUT_OF_ORDER_SEQUENCE'));
  assert.throws(() => state.checkAppend([idempotent(1n, 2, 3)], 0), refusedWith('INVALID_PRODUCER_EPOCH'));
  assert.equal(appendTo(state, idempotent(1n, 3, 3), next), 3n);
  assert.equal(appendTo(state, idempotent(1n, 4, 0), next), 4n);
  assert.equal(state.entry(1n, 0)?.epoch, 4);
  assert.throws(() => state.checkAppend([idempotent(1n, 3, 4)], 0), refusedWith('INVALID_PRODUCER_EPOCH'));
  // Unknown producers start anywhere (their state may have expired); plain batches are not checked.
  assert.equal(state.checkAppend([idempotent(2n, 0, 42), plain()], 0), undefined);
});

test('sequences wrap after 2^31 - 1', () => {
  const state = new ProducerStateManager();
  const next = { offset: 0n };
  appendTo(state, idempotent(5n, 0, 0x7ffffffe, 2), next);
  assert.equal(state.entry(5n, 0)?.batches.at(-1)?.lastSequence, 0x7fffffff);
  assert.equal(appendTo(state, idempotent(5n, 0, 0), next), 2n);
});

test('several batches of one producer in one append must be consecutive; a mix of retried and new is refused', () => {
  const state = new ProducerStateManager();
  assert.equal(state.checkAppend([idempotent(1n, 0, 0, 2), idempotent(1n, 0, 2)], 0), undefined);
  assert.throws(
    () => state.checkAppend([idempotent(1n, 0, 0, 2), idempotent(1n, 0, 3)], 0),
    refusedWith('OUT_OF_ORDER_SEQUENCE'),
  );
  const next = { offset: 0n };
  appendTo(state, idempotent(1n, 0, 0, 2), next);
  appendTo(state, idempotent(1n, 0, 2), next);
  assert.deepEqual(state.checkAppend([idempotent(1n, 0, 0, 2), idempotent(1n, 0, 2)], 0), {
    baseOffset: 0n,
    lastOffset: 2n,
  });
  assert.throws(
    () => state.checkAppend([idempotent(1n, 0, 2), idempotent(1n, 0, 3)], 0),
    refusedWith('OUT_OF_ORDER_SEQUENCE'),
  );
});

test('rollback undoes changes since the mark or the last commit', () => {
  const state = new ProducerStateManager();
  const next = { offset: 0n };
  appendTo(state, idempotent(1n, 0, 0), next);
  const mark = state.mark();
  state.update(idempotent(1n, 0, 1, 1, 1n), 0);
  state.update(idempotent(2n, 0, 0, 1, 2n), 0);
  state.rollbackTo(mark);
  assert.equal(state.entry(2n, 0), undefined);
  assert.equal(state.entry(1n, 0)?.batches.length, 1);
  state.update(idempotent(1n, 0, 1, 1, 1n), 0);
  state.rollback();
  assert.equal(state.entry(1n, 0)?.batches.length, 1);
});

test('idle producers expire; the bound drops the least recently appending producer', () => {
  const state = new ProducerStateManager({ producerIdExpirationMs: 1000, producerIdsPerPartitionMax: 2 });
  const next = { offset: 0n };
  appendTo(state, idempotent(1n, 0, 0), next, 0);
  appendTo(state, idempotent(2n, 0, 0), next, 500);
  assert.equal(state.entry(1n, 1001), undefined, 'expired at lookup');
  assert.notEqual(state.entry(2n, 1001), undefined);
  appendTo(state, idempotent(1n, 0, 1), next, 600); // 1 is now the most recent
  appendTo(state, idempotent(3n, 0, 0), next, 700);
  assert.equal(state.size, 2);
  assert.equal(state.entry(2n, 700), undefined, 'least recent evicted');
  assert.notEqual(state.entry(1n, 700), undefined);
  assert.equal(state.removeExpired(1650), 1);
  assert.equal(state.size, 1);
});

test('snapshots round-trip; any damage makes them unreadable', () => {
  const state = new ProducerStateManager();
  const next = { offset: 0n };
  for (let sequence = 0; sequence < 7; sequence++)
    appendTo(state, idempotent(9n, 2, sequence, 1), next, 1234);
  appendTo(state, idempotent(-5n, 0, 0, 3), next, 99);
  const encoded = encodeProducerSnapshot({ offset: 10n, producers: [...state.entries()] });
  const decoded = decodeProducerSnapshot(encoded);
  assert.deepEqual(decoded, { offset: 10n, producers: [...state.entries()] });
  for (const at of [0, 3, 7, 20, encoded.length - 1]) {
    const damaged = Buffer.from(encoded);
    damaged[at]! ^= 0x10;
    assert.equal(decodeProducerSnapshot(damaged), undefined, `byte ${at}`);
  }
  assert.equal(decodeProducerSnapshot(encoded.subarray(0, encoded.length - 4)), undefined);
  assert.equal(decodeProducerSnapshot(Buffer.alloc(3)), undefined);
  assert.equal(parseProducerSnapshotName(producerSnapshotName(42n)), 42n);
  assert.equal(parseProducerSnapshotName('00000000000000000042.log'), undefined);
});

async function openLog(dir: string, clock = new ManualClock()): Promise<PartitionLog> {
  return PartitionLog.open({ dir, clock });
}

test('the log answers a retried batch with its original offsets and appends nothing', async () => {
  await withTempDir(async (dir) => {
    const log = await openLog(dir);
    await log.append([plain(2)], { leaderEpoch: 1 });
    const first = await log.append([idempotent(1n, 0, 0, 3)], { leaderEpoch: 1 });
    const retry = await log.append([idempotent(1n, 0, 0, 3)], { leaderEpoch: 1 });
    assert.deepEqual([retry.baseOffset, retry.lastOffset], [first.baseOffset, first.lastOffset]);
    assert.equal(log.logEndOffset, 5n);
    await assert.rejects(
      log.append([idempotent(1n, 0, 9)], { leaderEpoch: 1 }),
      refusedWith('OUT_OF_ORDER_SEQUENCE'),
    );
    // Concurrent appends are checked in append order, including within one group write.
    const results = await Promise.all([
      log.append([idempotent(1n, 0, 3)], { leaderEpoch: 1 }),
      log.append([idempotent(1n, 0, 4)], { leaderEpoch: 1 }),
      log.append([idempotent(1n, 0, 4)], { leaderEpoch: 1 }),
    ]);
    assert.deepEqual(
      results.map((result) => result.baseOffset),
      [5n, 6n, 6n],
    );
    assert.equal(log.logEndOffset, 7n);
    await log.close();
  });
});

test('state survives a crash (rescan), a clean restart (snapshot) and truncation; a corrupt snapshot is ignored', async () => {
  await withTempDir(async (dir) => {
    let log = await openLog(dir);
    await log.append([idempotent(1n, 0, 0, 2)], { leaderEpoch: 1 });
    await log.roll(); // snapshot at 2
    await log.append([idempotent(1n, 0, 2, 2)], { leaderEpoch: 1 });
    await log.append([idempotent(2n, 0, 0)], { leaderEpoch: 1 });
    await log.abandon(); // crash: no snapshot at the end
    log = await openLog(dir);
    assert.equal((await log.append([idempotent(1n, 0, 2, 2)], { leaderEpoch: 1 })).baseOffset, 2n);
    assert.equal((await log.append([idempotent(1n, 0, 0, 2)], { leaderEpoch: 1 })).baseOffset, 0n);
    assert.equal(log.logEndOffset, 5n);
    await log.close();
    const names = (await readdir(dir)).filter((name) => name.endsWith('.snapshot'));
    assert.deepEqual(names, [producerSnapshotName(2n), producerSnapshotName(5n)]);
    // Damage the newest snapshot: the state comes from the older one plus a scan.
    const newest = `${dir}/${producerSnapshotName(5n)}`;
    const content = await readFile(newest);
    content[content.length - 1]! ^= 0xff;
    await writeFile(newest, content);
    log = await openLog(dir);
    assert.equal((await log.append([idempotent(2n, 0, 0)], { leaderEpoch: 1 })).baseOffset, 4n);
    assert.equal(log.logEndOffset, 5n);
    // Truncation forgets what was cut: producer 2's batch is gone, so sequence 0 is new again.
    await log.truncateTo(4n);
    assert.equal((await log.append([idempotent(2n, 0, 0)], { leaderEpoch: 2 })).baseOffset, 4n);
    assert.equal(log.logEndOffset, 5n);
    await log.close();
  });
});

test('followers keep the state from replicated batches', async () => {
  await withTempDir(async (dir) => {
    const log = await openLog(dir);
    await log.appendAsFollower([idempotent(4n, 1, 0, 2, 0n)].map((batch) => stamp(batch, 3)));
    await log.appendAsFollower([idempotent(4n, 1, 2, 1, 2n)].map((batch) => stamp(batch, 3)));
    // Promoted to leader: a retry of the replicated batch is recognised.
    assert.equal((await log.append([idempotent(4n, 1, 2)], { leaderEpoch: 4 })).baseOffset, 2n);
    assert.equal(log.logEndOffset, 3n);
    await log.close();
  });
});

function stamp(batch: Buffer, leaderEpoch: number): Buffer {
  batch.writeInt32BE(leaderEpoch, 12);
  return batch;
}
