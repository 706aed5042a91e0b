import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { systemClock } from '../base/clock.ts';
import { silentLogger } from '../base/logger.ts';
import { MetricsRegistry } from '../base/metrics.ts';
import { encodeRequestFrame } from '../net/kafka-connection.ts';
import {
  createAlterConfigsRequest,
  createAlterConfigsRequestResource,
} from '../protocol/messages/alter-configs.ts';
import { apiKeys } from '../protocol/messages/api-keys.ts';
import { errorCodes } from '../protocol/messages/error-codes.ts';
import {
  createFetchRequest,
  createFetchRequestPartition,
  createFetchRequestTopic,
} from '../protocol/messages/fetch.ts';
import {
  createLeaderAndIsrRequest,
  createLeaderAndIsrRequestPartitionState,
  createLeaderAndIsrRequestTopicState,
  decodeLeaderAndIsrResponse,
  type LeaderAndIsrRequest,
} from '../protocol/messages/leader-and-isr.ts';
import {
  createProduceRequest,
  createProduceRequestPartitionProduceData,
  createProduceRequestTopicProduceData,
} from '../protocol/messages/produce.ts';
import { decodeResponseHeader } from '../protocol/messages/response-header.ts';
import {
  createStopReplicaRequest,
  createStopReplicaRequestPartitionState,
  createStopReplicaRequestTopicState,
} from '../protocol/messages/stop-replica.ts';
import {
  createUpdateMetadataRequest,
  createUpdateMetadataRequestBroker,
  createUpdateMetadataRequestEndpoint,
  createUpdateMetadataRequestPartitionState,
  createUpdateMetadataRequestTopicState,
  type UpdateMetadataRequest,
} from '../protocol/messages/update-metadata.ts';
import { Reader } from '../protocol/reader.ts';
import { encodeRecordBatch } from '../protocol/record-batch.ts';
import { makeTempDir } from '../testing/processes.ts';
import type { TopicAdmin } from './cluster.ts';
import { ClusterMember } from './cluster-member.ts';
import { ClusterState } from './cluster-state.ts';
import { spuDefaults } from './config.ts';
import type { RequestContext, SpuServices } from './handler.ts';
import { controlHandlers } from './handlers/control.ts';
import { fetchHandler } from './handlers/fetch.ts';
import { produceHandler } from './handlers/produce.ts';
import { PartitionManager } from './partitions.ts';
import { createRequestRouter } from './request-router.ts';

/** SPU 2 of a cluster, with real partitions on a temp dir, receiving the SC's pushes in-process. */
const selfId = 2;
const topicId = Buffer.alloc(16, 7);

function metadataPush(
  fields: Partial<UpdateMetadataRequest>,
  partitions: ReadonlyArray<{ index: number; leader: number; leaderEpoch: number }>,
): UpdateMetadataRequest {
  return createUpdateMetadataRequest({
    controllerId: 0,
    controllerEpoch: 3,
    brokerEpoch: 10n,
    liveBrokers: [1, 2].map((id) =>
      createUpdateMetadataRequestBroker({
        id,
        endpoints: [
          createUpdateMetadataRequestEndpoint({ listener: 'INTERNAL', host: '127.0.0.1', port: 9190 + id }),
          createUpdateMetadataRequestEndpoint({ listener: 'PLAINTEXT', host: '127.0.0.1', port: 9090 + id }),
        ],
        rack: null,
      }),
    ),
    topicStates: [
      createUpdateMetadataRequestTopicState({
        topicName: 'orders',
        topicId,
        partitionStates: partitions.map(({ index, leader, leaderEpoch }) =>
          createUpdateMetadataRequestPartitionState({
            partitionIndex: index,
            leader,
            leaderEpoch,
            isr: [leader],
            replicas: [leader],
          }),
        ),
      }),
    ],
    ...fields,
  });
}

function rolesPush(
  fields: Partial<LeaderAndIsrRequest>,
  partitions: ReadonlyArray<{ index: number; leader: number; leaderEpoch: number }>,
): LeaderAndIsrRequest {
  return createLeaderAndIsrRequest({
    controllerId: 0,
    controllerEpoch: 3,
    brokerEpoch: 10n,
    type: 0,
    topicStates: [
      createLeaderAndIsrRequestTopicState({
        topicName: 'orders',
        topicId,
        partitionStates: partitions.map(({ index, leader, leaderEpoch }) =>
          createLeaderAndIsrRequestPartitionState({
            partitionIndex: index,
            controllerEpoch: 3,
            leader,
            leaderEpoch,
            isr: [leader],
            replicas: [leader, selfId === leader ? 1 : selfId],
          }),
        ),
      }),
    ],
    ...fields,
  });
}

const context: RequestContext = {
  apiKey: 0,
  apiVersion: 9,
  correlationId: 1,
  clientId: 'test',
  connection: { id: 1, remote: 'test', closed: new AbortController().signal },
};

function produceTo(spu: SpuServices, partition: number) {
  const records = encodeRecordBatch({ records: [{ key: null, value: Buffer.from('v'), timestamp: 1n }] });
  const request = createProduceRequest({
    acks: 1,
    timeoutMs: 1000,
    topicData: [
      createProduceRequestTopicProduceData({
        name: 'orders',
        partitionData: [createProduceRequestPartitionProduceData({ index: partition, records })],
      }),
    ],
  });
  return produceHandler(request, context, spu).then(
    (response) => response?.responses[0]?.partitionResponses[0]?.errorCode,
  );
}

describe('cluster member: the SC pushes and the roles they give', () => {
  let dataDir: { path: string; remove: () => Promise<void> };
  let partitions: PartitionManager;
  let state: ClusterState;
  let member: ClusterMember;
  let brokerEpoch: bigint;
  let spu: SpuServices;

  beforeEach(async () => {
    dataDir = await makeTempDir('tide-member-');
    partitions = await PartitionManager.open({
      dataDir: dataDir.path,
      clock: systemClock,
      logger: silentLogger,
    });
    state = new ClusterState({ clusterId: 'test-cluster', selfId });
    brokerEpoch = 10n;
    member = new ClusterMember({
      selfId,
      state,
      partitions,
      brokerEpoch: () => brokerEpoch,
      logger: silentLogger,
    });
    spu = {
      config: { ...spuDefaults, id: selfId, dataDir: dataDir.path },
      logger: silentLogger,
      metrics: new MetricsRegistry(),
      clock: systemClock,
      partitions,
      cluster: state,
      admin: {} as TopicAdmin,
    };
  });

  afterEach(async () => {
    await partitions.close();
    await dataDir.remove();
  });

  it('answers metadata from UpdateMetadata: live SPUs by their client listener, partitions', async () => {
    const leaders = [
      { index: 1, leader: 1, leaderEpoch: 0 },
      { index: 0, leader: 2, leaderEpoch: 0 },
    ];
    assert.equal(await member.applyMetadata(metadataPush({}, leaders)), errorCodes.NONE);
    assert.deepEqual(state.brokers(), [
      { id: 1, host: '127.0.0.1', port: 9091, rack: null },
      { id: 2, host: '127.0.0.1', port: 9092, rack: null },
    ]);
    assert.equal(state.scId, 0);
    assert.equal(state.controllerId, selfId);
    const topic = state.topic('orders');
    assert.deepEqual(
      topic?.partitions.map(({ partition, leaderId }) => [partition, leaderId]),
      [
        [0, 2],
        [1, 1],
      ],
    );
    assert.ok(topic?.topicId.equals(topicId));
    assert.equal(state.metadataVersion, 1n);
    // The next push is the whole picture: a topic it leaves out is gone.
    await member.applyMetadata(metadataPush({ topicStates: [] }, []));
    assert.equal(state.topic('orders'), undefined);
  });

  it('ignores pushes from an older controller epoch or for an older registration', async () => {
    await member.applyMetadata(metadataPush({}, [{ index: 0, leader: 2, leaderEpoch: 4 }]));
    const stale = metadataPush({ controllerEpoch: 2, topicStates: [] }, []);
    assert.equal(await member.applyMetadata(stale), errorCodes.STALE_CONTROLLER_EPOCH);
    const otherRegistration = metadataPush({ brokerEpoch: 9n, topicStates: [] }, []);
    assert.equal(await member.applyMetadata(otherRegistration), errorCodes.STALE_BROKER_EPOCH);
    assert.notEqual(state.topic('orders'), undefined);
    assert.equal(state.metadataVersion, 1n);
    // A newer broker epoch than any registration answer is refused (no registration is on its way).
    assert.equal(
      await member.applyMetadata(metadataPush({ brokerEpoch: 11n }, [])),
      errorCodes.STALE_BROKER_EPOCH,
    );
    assert.equal(
      await member.applyMetadata(metadataPush({ brokerEpoch: -1n }, [])),
      errorCodes.STALE_BROKER_EPOCH,
    );
    // A partition state older than the known one is ignored, newer ones apply.
    await member.applyMetadata(
      metadataPush({ controllerEpoch: 4 }, [
        { index: 0, leader: 1, leaderEpoch: 3 },
        { index: 1, leader: 1, leaderEpoch: 0 },
      ]),
    );
    assert.equal(state.controllerEpoch, 4);
    await member.applyMetadata(
      metadataPush({ controllerEpoch: 4 }, [{ index: 0, leader: 1, leaderEpoch: 5 }]),
    );
    assert.deepEqual(state.topic('orders')?.partitions[0], {
      partition: 0,
      leaderId: 1,
      leaderEpoch: 5,
      replicas: [1],
      isr: [1],
      offlineReplicas: [],
    });
  });

  it('opens partitions from LeaderAndIsr with pushed configs, leading or following', async () => {
    const configs = createAlterConfigsRequest({
      resources: [
        createAlterConfigsRequestResource({
          resourceType: 2,
          resourceName: 'orders',
          configs: [{ name: 'retention.ms', value: '60000' }],
        }),
      ],
    });
    assert.equal(member.applyTopicConfigs(configs).responses[0]?.errorCode, errorCodes.NONE);
    await member.applyMetadata(
      metadataPush({}, [
        { index: 0, leader: 2, leaderEpoch: 1 },
        { index: 1, leader: 1, leaderEpoch: 1 },
        { index: 2, leader: 1, leaderEpoch: 1 },
      ]),
    );
    const response = await member.leaderAndIsr(
      rolesPush({}, [
        { index: 0, leader: 2, leaderEpoch: 1 },
        { index: 1, leader: 1, leaderEpoch: 1 },
      ]),
    );
    assert.equal(response.errorCode, errorCodes.NONE);
    assert.deepEqual(
      response.topics[0]?.partitionErrors.map((error) => error.errorCode),
      [errorCodes.NONE, errorCodes.NONE],
    );
    assert.equal(partitions.get('orders', 0)?.leading, true);
    assert.equal(partitions.get('orders', 0)?.leaderEpoch, 1);
    assert.equal(partitions.get('orders', 0)?.log.config.retentionMs, 60_000);
    assert.equal(partitions.get('orders', 1)?.leading, false);
    assert.deepEqual(state.topic('orders')?.configs, { 'retention.ms': '60000' });

    assert.equal(await produceTo(spu, 0), errorCodes.NONE);
    assert.equal(await produceTo(spu, 1), errorCodes.NOT_LEADER_OR_FOLLOWER); // followed here
    assert.equal(await produceTo(spu, 2), errorCodes.NOT_LEADER_OR_FOLLOWER); // held elsewhere
    assert.equal(await produceTo(spu, 3), errorCodes.UNKNOWN_TOPIC_OR_PARTITION); // nowhere
    const fetch = await fetchHandler(
      createFetchRequest({
        replicaId: -1,
        maxBytes: 1 << 20,
        sessionEpoch: -1,
        topics: [
          createFetchRequestTopic({
            topic: 'orders',
            partitions: [0, 1].map((partition) =>
              createFetchRequestPartition({ partition, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }),
            ),
          }),
        ],
      }),
      { ...context, apiVersion: 12 },
      spu,
    );
    assert.deepEqual(
      fetch?.responses[0]?.partitions.map((partition) => partition.errorCode),
      [errorCodes.NONE, errorCodes.NOT_LEADER_OR_FOLLOWER],
    );
  });

  it('ignores stale partition states and stops serving what a full LeaderAndIsr leaves out', async () => {
    await member.leaderAndIsr(
      rolesPush({}, [
        { index: 0, leader: 2, leaderEpoch: 5 },
        { index: 1, leader: 2, leaderEpoch: 5 },
      ]),
    );
    const stale = await member.leaderAndIsr(rolesPush({}, [{ index: 0, leader: 1, leaderEpoch: 4 }]));
    assert.equal(stale.topics[0]?.partitionErrors[0]?.errorCode, errorCodes.STALE_CONTROLLER_EPOCH);
    assert.equal(partitions.get('orders', 0)?.leading, true);
    const oldController = await member.leaderAndIsr(
      rolesPush({ controllerEpoch: 1 }, [{ index: 0, leader: 1, leaderEpoch: 9 }]),
    );
    assert.equal(oldController.errorCode, errorCodes.STALE_CONTROLLER_EPOCH);
    assert.equal(partitions.get('orders', 0)?.leaderEpoch, 5);
    const full = await member.leaderAndIsr(rolesPush({ type: 1 }, [{ index: 0, leader: 2, leaderEpoch: 6 }]));
    assert.equal(full.errorCode, errorCodes.NONE);
    assert.equal(partitions.get('orders', 0)?.leaderEpoch, 6);
    assert.equal(partitions.get('orders', 1)?.leading, false);
  });

  it('deletes replicas on StopReplica with deletePartition, unless the epoch is stale', async () => {
    await member.leaderAndIsr(
      rolesPush({}, [
        { index: 0, leader: 2, leaderEpoch: 3 },
        { index: 1, leader: 2, leaderEpoch: 3 },
      ]),
    );
    const stop = (partitionIndex: number, leaderEpoch: number) =>
      member.stopReplicas(
        createStopReplicaRequest({
          controllerEpoch: 3,
          brokerEpoch: 10n,
          topicStates: [
            createStopReplicaRequestTopicState({
              topicName: 'orders',
              partitionStates: [
                createStopReplicaRequestPartitionState({
                  partitionIndex,
                  leaderEpoch,
                  deletePartition: true,
                }),
              ],
            }),
          ],
        }),
      );
    const stale = await stop(0, 2);
    assert.equal(stale.partitionErrors[0]?.errorCode, errorCodes.FENCED_LEADER_EPOCH);
    assert.notEqual(partitions.get('orders', 0), undefined);
    const deleted = await stop(0, -2);
    assert.equal(deleted.partitionErrors[0]?.errorCode, errorCodes.NONE);
    assert.equal(partitions.get('orders', 0), undefined);
    assert.equal(existsSync(join(dataDir.path, 'orders-0')), false);
    assert.notEqual(partitions.get('orders', 1), undefined);
  });

  it("refuses one topic's unusable configs and applies the others; that topic keeps serving", async () => {
    const push = (resources: Array<{ topic: string; configs: Record<string, string> }>) =>
      member.applyTopicConfigs(
        createAlterConfigsRequest({
          resources: resources.map(({ topic, configs }) =>
            createAlterConfigsRequestResource({
              resourceType: 2,
              resourceName: topic,
              configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
            }),
          ),
        }),
      );
    assert.equal(
      push([{ topic: 'orders', configs: { 'retention.ms': '60000' } }]).responses[0]?.errorCode,
      0,
    );
    await member.leaderAndIsr(rolesPush({}, [{ index: 0, leader: selfId, leaderEpoch: 1 }]));

    const answer = push([
      { topic: 'orders', configs: { 'segment.bytes': '1' } },
      { topic: 'payments', configs: { 'retention.ms': '1000' } },
    ]);
    assert.deepEqual(
      answer.responses.map(({ resourceName, errorCode }) => [resourceName, errorCode]),
      [
        ['orders', errorCodes.INVALID_CONFIG],
        ['payments', errorCodes.NONE],
      ],
    );
    assert.match(answer.responses[0]?.errorMessage ?? '', /segmentBytes/);
    assert.deepEqual(state.configsOf('orders'), { 'retention.ms': '60000' });
    assert.deepEqual(state.configsOf('payments'), { 'retention.ms': '1000' });
    assert.equal(partitions.get('orders', 0)?.log.config.retentionMs, 60_000);
    // The topic still serves, and a partition opened now (as after a restart) opens on the good configs.
    assert.equal(await produceTo(spu, 0), errorCodes.NONE);
    const roles = await member.leaderAndIsr(
      rolesPush({}, [
        { index: 0, leader: selfId, leaderEpoch: 1 },
        { index: 1, leader: selfId, leaderEpoch: 1 },
      ]),
    );
    assert.deepEqual(
      roles.topics[0]?.partitionErrors.map((error) => error.errorCode),
      [errorCodes.NONE, errorCodes.NONE],
    );
    assert.equal(partitions.get('orders', 1)?.log.config.retentionMs, 60_000);
  });

  it('applies configs from a connection only once it has delivered a push that passes fencing', async () => {
    const configsPush = (value: string) =>
      createAlterConfigsRequest({
        resources: [
          createAlterConfigsRequestResource({
            resourceType: 2,
            resourceName: 'orders',
            configs: [{ name: 'retention.ms', value }],
          }),
        ],
      });
    const sc = { id: 7, closed: new AbortController().signal };
    const stranger = { id: 8, closed: new AbortController().signal };
    assert.equal(
      member.applyTopicConfigs(configsPush('1'), stranger).responses[0]?.errorCode,
      errorCodes.NONE,
    );
    assert.equal(member.applyTopicConfigs(configsPush('60000'), sc).responses[0]?.errorCode, errorCodes.NONE);
    assert.deepEqual(state.configsOf('orders'), {}, 'nothing applies before a push proves the connection');
    const forged = metadataPush({ brokerEpoch: -1n, controllerEpoch: 0x7fffffff }, []);
    assert.equal(await member.applyMetadata(forged, stranger), errorCodes.STALE_BROKER_EPOCH);
    assert.deepEqual(state.configsOf('orders'), {}, "a stranger's configs never apply");
    assert.equal(await member.applyMetadata(metadataPush({}, []), sc), errorCodes.NONE);
    assert.deepEqual(state.configsOf('orders'), { 'retention.ms': '60000' }, "the SC's staged configs apply");
    member.applyTopicConfigs(configsPush('120000'), sc);
    assert.deepEqual(
      state.configsOf('orders'),
      { 'retention.ms': '120000' },
      'then its configs apply at once',
    );
  });

  it('waits for the registration answer when a push names a newer broker epoch', async () => {
    const registering = new ClusterMember({
      selfId,
      state,
      partitions,
      brokerEpoch: () => brokerEpoch,
      // The registration answer (epoch 11) arrives while the push waits.
      brokerEpochAtLeast: async (epoch) => {
        await new Promise((resolve) => setImmediate(resolve));
        brokerEpoch = 11n;
        return epoch <= brokerEpoch ? brokerEpoch : 10n;
      },
      logger: silentLogger,
    });
    assert.equal(await registering.applyMetadata(metadataPush({ brokerEpoch: 11n }, [])), errorCodes.NONE);
    assert.equal(
      await registering.applyMetadata(metadataPush({ brokerEpoch: 12n }, [])),
      errorCodes.STALE_BROKER_EPOCH,
    );
  });

  it('a StopReplica naming no registration of this SPU deletes nothing and fences nothing', async () => {
    await member.leaderAndIsr(rolesPush({}, [{ index: 0, leader: 1, leaderEpoch: 3 }]));
    const stop = (controllerEpoch: number, brokerEpoch: bigint) =>
      member.stopReplicas(
        createStopReplicaRequest({
          controllerEpoch,
          brokerEpoch,
          topicStates: [
            createStopReplicaRequestTopicState({
              topicName: 'orders',
              partitionStates: [
                createStopReplicaRequestPartitionState({
                  partitionIndex: 0,
                  leaderEpoch: -1,
                  deletePartition: true,
                }),
              ],
            }),
          ],
        }),
      );
    for (const forgedEpoch of [-1n, 9n, 11n, 1n << 62n]) {
      const forged = await stop(0x7fffffff, forgedEpoch);
      assert.equal(forged.errorCode, errorCodes.STALE_BROKER_EPOCH, `broker epoch ${forgedEpoch}`);
    }
    assert.notEqual(partitions.get('orders', 0), undefined);
    assert.equal(existsSync(join(dataDir.path, 'orders-0')), true);
    // The real SC's pushes still apply: the forged controller epoch was never taken.
    const roles = await member.leaderAndIsr(rolesPush({}, [{ index: 0, leader: 2, leaderEpoch: 4 }]));
    assert.equal(roles.errorCode, errorCodes.NONE);
    assert.equal(partitions.get('orders', 0)?.leaderEpoch, 4);
  });

  it('takes pushes on the internal listener table at the versions the SC sends', async () => {
    const router = createRequestRouter(spu, controlHandlers(member));
    const frame = encodeRequestFrame(
      { apiKey: apiKeys.LeaderAndIsr, apiVersion: 7, correlationId: 42, clientId: 'sc' },
      rolesPush({}, [{ index: 0, leader: 2, leaderEpoch: 1 }]),
    );
    const chunks = await router(frame.subarray(4), context.connection);
    const reader = new Reader(Buffer.concat(chunks ?? []).subarray(4));
    assert.equal(decodeResponseHeader(reader, 1).correlationId, 42);
    const response = decodeLeaderAndIsrResponse(reader, 7);
    assert.equal(response.errorCode, errorCodes.NONE);
    assert.equal(response.topics[0]?.partitionErrors[0]?.errorCode, errorCodes.NONE);
    assert.equal(partitions.get('orders', 0)?.leading, true);
  });
});
