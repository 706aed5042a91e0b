import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { silentLogger } from '../src/base/logger.ts';
import { KafkaConnection } from '../src/net/kafka-connection.ts';
import { createRouter } from '../src/net/router.ts';
import { Listener } from '../src/net/server.ts';
import { apiKeys } from '../src/protocol/messages/api-keys.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import type { LeaderAndIsrRequest } from '../src/protocol/messages/leader-and-isr.ts';
import type { UpdateMetadataRequest } from '../src/protocol/messages/update-metadata.ts';
import { makeTempDir, startTide, stopAll } from '../src/testing/processes.ts';

/**
 * A real `tide sc` with three SPUs played over the wire (registration, heartbeats, AlterPartition,
 * a fake internal listener each that records the pushes): a leader that stops heartbeating loses
 * its partitions to an in-sync replica, an ISR change is pushed, a controlled shutdown moves
 * leadership before it is acknowledged, and a returning SPU gets a FULL LeaderAndIsr as follower.
 */

after(stopAll);

const sessionTimeoutMs = 1500;
const heartbeatMs = 200;

interface FakeSpu {
  readonly id: number;
  readonly connection: KafkaConnection;
  readonly leaderAndIsr: LeaderAndIsrRequest[];
  readonly updateMetadata: UpdateMetadataRequest[];
  readonly internalPort: number;
  brokerEpoch: bigint;
  beating: boolean;
  readonly timer: NodeJS.Timeout;
  close(): Promise<void>;
}

async function startFakeSpu(id: number, scPort: number): Promise<FakeSpu> {
  const leaderAndIsr: LeaderAndIsrRequest[] = [];
  const updateMetadata: UpdateMetadataRequest[] = [];
  const router = createRouter({
    services: undefined,
    handlers: {
      33: async () => ({ throttleTimeMs: 0, responses: [] }),
      6: async (request) => {
        updateMetadata.push(request);
        return { errorCode: 0 };
      },
      4: async (request) => {
        leaderAndIsr.push(request);
        return { errorCode: 0, partitionErrors: [], topics: [] };
      },
      5: async () => ({ errorCode: 0, partitionErrors: [] }),
    },
  });
  const limits = {
    connectionsMax: 10,
    frameBytesMax: 1 << 20,
    inflightRequestsMax: 4,
    bufferedBytesMax: 1 << 20,
  };
  const listener = new Listener({ handler: router, limits, logger: silentLogger });
  const internalPort = await listener.listen('127.0.0.1', 0);
  const connection = await KafkaConnection.connect({ host: '127.0.0.1', port: scPort });
  await connection.negotiateVersions();
  const spu: FakeSpu = {
    id,
    connection,
    leaderAndIsr,
    updateMetadata,
    internalPort,
    brokerEpoch: -1n,
    beating: true,
    timer: setInterval(() => {
      if (spu.beating) void heartbeat(spu, false).catch(() => undefined);
    }, heartbeatMs),
    close: async () => {
      clearInterval(spu.timer);
      await connection.close();
      await listener.close();
    },
  };
  spu.brokerEpoch = await register(spu);
  return spu;
}

async function register(spu: FakeSpu): Promise<bigint> {
  const response = await spu.connection.request(apiKeys.BrokerRegistration, 0, {
    brokerId: spu.id,
    clusterId: '',
    incarnationId: randomBytes(16),
    listeners: [
      { name: 'PLAINTEXT', host: '127.0.0.1', port: 19000 + spu.id, securityProtocol: 0 },
      { name: 'INTERNAL', host: '127.0.0.1', port: spu.internalPort, securityProtocol: 0 },
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

function heartbeat(spu: FakeSpu, wantShutDown: boolean) {
  return spu.connection.call(apiKeys.BrokerHeartbeat, {
    brokerId: spu.id,
    brokerEpoch: spu.brokerEpoch,
    currentMetadataOffset: 0n,
    wantFence: false,
    wantShutDown,
    offlineLogDirs: [],
  });
}

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const found = await probe();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return assert.fail(`timed out waiting for ${what}`);
}

async function partitionState(tool: KafkaConnection) {
  const status = await tool.call(apiKeys.DescribeTopicStatus, { topics: ['orders'] });
  return status.topics[0]?.partitions[0];
}

/** The last state of orders/0 a fake SPU was told in LeaderAndIsr, with the push's type. */
function lastLeadership(spu: FakeSpu) {
  for (const push of [...spu.leaderAndIsr].reverse()) {
    const state = push.topicStates.find((t) => t.topicName === 'orders')?.partitionStates[0];
    if (state !== undefined) return { type: push.type, ...state };
  }
  return undefined;
}

test('tide sc fails a dead leader over to the ISR and pushes every change', { timeout: 60_000 }, async () => {
  const data = await makeTempDir('tide-sc-failover-');
  const spus: FakeSpu[] = [];
  try {
    const sc = await startTide(
      [
        'sc',
        '--listen',
        '127.0.0.1:0',
        '--http',
        'off',
        '--data-dir',
        data.path,
        '--spu-session-timeout-ms',
        String(sessionTimeoutMs),
      ],
      { readyMessage: 'sc ready' },
    );
    const scPort = Number(sc.ready.port);
    for (const id of [1, 2, 3]) spus.push(await startFakeSpu(id, scPort));
    const tool = await KafkaConnection.connect({ host: '127.0.0.1', port: scPort });
    await tool.negotiateVersions();
    const created = await tool.request(apiKeys.CreateTopics, 7, {
      topics: [{ name: 'orders', numPartitions: 1, replicationFactor: 3, assignments: [], configs: [] }],
      timeoutMs: 1000,
      validateOnly: false,
    });
    assert.equal(created.topics[0]?.errorCode, errorCodes.NONE);
    const first = (await partitionState(tool))!;
    assert.deepEqual([first.leaderEpoch, first.isr.length], [0, 3]);
    const [preferred, second, third] = first.replicas as [number, number, number];
    const byId = (id: number) => spus.find((spu) => spu.id === id)!;

    // The leader goes silent: the next replica in the ISR takes over, with a new leader epoch.
    byId(preferred).beating = false;
    const failedOver = await waitFor(async () => {
      const state = await partitionState(tool);
      return state !== undefined && state.leader !== preferred ? state : undefined;
    }, 'a new leader');
    assert.equal(failedOver.leader, second);
    assert.equal(failedOver.leaderEpoch, 1);
    assert.deepEqual(failedOver.isr, [second, third]);
    assert.equal(failedOver.status, 'under-replicated');
    for (const id of [second, third]) {
      const told = await waitFor(() => {
        const state = lastLeadership(byId(id));
        return state?.leaderEpoch === 1 ? state : undefined;
      }, `LeaderAndIsr at SPU ${id}`);
      assert.deepEqual([told.type, told.leader, told.isr], [0, second, [second, third]]);
    }

    // The new leader shrinks the ISR: accepted with the next partition epoch, and pushed.
    const { partitionEpoch } = lastLeadership(byId(second))!;
    const altered = await byId(second).connection.request(apiKeys.AlterPartition, 1, {
      brokerId: second,
      brokerEpoch: byId(second).brokerEpoch,
      topics: [
        {
          topicName: 'orders',
          topicId: Buffer.alloc(16),
          partitions: [
            {
              partitionIndex: 0,
              leaderEpoch: 1,
              newIsr: [second],
              newIsrWithEpochs: [],
              leaderRecoveryState: 0,
              partitionEpoch,
            },
          ],
        },
      ],
    });
    const answer = altered.topics[0]?.partitions[0];
    assert.deepEqual(
      [answer?.errorCode, answer?.leaderId, answer?.isr, answer?.partitionEpoch],
      [0, second, [second], partitionEpoch + 1],
    );
    await waitFor(
      () => (lastLeadership(byId(third))?.partitionEpoch === partitionEpoch + 1 ? true : undefined),
      'the ISR change at the follower',
    );
    await waitFor(
      () =>
        byId(third).updateMetadata.some((push) =>
          push.topicStates.some((t) => t.partitionStates.some((p) => p.zkVersion === partitionEpoch + 1)),
        )
          ? true
          : undefined,
      'UpdateMetadata with the new partition epoch',
    );

    // A stale proposal (old partition epoch) is fenced.
    const stale = await byId(second).connection.request(apiKeys.AlterPartition, 1, {
      brokerId: second,
      brokerEpoch: byId(second).brokerEpoch,
      topics: [
        {
          topicName: 'orders',
          topicId: Buffer.alloc(16),
          partitions: [
            {
              partitionIndex: 0,
              leaderEpoch: 1,
              newIsr: [second, third],
              newIsrWithEpochs: [],
              leaderRecoveryState: 0,
              partitionEpoch,
            },
          ],
        },
      ],
    });
    assert.equal(stale.topics[0]?.partitions[0]?.errorCode, errorCodes.INVALID_UPDATE_VERSION);

    // The old leader comes back: a FULL LeaderAndIsr makes it a follower, outside the ISR.
    const returning = byId(preferred);
    returning.brokerEpoch = await register(returning);
    returning.beating = true;
    const rejoined = await waitFor(() => {
      const state = lastLeadership(returning);
      return state?.type === 1 && state.leaderEpoch >= 1 ? state : undefined;
    }, 'a FULL LeaderAndIsr for the returning SPU');
    assert.deepEqual([rejoined.leader, rejoined.isr], [second, [second]]);

    // A controlled shutdown of the only in-sync replica leaves the partition leaderless, and the
    // answer comes after the change.
    const shutdown = await heartbeat(byId(second), true);
    assert.equal(shutdown.shouldShutDown, true);
    byId(second).beating = false;
    const after = (await partitionState(tool))!;
    assert.deepEqual([after.leader, after.leaderEpoch, after.status], [-1, 2, 'offline']);
    await tool.close();
  } finally {
    await Promise.all(spus.map((spu) => spu.close()));
    await stopAll();
    await data.remove();
  }
});
