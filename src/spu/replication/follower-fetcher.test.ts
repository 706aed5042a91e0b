import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../base/clock.ts';
import { silentLogger } from '../../base/logger.ts';
import { makeTempDir } from '../../testing/processes.ts';
import { makeBatch } from '../../testing/storage-kit.ts';
import { type Partition, PartitionManager } from '../partitions.ts';
import { truncationOffset } from './follower-fetcher.ts';

/** Appends one batch of `count` records as leader under `epoch`. */
async function appendUnder(partition: Partition, epoch: number, count: number): Promise<void> {
  partition.leaderEpoch = epoch;
  await partition.appendAsLeader([makeBatch(Array.from({ length: count }, () => ({ value: 'x' })))]);
}

describe('truncationOffset', () => {
  const log = { logEndOffset: 10n, highWatermark: 4n };

  it('cuts to where the leader ends the follower’s latest epoch', () => {
    assert.equal(truncationOffset(3, 3, 7n, log), 7n);
    assert.equal(truncationOffset(3, 2, 6n, log), 6n, 'the leader never had epoch 3');
  });

  it('keeps the log when the leader’s epoch ends at or past the follower’s log end', () => {
    assert.equal(truncationOffset(3, 3, 10n, log), undefined);
    assert.equal(truncationOffset(3, 3, 12n, log), undefined);
  });

  it('keeps only what is committed when the leader knows no such epoch', () => {
    assert.equal(truncationOffset(3, -1, -1n, log), 4n);
  });

  it('compares nothing for a follower without epochs', () => {
    assert.equal(truncationOffset(-1, -1, -1n, log), undefined);
  });
});

describe('divergence between a leader and a former leader', () => {
  let leaderDir: { path: string; remove: () => Promise<void> };
  let followerDir: { path: string; remove: () => Promise<void> };
  let leaders: PartitionManager;
  let followers: PartitionManager;

  before(async () => {
    leaderDir = await makeTempDir('tide-leader-');
    followerDir = await makeTempDir('tide-follower-');
    leaders = await PartitionManager.open({
      dataDir: leaderDir.path,
      clock: systemClock,
      logger: silentLogger,
    });
    followers = await PartitionManager.open({
      dataDir: followerDir.path,
      clock: systemClock,
      logger: silentLogger,
    });
  });
  after(async () => {
    await leaders?.close();
    await followers?.close();
    await leaderDir?.remove();
    await followerDir?.remove();
  });

  it('cuts the suffix the old leader wrote under an epoch the new leader never had', async () => {
    const options = { configs: {}, leaderEpoch: 0 };
    const leader = await leaders.open('t', 0, options);
    const former = await followers.open('t', 0, options);
    // Both hold offsets 0-2 from epoch 0; the former leader then wrote 3-4 under epoch 1, which were
    // never replicated; the new leader wrote 3-5 under epoch 2.
    await appendUnder(leader, 0, 3);
    await appendUnder(former, 0, 3);
    await appendUnder(former, 1, 2);
    await appendUnder(leader, 2, 3);
    const answer = leader.log.endOffsetForEpoch(former.log.latestEpoch);
    assert.deepEqual(answer, { leaderEpoch: 0, endOffset: 3n });
    const cut = truncationOffset(former.log.latestEpoch, answer.leaderEpoch, answer.endOffset, former.log);
    assert.equal(cut, 3n);
    await former.log.truncateTo(cut!);
    assert.equal(former.log.logEndOffset, 3n);
    assert.equal(former.log.latestEpoch, 0);
    // From there the follower copies the leader's batches as they are.
    const read = await leader.log.read(3n, { maxBytes: 1 << 20, upperBound: leader.log.logEndOffset });
    await former.log.appendAsFollower(read.batches.map((batch) => Buffer.from(batch)));
    assert.equal(former.log.logEndOffset, 6n);
    assert.equal(former.log.latestEpoch, 2);
  });
});

describe('Partition: high watermark with replicas', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let partitions: PartitionManager;

  before(async () => {
    dir = await makeTempDir('tide-hw-');
    partitions = await PartitionManager.open({ dataDir: dir.path, clock: systemClock, logger: silentLogger });
  });
  after(async () => {
    await partitions?.close();
    await dir?.remove();
  });

  it('moves to the smallest ISR log end as followers fetch, never down, and wakes waiters', async () => {
    const partition = await partitions.open('replicated', 0, { configs: {}, leaderEpoch: 0, selfId: 1 });
    partition.assignReplicas(
      { leaderId: 1, replicas: [1, 2, 3], isr: [1, 2, 3], partitionEpoch: 0 },
      true,
      0,
    );
    await appendUnder(partition, 0, 4);
    assert.equal(partition.log.highWatermark, 0n, 'no follower has the batch yet');
    let woken = 0;
    partition.onData(() => woken++);
    partition.replicaSet.recordFetch(2, 4n, 4n, 1);
    partition.advanceHighWatermark();
    assert.equal(partition.log.highWatermark, 0n, 'follower 3 has not fetched');
    partition.replicaSet.recordFetch(3, 2n, 4n, 1);
    partition.advanceHighWatermark();
    assert.equal(partition.log.highWatermark, 2n);
    assert.equal(woken, 1);
    partition.replicaSet.recordFetch(3, 1n, 4n, 2);
    partition.advanceHighWatermark();
    assert.equal(partition.log.highWatermark, 2n, 'the high watermark never goes down');
    partition.assignReplicas({ leaderId: 1, replicas: [1, 2, 3], isr: [1, 2], partitionEpoch: 1 }, false, 3);
    assert.equal(partition.log.highWatermark, 4n, 'follower 3 left the ISR');
  });

  it('commits at once without other replicas', async () => {
    const partition = await partitions.open('single', 0, { configs: {}, leaderEpoch: 0, selfId: 1 });
    partition.assignReplicas({ leaderId: 1, replicas: [1], isr: [1], partitionEpoch: 0 }, true, 0);
    await appendUnder(partition, 0, 2);
    assert.equal(partition.log.highWatermark, 2n);
  });
});
