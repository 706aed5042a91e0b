import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../base/clock.ts';
import { silentLogger } from '../../base/logger.ts';
import { MetricsRegistry } from '../../base/metrics.ts';
import { batchHeader, splitBatches } from '../../protocol/batch-header.ts';
import { codecFromAttributes } from '../../protocol/compression/compression.ts';
import { createDeleteRecordsRequest } from '../../protocol/messages/delete-records.ts';
import { errorCodes } from '../../protocol/messages/error-codes.ts';
import {
  createFetchRequest,
  createFetchRequestPartition,
  createFetchRequestTopic,
  type FetchRequest,
  type FetchResponse,
} from '../../protocol/messages/fetch.ts';
import { createListOffsetsRequest } from '../../protocol/messages/list-offsets.ts';
import {
  createProduceRequest,
  createProduceRequestPartitionProduceData,
  createProduceRequestTopicProduceData,
  type ProduceResponse,
} from '../../protocol/messages/produce.ts';
import { decodeRecordBatch, encodeRecordBatch, type RecordBatchInput } from '../../protocol/record-batch.ts';
import { StorageError, storageErrorCodes } from '../../storage/errors.ts';
import { makeTempDir } from '../../testing/processes.ts';
import type { ClusterView, TopicAdmin, TopicInfo } from '../cluster.ts';
import { spuDefaults } from '../config.ts';
import type { RequestContext, SpuServices } from '../handler.ts';
import { PartitionManager } from '../partitions.ts';
import { kafkaCodeForStorage, partitionFailure } from '../storage-errors.ts';
import { deleteRecordsHandler } from './delete-records.ts';
import { fetchHandler } from './fetch.ts';
import { listOffsetsHandler } from './list-offsets.ts';
import { produceHandler } from './produce.ts';

/** An SPU's services in this process: real partitions on a temp dir, topics from a plain map. */
async function makeServices(dataDir: string): Promise<{ spu: SpuServices; topics: Map<string, TopicInfo> }> {
  const partitions = await PartitionManager.open({ dataDir, clock: systemClock, logger: silentLogger });
  const topics = new Map<string, TopicInfo>();
  const cluster: ClusterView = {
    clusterId: 'test',
    controllerId: 1,
    brokers: () => [],
    topics: () => [...topics.values()],
    topic: (name) => topics.get(name),
  };
  const spu: SpuServices = {
    config: { ...spuDefaults, dataDir, listenPort: 0, httpPort: -1 },
    logger: silentLogger,
    metrics: new MetricsRegistry(),
    clock: systemClock,
    partitions,
    cluster,
    admin: {} as TopicAdmin,
  };
  return { spu, topics };
}

function contextFor(apiVersion: number, closed = new AbortController().signal): RequestContext {
  return {
    apiKey: 0,
    apiVersion,
    correlationId: 1,
    clientId: 'test',
    connection: { id: 1, remote: 'test', closed },
  };
}

function batch(values: readonly string[], options: Partial<RecordBatchInput> = {}): Buffer {
  return encodeRecordBatch({
    records: values.map((value, index) => ({
      key: Buffer.from(`k${index}`),
      value: Buffer.from(value),
      timestamp: 1_000n + BigInt(index),
    })),
    ...options,
  });
}

function produceRequest(topic: string, parts: ReadonlyArray<[number, Buffer | null]>, fields = {}) {
  return createProduceRequest({
    acks: 1,
    timeoutMs: 1000,
    topicData: [
      createProduceRequestTopicProduceData({
        name: topic,
        partitionData: parts.map(([index, records]) =>
          createProduceRequestPartitionProduceData({ index, records }),
        ),
      }),
    ],
    ...fields,
  });
}

function fetchRequest(
  topic: string,
  offsets: ReadonlyArray<[number, bigint]>,
  fields: Partial<FetchRequest> = {},
) {
  return createFetchRequest({
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1024 * 1024,
    isolationLevel: 0,
    sessionEpoch: -1,
    topics: [
      createFetchRequestTopic({
        topic,
        partitions: offsets.map(([partition, fetchOffset]) =>
          createFetchRequestPartition({ partition, fetchOffset, partitionMaxBytes: 1024 * 1024 }),
        ),
      }),
    ],
    ...fields,
  });
}

function partitionAnswer(response: ProduceResponse | undefined, index = 0) {
  assert.ok(response !== undefined);
  return response.responses[0]!.partitionResponses[index]!;
}

function fetchedValues(response: FetchResponse | undefined, index = 0): string[] {
  assert.ok(response !== undefined);
  const records = response.responses[0]!.partitions[index]!.records ?? Buffer.alloc(0);
  return splitBatches(records).batches.flatMap((b) =>
    decodeRecordBatch(b).records.map((r) => r.value!.toString()),
  );
}

describe('data-plane handlers', () => {
  let spu: SpuServices;
  let topics: Map<string, TopicInfo>;
  let removeDir: () => Promise<void>;

  async function openTopic(name: string, partitionCount: number, configs: Record<string, string> = {}) {
    for (let index = 0; index < partitionCount; index++)
      await spu.partitions.open(name, index, { configs, leaderEpoch: 0 });
    topics.set(name, { name, topicId: Buffer.alloc(16), isInternal: false, partitions: [], configs });
  }

  before(async () => {
    const dir = await makeTempDir('tide-data-plane-');
    removeDir = dir.remove;
    ({ spu, topics } = await makeServices(dir.path));
  });
  after(async () => {
    await spu.partitions.close();
    await removeDir();
  });

  it('produces and fetches batches with dense offsets', async () => {
    await openTopic('basic', 1);
    const first = partitionAnswer(
      await produceHandler(produceRequest('basic', [[0, batch(['a', 'b'])]]), contextFor(9), spu),
    );
    assert.equal(first.errorCode, errorCodes.NONE);
    assert.equal(first.baseOffset, 0n);
    assert.equal(first.logAppendTimeMs, -1n);
    assert.equal(first.logStartOffset, 0n);
    const second = partitionAnswer(
      await produceHandler(produceRequest('basic', [[0, batch(['c'])]]), contextFor(3), spu),
    );
    assert.equal(second.baseOffset, 2n);
    const fetched = await fetchHandler(fetchRequest('basic', [[0, 0n]]), contextFor(12), spu);
    assert.deepEqual(fetchedValues(fetched), ['a', 'b', 'c']);
    const data = fetched!.responses[0]!.partitions[0]!;
    assert.equal(data.highWatermark, 3n);
    assert.equal(data.lastStableOffset, 3n);
    assert.equal(data.logStartOffset, 0n);
    assert.equal(fetched!.sessionId, 0);
    assert.ok(spu.metrics.render().includes('tide_produced_batches_total 2'));
  });

  it('refuses bad partitions one by one and appends nothing of them', async () => {
    await openTopic('bad', 2);
    const corrupt = batch(['x']);
    corrupt[corrupt.length - 1]! ^= 0xff;
    const partial = Buffer.concat([batch(['y']), Buffer.alloc(5)]);
    const response = await produceHandler(
      produceRequest('bad', [
        [0, corrupt],
        [1, batch(['good'])],
        [7, batch(['z'])],
      ]),
      contextFor(9),
      spu,
    );
    assert.equal(partitionAnswer(response, 0).errorCode, errorCodes.CORRUPT_MESSAGE);
    assert.equal(partitionAnswer(response, 1).errorCode, errorCodes.NONE);
    assert.equal(partitionAnswer(response, 2).errorCode, errorCodes.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(spu.partitions.get('bad', 0)!.log.logEndOffset, 0n);
    const trailing = await produceHandler(produceRequest('bad', [[0, partial]]), contextFor(9), spu);
    assert.equal(partitionAnswer(trailing).errorCode, errorCodes.CORRUPT_MESSAGE);
    const badMagic = batch(['m']);
    badMagic.writeInt8(1, batchHeader.magic);
    const magic = await produceHandler(produceRequest('bad', [[0, badMagic]]), contextFor(9), spu);
    assert.equal(partitionAnswer(magic).errorCode, errorCodes.CORRUPT_MESSAGE);
    assert.equal(spu.partitions.get('bad', 0)!.log.logEndOffset, 0n);
  });

  it('answers empty records per version, old versions, transactions and too-large batches', async () => {
    await openTopic('rules', 1, { 'max.message.bytes': '200' });
    const code = async (records: Buffer | null, version: number, fields = {}) =>
      partitionAnswer(
        await produceHandler(produceRequest('rules', [[0, records]], fields), contextFor(version), spu),
      ).errorCode;
    assert.equal(await code(null, 9), errorCodes.INVALID_RECORD);
    assert.equal(await code(Buffer.alloc(0), 7), errorCodes.CORRUPT_MESSAGE);
    assert.equal(await code(batch(['a']), 2), errorCodes.UNSUPPORTED_FOR_MESSAGE_FORMAT);
    assert.equal(
      await code(batch(['a'], { transactional: true, producerId: 5n }), 9),
      errorCodes.INVALID_TXN_STATE,
    );
    assert.equal(await code(batch(['a']), 9, { transactionalId: 'tx' }), errorCodes.INVALID_TXN_STATE);
    assert.equal(await code(batch(['a'], { control: true }), 9), errorCodes.INVALID_RECORD);
    assert.equal(await code(batch(['a'.repeat(300)]), 9), errorCodes.MESSAGE_TOO_LARGE);
    assert.equal(await code(batch(['a']), 9, { acks: 2 }), errorCodes.INVALID_REQUIRED_ACKS);
    assert.equal(spu.partitions.get('rules', 0)!.log.logEndOffset, 0n);
  });

  it('appends with acks=0 without answering', async () => {
    await openTopic('fire', 1);
    const response = await produceHandler(
      produceRequest('fire', [[0, batch(['a'])]], { acks: 0 }),
      contextFor(9),
      spu,
    );
    assert.equal(response, undefined);
    assert.equal(spu.partitions.get('fire', 0)!.log.highWatermark, 1n);
  });

  it('recompresses to the topic codec, keeping records', async () => {
    await openTopic('zipped', 1, { 'compression.type': 'gzip' });
    await openTopic('plain', 1, { 'compression.type': 'uncompressed' });
    await produceHandler(
      produceRequest('zipped', [[0, batch(['a', 'b'], { codec: 'none' })]]),
      contextFor(9),
      spu,
    );
    await produceHandler(produceRequest('plain', [[0, batch(['c'], { codec: 'lz4' })]]), contextFor(9), spu);
    for (const [topic, codec, values] of [
      ['zipped', 'gzip', ['a', 'b']],
      ['plain', 'none', ['c']],
    ] as const) {
      const fetched = await fetchHandler(fetchRequest(topic, [[0, 0n]]), contextFor(12), spu);
      const stored = fetched!.responses[0]!.partitions[0]!.records!;
      assert.equal(codecFromAttributes(stored.readInt16BE(batchHeader.attributes)), codec);
      assert.deepEqual(fetchedValues(fetched), values);
      const decoded = decodeRecordBatch(stored);
      assert.deepEqual(
        decoded.records.map((r) => [r.key!.toString(), r.timestamp]),
        values.map((_, i) => [`k${i}`, 1_000n + BigInt(i)]),
      );
    }
  });

  it('parks a fetch until data arrives, and wakes on close', async () => {
    await openTopic('poll', 1);
    let settled = false;
    const parked = fetchHandler(
      fetchRequest('poll', [[0, 0n]], { maxWaitMs: 20_000 }),
      contextFor(12),
      spu,
    ).then((response) => {
      settled = true;
      return response;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false);
    await produceHandler(produceRequest('poll', [[0, batch(['late'])]]), contextFor(9), spu);
    assert.deepEqual(fetchedValues(await parked), ['late']);

    const abort = new AbortController();
    const waiting = fetchHandler(
      fetchRequest('poll', [[0, 1n]], { maxWaitMs: 20_000 }),
      contextFor(12, abort.signal),
      spu,
    );
    abort.abort();
    assert.equal(await waiting, undefined);

    const timedOut = await fetchHandler(
      fetchRequest('poll', [[0, 1n]], { maxWaitMs: 20 }),
      contextFor(12),
      spu,
    );
    assert.deepEqual(fetchedValues(timedOut), []);
    assert.equal(timedOut!.responses[0]!.partitions[0]!.highWatermark, 1n);
  });

  it('keeps waiting while less than minBytes is available', async () => {
    await openTopic('minbytes', 1);
    const small = batch(['s']);
    const parked = fetchHandler(
      fetchRequest('minbytes', [[0, 0n]], { maxWaitMs: 20_000, minBytes: small.length + 1 }),
      contextFor(12),
      spu,
    );
    await produceHandler(produceRequest('minbytes', [[0, small]]), contextFor(9), spu);
    let settled = false;
    void parked.then(() => {
      settled = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false);
    await produceHandler(produceRequest('minbytes', [[0, batch(['t'])]]), contextFor(9), spu);
    assert.deepEqual(fetchedValues(await parked), ['s', 't']);
  });

  it('respects byte limits but returns one whole batch first', async () => {
    await openTopic('limits', 2);
    for (const index of [0, 1])
      for (const value of ['one', 'two'])
        await produceHandler(
          produceRequest('limits', [[index, batch([value.repeat(100)])]]),
          contextFor(9),
          spu,
        );
    const request = fetchRequest('limits', [
      [0, 0n],
      [1, 0n],
    ]);
    for (const topic of request.topics)
      for (const partition of topic.partitions) partition.partitionMaxBytes = 10;
    const fetched = await fetchHandler(request, contextFor(12), spu);
    assert.equal(fetchedValues(fetched, 0).length, 1);
    assert.equal(fetchedValues(fetched, 1).length, 0);
    const capped = await fetchHandler(
      fetchRequest('limits', [[0, 0n]], { maxBytes: 10 }),
      contextFor(12),
      spu,
    );
    assert.equal(fetchedValues(capped).length, 1);
  });

  it('answers errors per partition and refuses unknown fetch sessions', async () => {
    await openTopic('errors', 1);
    await produceHandler(produceRequest('errors', [[0, batch(['a'])]]), contextFor(9), spu);
    const outOfRange = await fetchHandler(
      fetchRequest('errors', [[0, 5n]], { maxWaitMs: 20_000 }),
      contextFor(12),
      spu,
    );
    assert.equal(outOfRange!.responses[0]!.partitions[0]!.errorCode, errorCodes.OFFSET_OUT_OF_RANGE);
    const unknown = await fetchHandler(
      fetchRequest('nope', [[0, 0n]], { maxWaitMs: 20_000 }),
      contextFor(12),
      spu,
    );
    assert.equal(unknown!.responses[0]!.partitions[0]!.errorCode, errorCodes.UNKNOWN_TOPIC_OR_PARTITION);
    const fenced = fetchRequest('errors', [[0, 0n]]);
    fenced.topics[0]!.partitions[0]!.currentLeaderEpoch = 3;
    const epoch = await fetchHandler(fenced, contextFor(12), spu);
    assert.equal(epoch!.responses[0]!.partitions[0]!.errorCode, errorCodes.UNKNOWN_LEADER_EPOCH);
    const incremental = await fetchHandler(
      fetchRequest('errors', [[0, 0n]], { sessionId: 9, sessionEpoch: 2 }),
      contextFor(12),
      spu,
    );
    assert.equal(incremental!.errorCode, errorCodes.FETCH_SESSION_ID_NOT_FOUND);
    const initial = await fetchHandler(
      fetchRequest('errors', [[0, 0n]], { sessionId: 0, sessionEpoch: 0 }),
      contextFor(12),
      spu,
    );
    assert.equal(initial!.errorCode, errorCodes.NONE);
    assert.deepEqual(fetchedValues(initial), ['a']);
  });

  it('lists offsets by time and deletes records', async () => {
    await openTopic('offsets', 1);
    await produceHandler(
      produceRequest('offsets', [[0, batch(['a', 'b'], { baseTimestamp: 1_000n })]]),
      contextFor(9),
      spu,
    );
    await produceHandler(
      produceRequest('offsets', [
        [0, encodeRecordBatch({ records: [{ key: null, value: Buffer.from('c'), timestamp: 5_000n }] })],
      ]),
      contextFor(9),
      spu,
    );
    const list = async (timestamp: bigint, version = 7) => {
      const response = await listOffsetsHandler(
        createListOffsetsRequest({
          replicaId: -1,
          topics: [
            { name: 'offsets', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] },
          ],
        }),
        contextFor(version),
        spu,
      );
      return response!.topics[0]!.partitions[0]!;
    };
    assert.deepEqual([(await list(-2n)).offset, (await list(-1n)).offset], [0n, 3n]);
    assert.equal((await list(-1n)).leaderEpoch, 0);
    assert.deepEqual([(await list(1_001n)).offset, (await list(1_001n)).timestamp], [1n, 1_001n]);
    assert.equal((await list(2_000n)).offset, 2n);
    assert.deepEqual([(await list(9_000n)).offset, (await list(9_000n)).timestamp], [-1n, -1n]);
    assert.equal((await list(-3n)).errorCode, errorCodes.UNSUPPORTED_VERSION);

    const remove = async (offset: bigint) => {
      const response = await deleteRecordsHandler(
        createDeleteRecordsRequest({
          topics: [{ name: 'offsets', partitions: [{ partitionIndex: 0, offset }] }],
        }),
        contextFor(2),
        spu,
      );
      return response!.topics[0]!.partitions[0]!;
    };
    assert.equal((await remove(4n)).errorCode, errorCodes.OFFSET_OUT_OF_RANGE);
    assert.equal((await remove(2n)).lowWatermark, 2n);
    assert.equal((await list(-2n)).offset, 2n);
    const gone = await fetchHandler(fetchRequest('offsets', [[0, 0n]]), contextFor(12), spu);
    assert.equal(gone!.responses[0]!.partitions[0]!.errorCode, errorCodes.OFFSET_OUT_OF_RANGE);
    assert.deepEqual(await remove(-1n), { partitionIndex: 0, lowWatermark: 3n, errorCode: errorCodes.NONE });
  });

  it('maps storage errors to Kafka codes', () => {
    assert.equal(kafkaCodeForStorage(storageErrorCodes.diskFull), errorCodes.KAFKA_STORAGE_ERROR);
    assert.equal(kafkaCodeForStorage(storageErrorCodes.logClosed), errorCodes.KAFKA_STORAGE_ERROR);
    assert.equal(kafkaCodeForStorage(storageErrorCodes.ioError), errorCodes.KAFKA_STORAGE_ERROR);
    assert.equal(kafkaCodeForStorage(storageErrorCodes.batchTooLarge), errorCodes.MESSAGE_TOO_LARGE);
    assert.equal(kafkaCodeForStorage(storageErrorCodes.invalidBatch), errorCodes.CORRUPT_MESSAGE);
    const failure = partitionFailure(new StorageError(storageErrorCodes.diskFull, 'full'), silentLogger, {});
    assert.deepEqual(failure, { errorCode: errorCodes.KAFKA_STORAGE_ERROR, errorMessage: 'full' });
    assert.equal(
      partitionFailure(new Error('bug'), silentLogger, {}).errorCode,
      errorCodes.UNKNOWN_SERVER_ERROR,
    );
  });
});
