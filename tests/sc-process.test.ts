import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { silentLogger } from '../src/base/logger.ts';
import { KafkaConnection } from '../src/net/kafka-connection.ts';
import { createRouter } from '../src/net/router.ts';
import { Listener } from '../src/net/server.ts';
import { apiKeys } from '../src/protocol/messages/api-keys.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { makeTempDir, startTide, stopAll } from '../src/testing/processes.ts';

/**
 * A real `tide sc` process: a test plays an SPU over the wire (registration, heartbeats) with a
 * fake internal listener that records the SC's pushes, then restarts the SC and checks the topic is
 * still there.
 */

after(stopAll);

interface Push {
  readonly apiKey: number;
  readonly request: unknown;
}

/** An internal listener that answers every push with success and records it. */
async function fakeSpuEndpoint(): Promise<{ port: number; pushes: Push[]; close: () => Promise<void> }> {
  const pushes: Push[] = [];
  const record =
    <T>(apiKey: number, answer: T) =>
    async (request: unknown) => {
      pushes.push({ apiKey, request });
      return answer;
    };
  const router = createRouter({
    services: undefined,
    handlers: {
      33: record(apiKeys.AlterConfigs, { throttleTimeMs: 0, responses: [] }),
      6: record(apiKeys.UpdateMetadata, { errorCode: 0 }),
      4: record(apiKeys.LeaderAndIsr, { errorCode: 0, partitionErrors: [], topics: [] }),
      5: record(apiKeys.StopReplica, { errorCode: 0, partitionErrors: [] }),
    },
  });
  const limits = {
    connectionsMax: 10,
    frameBytesMax: 1 << 20,
    inflightRequestsMax: 4,
    bufferedBytesMax: 1 << 20,
  };
  const listener = new Listener({ handler: router, limits, logger: silentLogger });
  const port = await listener.listen('127.0.0.1', 0);
  return { port, pushes, close: () => listener.close() };
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function register(sc: KafkaConnection, internalPort: number): Promise<bigint> {
  const response = await sc.request(apiKeys.BrokerRegistration, 0, {
    brokerId: 1,
    clusterId: '',
    incarnationId: randomBytes(16),
    listeners: [
      { name: 'PLAINTEXT', host: '127.0.0.1', port: 19092, securityProtocol: 0 },
      { name: 'INTERNAL', host: '127.0.0.1', port: internalPort, securityProtocol: 0 },
    ],
    features: [],
    rack: null,
    isMigratingZkBroker: false,
    logDirs: [],
    previousBrokerEpoch: -1n,
  });
  assert.equal(response.errorCode, errorCodes.NONE);
  return response.brokerEpoch;
}

test('tide sc registers an SPU, pushes a new topic to it, and keeps topics across restarts', {
  timeout: 60_000,
}, async () => {
  const data = await makeTempDir('tide-sc-');
  const spu = await fakeSpuEndpoint();
  try {
    const args = [
      'sc',
      '--listen',
      '127.0.0.1:0',
      '--http',
      'off',
      '--data-dir',
      data.path,
      '--log-level',
      'info',
    ];
    let sc = await startTide(args, { readyMessage: 'sc ready' });
    let connection = await KafkaConnection.connect({ host: '127.0.0.1', port: Number(sc.ready.port) });
    await connection.negotiateVersions();
    const epoch = await register(connection, spu.port);
    const heartbeat = await connection.call(apiKeys.BrokerHeartbeat, {
      brokerId: 1,
      brokerEpoch: epoch,
      currentMetadataOffset: 0n,
      wantFence: false,
      wantShutDown: false,
      offlineLogDirs: [],
    });
    assert.equal(heartbeat.errorCode, errorCodes.NONE);
    const created = await connection.request(apiKeys.CreateTopics, 7, {
      topics: [
        {
          name: 'orders',
          numPartitions: 2,
          replicationFactor: 1,
          assignments: [],
          configs: [{ name: 'retention.ms', value: '1000' }],
        },
      ],
      timeoutMs: 1000,
      validateOnly: false,
    });
    assert.equal(created.topics[0]?.errorCode, errorCodes.NONE);
    const bad = await connection.request(apiKeys.CreateTopics, 7, {
      topics: [
        {
          name: 'bad',
          numPartitions: 1,
          replicationFactor: -1,
          assignments: [],
          configs: [{ name: 'no.such', value: '1' }],
        },
      ],
      timeoutMs: 1000,
      validateOnly: false,
    });
    assert.equal(bad.topics[0]?.errorCode, errorCodes.INVALID_CONFIG);
    await waitFor(
      () =>
        spu.pushes.some(
          (push) =>
            push.apiKey === apiKeys.LeaderAndIsr &&
            JSON.stringify(push.request, (_k, v) => (typeof v === 'bigint' ? String(v) : v)).includes(
              'orders',
            ),
        ),
      'LeaderAndIsr with the new topic',
    );
    const order = spu.pushes.map((push) => push.apiKey);
    assert.deepEqual(order.slice(0, 3), [apiKeys.AlterConfigs, apiKeys.UpdateMetadata, apiKeys.LeaderAndIsr]);
    await connection.close();
    await sc.stop();

    sc = await startTide(args, { readyMessage: 'sc ready' });
    connection = await KafkaConnection.connect({ host: '127.0.0.1', port: Number(sc.ready.port) });
    await connection.negotiateVersions();
    const stale = await connection.call(apiKeys.BrokerHeartbeat, {
      brokerId: 1,
      brokerEpoch: epoch,
      currentMetadataOffset: 0n,
      wantFence: false,
      wantShutDown: false,
      offlineLogDirs: [],
    });
    assert.equal(stale.errorCode, errorCodes.STALE_BROKER_EPOCH);
    const second = await register(connection, spu.port);
    assert.ok(second > epoch, 'broker epochs keep rising across SC restarts');
    const status = await connection.call(apiKeys.DescribeTopicStatus, { topics: null });
    assert.deepEqual(
      status.topics.map((topic) => [topic.name, topic.status, topic.partitions.length]),
      [['orders', 'provisioned', 2]],
    );
    assert.deepEqual(status.topics[0]?.configs, [{ name: 'retention.ms', value: '1000' }]);
    const spus = await connection.call(apiKeys.DescribeSpus, { spuIds: null });
    assert.deepEqual(
      spus.spus.map((s) => [s.spuId, s.online, s.partitionsLed]),
      [[1, true, 2]],
    );
    await connection.close();
    await sc.stop();
  } finally {
    await spu.close();
    await data.remove();
  }
});
