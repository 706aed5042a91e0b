import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Tide } from '../src/client/tide.ts';
import { batchHeader } from '../src/protocol/batch-header.ts';
import { createDeleteRecordsRequest } from '../src/protocol/messages/delete-records.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import type { MetadataResponse } from '../src/protocol/messages/metadata.ts';
import { encodeRecordBatch } from '../src/protocol/record-batch.ts';
import { PartitionLog } from '../src/storage/partition-log.ts';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import { metadata, until, wireClient } from './helpers/cluster-kit.ts';

/**
 * A follower that comes back behind its leader's log start: one SC (2 s session timeout), three
 * SPUs, one partition with three replicas and min.insync.replicas=2. A follower stops; more records
 * arrive; DeleteRecords on the leader moves its log start past everything the follower holds, to an
 * offset inside a batch. The returning follower hears OFFSET_OUT_OF_RANGE, empties its log and
 * restarts it at the leader's log start, catches up and rejoins the ISR. Every replica then has the
 * leader's log start and the same bytes from there on (read from the stopped SPUs' data folders).
 */

const topic = 'resync';
const recordsPerBatch = 10;
const rejoinTimeoutMs = 30_000; // ms for the returning follower to re-enter the ISR

const refusedUnwritten = new Set<number>([
  errorCodes.NOT_LEADER_OR_FOLLOWER,
  errorCodes.LEADER_NOT_AVAILABLE,
  errorCodes.UNKNOWN_TOPIC_OR_PARTITION,
  errorCodes.NOT_ENOUGH_REPLICAS,
]);

type Partition = MetadataResponse['topics'][number]['partitions'][number];

function partitionOf(answer: MetadataResponse | undefined): Partition | undefined {
  return answer?.topics[0]?.partitions.find((partition) => partition.partitionIndex === 0);
}

describe('a follower behind the leader log start', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await startCluster({
      spus: 3,
      scArgs: ['--spu-session-timeout-ms', '2000'],
      spuArgs: ['--replica-lag-time-max-ms', '3000'],
    });
    const tide = await Tide.connect({ bootstrap: cluster.bootstrap });
    try {
      await tide.admin().createTopic(topic, {
        partitions: 1,
        replicationFactor: 3,
        configs: { 'min.insync.replicas': '2' },
      });
    } finally {
      await tide.close();
    }
  });
  after(async () => {
    await cluster?.destroy();
    await stopAll();
  });

  /** The partition as SPU `id` reports it, once `done` holds (or the last answer at the deadline). */
  async function partitionWhen(
    id: number,
    done: (partition: Partition) => boolean,
    timeoutMs = rejoinTimeoutMs,
  ): Promise<Partition | undefined> {
    const answer = await until(
      () => metadata(cluster.spus[id - 1]!.bootstrap, [topic]),
      (seen) => {
        const partition = partitionOf(seen);
        return partition !== undefined && done(partition);
      },
      timeoutMs,
    );
    return partitionOf(answer);
  }

  /** `count` batches of ten records to the current leader with acks=all. */
  async function produceBatches(leaderId: number, count: number, prefix: string): Promise<void> {
    const client = await wireClient(cluster.spus[leaderId - 1]!.bootstrap);
    try {
      for (let index = 0; index < count; index++) {
        const batch = encodeRecordBatch({
          records: Array.from({ length: recordsPerBatch }, (_, record) => ({
            key: null,
            value: Buffer.from(`${prefix}-${index}-${record}`),
            timestamp: BigInt(Date.now()),
          })),
        });
        // Refusals that append nothing (the leader may not have applied its LeaderAndIsr yet) are
        // sent again; anything else must succeed, so that the offsets stay as counted.
        const errorCode = await until(
          async () =>
            (await client.produce(topic, 0, batch, { acks: -1, timeoutMs: 10_000 })).responses[0]
              ?.partitionResponses[0]?.errorCode,
          (code) => code === undefined || !refusedUnwritten.has(code),
        );
        assert.equal(errorCode, errorCodes.NONE, 'acks=all');
      }
    } finally {
      await client.close();
    }
  }

  async function deleteRecordsBefore(leaderId: number, offset: bigint): Promise<bigint> {
    const client = await wireClient(cluster.spus[leaderId - 1]!.bootstrap);
    try {
      const answer = await client.request(
        21,
        2,
        createDeleteRecordsRequest({
          timeoutMs: 10_000,
          topics: [{ name: topic, partitions: [{ partitionIndex: 0, offset }] }],
        }),
      );
      const result = answer.topics[0]?.partitions[0];
      assert.equal(result?.errorCode, errorCodes.NONE, 'DeleteRecords on the leader');
      return result.lowWatermark;
    } finally {
      await client.close();
    }
  }

  it('empties its log, restarts at the leader log start and rejoins the ISR', {
    timeout: 90_000,
  }, async () => {
    // Every SPU must have had the SC's pushes for the new topic before the leader takes writes.
    for (const id of [2, 3]) await partitionWhen(id, (partition) => partition.isrNodes.length === 3);
    const placed = await partitionWhen(1, (partition) => partition.isrNodes.length === 3);
    assert.equal(placed?.isrNodes.length, 3, 'all replicas in sync at first');
    const leaderId = placed.leaderId;
    // The last replica in order is never the preferred leader: it stays a follower when it returns.
    const followerId = [...placed.replicaNodes].reverse().find((id) => id !== leaderId)!;
    await produceBatches(leaderId, 5, 'before');
    await partitionWhen(leaderId, (partition) => partition.isrNodes.length === 3);

    await cluster.spus[followerId - 1]!.stop();
    const shrunk = await partitionWhen(leaderId, (partition) => !partition.isrNodes.includes(followerId));
    assert.ok(
      shrunk !== undefined && !shrunk.isrNodes.includes(followerId),
      'the stopped follower left the ISR',
    );
    await produceBatches(leaderId, 5, 'while-away');
    // Past the 50 records the follower holds, inside the batch 80..89.
    const logStart = await deleteRecordsBefore(leaderId, 85n);
    assert.equal(logStart, 85n);
    await produceBatches(leaderId, 3, 'after-delete');

    await cluster.restartSpu(followerId);
    const rejoined = await partitionWhen(leaderId, (partition) => partition.isrNodes.length === 3);
    assert.deepEqual([...(rejoined?.isrNodes ?? [])].sort(), [1, 2, 3], 'the follower is back in the ISR');
    assert.equal(rejoined?.leaderId, leaderId, 'leadership did not move');

    await cluster.stop();
    const logs = await Promise.all(
      cluster.spus.map((spu) => PartitionLog.open({ dir: join(spu.dataDir, `${topic}-0`) })),
    );
    try {
      const leader = logs[leaderId - 1]!;
      assert.deepEqual([leader.logStartOffset, leader.logEndOffset], [85n, 130n]);
      const leaderBytes = await retained(leader);
      for (const [index, log] of logs.entries()) {
        const id = index + 1;
        assert.deepEqual(
          [log.logStartOffset, log.logEndOffset],
          [85n, 130n],
          `log start and end of SPU ${id}${id === followerId ? ' (the returning follower)' : ''}`,
        );
        assert.ok((await retained(log)).equals(leaderBytes), `SPU ${id} holds the leader's bytes`);
      }
      const firstBatch = (await logs[followerId - 1]!.read(85n, { maxBytes: 1 })).batches[0]!;
      assert.equal(firstBatch.readBigInt64BE(batchHeader.baseOffset), 80n, 'the batch holding 85, whole');
    } finally {
      await Promise.all(logs.map((log) => log.close()));
    }
  });
});

/** Every batch from the log start to the log end, as stored. */
async function retained(log: PartitionLog): Promise<Buffer> {
  const read = await log.read(log.logStartOffset, { maxBytes: 64 << 20 });
  return Buffer.concat(read.batches);
}
