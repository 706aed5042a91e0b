import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConsumerRecord } from '../src/client/consumer.ts';
import { Offset } from '../src/client/offset.ts';
import { Tide } from '../src/client/tide.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import {
  describeTopicStatus,
  kcat,
  leaderCounts,
  metadata,
  spuOnline,
  until,
} from './helpers/cluster-kit.ts';

/**
 * A cluster over its life, as real processes: three SPUs spread a topic's leaders evenly and each
 * one serves as bootstrap for all partitions; the SC is killed and restarted while records flow (the
 * data path never notices, the metadata survives, the SPUs register again); a fourth SPU joins and
 * new topics use it.
 */

const sessionTimeoutMs = 2000;
const spread = 'spread-events';
const traffic = 'restart-traffic';

/** Polls every SPU until its Metadata shows `partitions` partitions of `topic`, all with a leader. */
async function leadersEverywhere(cluster: TestCluster, topic: string, partitions: number): Promise<number[]> {
  let leaders: number[] = [];
  for (const spu of cluster.spus) {
    const answer = await until(
      () => metadata(spu.bootstrap, [topic]),
      (seen) =>
        seen.topics[0]?.errorCode === errorCodes.NONE &&
        seen.topics[0].partitions.length === partitions &&
        seen.topics[0].partitions.every((partition) => partition.leaderId >= 0),
    );
    assert.equal(answer?.topics[0]?.errorCode, errorCodes.NONE, `SPU ${spu.id} knows ${topic}`);
    leaders = answer!.topics[0]!.partitions.sort((a, b) => a.partitionIndex - b.partitionIndex).map(
      (partition) => partition.leaderId,
    );
    assert.equal(leaders.length, partitions);
  }
  return leaders;
}

describe('a cluster over its life', () => {
  let cluster: TestCluster;
  let tide: Tide;

  before(async () => {
    cluster = await startCluster({
      spus: 3,
      scArgs: ['--spu-session-timeout-ms', String(sessionTimeoutMs)],
    });
    tide = await Tide.connect({ bootstrap: cluster.spus[0]!.bootstrap });
  });
  after(async () => {
    await tide?.close();
    await cluster?.destroy();
    await stopAll();
  });

  it('spreads 12 leaders 4 per SPU, and any single SPU bootstraps all partitions', async () => {
    await tide.admin().createTopic(spread, { partitions: 12 });
    const leaders = await leadersEverywhere(cluster, spread, 12);
    assert.deepEqual([...leaderCounts(leaders)].sort(), [
      [1, 4],
      [2, 4],
      [3, 4],
    ]);
    const expected: string[] = [];
    for (const spu of cluster.spus) {
      await Promise.all(
        Array.from({ length: 12 }, (_, partition) => {
          expected.push(`${partition} via${spu.id}-p${partition}`);
          return kcat(
            spu.bootstrap,
            ['-P', '-t', spread, '-p', String(partition)],
            `via${spu.id}-p${partition}\n`,
          );
        }),
      );
    }
    for (const spu of cluster.spus) {
      const consumed = await kcat(spu.bootstrap, [
        '-C',
        '-t',
        spread,
        '-o',
        'beginning',
        '-e',
        '-q',
        '-f',
        '%p %s\\n',
      ]);
      assert.deepEqual(
        consumed.trim().split('\n').sort(),
        [...expected].sort(),
        `consumed via SPU ${spu.id}`,
      );
    }
  });

  it('keeps producing and consuming while the SC is killed and restarted; metadata survives', async () => {
    const admin = tide.admin();
    await admin.createTopic(traffic, { partitions: 6, configs: { 'retention.ms': '3600000' } });
    await leadersEverywhere(cluster, traffic, 6);
    const before = await describeTopicStatus(cluster.spus[1]!.bootstrap, [traffic]);
    assert.equal(before.errorCode, errorCodes.NONE);

    const producer = tide.producer(traffic, { acks: 1 });
    const sent: string[] = [];
    const failures: unknown[] = [];
    let producing = true;
    const producerLoop = (async () => {
      for (let index = 0; producing; index++) {
        const value = `r${index}`;
        try {
          await producer.send({ value, partition: index % 6 });
          sent.push(value);
        } catch (error) {
          failures.push(error);
          return;
        }
      }
    })();
    const received: ConsumerRecord[] = [];
    const consumerLoop = (async () => {
      for await (const record of tide.consumer(traffic, { offset: Offset.beginning(), maxWaitMs: 100 }))
        received.push(record);
    })();
    const sentAtLeast = (count: number) =>
      until(
        async () => sent.length,
        (length) => length >= count || failures.length > 0,
      );

    await sentAtLeast(20);
    await cluster.sc.stop('SIGKILL');
    const whileDown = sent.length;
    await sentAtLeast(whileDown + 20);
    await cluster.restartSc();
    const online = await until(
      () => spuOnline(cluster.spus[2]!.bootstrap),
      (spus) => spus !== undefined && spus.size === 3 && [...spus.values()].every(Boolean),
    );
    assert.deepEqual(online && [...online].sort(), [
      [1, true],
      [2, true],
      [3, true],
    ]);
    await sentAtLeast(sent.length + 20);
    producing = false;
    await producerLoop;
    assert.deepEqual(failures, []);
    assert.ok(sent.length > whileDown + 20, 'records were produced while the SC was down');
    await until(
      async () => received.length,
      (length) => length >= sent.length,
    );
    // Each partition's records in the order they were sent, none lost, none doubled.
    for (let partition = 0; partition < 6; partition++) {
      assert.deepEqual(
        received.filter((record) => record.partition === partition).map((record) => String(record.value)),
        sent.filter((value) => Number(value.slice(1)) % 6 === partition),
      );
    }
    await tide.close();
    await consumerLoop;

    // The new SC process heard every SPU register again.
    for (const id of [1, 2, 3]) {
      assert.ok(
        cluster.sc.logs.some((line) => line.includes('"spu online"') && line.includes(`"spu":${id}`)),
        `SPU ${id} registered with the new SC`,
      );
    }
    const after = await describeTopicStatus(cluster.spus[0]!.bootstrap, [traffic]);
    const shape = (answer: typeof before) =>
      answer.topics.map((topic) => ({
        name: topic.name,
        topicId: topic.topicId,
        status: topic.status,
        replicationFactor: topic.replicationFactor,
        configs: topic.configs,
        partitions: topic.partitions.map((p) => [p.partition, p.leader, p.replicas, p.isr, p.status]),
      }));
    assert.deepEqual(shape(after), shape(before));
    assert.deepEqual(after.topics[0]?.configs, [{ name: 'retention.ms', value: '3600000' }]);
    tide = await Tide.connect({ bootstrap: cluster.spus[0]!.bootstrap });
    const topics = await tide.admin().listTopics();
    assert.deepEqual(
      topics.map((topic) => [topic.name, topic.partitions]),
      [
        [traffic, 6],
        [spread, 12],
      ],
    );
  });

  it('adds a fourth SPU that is listed online and used by new topics', async () => {
    const added = await cluster.addSpu();
    assert.equal(added.id, 4);
    const spus = await tide.admin().spus();
    assert.deepEqual(
      spus.map((spu) => [spu.id, spu.status, spu.port]),
      cluster.spus.map((spu) => [spu.id, 'online', spu.port]),
    );
    await tide.admin().createTopic('after-growth', { partitions: 8 });
    const leaders = await leadersEverywhere(cluster, 'after-growth', 8);
    assert.deepEqual([...leaderCounts(leaders)].sort(), [
      [1, 2],
      [2, 2],
      [3, 2],
      [4, 2],
    ]);
    // The new SPU serves what it leads.
    const partition = leaders.indexOf(4);
    await kcat(added.bootstrap, ['-P', '-t', 'after-growth', '-p', String(partition)], 'on-four\n');
    const consumed = await kcat(cluster.spus[0]!.bootstrap, [
      '-C',
      '-t',
      'after-growth',
      '-p',
      String(partition),
      '-o',
      'beginning',
      '-e',
      '-q',
    ]);
    assert.equal(consumed.trim(), 'on-four');
  });
});
