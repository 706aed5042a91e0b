import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import { metadata, until } from './helpers/cluster-kit.ts';

/**
 * A restart with many partitions settles: one SPU holding 1,500 partitions is stopped and started
 * again under a tight SPU session (2 s, as local clusters under load meet it). Taking leadership for
 * every partition is bulk control-plane work; it must never starve the SPU's heartbeats, or the SC
 * fences it, it registers again, the SC pushes all 1,500 again, and the loop never ends. The SPU
 * must register exactly once, never be told to register again, and bring every partition online.
 */

const topic = 'many';
const partitionCount = 1500;

after(stopAll);

function count(logs: readonly string[], text: string): number {
  return logs.filter((line) => line.includes(text)).length;
}

describe('restarting an SPU with many partitions', () => {
  let cluster: TestCluster | undefined;
  after(async () => {
    await cluster?.destroy();
  });

  it('brings every partition online without being fenced', { timeout: 180_000 }, async () => {
    cluster = await startCluster({ spus: 1, scArgs: ['--spu-session-timeout-ms', '2000'] });
    const kafka = new Kafka({ brokers: [cluster.spus[0]!.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: partitionCount }], timeout: 60_000 });
    } finally {
      await admin.disconnect();
    }
    const allLed = (bootstrap: string) =>
      until(
        () => metadata(bootstrap, [topic]),
        (answer) =>
          answer.topics[0]?.partitions.length === partitionCount &&
          answer.topics[0].partitions.every((partition) => partition.leaderId === 1),
        120_000,
      );
    assert.ok(await allLed(cluster.spus[0]!.bootstrap), 'every partition is led before the restart');

    await cluster.spus[0]!.stop();
    const spu = await cluster.restartSpu(1);
    const online = await allLed(spu.bootstrap);
    assert.ok(online, 'every partition is led again after the restart');
    // The SC would fence a starved SPU within a session; watch well past several sessions.
    await until(
      async () => count(spu.process.logs, 'leading partition'),
      (led) => led >= partitionCount,
      120_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 3 * 2000));
    assert.equal(count(spu.process.logs, 'registering again'), 0, 'the SC never fenced the SPU');
    assert.equal(count(spu.process.logs, 'registered with controller'), 1, 'the SPU registered once');
    assert.equal(count(spu.process.logs, 'leading partition'), partitionCount, 'each partition taken once');
  });
});
