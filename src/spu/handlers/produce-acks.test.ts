import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../base/clock.ts';
import { silentLogger } from '../../base/logger.ts';
import { MetricsRegistry } from '../../base/metrics.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import {
  createProduceRequest,
  createProduceRequestPartitionProduceData,
  createProduceRequestTopicProduceData,
  type ProduceResponse,
} from '../../protocol/messages/produce.ts';
import { encodeRecordBatch } from '../../protocol/record-batch.ts';
import { makeTempDir } from '../../testing/processes.ts';
import type { ClusterView, TopicAdmin, TopicInfo } from '../cluster.ts';
import { spuDefaults } from '../config.ts';
import type { RequestContext, SpuServices } from '../handler.ts';
import { type Partition, PartitionManager } from '../partitions.ts';
import { produceHandler } from './produce.ts';

/** acks=all on a leader with followers: waits for the ISR, times out, or refuses a short ISR. */

const context: RequestContext = {
  apiKey: 0,
  apiVersion: 9,
  correlationId: 1,
  clientId: 'test',
  connection: { id: 1, remote: 'test', closed: new AbortController().signal },
};

function produce(spu: SpuServices, topic: string, acks: number, timeoutMs = 5000): Promise<ProduceResponse> {
  const records = encodeRecordBatch({ records: [{ key: null, value: Buffer.from('v'), timestamp: 1n }] });
  const request = createProduceRequest({
    acks,
    timeoutMs,
    topicData: [
      createProduceRequestTopicProduceData({
        name: topic,
        partitionData: [createProduceRequestPartitionProduceData({ index: 0, records })],
      }),
    ],
  });
  return produceHandler(request, context, spu) as Promise<ProduceResponse>;
}

function errorOf(response: ProduceResponse): number | undefined {
  return response.responses[0]?.partitionResponses[0]?.errorCode;
}

describe('produce acks=all with replicas', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let spu: SpuServices;
  const topics = new Map<string, TopicInfo>();

  async function leaderOf(
    name: string,
    isr: number[],
    configs: Record<string, string> = {},
  ): Promise<Partition> {
    topics.set(name, { name, topicId: Buffer.alloc(16), isInternal: false, partitions: [], configs });
    const partition = await spu.partitions.open(name, 0, { configs, leaderEpoch: 0, selfId: 1 });
    partition.assignReplicas({ leaderId: 1, replicas: [1, 2, 3], isr, partitionEpoch: 0 }, true, 0);
    return partition;
  }

  before(async () => {
    dir = await makeTempDir('tide-acks-');
    const partitions = await PartitionManager.open({
      dataDir: dir.path,
      clock: systemClock,
      logger: silentLogger,
    });
    const cluster: ClusterView = {
      clusterId: 'test',
      controllerId: 1,
      brokers: () => [],
      topics: () => [...topics.values()],
      topic: (name) => topics.get(name),
    };
    spu = {
      config: { ...spuDefaults, dataDir: dir.path, listenPort: 0, httpPort: -1 },
      logger: silentLogger,
      metrics: new MetricsRegistry(),
      clock: systemClock,
      partitions,
      cluster,
      admin: {} as TopicAdmin,
    };
  });
  after(async () => {
    await spu?.partitions.close();
    await dir?.remove();
  });

  it('answers once every ISR member has fetched past the batch', async () => {
    const partition = await leaderOf('waits', [1, 2, 3]);
    const appended = new Promise((resolve) => partition.onData(() => resolve(undefined)));
    const answer = produce(spu, 'waits', -1);
    let settled = false;
    void answer.then(() => {
      settled = true;
    });
    await appended;
    const end = partition.log.logEndOffset;
    assert.equal(end, 1n, 'appended before waiting');
    partition.replicaSet.recordFetch(2, end, end, 1);
    partition.advanceHighWatermark();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'follower 3 has not fetched');
    partition.replicaSet.recordFetch(3, end, end, 1);
    partition.advanceHighWatermark();
    assert.equal(errorOf(await answer), errorCodes.NONE);
  });

  it('answers REQUEST_TIMED_OUT when the ISR does not catch up in time, acks=1 at once', async () => {
    await leaderOf('stalls', [1, 2]);
    assert.equal(errorOf(await produce(spu, 'stalls', -1, 20)), errorCodes.REQUEST_TIMED_OUT);
    assert.equal(errorOf(await produce(spu, 'stalls', 1)), errorCodes.NONE);
  });

  it('refuses before appending when the ISR is below min.insync.replicas', async () => {
    const partition = await leaderOf('short', [1], { 'min.insync.replicas': '2' });
    assert.equal(errorOf(await produce(spu, 'short', -1)), errorCodes.NOT_ENOUGH_REPLICAS);
    assert.equal(partition.log.logEndOffset, 0n);
    assert.equal(errorOf(await produce(spu, 'short', 1)), errorCodes.NONE);
  });
});
