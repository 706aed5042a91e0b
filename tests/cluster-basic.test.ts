import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { createDescribeSpusRequest } from '../src/protocol/messages/describe-spus.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { createMetadataRequest, createMetadataRequestTopic } from '../src/protocol/messages/metadata.ts';
import { encodeRecordBatch } from '../src/protocol/record-batch.ts';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import { WireClient } from '../src/testing/wire-client.ts';

/**
 * A basic cluster end to end: one SC and three SPUs as real processes. A topic created through one
 * SPU (forwarded to the SC, placed across the SPUs, pushed back) is served by its leaders; kcat, given
 * a single SPU as bootstrap, follows the leaders from Metadata to produce to and consume from every
 * partition; a client that sends to an SPU that does not lead the partition is told so.
 */

const run = promisify(execFile);
const kcatPath = '/usr/bin/kcat';
const topic = 'cluster-events';
const partitionCount = 12;

async function kcat(bootstrap: string, args: readonly string[], input?: string): Promise<string> {
  const child = run(kcatPath, ['-b', bootstrap, ...args], { timeout: 30_000, maxBuffer: 16 << 20 });
  child.child.stdin?.end(input ?? '');
  return (await child).stdout;
}

async function wireClient(bootstrap: string): Promise<WireClient> {
  const port = Number(bootstrap.slice(bootstrap.lastIndexOf(':') + 1));
  return WireClient.connect({ host: '127.0.0.1', port });
}

/** Repeats `ask` until `done` holds for its answer (bounded), and resolves with that answer. */
async function until<T>(ask: () => Promise<T>, done: (answer: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answer = await ask();
    if (done(answer) || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a cluster of one SC and three SPUs', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await startCluster({ spus: 3, spuArgs: ['--auto-create-topics'] });
  });
  after(async () => {
    await cluster?.destroy();
    await stopAll();
  });

  it('creates a topic through one SPU and spreads its leaders over the SPUs', async () => {
    const kafka = new Kafka({
      clientId: 'cluster-basic',
      brokers: [cluster.spus[0]!.bootstrap],
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const created = await admin.createTopics({
        topics: [{ topic, numPartitions: partitionCount, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      assert.equal(created, true);
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = metadata.topics[0]!.partitions;
      assert.equal(partitions.length, partitionCount);
      const leaders = new Set(partitions.map((partition) => partition.leader));
      assert.ok(leaders.size > 1, `every partition is led by SPU ${[...leaders].join(', ')}`);
      for (const leader of leaders) assert.ok([1, 2, 3].includes(leader));
    } finally {
      await admin.disconnect();
    }
  });

  it('every SPU answers Metadata for the topic, and DescribeSpus through any SPU', async () => {
    for (const spu of cluster.spus) {
      const client = await wireClient(spu.bootstrap);
      try {
        // The SC pushes the new topic to every SPU; the one that created it may have heard first.
        const metadata = await until(
          () => client.metadata([topic]),
          (answer) => answer.topics[0]?.errorCode === errorCodes.NONE,
        );
        assert.deepEqual(metadata.brokers.map((broker) => broker.nodeId).sort(), [1, 2, 3]);
        assert.equal(metadata.topics[0]!.errorCode, errorCodes.NONE);
        assert.equal(metadata.topics[0]!.partitions.length, partitionCount);
        const spus = await client.request(1001, 0, createDescribeSpusRequest({ spuIds: null }));
        assert.equal(spus.errorCode, errorCodes.NONE);
        assert.deepEqual(spus.spus.map((described) => described.spuId).sort(), [1, 2, 3]);
      } finally {
        await client.close();
      }
    }
  });

  it('kcat produces to and consumes from every partition through a single SPU', async () => {
    const producer = cluster.spus[1]!.bootstrap;
    await Promise.all(
      Array.from({ length: partitionCount }, (_, partition) =>
        kcat(producer, ['-P', '-t', topic, '-p', String(partition)], `p${partition}-a\np${partition}-b\n`),
      ),
    );
    const consumed = await kcat(cluster.spus[2]!.bootstrap, [
      '-C',
      '-t',
      topic,
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      '%p %s\\n',
    ]);
    const lines = consumed.trim().split('\n').sort();
    const expected = Array.from({ length: partitionCount }, (_, partition) => [
      `${partition} p${partition}-a`,
      `${partition} p${partition}-b`,
    ])
      .flat()
      .sort();
    assert.deepEqual(lines, expected);
  });

  it('an SPU that does not lead a partition answers NOT_LEADER_OR_FOLLOWER', async () => {
    const client = await wireClient(cluster.spus[0]!.bootstrap);
    const metadata = await client.metadata([topic]).finally(() => client.close());
    const partition = metadata.topics[0]!.partitions[0]!;
    const wrong = cluster.spus.find((spu) => spu.id !== partition.leaderId)!;
    const right = cluster.spus.find((spu) => spu.id === partition.leaderId)!;
    const records = encodeRecordBatch({ records: [{ key: null, value: Buffer.from('x'), timestamp: 1n }] });

    const wrongClient = await wireClient(wrong.bootstrap);
    try {
      const produced = await wrongClient.produce(topic, partition.partitionIndex, records);
      assert.equal(
        produced.responses[0]!.partitionResponses[0]!.errorCode,
        errorCodes.NOT_LEADER_OR_FOLLOWER,
      );
      const fetched = await wrongClient.fetch(topic, partition.partitionIndex, 0n);
      assert.equal(fetched.responses[0]!.partitions[0]!.errorCode, errorCodes.NOT_LEADER_OR_FOLLOWER);
    } finally {
      await wrongClient.close();
    }
    const rightClient = await wireClient(right.bootstrap);
    try {
      const produced = await rightClient.produce(topic, partition.partitionIndex, records);
      assert.equal(produced.responses[0]!.partitionResponses[0]!.errorCode, errorCodes.NONE);
    } finally {
      await rightClient.close();
    }
  });

  it('creates a topic a client asks for through the SC when auto-creation is on', async () => {
    const client = await wireClient(cluster.spus[2]!.bootstrap);
    try {
      const ask = () =>
        client.request(
          3,
          9,
          createMetadataRequest({
            topics: [createMetadataRequestTopic({ name: 'auto-created' })],
            allowAutoTopicCreation: true,
          }),
        );
      const first = await ask();
      // Created by the SC, known here once pushed: until then the client is asked to retry.
      const expected: number[] = [errorCodes.NONE, errorCodes.LEADER_NOT_AVAILABLE];
      assert.ok(expected.includes(first.topics[0]!.errorCode), `error ${first.topics[0]!.errorCode}`);
      const known = await until(ask, (answer) => answer.topics[0]?.errorCode === errorCodes.NONE);
      assert.equal(known.topics[0]!.errorCode, errorCodes.NONE);
      assert.equal(known.topics[0]!.partitions.length, 1);
    } finally {
      await client.close();
    }
  });

  // Last: it stops the SC.
  it('while the SC is down, SPUs keep serving data and answer admin requests NOT_CONTROLLER', async () => {
    await cluster.sc.stop('SIGKILL');
    const client = await wireClient(cluster.spus[0]!.bootstrap);
    try {
      const metadata = await client.metadata([topic]);
      const partition = metadata.topics[0]!.partitions[0]!;
      const leader = cluster.spus.find((spu) => spu.id === partition.leaderId)!;
      const leaderClient = await wireClient(leader.bootstrap);
      const records = encodeRecordBatch({ records: [{ key: null, value: Buffer.from('y'), timestamp: 1n }] });
      const produced = await leaderClient
        .produce(topic, partition.partitionIndex, records)
        .finally(() => leaderClient.close());
      assert.equal(produced.responses[0]!.partitionResponses[0]!.errorCode, errorCodes.NONE);
      // The SPU may not have noticed the SC's death yet; it answers NOT_CONTROLLER once it has.
      const created = await until(
        () => client.createTopics([{ name: 'while-down' }]),
        (answer) => answer.topics[0]?.errorCode === errorCodes.NOT_CONTROLLER,
      );
      assert.equal(created.topics[0]!.errorCode, errorCodes.NOT_CONTROLLER);
    } finally {
      await client.close();
    }
  });
});
