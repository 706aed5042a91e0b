/**
 * Clients may not write to `__consumer_offsets`: against a real SPU, a forged offset record produced
 * there is refused with INVALID_TOPIC_EXCEPTION (as Kafka's ReplicaManager answers "Cannot append to
 * internal topic"), and the group's committed offset stays 42, also after a restart that rebuilds the
 * groups from the offsets log. The coordinator's own writes (the commit itself) still work.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiKeys } from '../../src/protocol/messages/api-keys.ts';
import { errorCodes } from '../../src/protocol/messages/error-codes.ts';
import { createOffsetCommitRequest } from '../../src/protocol/messages/offset-commit.ts';
import { createOffsetFetchRequest } from '../../src/protocol/messages/offset-fetch.ts';
import { encodeRecordBatch } from '../../src/protocol/record-batch.ts';
import { encodeKey, encodeOffsetValue } from '../../src/spu/groups/records.ts';
import { stopAll } from '../../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../../src/testing/spu.ts';
import { WireClient } from '../../src/testing/wire-client.ts';

const groupId = 'billing';
const offsetsTopic = '__consumer_offsets';
let spu: TestSpu;

before(async () => {
  spu = await startSpu({ args: ['--offsets-topic-partitions', '1'] });
  const client = await connect(spu);
  assert.equal((await client.createTopics([{ name: 'orders' }])).topics[0]!.errorCode, errorCodes.NONE);
  await client.close();
});

after(async () => {
  await spu?.destroy();
  await stopAll();
});

function connect(target: TestSpu): Promise<WireClient> {
  return WireClient.connect({ host: '127.0.0.1', port: target.port, requestTimeoutMs: 30_000 });
}

async function commit(client: WireClient, offset: bigint): Promise<number> {
  const request = createOffsetCommitRequest({
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    topics: [
      {
        name: 'orders',
        partitions: [
          {
            partitionIndex: 0,
            committedOffset: offset,
            committedLeaderEpoch: -1,
            commitTimestamp: -1n,
            committedMetadata: '',
          },
        ],
      },
    ],
  });
  const response = await client.request(apiKeys.OffsetCommit, 8, request);
  return response.topics[0]!.partitions[0]!.errorCode;
}

async function committed(client: WireClient): Promise<bigint> {
  const request = createOffsetFetchRequest({
    groupId,
    topics: [{ name: 'orders', partitionIndexes: [0] }],
    requireStable: false,
  });
  for (let attempt = 0; ; attempt++) {
    const response = await client.request(apiKeys.OffsetFetch, 7, request);
    if (!coordinatorRetryCodes.has(response.errorCode) || attempt >= 300) {
      assert.equal(response.errorCode, errorCodes.NONE);
      return response.topics[0]!.partitions[0]!.committedOffset;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const coordinatorRetryCodes = new Set<number>([
  errorCodes.COORDINATOR_LOAD_IN_PROGRESS,
  errorCodes.COORDINATOR_NOT_AVAILABLE,
  errorCodes.NOT_COORDINATOR,
]);

/** Commits once the coordinator has created and loaded the offsets topic (it does so on first use). */
async function commitWhenReady(client: WireClient, offset: bigint): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const code = await commit(client, offset);
    if (!coordinatorRetryCodes.has(code) || attempt >= 300) return code;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** What the coordinator itself would append for a commit of `offset`, but sent by a client. */
function forgedCommit(offset: bigint): Buffer {
  return encodeRecordBatch({
    records: [
      {
        key: encodeKey({ type: 'offset', group: groupId, topic: 'orders', partition: 0 }),
        value: encodeOffsetValue({ offset, leaderEpoch: -1, metadata: '', commitTimestampMs: 0n }),
      },
    ],
  });
}

describe('produce to an internal topic', () => {
  it('is refused, and a forged offset record cannot change a committed offset', {
    timeout: 120_000,
  }, async () => {
    const client = await connect(spu);
    try {
      assert.equal(await commitWhenReady(client, 42n), errorCodes.NONE);
      assert.equal(await committed(client), 42n);
      const response = await client.produce(offsetsTopic, 0, forgedCommit(7n));
      const answer = response.responses[0]!.partitionResponses[0]!;
      assert.equal(answer.errorCode, errorCodes.INVALID_TOPIC_EXCEPTION);
      assert.match(answer.errorMessage ?? '', /internal topic/);
      assert.equal(await committed(client), 42n);
    } finally {
      await client.close();
    }
    await spu.stop();
    spu = await spu.restart();
    const reopened = await connect(spu);
    try {
      assert.equal(await committed(reopened), 42n, 'the offsets log holds no forged record');
      assert.equal(await commit(reopened, 43n), errorCodes.NONE, 'the coordinator still writes');
      assert.equal(await committed(reopened), 43n);
    } finally {
      await reopened.close();
    }
  });
});
