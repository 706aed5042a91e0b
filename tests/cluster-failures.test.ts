import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { Tide } from '../src/client/tide.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import { describeTopicStatus, metadata, spuOnline, until } from './helpers/cluster-kit.ts';

/**
 * SPU failures in a running cluster, as real processes: an SPU killed with -9 is reported offline
 * within the session timeout and so are the partitions it leads; a topic deleted while one of its
 * SPUs is down is gone at once, and that SPU removes its replicas when it comes back.
 */

const sessionTimeoutMs = 2000;
/** How long past the session timeout the SC may take to notice (its checks run periodically). */
const detectionSlackMs = 2000;
const topic = 'failure-events';

async function partitionFolders(dataDir: string, name: string): Promise<string[]> {
  const entries = await readdir(dataDir).catch(() => [] as string[]);
  return entries.filter((entry) => entry.startsWith(`${name}-`)).sort();
}

describe('SPU failures in a cluster', () => {
  let cluster: TestCluster;
  let tide: Tide;

  before(async () => {
    cluster = await startCluster({
      spus: 3,
      scArgs: ['--spu-session-timeout-ms', String(sessionTimeoutMs)],
    });
    tide = await Tide.connect({ bootstrap: cluster.spus[0]!.bootstrap });
    await tide.admin().createTopic(topic, { partitions: 6 });
  });
  after(async () => {
    await tide?.close();
    await cluster?.destroy();
    await stopAll();
  });

  it('reports an SPU killed with -9 offline within the session timeout, and its partitions', async () => {
    const victim = cluster.spus[1]!;
    const placed = await until(
      () => describeTopicStatus(cluster.spus[0]!.bootstrap, [topic]),
      (answer) => answer.topics[0]?.partitions.length === 6,
    );
    const led = placed!.topics[0]!.partitions.filter((p) => p.leader === victim.id).map((p) => p.partition);
    assert.equal(led.length, 2);
    const folders = led.map((p) => `${topic}-${p}`).sort();
    // The SPU creates the logs when the SC's push reaches it.
    const held = await until(
      () => partitionFolders(victim.dataDir, topic),
      (found) => found.length === folders.length,
    );
    assert.deepEqual(held, folders);

    await victim.stop('SIGKILL');
    const online = await until(
      () => spuOnline(cluster.spus[0]!.bootstrap),
      (spus) => spus?.get(victim.id) === false,
      sessionTimeoutMs + detectionSlackMs,
    );
    assert.deepEqual(online && [...online].sort(), [
      [1, true],
      [2, false],
      [3, true],
    ]);
    const status = await describeTopicStatus(cluster.spus[2]!.bootstrap, [topic]);
    for (const partition of status.topics[0]!.partitions) {
      assert.equal(
        partition.status,
        led.includes(partition.partition) ? 'offline' : 'online',
        `partition ${partition.partition}`,
      );
    }
  });

  it('deletes a topic while one of its SPUs is down; the SPU drops its replicas when it returns', async () => {
    const victim = cluster.spus[1]!;
    const results = await tide.admin().deleteTopics([topic]);
    assert.deepEqual(results, [{ name: topic, error: null }]);
    for (const spu of [cluster.spus[0]!, cluster.spus[2]!]) {
      const answer = await until(
        () => metadata(spu.bootstrap, [topic]),
        (seen) => seen.topics[0]?.errorCode === errorCodes.UNKNOWN_TOPIC_OR_PARTITION,
      );
      assert.equal(answer?.topics[0]?.errorCode, errorCodes.UNKNOWN_TOPIC_OR_PARTITION, `SPU ${spu.id}`);
      // StopReplica follows the metadata push.
      const left = await until(
        () => partitionFolders(spu.dataDir, topic),
        (folders) => folders.length === 0,
      );
      assert.deepEqual(left, [], `SPU ${spu.id} data`);
    }
    const pending = await describeTopicStatus(cluster.spus[0]!.bootstrap, [topic]);
    assert.equal(pending.topics[0]?.status, 'deleting');
    assert.equal((await partitionFolders(victim.dataDir, topic)).length, 2, 'the dead SPU still holds them');

    const back = await cluster.restartSpu(victim.id);
    const gone = await until(
      () => partitionFolders(back.dataDir, topic),
      (folders) => folders.length === 0,
    );
    assert.deepEqual(gone, []);
    const status = await until(
      () => describeTopicStatus(cluster.spus[0]!.bootstrap, [topic]),
      (answer) => answer.topics[0]?.errorCode === errorCodes.UNKNOWN_TOPIC_OR_PARTITION,
    );
    assert.equal(status?.topics[0]?.errorCode, errorCodes.UNKNOWN_TOPIC_OR_PARTITION);
    const answer = await metadata(back.bootstrap, [topic]);
    assert.equal(answer.topics[0]?.errorCode, errorCodes.UNKNOWN_TOPIC_OR_PARTITION);
    const online = await until(
      () => spuOnline(back.bootstrap),
      (spus) => spus?.get(victim.id) === true,
    );
    assert.equal(online?.get(victim.id), true);
  });
});
