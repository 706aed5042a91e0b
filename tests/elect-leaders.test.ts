import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiKeys } from '../src/protocol/messages/api-keys.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { createMetadataRequest, createMetadataRequestTopic } from '../src/protocol/messages/metadata.ts';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import { parseBootstrap, WireClient } from '../src/testing/wire-client.ts';

/**
 * ElectLeaders (kafka-leader-election) against a real 2-SPU cluster whose SC does not move leaders
 * back by itself: after the preferred replica restarts and catches up, another SPU leads until a
 * preferred election is asked for; an unclean election is not needed while the leader is online.
 * kafkajs has no ElectLeaders call, so requests go as raw frames, through the SPU that forwards.
 */

const topic = 'elect';
const waitMs = 60_000; // ms for leadership and ISR changes on a loaded machine
let cluster: TestCluster;

before(async () => {
  cluster = await startCluster({ spus: 2, scArgs: ['--no-auto-leader-rebalance'] });
});

after(async () => {
  await cluster?.destroy();
  await stopAll();
});

async function withClient<T>(spuIndex: number, use: (client: WireClient) => Promise<T>): Promise<T> {
  const client = await WireClient.connect(parseBootstrap(cluster.spus[spuIndex]!.bootstrap));
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

async function partitionState(): Promise<{ leader: number; isr: number[] } | undefined> {
  return withClient(1, async (client) => {
    const answer = await client.request(
      apiKeys.Metadata,
      9,
      createMetadataRequest({
        topics: [createMetadataRequestTopic({ name: topic })],
        allowAutoTopicCreation: false,
      }),
    );
    const partition = answer.topics[0]?.partitions[0];
    return partition === undefined ? undefined : { leader: partition.leaderId, isr: partition.isrNodes };
  });
}

async function waitFor(what: string, check: (state: { leader: number; isr: number[] }) => boolean) {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const state = await partitionState();
    if (state !== undefined && check(state)) return state;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(state)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function elect(electionType: number, partitions: number[]) {
  return withClient(1, (client) =>
    client.request(apiKeys.ElectLeaders, 2, {
      electionType,
      topicPartitions: [{ topic, partitions }],
      timeoutMs: 10_000,
    }),
  );
}

describe('ElectLeaders', () => {
  it('moves leadership back to the preferred replica only when asked', async () => {
    const created = await withClient(1, (client) =>
      client.request(apiKeys.CreateTopics, 7, {
        topics: [
          {
            name: topic,
            numPartitions: -1,
            replicationFactor: -1,
            assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }],
            configs: [],
          },
        ],
        timeoutMs: 10_000,
        validateOnly: false,
      }),
    );
    assert.equal(created.topics[0]?.errorCode, errorCodes.NONE);
    await waitFor('SPU 1 leads with both in sync', ({ leader, isr }) => leader === 1 && isr.length === 2);
    const notNeeded = await elect(0, [0, 5]);
    assert.deepEqual(
      notNeeded.replicaElectionResults[0]?.partitionResult.map(({ partitionId, errorCode }) => [
        partitionId,
        errorCode,
      ]),
      [
        [0, errorCodes.ELECTION_NOT_NEEDED],
        [5, errorCodes.UNKNOWN_TOPIC_OR_PARTITION],
      ],
    );

    await cluster.spus[0]!.stop();
    await waitFor('SPU 2 took over', ({ leader }) => leader === 2);
    await cluster.restartSpu(1);
    await waitFor('SPU 1 back in sync', ({ isr }) => isr.includes(1) && isr.includes(2));
    assert.equal((await partitionState())?.leader, 2, 'the SC does not move leaders back by itself');

    const unclean = await elect(1, [0]);
    assert.equal(
      unclean.replicaElectionResults[0]?.partitionResult[0]?.errorCode,
      errorCodes.ELECTION_NOT_NEEDED,
    );
    const preferred = await elect(0, [0]);
    assert.equal(preferred.errorCode, errorCodes.NONE);
    assert.equal(preferred.replicaElectionResults[0]?.partitionResult[0]?.errorCode, errorCodes.NONE);
    await waitFor('SPU 1 leads again', ({ leader }) => leader === 1);
  });
});
