import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Tide } from '../src/client/tide.ts';
import { errorCodes } from '../src/protocol/messages/error-codes.ts';
import { createInitProducerIdRequest } from '../src/protocol/messages/init-producer-id.ts';
import type { MetadataResponse } from '../src/protocol/messages/metadata.ts';
import { encodeRecordBatch } from '../src/protocol/record-batch.ts';
import { startCluster } from '../src/testing/cluster.ts';
import { stopAll } from '../src/testing/processes.ts';
import { startSpu, type TestSpu } from '../src/testing/spu.ts';
import { WireClient } from '../src/testing/wire-client.ts';
import { metadata, until } from './helpers/cluster-kit.ts';

/**
 * Producer state survives what a leader can go through: a kill -9 and restart of a standalone SPU
 * (state rebuilt from the log, then from a snapshot after a clean restart), and in a cluster the
 * kill -9 of a leader (the follower kept the state as it replicated). Each time the same batch bytes
 * are sent again, as a client whose answer was lost would: the SPU answers with the original offset
 * and the log stays as it was. Producer ids come from the standalone SPU's counter and from the SC.
 */

after(stopAll);

async function connect(port: number): Promise<WireClient> {
  return WireClient.connect({ host: '127.0.0.1', port });
}

async function producerId(client: WireClient): Promise<bigint> {
  const answer = await client.request(22, 4, createInitProducerIdRequest({ transactionalId: null }));
  assert.equal(answer.errorCode, 0);
  assert.equal(answer.producerEpoch, 0);
  return answer.producerId;
}

function idempotentBatch(producer: bigint, sequence: number, count: number): Buffer {
  return encodeRecordBatch({
    producerId: producer,
    producerEpoch: 0,
    baseSequence: sequence,
    records: Array.from({ length: count }, (_, index) => ({
      key: null,
      value: Buffer.from(`value-${sequence + index}`),
      timestamp: 1_700_000_000_000n,
    })),
  });
}

async function produce(client: WireClient, topic: string, batch: Buffer) {
  // A copy each time: the request must carry the very bytes a client would resend.
  const response = await client.produce(topic, 0, Buffer.from(batch), { acks: -1, timeoutMs: 10_000 });
  const answer = response.responses[0]!.partitionResponses[0]!;
  return { errorCode: answer.errorCode, baseOffset: answer.baseOffset };
}

async function highWatermark(client: WireClient, topic: string): Promise<bigint> {
  const response = await client.fetch(topic, 0, 0n);
  return response.responses[0]!.partitions[0]!.highWatermark;
}

describe('idempotent producer state across crashes', () => {
  it('a standalone SPU rebuilds it after kill -9 and reloads it after a clean restart', async () => {
    let spu: TestSpu = await startSpu();
    let client = await connect(spu.port);
    try {
      assert.equal((await client.createTopics([{ name: 'recovery' }])).topics[0]?.errorCode, 0);
      const first = await producerId(client);
      const batches = [idempotentBatch(first, 0, 5), idempotentBatch(first, 5, 3)];
      assert.deepEqual(await produce(client, 'recovery', batches[0]!), { errorCode: 0, baseOffset: 0n });
      assert.deepEqual(await produce(client, 'recovery', batches[1]!), { errorCode: 0, baseOffset: 5n });

      for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
        client.close();
        await spu.stop(signal);
        spu = await spu.restart();
        client = await connect(spu.port);
        assert.deepEqual(
          await produce(client, 'recovery', batches[1]!),
          { errorCode: 0, baseOffset: 5n },
          signal,
        );
        assert.deepEqual(
          await produce(client, 'recovery', batches[0]!),
          { errorCode: 0, baseOffset: 0n },
          signal,
        );
        assert.equal(await highWatermark(client, 'recovery'), 8n, `log unchanged after ${signal}`);
        const gap = await produce(client, 'recovery', idempotentBatch(first, 20, 1));
        assert.equal(gap.errorCode, errorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER);
        // Ids handed out before the crash are never handed out again.
        assert.ok((await producerId(client)) > first);
      }
      assert.deepEqual(await produce(client, 'recovery', idempotentBatch(first, 8, 2)), {
        errorCode: 0,
        baseOffset: 8n,
      });
    } finally {
      client.close();
      await spu.destroy();
    }
  });

  it('a new leader in a cluster answers a retry of a batch the old leader appended', {
    timeout: 90_000,
  }, async () => {
    const cluster = await startCluster({ spus: 2, scArgs: ['--spu-session-timeout-ms', '2000'] });
    const clients: WireClient[] = [];
    try {
      const any = await connect(cluster.spus[0]!.port);
      clients.push(any);
      const tide = await Tide.connect({ bootstrap: cluster.bootstrap });
      try {
        await tide.admin().createTopic('failover', { partitions: 1, replicationFactor: 2 });
      } finally {
        await tide.close();
      }
      const partitionOf = (answer: MetadataResponse | undefined) => answer?.topics[0]?.partitions[0];
      const placed = await until(
        () => metadata(cluster.spus[0]!.bootstrap, ['failover']),
        (answer) => (partitionOf(answer)?.isrNodes.length ?? 0) === 2,
      );
      assert.equal(partitionOf(placed)?.isrNodes.length, 2, 'both replicas in sync');
      const leaderId = partitionOf(placed)!.leaderId;
      const leader = cluster.spus.find((spu) => spu.id === leaderId)!;
      const survivor = cluster.spus.find((spu) => spu.id !== leaderId)!;
      const toLeader = await connect(leader.port);
      clients.push(toLeader);
      const ids = [
        await producerId(toLeader),
        await producerId(await connectTracked(survivor.port, clients)),
      ];
      assert.notEqual(ids[0], ids[1], 'ids from the SC are unique across SPUs');
      const batch = idempotentBatch(ids[0]!, 0, 4);
      // The leader may learn of its role just after the metadata says so: retry (safely: idempotent).
      const stored = await until(
        () => produce(toLeader, 'failover', batch),
        (answer) => answer.errorCode === 0,
        30_000,
      );
      assert.deepEqual(stored, { errorCode: 0, baseOffset: 0n });
      await leader.stop('SIGKILL');
      const moved = await until(
        () => metadata(survivor.bootstrap, ['failover']),
        (answer) => partitionOf(answer)?.leaderId === survivor.id,
        30_000,
      );
      assert.equal(partitionOf(moved)?.leaderId, survivor.id, 'the survivor leads');
      const toSurvivor = await connectTracked(survivor.port, clients);
      // acks=all needs only the ISR the SC confirmed; retry until the new leader accepts writes.
      const retried = await until(
        () => produce(toSurvivor, 'failover', batch),
        (answer) => answer.errorCode === 0,
        30_000,
      );
      assert.deepEqual(retried, { errorCode: 0, baseOffset: 0n });
      assert.equal(await highWatermark(toSurvivor, 'failover'), 4n, 'nothing appended twice');
    } finally {
      for (const client of clients) client.close();
      await cluster.destroy();
    }
  });
});

async function connectTracked(port: number, clients: WireClient[]): Promise<WireClient> {
  const client = await connect(port);
  clients.push(client);
  return client;
}
