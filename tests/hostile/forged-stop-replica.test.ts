import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import {
  createAlterConfigsRequest,
  createAlterConfigsRequestResource,
} from '../../src/protocol/messages/alter-configs.ts';
import { apiKeys } from '../../src/protocol/messages/api-keys.ts';
import { errorCodes } from '../../src/protocol/messages/error-codes.ts';
import {
  createStopReplicaRequest,
  createStopReplicaRequestPartitionState,
  createStopReplicaRequestTopicState,
} from '../../src/protocol/messages/stop-replica.ts';
import { encodeRecordBatch } from '../../src/protocol/record-batch.ts';
import { startCluster, type TestCluster } from '../../src/testing/cluster.ts';
import { stopAll } from '../../src/testing/processes.ts';
import { WireClient } from '../../src/testing/wire-client.ts';
import { metadata, until } from '../helpers/cluster-kit.ts';

/**
 * A StopReplica forged on an SPU's internal listener (raw frames, the largest controller epoch, a
 * broker epoch of -1 or any other than the SPU's current one) used to delete the partition and raise
 * the SPU's controller epoch above the real SC's, which then saw every push refused as stale. A push
 * must name the SPU's current registration; the forged ones are refused, the data stays, and the SC's
 * pushes still apply. Pushed configs, which carry no epochs, apply only from a connection that has
 * passed those checks, so a forged AlterConfigs cannot set retention.ms=1 either. (Epochs fence, they do not authenticate: one who learns the current broker
 * epoch passes, which is why the internal listener binds to loopback until the channel is
 * authenticated.)
 */

const topic = 'kept';

/** The broker epoch of the SPU's last registration, from its log. */
function registeredEpoch(logs: readonly string[]): bigint {
  const line = [...logs].reverse().find((entry) => entry.includes('registered with controller'));
  assert.ok(line !== undefined, 'the SPU logged its registration');
  return BigInt((JSON.parse(line) as { brokerEpoch: string | number }).brokerEpoch);
}
const recordCount = 10;

describe('a forged StopReplica on the internal listener', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await startCluster({ spus: 1 });
  });
  after(async () => {
    await cluster?.destroy();
    await stopAll();
  });

  it('deletes nothing and leaves the SC in charge', { timeout: 60_000 }, async () => {
    const spu = cluster.spus[0]!;
    const kafka = new Kafka({ brokers: [spu.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const client = await WireClient.connect({ host: '127.0.0.1', port: spu.port });
    const internal = await WireClient.connect({ host: '127.0.0.1', port: spu.internalPort });
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      const records = Array.from({ length: recordCount }, (_, index) => ({
        key: null,
        value: Buffer.from(`record-${index}`),
      }));
      const produced = await client.produce(topic, 0, encodeRecordBatch({ records }), { acks: -1 });
      assert.equal(produced.responses[0]?.partitionResponses[0]?.errorCode, errorCodes.NONE);

      const current = registeredEpoch(spu.process.logs);
      const forgedEpochs = [-1n, current - 1n, current + 1n, 1n << 62n];
      for (const brokerEpoch of forgedEpochs) {
        const forged = createStopReplicaRequest({
          controllerId: 0,
          controllerEpoch: 0x7fffffff,
          brokerEpoch,
          topicStates: [
            createStopReplicaRequestTopicState({
              topicName: topic,
              partitionStates: [
                createStopReplicaRequestPartitionState({
                  partitionIndex: 0,
                  leaderEpoch: -1,
                  deletePartition: true,
                }),
              ],
            }),
          ],
        });
        const answer = await internal.request(apiKeys.StopReplica, 4, forged);
        assert.equal(answer.errorCode, errorCodes.STALE_BROKER_EPOCH, `broker epoch ${brokerEpoch}`);
      }

      // Configs carry no epochs: from a connection that never passed the fencing checks they never
      // apply (retention.ms=1 would delete every record at the next retention pass).
      const forgedConfigs = createAlterConfigsRequest({
        resources: [
          createAlterConfigsRequestResource({
            resourceType: 2,
            resourceName: topic,
            configs: [{ name: 'retention.ms', value: '1' }],
          }),
        ],
      });
      await internal.request(apiKeys.AlterConfigs, 0, forgedConfigs);
      const described = await admin.describeConfigs({
        resources: [{ type: 2 as ConfigResourceTypes, name: topic }], // 2: TOPIC
        includeSynonyms: false,
      });
      const retention = described.resources[0]?.configEntries.find(
        (entry) => entry.configName === 'retention.ms',
      );
      assert.notEqual(retention?.configValue, '1', 'the forged retention was not applied');

      assert.equal(existsSync(join(spu.dataDir, `${topic}-0`)), true, 'the partition folder is still there');
      const fetched = await client.fetch(topic, 0, 0n);
      const partition = fetched.responses[0]?.partitions[0];
      assert.equal(partition?.errorCode, errorCodes.NONE);
      assert.equal(partition?.highWatermark, BigInt(recordCount), 'every acknowledged record is readable');

      // The SC's pushes still apply: a new topic gets its leader on this SPU.
      await admin.createTopics({ topics: [{ topic: 'after', numPartitions: 1 }], waitForLeaders: true });
      const led = await until(
        () => metadata(spu.bootstrap, ['after']),
        (answer) => answer.topics[0]?.partitions[0]?.leaderId === spu.id,
      );
      assert.equal(led?.topics[0]?.partitions[0]?.leaderId, spu.id);
      const next = await client.produce('after', 0, encodeRecordBatch({ records }), { acks: -1 });
      assert.equal(next.responses[0]?.partitionResponses[0]?.errorCode, errorCodes.NONE);
      const deleted = await admin.deleteTopics({ topics: ['after'] }).then(() => true);
      assert.equal(deleted, true);
      const gone = await until(
        async () => existsSync(join(spu.dataDir, 'after-0')),
        (exists) => !exists,
      );
      assert.equal(gone, false, "the SC's own StopReplica still deletes");
    } finally {
      await Promise.all([admin.disconnect(), client.close(), internal.close()]);
    }
  });
});
