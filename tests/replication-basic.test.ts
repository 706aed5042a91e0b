import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { encodeRecordBatch } from '../src/protocol/record-batch.ts';
import { startCluster, type TestCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import { kcat, metadata, until, wireClient } from './helpers/cluster-kit.ts';

/**
 * Replication end to end: one SC and three SPUs as real processes, a topic with three partitions and
 * three replicas each. kcat produces with acks=all and consumes from the leaders; every follower's
 * log then holds the very bytes of its leader's (the followers append the leader's batches as they
 * are, offsets and epochs included). acks=all is refused before appending when the ISR is smaller
 * than min.insync.replicas.
 */

const topic = 'replicated';
const partitionCount = 3;
const messagesPerPartition = 40;

/** Every segment file of one replica, concatenated in offset order (file names sort by offset). */
async function replicaBytes(dataDir: string, name: string, partition: number): Promise<Buffer> {
  const dir = join(dataDir, `${name}-${partition}`);
  const names = (await readdir(dir)).filter((name) => name.endsWith('.log')).sort();
  return Buffer.concat(await Promise.all(names.map((name) => readFile(join(dir, name)))));
}

describe('replication across three SPUs', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await startCluster({ spus: 3, spuArgs: ['--replica-lag-time-max-ms', '3000'] });
    const kafka = new Kafka({
      clientId: 'replication-basic',
      brokers: [cluster.spus[0]!.bootstrap],
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const created = await admin.createTopics({
        topics: [
          { topic, numPartitions: partitionCount, replicationFactor: 3 },
          {
            topic: 'guarded',
            numPartitions: 1,
            replicationFactor: 3,
            configEntries: [{ name: 'min.insync.replicas', value: '2' }],
          },
          {
            topic: 'needs-four',
            numPartitions: 1,
            replicationFactor: 3,
            configEntries: [{ name: 'min.insync.replicas', value: '4' }],
          },
        ],
        waitForLeaders: true,
      });
      assert.equal(created, true);
    } finally {
      await admin.disconnect();
    }
  });
  after(async () => {
    for (const spu of cluster.spus)
      console.error(spu.process.logs.filter((l) => !l.includes('"debug"')).join('\n'));
    await cluster?.destroy();
    await stopAll();
  });

  it('produces with acks=all, serves consumers and copies every batch to every follower', async () => {
    const bootstrap = cluster.spus[0]!.bootstrap;
    const placed = await until(
      () => metadata(bootstrap, [topic]),
      (answer) => answer.topics[0]?.partitions.every((p) => p.isrNodes.length === 3) === true,
    );
    assert.equal(placed?.topics[0]?.partitions.length, partitionCount);
    for (let partition = 0; partition < partitionCount; partition++) {
      const lines = Array.from({ length: messagesPerPartition }, (_, at) => `p${partition}-m${at}`);
      await kcat(
        bootstrap,
        ['-P', '-t', topic, '-p', String(partition), '-X', 'acks=all', '-X', 'message.timeout.ms=20000'],
        `${lines.join('\n')}\n`,
      );
      const consumed = await kcat(bootstrap, [
        '-C',
        '-t',
        topic,
        '-p',
        String(partition),
        '-o',
        'beginning',
        '-e',
      ]);
      assert.deepEqual(consumed.trim().split('\n'), lines);
    }
    for (let partition = 0; partition < partitionCount; partition++) {
      const copies = await until(
        () => Promise.all(cluster.spus.map((spu) => replicaBytes(spu.dataDir, topic, partition))),
        (all) => all[0]!.length > 0 && all.every((bytes) => bytes.equals(all[0]!)),
      );
      assert.ok(
        copies !== undefined && copies[0]!.length > 0,
        `partition ${partition}'s copies hold ${copies?.map((bytes) => bytes.length)} bytes`,
      );
      for (const [at, bytes] of copies.entries())
        assert.ok(bytes.equals(copies[0]!), `SPU ${at + 1}'s copy of partition ${partition} differs`);
    }
  });

  it('refuses acks=all before appending when the ISR is below min.insync.replicas', async () => {
    const answer = await metadata(cluster.spus[0]!.bootstrap, ['needs-four']);
    const leaderId = answer.topics[0]!.partitions[0]!.leaderId;
    const leader = cluster.spus.find((spu) => spu.id === leaderId)!;
    const client = await wireClient(leader.bootstrap);
    try {
      const batch = encodeRecordBatch({
        records: [{ key: null, value: Buffer.from('not enough'), timestamp: 1n }],
      });
      const refused = await client.produce('needs-four', 0, batch, { acks: -1 });
      const result = refused.responses[0]!.partitionResponses[0]!;
      assert.equal(result.errorCode, errorCodes.NOT_ENOUGH_REPLICAS);
      const accepted = await client.produce('needs-four', 0, batch, { acks: 1 });
      const written = accepted.responses[0]!.partitionResponses[0]!;
      assert.equal(written.errorCode, errorCodes.NONE);
      assert.equal(written.baseOffset, 0n, 'the refused produce appended nothing');
    } finally {
      await client.close();
    }
  });

  it('shrinks the ISR when followers stop, refuses acks=all below min.insync.replicas, and heals', async () => {
    const bootstrap = cluster.spus[0]!.bootstrap;
    const answer = await metadata(bootstrap, ['guarded']);
    const leaderId = answer.topics[0]!.partitions[0]!.leaderId;
    const leader = cluster.spus.find((spu) => spu.id === leaderId)!;
    const followers = cluster.spus.filter((spu) => spu.id !== leaderId).map((spu) => spu.id);
    const batch = (value: string) =>
      encodeRecordBatch({ records: [{ key: null, value: Buffer.from(value), timestamp: 1n }] });
    const client = await wireClient(leader.bootstrap);
    try {
      const first = await client.produce('guarded', 0, batch('all three'), { acks: -1 });
      assert.equal(first.responses[0]!.partitionResponses[0]!.errorCode, errorCodes.NONE);
      await Promise.all(followers.map((id) => cluster.spus[id - 1]!.stop()));
      // Until the leader drops the stopped followers from the ISR, acks=all times out; then it is refused.
      const refused = await until(
        () => client.produce('guarded', 0, batch('too few'), { acks: -1, timeoutMs: 300 }),
        (response) =>
          response.responses[0]!.partitionResponses[0]!.errorCode === errorCodes.NOT_ENOUGH_REPLICAS,
        15_000,
      );
      assert.equal(refused?.responses[0]?.partitionResponses[0]?.errorCode, errorCodes.NOT_ENOUGH_REPLICAS);
      const single = await client.produce('guarded', 0, batch('leader only'), { acks: 1 });
      assert.equal(single.responses[0]!.partitionResponses[0]!.errorCode, errorCodes.NONE);
      assert.ok(
        (await underReplicated(leader.httpPort)) >= 1,
        'the leader reports an under-replicated partition',
      );
    } finally {
      await client.close();
    }
    // The followers return, catch up and rejoin the ISR; acks=all works again and the copies agree.
    await Promise.all(followers.map((id) => cluster.restartSpu(id)));
    const healed = await until(
      () => metadata(leader.bootstrap, ['guarded']),
      (reply) => reply.topics[0]?.partitions[0]?.isrNodes.length === 3,
      15_000,
    );
    assert.deepEqual([...(healed?.topics[0]?.partitions[0]?.isrNodes ?? [])].sort(), [1, 2, 3]);
    const reported = await until(
      () => underReplicated(leader.httpPort),
      (count) => count === 0,
      15_000,
    );
    assert.equal(reported, 0, 'no under-replicated partition once every follower is back');
    const again = await wireClient(leader.bootstrap);
    try {
      const response = await again.produce('guarded', 0, batch('all three again'), { acks: -1 });
      assert.equal(response.responses[0]!.partitionResponses[0]!.errorCode, errorCodes.NONE);
    } finally {
      await again.close();
    }
    const copies = await until(
      () => Promise.all(cluster.spus.map((spu) => replicaBytes(spu.dataDir, 'guarded', 0))),
      (all) => all.every((bytes) => bytes.equals(all[0]!)),
    );
    for (const [at, bytes] of (copies ?? []).entries())
      assert.ok(bytes.equals(copies![0]!), `SPU ${at + 1}'s copy of guarded-0 differs`);
  });
});

/** The `tide_under_replicated_partitions` gauge of an SPU's /metrics. */
async function underReplicated(httpPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const match = /^tide_under_replicated_partitions (\d+)$/m.exec(text);
  assert.ok(match !== null, 'the gauge is exported');
  return Number(match[1]);
}
