import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../base/clock.ts';
import { silentLogger } from '../../base/logger.ts';
import { MetricsRegistry } from '../../base/metrics.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import { createInitProducerIdRequest } from '../../protocol/messages/init-producer-id.ts';
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
import { PartitionManager } from '../partitions.ts';
import { BlockProducerIds, localProducerIds } from '../producer-ids.ts';
import { initProducerIdHandler } from './init-producer-id.ts';
import { produceHandler } from './produce.ts';

async function makeServices(dataDir: string): Promise<SpuServices> {
  const partitions = await PartitionManager.open({ dataDir, clock: systemClock, logger: silentLogger });
  const topic: TopicInfo = {
    name: 't',
    topicId: Buffer.alloc(16),
    isInternal: false,
    partitions: [],
    configs: {},
  };
  const cluster: ClusterView = {
    clusterId: 'test',
    controllerId: 1,
    brokers: () => [],
    topics: () => [topic],
    topic: (name) => (name === 't' ? topic : undefined),
  };
  await partitions.open('t', 0, { configs: {}, leaderEpoch: 0 });
  return {
    config: { ...spuDefaults, dataDir, listenPort: 0, httpPort: -1 },
    logger: silentLogger,
    metrics: new MetricsRegistry(),
    clock: systemClock,
    partitions,
    cluster,
    admin: {} as TopicAdmin,
  };
}

function contextFor(apiVersion: number): RequestContext {
  return {
    apiKey: 0,
    apiVersion,
    correlationId: 1,
    clientId: 'test',
    connection: { id: 1, remote: 'test', closed: new AbortController().signal },
  };
}

function batch(producerId: bigint, epoch: number, sequence: number, count = 1): Buffer {
  return encodeRecordBatch({
    producerId,
    producerEpoch: epoch,
    baseSequence: sequence,
    records: Array.from({ length: count }, (_, index) => ({
      key: null,
      value: Buffer.from(`s${sequence + index}`),
      timestamp: 1_000n,
    })),
  });
}

async function produce(spu: SpuServices, records: Buffer, version = 9) {
  const request = createProduceRequest({
    acks: -1,
    timeoutMs: 5000,
    topicData: [
      createProduceRequestTopicProduceData({
        name: 't',
        partitionData: [createProduceRequestPartitionProduceData({ index: 0, records })],
      }),
    ],
  });
  const response = (await produceHandler(request, contextFor(version), spu)) as ProduceResponse;
  const answer = response.responses[0]!.partitionResponses[0]!;
  return { errorCode: answer.errorCode, baseOffset: answer.baseOffset };
}

describe('idempotent produce', () => {
  let spu: SpuServices;
  let removeDir: () => Promise<void>;

  before(async () => {
    const dir = await makeTempDir('tide-idempotent-');
    removeDir = dir.remove;
    spu = await makeServices(dir.path);
  });
  after(async () => {
    await spu.partitions.close();
    await removeDir();
  });

  it('answers a retried batch with its original offset, error NONE, and appends nothing', async () => {
    assert.deepEqual(await produce(spu, batch(10n, 0, 0, 3)), { errorCode: 0, baseOffset: 0n });
    assert.deepEqual(await produce(spu, batch(10n, 0, 3, 2)), { errorCode: 0, baseOffset: 3n });
    assert.deepEqual(await produce(spu, batch(10n, 0, 0, 3)), { errorCode: 0, baseOffset: 0n });
    assert.deepEqual(await produce(spu, batch(10n, 0, 3, 2), 3), { errorCode: 0, baseOffset: 3n });
    assert.equal(spu.partitions.get('t', 0)?.log.logEndOffset, 5n);
  });

  it('refuses gaps with OUT_OF_ORDER_SEQUENCE_NUMBER and old epochs with INVALID_PRODUCER_EPOCH', async () => {
    const gap = await produce(spu, batch(10n, 0, 9));
    assert.equal(gap.errorCode, errorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal((await produce(spu, batch(10n, 1, 0))).errorCode, errorCodes.NONE);
    for (const version of [3, 7, 9])
      assert.equal(
        (await produce(spu, batch(10n, 0, 5), version)).errorCode,
        errorCodes.INVALID_PRODUCER_EPOCH,
      );
    assert.equal((await produce(spu, batch(10n, 2, 1))).errorCode, errorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal(spu.partitions.get('t', 0)?.log.logEndOffset, 6n);
  });

  it('InitProducerId hands out new ids, bumps epochs on v3+ and refuses transactional ids', async () => {
    let blocks = 0;
    const handler = initProducerIdHandler(
      new BlockProducerIds(async () => ({ start: 100n + 2n * BigInt(blocks++), length: 2 })),
    );
    const ids: bigint[] = [];
    for (let index = 0; index < 3; index++) {
      const answer = await handler(
        createInitProducerIdRequest({ transactionalId: null }),
        contextFor(4),
        spu,
      );
      assert.equal(answer?.errorCode, 0);
      assert.equal(answer?.producerEpoch, 0);
      ids.push(answer!.producerId);
    }
    assert.deepEqual(ids, [100n, 101n, 102n]);
    const bumped = await handler(
      createInitProducerIdRequest({ transactionalId: null, producerId: 101n, producerEpoch: 4 }),
      contextFor(4),
      spu,
    );
    assert.deepEqual([bumped?.errorCode, bumped?.producerId, bumped?.producerEpoch], [0, 101n, 5]);
    const exhausted = await handler(
      createInitProducerIdRequest({ transactionalId: null, producerId: 101n, producerEpoch: 32766 }),
      contextFor(4),
      spu,
    );
    assert.deepEqual([exhausted?.producerId, exhausted?.producerEpoch], [103n, 0]);
    const transactional = await handler(
      createInitProducerIdRequest({ transactionalId: 'tx' }),
      contextFor(1),
      spu,
    );
    assert.equal(transactional?.errorCode, errorCodes.UNSUPPORTED_VERSION);
    const halfSet = await handler(
      createInitProducerIdRequest({ transactionalId: null, producerId: 5n, producerEpoch: -1 }),
      contextFor(4),
      spu,
    );
    assert.equal(halfSet?.errorCode, errorCodes.INVALID_REQUEST);
    const failing = initProducerIdHandler(new BlockProducerIds(() => Promise.reject(new Error('no SC'))));
    const unavailable = await failing(
      createInitProducerIdRequest({ transactionalId: null }),
      contextFor(0),
      spu,
    );
    assert.equal(unavailable?.errorCode, errorCodes.COORDINATOR_NOT_AVAILABLE);
  });

  it('a standalone SPU never gives an id twice across restarts', async () => {
    const dir = await makeTempDir('tide-producer-ids-');
    try {
      const first = localProducerIds(dir.path, { blockIds: 3 });
      const seen = [await first.next(), await first.next()];
      const second = localProducerIds(dir.path, { blockIds: 3 });
      seen.push(await second.next(), await second.next(), await second.next(), await second.next());
      assert.deepEqual(seen, [0n, 1n, 3n, 4n, 5n, 6n]);
    } finally {
      await dir.remove();
    }
  });
});
