import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { errorCodes } from '../../src/protocol/messages/error-codes.ts';
import {
  createFetchRequest,
  createFetchRequestPartition,
  createFetchRequestTopic,
  type FetchResponse,
} from '../../src/protocol/messages/fetch.ts';
import {
  createListOffsetsRequest,
  createListOffsetsRequestPartition,
  createListOffsetsRequestTopic,
} from '../../src/protocol/messages/list-offsets.ts';
import { encodeRecordBatch } from '../../src/protocol/record-batch.ts';
import { startCluster, type TestCluster, type TestClusterSpu } from '../../src/testing/cluster.ts';
import { stopAll } from '../../src/testing/processes.ts';
import { WireClient } from '../../src/testing/wire-client.ts';
import { metadata, until } from '../helpers/cluster-kit.ts';

/**
 * A client that poses as a follower must not acknowledge writes. RF 3, min.insync.replicas 2, both
 * followers paused (SIGSTOP, still in the ISR: lag and session limits are far away): an acks=all
 * write waits for them. A raw Fetch carrying a follower's replica id, sent to the leader's Kafka
 * listener, used to be taken as that follower's progress and moved the high watermark, so the write
 * was acknowledged with one copy. Follower fetches are now taken only on the internal listener and
 * only from assigned replicas; once the real followers resume, replication over that channel
 * acknowledges the write.
 */

const topic = 'guarded';

function connect(port: number): Promise<WireClient> {
  return WireClient.connect({ host: '127.0.0.1', port });
}

function fetchAs(client: WireClient, replicaId: number, fetchOffset: bigint): Promise<FetchResponse> {
  const request = createFetchRequest({
    replicaId,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1024 * 1024,
    topics: [
      createFetchRequestTopic({
        topic,
        partitions: [
          createFetchRequestPartition({ partition: 0, fetchOffset, partitionMaxBytes: 1024 * 1024 }),
        ],
      }),
    ],
  });
  return client.request(1, 12, request);
}

/** The leader's log end (ListOffsets latest as a debugging replica, -2, which reads past the HW). */
async function logEnd(client: WireClient): Promise<bigint | undefined> {
  const request = createListOffsetsRequest({
    replicaId: -2,
    topics: [
      createListOffsetsRequestTopic({
        name: topic,
        partitions: [createListOffsetsRequestPartition({ partitionIndex: 0, timestamp: -1n })],
      }),
    ],
  });
  const response = await client.request(2, 5, request);
  return response.topics[0]?.partitions[0]?.offset;
}

function partitionOf(response: FetchResponse) {
  const partition = response.responses[0]?.partitions[0];
  assert.ok(partition !== undefined, 'the fetch answers the partition');
  return partition;
}

describe('a client posing as a follower', () => {
  let cluster: TestCluster;
  let paused: TestClusterSpu[] = [];

  before(async () => {
    cluster = await startCluster({
      spus: 3,
      spuArgs: ['--replica-lag-time-max-ms', '600000'],
      scArgs: ['--spu-session-timeout-ms', '600000'],
    });
    const kafka = new Kafka({ brokers: [cluster.spus[0]!.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          {
            topic,
            numPartitions: 1,
            replicationFactor: 3,
            configEntries: [{ name: 'min.insync.replicas', value: '2' }],
          },
        ],
        waitForLeaders: true,
      });
    } finally {
      await admin.disconnect();
    }
  });
  after(async () => {
    for (const spu of paused) spu.process.child.kill('SIGCONT');
    await cluster?.destroy();
    await stopAll();
  });

  it('cannot move the high watermark; the real followers, resumed, still can', {
    timeout: 60_000,
  }, async () => {
    const placed = await until(
      () => metadata(cluster.spus[0]!.bootstrap, [topic]),
      (answer) => answer.topics[0]?.partitions[0]?.isrNodes.length === 3,
    );
    const leaderId = placed?.topics[0]?.partitions[0]?.leaderId;
    assert.ok(leaderId !== undefined && leaderId > 0, 'the partition has a leader and a full ISR');
    const leader = cluster.spus[leaderId - 1]!;
    paused = cluster.spus.filter((spu) => spu.id !== leaderId);
    for (const spu of paused) spu.process.child.kill('SIGSTOP');

    const producer = await connect(leader.port);
    const impostor = await connect(leader.port);
    const internal = await connect(leader.internalPort);
    try {
      const batch = encodeRecordBatch({ records: [{ key: null, value: Buffer.from('unreplicated') }] });
      const produced = producer.produce(topic, 0, batch, { acks: -1, timeoutMs: 3000 });
      const appended = await until(
        () => logEnd(impostor),
        (end) => end === 1n,
      );
      assert.equal(appended, 1n, 'the leader appended the write');

      for (const follower of paused) {
        const forged = partitionOf(await fetchAs(impostor, follower.id, 1n));
        assert.equal(forged.errorCode, errorCodes.NOT_LEADER_OR_FOLLOWER, 'Kafka listener refuses followers');
      }
      const stranger = partitionOf(await fetchAs(internal, 99, 1n));
      assert.equal(
        stranger.errorCode,
        errorCodes.NOT_LEADER_OR_FOLLOWER,
        'internal listener refuses non-replicas',
      );
      const consumer = partitionOf(await fetchAs(impostor, -1, 0n));
      assert.equal(consumer.highWatermark, 0n, 'the high watermark did not move');

      const answer = (await produced).responses[0]?.partitionResponses[0];
      assert.equal(answer?.errorCode, errorCodes.REQUEST_TIMED_OUT, 'the write is not acknowledged');

      for (const spu of paused) spu.process.child.kill('SIGCONT');
      paused = [];
      const replicated = await until(
        () => fetchAs(impostor, -1, 0n),
        (response) => partitionOf(response).highWatermark === 1n,
        30_000,
      );
      assert.equal(replicated && partitionOf(replicated).highWatermark, 1n, 'followers replicate again');
    } finally {
      await Promise.all([producer.close(), impostor.close(), internal.close()]);
    }
  });
});
